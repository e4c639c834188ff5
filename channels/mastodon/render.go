package mastodon

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

//go:embed templates/default.tmpl
var defaultTemplate string

// TemplateData is what a post template is executed with.
//
// Related, Hashtags, Summary and Title arrive already fitted. Summary is
// first capped at Config.MaxSummary characters. Then the channel executes
// the template, and while the result (with the content warning, which
// counts too) is over the instance's limit it drops related links (last
// first; the default template shows none), then shortens Summary down to
// Config.MinSummary characters, then drops hashtags (last first, giving
// the summary back the room they leave), then drops Summary (and keeps the
// hashtags that fit without it), then shortens Title at a word with "…".
// Summary is cut at the last sentence end within its budget, ending with
// the sentence's own punctuation and no "…", when that keeps at least
// MinSummary characters; else at a word, with "…". Link is never
// shortened, and nothing is cut inside a word, a URL, a mention or a
// hashtag. Functions: {{cut N .Field}} (or
// {{.Field | cut N}}) cuts a text the same way to N characters, counted as
// Mastodon counts; {{join .Hashtags " "}} is strings.Join. The output is
// tidied: trailing spaces dropped, runs of blank lines collapsed into one,
// leading and trailing blank lines removed.
type TemplateData struct {
	Title      string   // plain text on one line
	Summary    string   // plain text
	Link       string   // the article's canonical link
	Hashtags   []string // "#MassStrike", made from Categories, at most Config.MaxHashtags
	Related    []syndicate.Link
	Categories []string
	Language   string
	Author     string
	Published  time.Time // zero when the feed gave no date
}

// errNothingToPost: Mastodon refuses a blank status.
var errNothingToPost = errors.New("nothing to post: the template produced an empty text")

type renderer struct {
	tmpl        *template.Template
	maxHashtags int
	minSummary  int               // the floor a summary is shortened to before a hashtag is dropped
	maxSummary  int               // the summary's cap; negative for none
	renames     map[string]string // category → hashtag name, "" drops (see channels.Hashtags)
	warnings    map[string]string // folded category → content warning
	noImage     bool
}

func newRenderer(name string, cfg Config) (*renderer, error) {
	src := cfg.Template
	if src == "" {
		src = defaultTemplate
	}
	t, err := template.New(name).Funcs(template.FuncMap{
		"cut":  func(n int, s string) string { return cutText(s, n, Length) },
		"join": strings.Join,
	}).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parsing template: %w", err)
	}
	r := &renderer{
		tmpl: t, maxHashtags: cfg.MaxHashtags, noImage: !cfg.Image,
		renames: cfg.Hashtags, warnings: foldKeys(cfg.ContentWarnings),
	}
	r.minSummary, r.maxSummary = summaryBounds(cfg.MinSummary, cfg.MaxSummary)
	// Execute once now, so a misspelt field fails at start and not at the
	// first send.
	sample := TemplateData{
		Title: "Title", Summary: "Summary", Link: "https://example.org/article",
		Hashtags: []string{"#News"}, Related: []syndicate.Link{{Title: "Related", URL: "https://example.org/related"}},
		Categories: []string{"News"}, Language: "en", Author: "Author",
		Published: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if _, err := r.execute(sample); err != nil {
		return nil, fmt.Errorf("executing template on a sample article: %w", err)
	}
	return r, nil
}

func (r *renderer) execute(d TemplateData) (string, error) {
	var b strings.Builder
	if err := r.tmpl.Execute(&b, d); err != nil {
		return "", err
	}
	return tidy(b.String()), nil
}

// status is a post as Send posts it.
type status struct {
	Text    string
	Spoiler string // the content warning; "" for none
	Image   string // URL of the featured image to attach; "" for none
	Caption string // the image's caption or alt text
	Length  int    // Spoiler and Text, counted as the instance counts
	Limit   int
}

// rendering is the status as a preview shows it: a content warning comes
// first, on a line of its own, as clients show it above the post.
func (s status) rendering() syndicate.Rendering {
	text := s.Text
	if s.Spoiler != "" {
		text = "CW: " + s.Spoiler + "\n\n" + text
	}
	return syndicate.Rendering{Text: text, Format: "text", Length: s.Length, Limit: s.Limit, Image: s.Image}
}

// render returns the status for a, fitted to lim.MaxCharacters as k
// counts. The status is filled even with an error, so a preview can show
// what is wrong.
func (r *renderer) render(a syndicate.Article, lim Limits, k counter) (status, error) {
	spoiler := contentWarning(a.Categories, r.warnings)
	count := func(text string) int { return k.status(spoiler, text) }
	countText := k.text
	// Far more than can ever fit; spares fitting a huge text over and over.
	maxBytes := max(64<<10, 64*lim.MaxCharacters)
	d := TemplateData{
		Title:      strings.Join(strings.Fields(truncateBytes(a.Title, maxBytes)), " "),
		Summary:    strings.TrimSpace(truncateBytes(a.Summary, maxBytes)),
		Link:       strings.TrimSpace(a.Link),
		Hashtags:   channels.Hashtags(a.CategoryNames(), r.renames, r.maxHashtags),
		Related:    a.Related,
		Categories: a.Categories,
		Language:   a.Language,
		Author:     a.Author,
		Published:  a.Published,
	}
	text, err := r.fit(d, lim.MaxCharacters, count, countText)
	out := status{Text: text, Spoiler: spoiler, Length: count(text), Limit: lim.MaxCharacters}
	if img := strings.TrimSpace(a.ImageURL); !r.noImage && img != "" {
		out.Image, out.Caption = img, strings.Join(strings.Fields(a.ImageCaption), " ")
	}
	switch {
	case err != nil:
		return out, fmt.Errorf("executing template: %w", err)
	case text == "":
		return out, errNothingToPost
	case out.Length > out.Limit:
		what := "title, summary and hashtags"
		if spoiler != "" {
			what += fmt.Sprintf(" (with the content warning %q)", spoiler)
		}
		return out, fmt.Errorf("the post is %d characters even with the %s dropped, over the limit of %d", out.Length, what, out.Limit)
	}
	return out, nil
}

