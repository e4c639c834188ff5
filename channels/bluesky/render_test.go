package bluesky

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

const caption = "Oil workers on wildcat strike, start of protests in Kazakhstan."

func kazakhstan() syndicate.Article {
	return syndicate.Article{
		FeedID:       "emancipation-en",
		Key:          "https://en.communia.blog/protests-in-kazakhstan-5-clues",
		Link:         "https://en.communia.blog/protests-in-kazakhstan-5-clues",
		Title:        "Protests in Kazakhstan 5 clues to understand what’s going on",
		Summary:      `The crackdown on protests in Kazakhstan has become internationalized: Russian paratroopers and Armenian, Tajik and Kyrgyz troops under CSTO mandate have entered the country to tackle demonstrators. Russian agencies speak of a joint action to confront "terrorists" and "bandits", American ones of an attempt by Putin to "expand his influence". Both render invisible the reality: from last Sunday to today, the Kazakh state has collapsed in the face of a mass strike that spread throughout the country, but which nevertheless is far from the level of workers' self-organization that we have seen in Iran.`,
		ImageURL:     "https://en.communia.blog/images/kazakhstan-strike.jpg",
		ImageCaption: caption,
		Categories:   []string{"Kazakhstan", "Mass strike", "Central Asia"},
		Language:     "en",
		Author:       "Emancipation",
		Published:    time.Date(2022, 1, 7, 17, 0, 0, 0, time.UTC),
		ID:           1,
		FirstSeen:    time.Date(2026, 11, 26, 21, 30, 0, 0, time.UTC),
	}
}

func kazajistan() syndicate.Article {
	return syndicate.Article{
		FeedID:     "emancipation-es",
		Key:        "https://communia.blog/protestas-en-kazajistan-5-claves",
		Link:       "https://communia.blog/protestas-en-kazajistan-5-claves",
		Title:      "Protestas en Kazajistán: 5 claves para entender qué está pasando",
		Summary:    "La represión de las protestas en Kazajistán se ha internacionalizado. ¿Golpe fallido o invasión rusa? Ni lo uno ni lo otro: una huelga de masas que ha hecho caer al Estado kazajo en pocos días 🔥. Sigue el hilo y lee también https://communia.blog/huelga-de-masas-en-kazajistan-cronologia-completa-de-los-hechos.",
		Categories: []string{"Kazajistán", "Huelga de masas", "Asia Central"},
		Language:   "es",
		Published:  time.Date(2022, 1, 8, 8, 0, 0, 0, time.UTC),
		ID:         2,
		FirstSeen:  time.Date(2026, 11, 26, 21, 31, 0, 0, time.UTC),
	}
}

func testRenderer(t testing.TB, edit func(*Config)) *renderer {
	t.Helper()
	cfg := Config{ID: "bluesky-en", Settings: DefaultSettings()}
	if edit != nil {
		edit(&cfg)
	}
	r, err := newRenderer(cfg.ID, cfg.withDefaults())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// golden is a post as the golden files show it: the text, its count, each
// facet with the text it covers, and the embed.
func golden(p post) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n-- %d/%d graphemes, %d bytes, langs %v\n", p.Text, p.Length, MaxGraphemes, len(p.Text), p.Langs)
	for _, f := range p.Facets {
		what := "link " + f.URL
		if f.Tag != "" {
			what = "tag " + f.Tag
		}
		fmt.Fprintf(&b, "facet [%d,%d) %q → %s\n", f.Start, f.End, p.Text[f.Start:f.End], what)
	}
	fmt.Fprintf(&b, "embed %s", p.Embed)
	if p.Embed == EmbedCard {
		fmt.Fprintf(&b, ": %s | %s | %s | thumb %s", p.Link, p.Title, p.Summary, p.Image)
	}
	b.WriteString("\n")
	return b.String()
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

func TestGolden(t *testing.T) {
	for _, tt := range []struct {
		name    string
		article syndicate.Article
	}{{"kazakhstan-en", kazakhstan()}, {"kazajistan-es", kazajistan()}} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := testRenderer(t, nil).render(tt.article)
			if err != nil {
				t.Fatal(err)
			}
			checkFacets(t, p)
			checkGolden(t, filepath.Join("testdata", tt.name+".golden"), golden(p))
		})
	}
}

