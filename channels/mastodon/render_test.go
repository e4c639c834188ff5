package mastodon

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/layout"
	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/feed"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestLength(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int
	}{
		{"plain", "Kazakhstan", 10},
		{"accents", "Kazajistán", 10},
		{"combining accent", "Kazajista\u0301n", 10},
		{"flag", "🇰🇿", 1},
		{"ZWJ family", "👨‍👩‍👧‍👦", 1},
		{"skin tone", "👍🏽", 1},
		{"long URL counts 23", "https://en.communia.blog/protests-in-kazakhstan-5-clues-to-understand-whats-going-on", 23},
		{"short URL counts 23", "https://a.co", 23},
		{"URL in a sentence", "Read https://en.communia.blog/ai now", 5 + 23 + 4},
		{"two URLs", "http://example.org/a https://example.org/b", 23 + 1 + 23},
		{"trailing period not part of URL", "See https://example.org/a.", 4 + 23 + 1},
		{"closing bracket not part of URL", "(https://example.org/a)", 1 + 23 + 1},
		{"URL with query and fragment", "https://example.org/a?b=c&d=e#f", 23},
		{"URL ends with its domain", "https://example.org&x", 23 + 2},
		{"URL ends at a valid domain", "https://example.org.0", 23 + 2},
		{"a top-level domain glued to a hyphen is text", "http://example.org-0", 20},
		{"domain glued to a digit is text", "https://example.org9", 20},
		{"an unknown top-level domain is text", "http://0.AA.AA0", 15},
		{"scheme alone is text", "http://", 7},
		{"host without a TLD is text", "http://localhost/x", 18},
		{"URL glued to a word is text", "xhttps://example.org", 20},
		{"CRLF is one character", "a\r\nb", 3},
		{"remote mention counts as @user", "@user@mastodon.social", 5},
		{"local mention", "@user", 5},
		{"mention in a sentence", "thanks @Gargron@mastodon.social!", 7 + 8 + 1},
		{"e-mail address is not a mention", "write to news@example.org", 25},
		{"mention inside a URL", "https://mastodon.social/@user@example.org", 23},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Length(tt.text); got != tt.want {
				t.Errorf("Length(%q) = %d, want %d", tt.text, got, tt.want)
			}
		})
	}
}

// mastodonCounting counts as Mastodon does, with 23 characters per URL.
var mastodonCounting = counterFor(SoftwareMastodon, DefaultCharactersPerURL)