// fit executes the template with the summary capped at maxSummary and,
// while the text is over limit, with fewer related links, the summary
// shortened down to minSummary, fewer hashtags, no summary, and last the
// title shortened (see TemplateData). When even none of them fits, it
// returns that text, over the limit. count counts a whole text, countText
// a field, as the instance does.
func (r *renderer) fit(d TemplateData, limit int, count, countText func(string) int) (string, error) {
	try := func() (string, bool, error) {
		text, err := r.execute(d)
		return text, count(text) <= limit, err
	}
	// Every shorter summary is cut from the whole one.
	summary := d.Summary
	if r.maxSummary >= 0 {
		d.Summary = cutSummary(summary, r.maxSummary, r.minSummary, countText)
	}
	capped := d.Summary
	text, ok, err := try()
	for err == nil && !ok && len(d.Related) > 0 {
		d.Related = d.Related[:len(d.Related)-1]
		text, ok, err = try()
	}
	if err != nil || ok {
		return text, err
	}
	// shorten gives the summary as much room as is left, down to
	// minSummary: it reports false when even the summary cut to that floor
	// does not fit.
	shorten := func() (string, bool, error) {
		d.Summary = capped
		text, ok, err := try()
		if err != nil || ok {
			return text, ok, err
		}
		// The most the summary may count; a cut to it does not fit.
		hi := min(countText(capped), limit+1)
		lo := floorBudget(summary, r.minSummary, hi, countText)
		if d.Summary = cutText(summary, lo, countText); d.Summary == "" || d.Summary == capped {
			return text, false, nil
		}
		best, ok, err := try()
		if err != nil || !ok {
			return best, false, err
		}
		// Binary search on the summary's budget: cut(lo) fits and hi does
		// not; counts are not strictly monotonic (a URL counts 23 however
		// long), so every candidate is checked.
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			d.Summary = cutText(summary, mid, countText)
			t, ok, err := try()
			if err != nil {
				return t, false, err
			}
			if ok {
				lo, best = mid, t
			} else {
				hi = mid
			}
		}
		// A sentence end within that budget reads better than a cut word.
		if s := cutSummary(summary, lo, r.minSummary, countText); s != cutText(summary, lo, countText) {
			d.Summary = s
			if t, ok, err := try(); err != nil || ok {
				return t, ok, err
			}
		}
		return best, true, nil
	}
	hashtags := d.Hashtags
	for k := len(hashtags); k >= 0; k-- {
		d.Hashtags = hashtags[:k]
		if text, ok, err = shorten(); err != nil || ok {
			return text, err
		}
	}
	// Not even the shortest summary fits: without it, the hashtags that
	// fit come back.
	d.Summary = ""
	for k := len(hashtags); k >= 0; k-- {
		d.Hashtags = hashtags[:k]
		if text, ok, err = try(); err != nil || ok {
			return text, err
		}
	}
	full := d.Title
	d.Title = ""
	if text, ok, err = try(); err != nil || !ok {
		return text, err // too long even without a title
	}
	// Binary search on the budget given to the title, as above.
	best := text
	lo, hi := 0, min(count(full), limit+1)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		d.Title = cutText(full, mid, count)
		t, ok, err := try()
		if err != nil {
			return t, err
		}
		if ok {
			lo, best = mid, t
		} else {
			hi = mid
		}
	}
	return best, nil
}

// floorBudget returns the budget of the shortest summary fit keeps before
// it drops a hashtag: floor, or, when the first word of s is longer than
// that, the least budget below hi that keeps it; hi when none does.
func floorBudget(s string, floor, hi int, count func(string) int) int {
	if floor >= hi || cutText(s, floor, count) != "" {
		return floor
	}
	// cut(lo) is empty and cut(hi) is not, or hi is returned.
	lo := floor
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if cutText(s, mid, count) == "" {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// truncateBytes returns at most the first n bytes of s, whole runes only.
func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// contentWarning joins the warnings of the categories, each once.
func contentWarning(categories []string, warnings map[string]string) string {
	var out []string
	seen := map[string]bool{}
	for _, c := range categories {
		w := warnings[channels.FoldCategory(c)]
		if w == "" || seen[strings.ToLower(w)] {
			continue
		}
		seen[strings.ToLower(w)] = true
		out = append(out, w)
	}
	return strings.Join(out, ", ")
}

// tidy drops trailing spaces, collapses runs of blank lines and trims the
// text, so a template can leave a line empty without leaving a gap.
func tidy(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, l)
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