// checkFacets asserts what Bluesky asks of a post: within its limits, each
// facet on character boundaries, in order, covering exactly its text.
func checkFacets(t testing.TB, p post) {
	t.Helper()
	if n := uniseg.GraphemeClusterCount(p.Text); n > MaxGraphemes || len(p.Text) > MaxTextBytes || n != p.Length {
		t.Fatalf("%d graphemes (counted %d), %d bytes:\n%s", n, p.Length, len(p.Text), p.Text)
	}
	at := 0
	for _, f := range p.Facets {
		if f.Start < at || f.End <= f.Start || f.End > len(p.Text) {
			t.Fatalf("facet [%d,%d) out of order or outside a text of %d bytes", f.Start, f.End, len(p.Text))
		}
		covered := p.Text[f.Start:f.End]
		if !utf8.ValidString(covered) || (f.Start < len(p.Text) && !utf8.RuneStart(p.Text[f.Start])) || (f.End < len(p.Text) && !utf8.RuneStart(p.Text[f.End])) {
			t.Fatalf("facet [%d,%d) is not on character boundaries", f.Start, f.End)
		}
		if f.Tag != "" && covered != "#"+f.Tag {
			t.Fatalf("tag facet %q covers %q", f.Tag, covered)
		}
		if f.URL != "" && !isWebURL(f.URL) {
			t.Fatalf("link facet to %q", f.URL)
		}
		at = f.End
	}
}

func TestLongLinkIsShownShort(t *testing.T) {
	a := kazakhstan()
	a.Summary = "Short."
	p, err := testRenderer(t, nil).render(a)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.Text, "\nen.communia.blog/protests-in-kaz…\n") {
		t.Fatalf("the link is not shown shortened:\n%s", p.Text)
	}
	if p.Facets[0].URL != a.Link || p.Text[p.Facets[0].Start:p.Facets[0].End] != "en.communia.blog/protests-in-kaz…" {
		t.Errorf("the link facet: %+v", p.Facets[0])
	}
}

func TestFitDropsHashtagsLastFirstAndKeepsTheLink(t *testing.T) {
	a := kazakhstan()
	a.Title = strings.Repeat("Word ", 50)
	a.Categories = []string{"Kazakhstan", "Mass strike", "Central Asia"}
	p, err := testRenderer(t, nil).render(a)
	if err != nil {
		t.Fatal(err)
	}
	checkFacets(t, p)
	if !strings.Contains(p.Text, "en.communia.blog/protests-in-kaz…") {
		t.Errorf("the link was dropped:\n%s", p.Text)
	}
	if strings.Contains(p.Text, "#CentralAsia") && !strings.Contains(p.Text, "#Kazakhstan") {
		t.Errorf("hashtags dropped out of order:\n%s", p.Text)
	}
}

func TestEmbeds(t *testing.T) {
	for _, tt := range []struct {
		embed, image string
		want         string
	}{
		{EmbedCard, "https://en.communia.blog/images/kazakhstan-strike.jpg", EmbedCard},
		{EmbedImage, "https://en.communia.blog/images/kazakhstan-strike.jpg", EmbedImage},
		{EmbedNone, "https://en.communia.blog/images/kazakhstan-strike.jpg", EmbedNone},
		{EmbedCard, "", EmbedCard},
	} {
		a := kazakhstan()
		a.ImageURL = tt.image
		p, err := testRenderer(t, func(c *Config) { c.Embed = tt.embed }).render(a)
		if err != nil {
			t.Fatal(err)
		}
		r := p.rendering()
		switch {
		case p.Embed != tt.want:
			t.Errorf("embed %s: got %s", tt.embed, p.Embed)
		case tt.want == EmbedCard && (r.Card == nil || r.Card.URL != a.Link || r.Card.Thumb != tt.image):
			t.Errorf("embed %s: card %+v", tt.embed, r.Card)
		case tt.want == EmbedImage && (r.Image != tt.image || p.Caption != caption):
			t.Errorf("embed %s: image %q, caption %q", tt.embed, r.Image, p.Caption)
		case tt.want == EmbedNone && (r.Card != nil || r.Image != "" || p.Image != ""):
			t.Errorf("embed none: %+v", r)
		}
	}
}

func TestFacetsOfAnEditorsText(t *testing.T) {
	text := "Léelo: communia.blog/x… y https://communia.blog/y. #Huelga, #2022 y #Kazajistán"
	got := facets(text, map[string]string{"communia.blog/x…": "https://communia.blog/x"})
	want := []facet{
		{Start: 8, End: 26, URL: "https://communia.blog/x"},
		{Start: 29, End: 52, URL: "https://communia.blog/y"}, // without the full stop
		{Start: 54, End: 61, Tag: "Huelga"},
		{Start: 71, End: 83, Tag: "Kazajistán"}, // #2022 is no hashtag: no letter
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Errorf("facets\n got %s\nwant %s", gj, wj)
	}
	checkFacets(t, post{Text: text, Length: Length(text), Facets: got})
}