func defaultRenderer(t testing.TB, maxHashtags int) *renderer {
	r, err := newRenderer("test", Config{Settings: Settings{MaxHashtags: maxHashtags, Image: true}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRenderFits(t *testing.T) {
	const link = "https://en.communia.blog/protests-in-kazakhstan-5-clues"
	words := func(n int) string { return strings.TrimSpace(strings.Repeat("strike ", n)) }
	tests := []struct {
		name     string
		article  syndicate.Article
		hashtags int
		floor    int // min_summary, when not the default
		limit    int
		want     string // exact text, or "" to check only the invariants
		wantErr  string
	}{
		{
			name:    "fits whole",
			article: syndicate.Article{Title: "Title", Summary: "A short summary.", Link: link},
			limit:   500, want: "Title\n\nA short summary.\n\n" + link,
		},
		{
			name:    "summary cut at a word",
			article: syndicate.Article{Title: "Title", Summary: words(20), Link: link},
			floor:   1, limit: 5 + 2 + 30 + 2 + 23, want: "Title\n\nstrike strike strike strike…\n\n" + link,
		},
		{
			name:    "summary dropped before the title is cut",
			article: syndicate.Article{Title: words(3), Summary: words(20), Link: link},
			limit:   20 + 2 + 2 + 23, want: words(3) + "\n\n" + link,
		},
		{
			name:    "title cut when even it does not fit",
			article: syndicate.Article{Title: words(10), Summary: words(20), Link: link},
			limit:   14 + 2 + 23, want: "strike strike…\n\n" + link,
		},
		{
			name:    "only the link fits",
			article: syndicate.Article{Title: words(10), Summary: words(20), Link: link},
			limit:   23, want: link,
		},
		{
			name:    "link alone too long",
			article: syndicate.Article{Title: "Title", Link: link},
			limit:   22, wantErr: "over the limit of 22",
		},
		{
			name:    "no summary",
			article: syndicate.Article{Title: "Title", Link: link},
			limit:   500, want: "Title\n\n" + link,
		},
		{
			name:    "no link",
			article: syndicate.Article{Title: "Title", Summary: words(200)},
			limit:   100,
		},
		{
			name:    "title on one line, summary paragraphs kept",
			article: syndicate.Article{Title: "  A\n title ", Summary: "One.\n\n\n\nTwo.  ", Link: link},
			limit:   500, want: "A title\n\nOne.\n\nTwo.\n\n" + link,
		},
		{
			name:    "a URL is never cut",
			article: syndicate.Article{Title: "T", Summary: "https://example.org/" + words(30), Link: link},
			limit:   1 + 2 + 10 + 2 + 23, want: "T\n\n" + link,
		},
		{
			name:     "hashtags after the link",
			article:  syndicate.Article{Title: "T", Summary: "S", Link: link, Categories: []string{"Mass strike", "Kazajistán", "Central Asia"}},
			hashtags: 2, limit: 500, want: "T\n\nS\n\n" + link + "\n\n#MassStrike #Kazajistán",
		},
		{
			name:     "a summary shorter than the floor: hashtags dropped, last first, before it",
			article:  syndicate.Article{Title: "T", Summary: words(2), Link: link, Categories: []string{"Mass strike", "Kazajistán"}},
			hashtags: 4, limit: 1 + 2 + 13 + 2 + 23 + 2 + 11, want: "T\n\n" + words(2) + "\n\n" + link + "\n\n#MassStrike",
		},
		{
			name:     "no hashtag left, then the summary cut, down to a floor of 1",
			article:  syndicate.Article{Title: "T", Summary: words(2), Link: link, Categories: []string{"Mass strike"}},
			hashtags: 4, floor: 1, limit: 1 + 2 + 7 + 2 + 23, want: "T\n\nstrike…\n\n" + link,
		},
		{
			name:    "a word longer than the budget is dropped, never cut",
			article: syndicate.Article{Title: "Donaudampfschifffahrtsgesellschaftskapitän", Link: link},
			limit:   20 + 2 + 23, want: link,
		},
		{
			name:    "a text without spaces is cut between its words",
			article: syndicate.Article{Title: "T", Summary: "カザフスタンで大規模なストライキが起きた", Link: link},
			floor:   1, limit: 1 + 2 + 8 + 2 + 23, want: "T\n\nカザフスタンで…\n\n" + link,
		},
		{
			name:    "a hashtag in the summary is never cut",
			article: syndicate.Article{Title: "T", Summary: "see #KazakhstanProtests2022 now", Link: link},
			floor:   1, limit: 1 + 2 + 14 + 2 + 23, want: "T\n\nsee…\n\n" + link,
		},
		{
			name:    "a mention in the summary is never cut",
			article: syndicate.Article{Title: "T", Summary: "by @communia@mastodon.social and others", Link: link},
			floor:   1, limit: 1 + 2 + 13 + 2 + 23, want: "T\n\nby @communia@mastodon.social…\n\n" + link,
		},
		{
			name:    "nothing to post",
			article: syndicate.Article{Title: " ", Summary: "\n"},
			limit:   500, wantErr: "nothing to post",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defaultRenderer(t, tt.hashtags)
			if tt.floor > 0 {
				r.minSummary = tt.floor
			}
			got, err := r.render(tt.article, Limits{MaxCharacters: tt.limit, CharactersPerURL: 23}, mastodonCounting)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" && got.Text != tt.want {
				t.Errorf("text:\n%q\nwant:\n%q", got.Text, tt.want)
			}
			if got.Length != Length(got.Text) || got.Length > tt.limit || got.Limit != tt.limit {
				t.Errorf("length %d (counted %d), limit %d, want within %d", got.Length, Length(got.Text), got.Limit, tt.limit)
			}
		})
	}
}

func TestRenderGolden(t *testing.T) {
	spanish := syndicate.Article{
		Link:       "https://communia.blog/protestas-en-kazajistan-5-claves",
		Title:      "Protestas en Kazajistán: 5 claves para entender qué está pasando",
		Summary:    "La represión de las protestas en Kazajistán se ha internacionalizado. ¿Golpe fallido o invasión rusa? Ni lo uno ni lo otro: una huelga de masas que ha hecho caer al Estado kazajo en pocos días 🔥. Sigue el hilo de @communia@mastodon.social y lee también https://communia.blog/huelga-de-masas-en-kazajistan-cronologia-completa-de-los-hechos.",
		Categories: []string{"Kazajistán", "Huelga de masas", "Asia Central"},
		Language:   "es",
		Published:  time.Date(2022, 1, 8, 8, 0, 0, 0, time.UTC),
	}
	ai := syndicate.Article{
		Link:       "https://en.communia.blog/ai",
		Title:      "Who is afraid of Artificial Intelligence?",
		Summary:    `Chatbots that write essays & code, and a press that swings between awe and panic. What does the new wave of "AI" change for the people who work for a living?`,
		Categories: []string{"Technology"},
		Language:   "en",
	}
	tests := []struct {
		name    string
		article syndicate.Article
	}{
		{"kazakhstan-en", kazakhstan()},
		{"kazajistan-es", spanish},
		{"ai-en", ai},
	}
	r := defaultRenderer(t, 4)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.render(tt.article, defaultLimits(), mastodonCounting)
			if err != nil {
				t.Fatal(err)
			}
			if n := mastodontest.Length(got.Text, 23); n != got.Length {
				t.Errorf("the fake counts %d characters, the channel %d", n, got.Length)
			}
			text := fmt.Sprintf("%s\n-- %d/%d characters\n", got.Text, got.Length, got.Limit)
			checkGolden(t, filepath.Join("testdata", tt.name+".golden"), text)
		})
	}
}

