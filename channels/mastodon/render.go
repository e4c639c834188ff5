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
// Related, Hashtags, Summary and Title arrive already fitted: the channel
// executes the template, and while the result (with the content warning,
// which counts too) is over the instance's limit it drops related links
// (last first; the default template shows none), then hashtags (last
// first), then shortens Summary at a word boundary with "…" (down to
// nothing), then Title. Link is never shortened, and nothing is cut inside
// a word, a URL, a mention or a hashtag. Functions: {{cut N .Field}} (or
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
		tmpl: t, maxHashtags: cfg.MaxHashtags, noImage: cfg.NoImage,
		renames: cfg.Hashtags, warnings: foldKeys(cfg.ContentWarnings),
	}
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

// render returns the status for a, fitted to lim; with fullURLs, URLs
// count their real length (servers that do not reserve a fixed length for
// them). The status is filled even with an error, so a preview can show
// what is wrong.
func (r *renderer) render(a syndicate.Article, lim Limits, fullURLs bool) (status, error) {
	perURL := lim.CharactersPerURL
	if fullURLs {
		perURL = -1
	}
	spoiler := contentWarning(a.Categories, r.warnings)
	count := func(text string) int { return countStatus(spoiler, text, perURL) }
	// Far more than can ever fit; spares fitting a huge text over and over.
	maxBytes := max(64<<10, 64*lim.MaxCharacters)
	d := TemplateData{
		Title:      strings.Join(strings.Fields(truncateBytes(a.Title, maxBytes)), " "),
		Summary:    strings.TrimSpace(truncateBytes(a.Summary, maxBytes)),
		Link:       strings.TrimSpace(a.Link),
		Hashtags:   channels.Hashtags(a.Categories, r.renames, r.maxHashtags),
		Related:    a.Related,
		Categories: a.Categories,
		Language:   a.Language,
		Author:     a.Author,
		Published:  a.Published,
	}
	text, err := r.fit(d, lim.MaxCharacters, count)
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

// fit executes the template with fewer related links, then fewer
// hashtags, then the summary, then the title shortened, until the text
// fits within limit. When even none of them fits, it returns that text,
// over the limit.
func (r *renderer) fit(d TemplateData, limit int, count func(string) int) (string, error) {
	try := func() (string, bool, error) {
		text, err := r.execute(d)
		return text, count(text) <= limit, err
	}
	text, ok, err := try()
	for err == nil && !ok && len(d.Related) > 0 {
		d.Related = d.Related[:len(d.Related)-1]
		text, ok, err = try()
	}
	for err == nil && !ok && len(d.Hashtags) > 0 {
		d.Hashtags = d.Hashtags[:len(d.Hashtags)-1]
		text, ok, err = try()
	}
	if err != nil || ok {
		return text, err
	}
	for _, field := range []*string{&d.Summary, &d.Title} {
		full := *field
		*field = ""
		if text, ok, err = try(); err != nil || !ok {
			if err != nil {
				return text, err
			}
			continue // too long even without it: shorten the next one
		}
		// Binary search on the budget given to the field. cut(lo) fits and
		// cut(hi) = full does not; counts are not strictly monotonic (a
		// URL counts 23 however long), so every candidate is checked.
		best := text
		lo, hi := 0, min(count(full), limit+1)
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			*field = cutText(full, mid, count)
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
	return text, nil
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