func TestRecordKey(t *testing.T) {
	p := syndicate.Post{DeliveryID: 42, Article: kazakhstan()}
	k := recordKey(p)
	if len(k) != 13 || !strings.ContainsRune("234567abcdefghij", rune(k[0])) || strings.Trim(k, tidAlphabet) != "" {
		t.Fatalf("recordKey = %q: not a TID", k)
	}
	if recordKey(p) != k {
		t.Error("not stable")
	}
	p.Article.FirstSeen = p.Article.FirstSeen.Add(500 * time.Millisecond) // as a store may keep it
	if recordKey(p) != k {
		t.Error("changes below the second")
	}
	seen := map[string]int64{}
	for _, id := range []int64{1, 2, 999_999, 1_000_000, 1_000_001, 2_000_001, 42} {
		p.DeliveryID = id
		if other, dup := seen[recordKey(p)]; dup && other != id {
			t.Errorf("deliveries %d and %d share a key", id, other)
		}
		seen[recordKey(p)] = id
	}
	// Later keys sort after earlier ones, as TIDs do.
	a, b := syndicate.Post{DeliveryID: 1, Article: kazakhstan()}, syndicate.Post{DeliveryID: 1, Article: kazakhstan()}
	b.Article.FirstSeen = b.Article.FirstSeen.Add(time.Second)
	if recordKey(a) >= recordKey(b) {
		t.Errorf("%s sorts after %s", recordKey(a), recordKey(b))
	}
}

// FuzzRender proves that every post fits, every facet covers exactly its
// text on character boundaries, and the link survives.
func FuzzRender(f *testing.F) {
	f.Add("Protests in Kazakhstan", kazakhstan().Summary, "https://en.communia.blog/protests-in-kazakhstan-5-clues", "Mass strike")
	f.Add(strings.Repeat("👨‍👩‍👧‍👦", 400), strings.Repeat("é ", 2000), "https://x.org/"+strings.Repeat("a", 500), "Año")
	f.Add("", "", "https://x.org", "")
	f.Add("#tag #2022 https://a.b/c", "see https://x.org/a) and (https://y.org/b).", "http://localhost:8080/p?q=1#f", "#hash")
	f.Add("\u200d\u0301x", "\xff\xfe", "https://exa mple.org/", "\x00")
	r := testRenderer(f, nil)
	f.Fuzz(func(t *testing.T, title, summary, link, category string) {
		a := syndicate.Article{Title: title, Summary: summary, Link: link, Categories: []string{category, "Kazakhstan"}, Language: "en"}
		p, err := r.render(a)
		if err != nil {
			if p.Length <= MaxGraphemes && len(p.Text) <= MaxTextBytes && p.Text != "" {
				t.Fatalf("refused a post within the limits: %v", err)
			}
			return
		}
		checkFacets(t, p)
		if isWebURL(strings.TrimSpace(link)) {
			shown := displayLink(strings.TrimSpace(link))
			found := false
			for _, fc := range p.Facets {
				found = found || (fc.URL == strings.TrimSpace(link) && p.Text[fc.Start:fc.End] == shown)
			}
			if !found {
				t.Fatalf("the link %q is gone:\n%s\n%+v", link, p.Text, p.Facets)
			}
		}
	})
}

// TestTemplateSeesTheSharedData: a Bluesky template is given the fields
// every post channel's template gets (layout.Data), filled for Bluesky.
func TestTemplateSeesTheSharedData(t *testing.T) {
	tmpl := `{{.Title}} | {{.ReadAlso}} | {{.Image}} | {{.ImageCaption}} | {{.Content}} | {{.Caption}}`
	a := syndicate.Article{Title: "Huelga", Language: "es", Link: "https://example.org/a", ContentHTML: "<p>Body</p>",
		ImageURL: "https://example.org/i.jpg", ImageCaption: " Una  foto "}
	for _, tt := range []struct{ embed, want string }{
		{EmbedCard, "Huelga | Lee también | https://example.org/i.jpg | Una foto |  | false"},
		{EmbedImage, "Huelga | Lee también | https://example.org/i.jpg | Una foto |  | false"},
		{EmbedNone, "Huelga | Lee también |  |  |  | false"}, // the post carries no image
	} {
		r := testRenderer(t, func(c *Config) { c.Template, c.Embed = tmpl, tt.embed })
		p, err := r.render(a)
		if err != nil {
			t.Fatal(err)
		}
		if p.Text != tt.want {
			t.Errorf("embed %s: got %q, want %q", tt.embed, p.Text, tt.want)
		}
	}
}