// fixtureBase stands for the site's address in the fixtures' {{BASE_URL}}.
const fixtureBase = "https://fixtures.example"

// fixtureArticles reads a feed of testdata/site as the daemon does, with
// {{BASE_URL}} standing for base.
func fixtureArticles(t testing.TB, name, base string) []syndicate.Article {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "site", name))
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.ReplaceAll(string(raw), "{{BASE_URL}}", base)
	f, err := feed.Parse([]byte(doc), "application/xml", base+"/"+name)
	if err != nil {
		t.Fatal(err)
	}
	articles := feed.Normalise(strings.TrimSuffix(name, filepath.Ext(name)), f, "", time.Time{})
	if len(articles) == 0 {
		t.Fatalf("%s: no articles", name)
	}
	return articles
}

// The posts of the site's English RSS and Spanish Atom feeds, as the
// channel renders them with its default template, a content warning for
// statements and the instance's default limits.
func TestRenderFixturesGolden(t *testing.T) {
	cfg := testConfig("golden", "https://mastodon.example")
	cfg.AccessToken, cfg.MaxHashtags = "", 4
	cfg.ContentWarnings = map[string]string{"statements": "Statement of the organisation"}
	ch, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"en.rss.xml", "es.atom.xml"} {
		t.Run(name, func(t *testing.T) {
			var b strings.Builder
			for _, a := range fixtureArticles(t, name, fixtureBase) {
				r, err := ch.Render(syndicate.Post{Article: a})
				if err != nil {
					t.Fatalf("%s: %v", a.Link, err)
				}
				if r.Length > r.Limit {
					t.Errorf("%s: %d characters, over %d", a.Link, r.Length, r.Limit)
				}
				fmt.Fprintf(&b, "== %s\n", a.Link)
				if r.Image != "" {
					fmt.Fprintf(&b, "image: %s\nalt: %s\n", r.Image, a.ImageCaption)
				}
				fmt.Fprintf(&b, "-- %d/%d characters\n%s\n\n", r.Length, r.Limit, r.Text)
			}
			checkGolden(t, filepath.Join("testdata", name+".golden"), b.String())
		})
	}
}

func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("rendering differs from %s:\n%s\nwant:\n%s", path, got, want)
	}
}

