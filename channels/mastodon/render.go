package mastodon

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/layout"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

//go:embed templates/default.tmpl
var defaultTemplate string

// TemplateData is what a post template is executed with; see layout.Data
// for how its fields are fitted. {{cut N .Field}} counts as Mastodon
// counts.
type TemplateData = layout.Data

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
	sample := layout.Sample()
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
	return layout.Tidy(b.String()), nil
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
	return syndicate.Rendering{Text: text, Format: "text", Length: s.Length, Limit: s.Limit, Image: s.Image, Counting: syndicate.CountGraphemesURLsAs23}
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
		Title:      strings.Join(strings.Fields(layout.TruncateBytes(a.Title, maxBytes)), " "),
		Summary:    strings.TrimSpace(layout.TruncateBytes(a.Summary, maxBytes)),
		Link:       strings.TrimSpace(a.Link),
		Hashtags:   channels.Hashtags(a.CategoryNames(), r.renames, r.maxHashtags),
		Related:    a.Related,
		ReadAlso:   layout.ReadAlso(a.Language),
		Categories: a.Categories,
		Language:   a.Language,
		Author:     a.Author,
		Published:  a.Published,
	}
	if img := strings.TrimSpace(a.ImageURL); !r.noImage && img != "" {
		d.Image, d.ImageCaption = img, strings.Join(strings.Fields(a.ImageCaption), " ")
	}
	text, err := r.fit(d, lim.MaxCharacters, count, countText)
	out := status{Text: text, Spoiler: spoiler, Length: count(text), Limit: lim.MaxCharacters, Image: d.Image, Caption: d.ImageCaption}
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

// fit fits the post to limit, as layout.Fitter does, with Mastodon's
// counting (count: the whole status; countText: one field).
func (r *renderer) fit(d TemplateData, limit int, count, countText func(string) int) (string, error) {
	f := layout.Fitter{Syntax: syntax, Execute: r.execute, Count: count, CountText: countText,
		MinSummary: r.minSummary, MaxSummary: r.maxSummary}
	return f.Fit(d, limit)
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