func TestCutText(t *testing.T) {
	count := func(s string) int { return countChars(s, 23) }
	tests := []struct {
		name string
		text string
		n    int
		want string
	}{
		{"fits", "one two", 7, "one two"},
		{"at a word", "one two three", 9, "one two…"},
		{"punctuation before the cut dropped", "one, two three", 9, "one, two…"},
		{"comma dropped", "one, two", 5, "one…"},
		{"a single long word is dropped", "Supercalifragilistic", 10, ""},
		{"never a lone ellipsis", "one", 0, ""},
		{"a URL is kept whole, the ellipsis apart", "read https://example.org/a/long/path now", 30, "read https://example.org/a/long/path …"},
		{"the ellipsis needs room for its space", "read https://example.org/statement now", 30, "read https://example.org/statement …"},
		{"or the URL is dropped", "read https://example.org/statement now", 29, "read…"},
		{"a URL's trailing period stays apart", "read https://example.org/statement. More words", 31, "read https://example.org/statement. …"},
		{"a URL's trailing comma is dropped", "read https://example.org/statement, more words", 31, "read https://example.org/statement …"},
		{"a query takes an ellipsis too", "read https://example.org/?q=strike now", 30, "read https://example.org/?q=strike …"},
		{"an ellipsis after a closing parenthesis is not the URL's", "(see https://example.org/a) more words", 31, "(see https://example.org/a)…"},
		{"a mention takes no ellipsis", "thanks @alice@example.org and more", 14, "thanks @alice@example.org…"},
		{"a URL dropped when it does not fit", "read https://example.org/a/long/path now", 20, "read…"},
		{"a hashtag is kept whole or dropped", "a #MassStrike b", 8, "a…"},
		{"contractions are one word", "what’s going on", 8, "what’s…"},
		{"Japanese is cut between words", "日本語のテキスト", 4, "日本語…"},
		{"emoji are not split", "👨‍👩‍👧‍👦👨‍👩‍👧‍👦 family", 3, "👨‍👩‍👧‍👦👨‍👩‍👧‍👦…"},
		{"combining accents are not split", "Kazajista\u0301n Kazajista\u0301n", 12, "Kazajista\u0301n…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutText(tt.text, tt.n, count)
			if got != tt.want {
				t.Errorf("cutText(%q, %d) = %q, want %q", tt.text, tt.n, got, tt.want)
			}
			if count(got) > max(tt.n, 0) {
				t.Errorf("%q counts %d, over %d", got, count(got), tt.n)
			}
			for _, u := range findURLs(got) {
				if strings.Contains(got[u.start:u.end], channels.Ellipsis) {
					t.Errorf("%q: the URL %q holds the ellipsis", got, got[u.start:u.end])
				}
			}
		})
	}
}

func TestContentWarning(t *testing.T) {
	r, err := newRenderer("cw", Config{Settings: Settings{MaxHashtags: 4, Image: true, ContentWarnings: map[string]string{"Violence": "violence", "war": "war, violence", "Police": "violence"}}})
	if err != nil {
		t.Fatal(err)
	}
	a := kazakhstan()
	a.Categories = append(a.Categories, "violence", "Police", "War")
	st, err := r.render(a, Limits{MaxCharacters: 300, CharactersPerURL: 23}, mastodonCounting)
	if err != nil {
		t.Fatal(err)
	}
	if st.Spoiler != "violence, war, violence" {
		t.Errorf("spoiler %q", st.Spoiler)
	}
	if want := mastodontest.StatusLength(st.Spoiler, st.Text, 23); st.Length != want || st.Length > 300 {
		t.Errorf("length %d, the fake counts %d, limit 300", st.Length, want)
	}
	if r := st.rendering(); !strings.HasPrefix(r.Text, "CW: violence, war, violence\n\n") || r.Length != st.Length {
		t.Errorf("rendering %q (%d)", r.Text, r.Length)
	}
}

func FuzzRender(f *testing.F) {
	a := kazakhstan()
	f.Add(a.Title, a.Summary, a.Link, "", 500)
	f.Add(a.Title, a.Summary, a.Link, "violence", 60)
	// Room for the hashtags only with the summary shortened to its floor.
	f.Add(a.Title, a.Summary, a.Link, "", 250)
	f.Add(a.Title, a.Summary, a.Link, "violence", 320)
	f.Add("Mass strike in Kazakhstan", strings.Repeat("The strike spread. ", 30), a.Link, "", 140)
	f.Add("👨‍👩‍👧‍👦 🇰🇿 Kazajistán", "@user@mastodon.social https://example.org/a-long-path. and more words", "https://communia.blog/x", "", 40)
	f.Add("", "", "https://a.co", "", 23)
	f.Add("Title", "Summary", "", "", 3)
	f.Add("t", "https://example.org/"+strings.Repeat("a", 40)+" word", "https://x.org", "cw", 30)
	f.Add("AAAAAaaa aa Aaaaaaaaaa 0 aaaaa aaaaaaaaaa", "", "https://00.AA&", "", 60)
	f.Add("日本語のタイトル", "カザフスタンで大規模なストライキが起きた #Kazajistán @a@b.cc", "https://a.org/日本", "", 45)
	r := defaultRenderer(f, 4)
	f.Fuzz(func(t *testing.T, title, summary, link, cw string, limit int) {
		if !utf8.ValidString(title+summary+link+cw) || limit < 0 || limit > 5000 || strings.ContainsFunc(link, unicode.IsSpace) {
			return
		}
		// The title's words double as categories, for hashtags; a
		// category "cw" carries the content warning. The floor of the
		// summary varies with the limit, under the default cap of 300.
		a := syndicate.Article{Title: title, Summary: summary, Link: link, Categories: append(strings.Fields(title), "cw")}
		r.warnings = map[string]string{"cw": strings.TrimSpace(cw)}
		r.minSummary = 1 + limit%150
		got, err := r.render(a, Limits{MaxCharacters: limit, CharactersPerURL: 23}, mastodonCounting)
		spoiler := strings.TrimSpace(cw)
		if err != nil {
			switch {
			case errors.Is(err, errNothingToPost) && link == "":
			case countStatus(spoiler, link, 23) > limit:
			default:
				t.Fatalf("render(%q, %q, %q, %q, %d): %v", title, summary, link, cw, limit, err)
			}
			return
		}
		if got.Length > limit || got.Length != countStatus(spoiler, got.Text, 23) {
			t.Fatalf("length %d (counted %d) over the limit %d: %q", got.Length, countStatus(spoiler, got.Text, 23), limit, got.Text)
		}
		if link != "" && !slices.Contains(strings.Split(got.Text, "\n\n"), link) {
			t.Fatalf("link %q missing or cut: %q", link, got.Text)
		}
		if n := mastodontest.StatusLength(spoiler, got.Text, 23); n > limit {
			t.Fatalf("the fake would refuse %q: it counts %d, over %d (the channel counted %d)", got.Text, n, limit, got.Length)
		}
		// Whenever the floor allows, every hashtag survives: when the title,
		// the summary cut at a word to min_summary, the link and every
		// hashtag fit, the post ends with every hashtag. (A summary whose
		// first word is longer than the floor has no such cut.)
		maxBytes := max(64<<10, 64*limit)
		countText := func(s string) int { return countChars(s, 23) }
		floored := TemplateData{
			Title:    strings.Join(strings.Fields(layout.TruncateBytes(title, maxBytes)), " "),
			Summary:  strings.TrimSpace(layout.TruncateBytes(summary, maxBytes)),
			Link:     strings.TrimSpace(link),
			Hashtags: channels.Hashtags(a.CategoryNames(), r.renames, r.maxHashtags),
		}
		if countText(floored.Summary) > r.minSummary {
			floored.Summary = cutText(floored.Summary, r.minSummary, countText)
		}
		if len(floored.Hashtags) > 0 && (floored.Summary != "" || strings.TrimSpace(summary) == "") {
			text, err := r.execute(floored)
			if err != nil {
				t.Fatal(err)
			}
			paragraphs := strings.Split(got.Text, "\n\n")
			if tags := strings.Join(floored.Hashtags, " "); countStatus(spoiler, text, 23) <= limit && paragraphs[len(paragraphs)-1] != tags {
				t.Fatalf("hashtags %q dropped although the post fits with them and a summary of %d characters (%d of %d):\n%q\nposted:\n%q",
					tags, r.minSummary, countStatus(spoiler, text, 23), limit, text, got.Text)
			}
		}
		// Every URL posted is one of the article's, whole.
		var inputURLs []string
		for _, s := range []string{title, summary, link} {
			for _, u := range findURLs(s) {
				inputURLs = append(inputURLs, s[u.start:u.end])
			}
		}
		for _, u := range findURLs(got.Text) {
			if posted := got.Text[u.start:u.end]; !slices.Contains(inputURLs, posted) {
				t.Fatalf("URL %q is not one of the article's %q: cut? %q", posted, inputURLs, got.Text)
			}
		}
	})
}

// TestTemplateSeesTheSharedData: a Mastodon template is given the fields
// every post channel's template gets (layout.Data), filled for Mastodon.
func TestTemplateSeesTheSharedData(t *testing.T) {
	r, err := newRenderer("shared", Config{Settings: Settings{Image: true},
		Template: `{{.Title}} | {{.ReadAlso}} | {{.Image}} | {{.ImageCaption}} | {{.Content}} | {{.Caption}}`})
	if err != nil {
		t.Fatal(err)
	}
	a := syndicate.Article{Title: "Huelga", Language: "es", ContentHTML: "<p>Body</p>",
		ImageURL: "https://example.org/i.jpg", ImageCaption: " Una  foto "}
	s, err := r.render(a, defaultLimits(), mastodonCounting)
	if err != nil {
		t.Fatal(err)
	}
	// No body on Mastodon: a status has no room for one.
	if want := "Huelga | Lee también | https://example.org/i.jpg | Una foto |  | false"; s.Text != want {
		t.Errorf("got %q, want %q", s.Text, want)
	}
}
