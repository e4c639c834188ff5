package bluesky

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/layout"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Bluesky's limits on a post's text (app.bsky.feed.post).
const (
	MaxGraphemes = 300
	MaxTextBytes = 3000
	// displayLinkLength is how many characters of a link the text shows
	// before "…"; its facet keeps the whole URL.
	displayLinkLength = 32
	// maxTagBytes and maxTagGraphemes bound a hashtag facet's tag.
	maxTagBytes     = 640
	maxTagGraphemes = 64
)

//go:embed templates/default.tmpl
var defaultTemplate string

// TemplateData is what a post template is executed with; see layout.Data
// for how its fields are fitted. Link is the article's link as the post
// shows it, without its scheme and shortened with "…" past 32
// characters: the link facet over it keeps the whole URL. Every other URL
// in the text, and every #hashtag, becomes a facet too. {{cut N .Field}}
// counts graphemes, as Bluesky does.
type TemplateData = layout.Data

// errNothingToPost: a post with no text says nothing of the article.
var errNothingToPost = errors.New("nothing to post: the template produced an empty text")

// bareURL finds the web URLs a text holds, which become link facets.
var bareURL = regexp.MustCompile(`https?://[^\s<>"]+`)

// syntax is what a cut never goes through: URLs.
var syntax = layout.Syntax{Entities: urlSpans, URLs: urlSpans}

func urlSpans(text string) [][2]int {
	var out [][2]int
	for _, m := range bareURL.FindAllStringIndex(text, -1) {
		end := m[0] + len(trimURL(text[m[0]:m[1]]))
		out = append(out, [2]int{m[0], end})
	}
	return out
}

// trimURL drops the punctuation a sentence leaves after a URL.
func trimURL(u string) string {
	for u != "" {
		r, size := utf8.DecodeLastRuneInString(u)
		if !strings.ContainsRune(".,;:!?…'\"", r) && !(r == ')' && strings.Count(u, "(") < strings.Count(u, ")")) {
			return u
		}
		u = u[:len(u)-size]
	}
	return u
}

// Length counts a text as Bluesky limits it: grapheme clusters.
func Length(text string) int { return uniseg.GraphemeClusterCount(text) }

// count is Length, but a text over Bluesky's byte limit counts as over
// its grapheme limit too, so that fitting keeps within both.
func count(text string) int {
	n := Length(text)
	if len(text) > MaxTextBytes {
		n = max(n, MaxGraphemes+1)
	}
	return n
}

type renderer struct {
	tmpl                   *template.Template
	maxHashtags            int
	minSummary, maxSummary int
	renames                map[string]string
	language               string
	embed                  string
}

func newRenderer(name string, cfg Config) (*renderer, error) {
	src := cfg.Template
	if src == "" {
		src = defaultTemplate
	}
	t, err := template.New(name).Funcs(template.FuncMap{
		"cut":  func(n int, s string) string { return syntax.Cut(s, n, Length) },
		"join": strings.Join,
	}).Parse(src)
	if err != nil {
		return nil, fmt.Errorf("parsing template: %w", err)
	}
	r := &renderer{tmpl: t, maxHashtags: cfg.MaxHashtags, minSummary: cfg.MinSummary, maxSummary: cfg.MaxSummary,
		renames: cfg.Hashtags, language: cfg.Language, embed: cfg.Embed}
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

// post is a post as Send makes its record: the text, its facets, and what
// goes under it.
type post struct {
	Text     string
	Facets   []facet
	Langs    []string
	Link     string // the article's link, the card's uri
	Title    string // the card's title
	Summary  string // the card's description
	Image    string // the featured image's URL; "" for none
	Caption  string // its caption: alt text of an attached image
	Embed    string // EmbedCard, EmbedImage or EmbedNone
	Length   int    // graphemes of Text
	TooBig   bool   // over MaxTextBytes
	Hashtags []string
}

// facet is a span of the text, in UTF-8 bytes, that Bluesky shows as a
// link (URL set) or as a hashtag (Tag set, without its "#").
type facet struct {
	Start, End int
	URL, Tag   string
}

// render returns the post for a, fitted within Bluesky's limits. The
// post is filled even with an error, so a preview can show what is wrong.
func (r *renderer) render(a syndicate.Article) (post, error) {
	a = validUTF8(a)
	link := strings.TrimSpace(a.Link)
	shown := displayLink(link)
	d := TemplateData{
		Title:      strings.Join(strings.Fields(layout.TruncateBytes(a.Title, 64<<10)), " "),
		Summary:    strings.TrimSpace(layout.TruncateBytes(a.Summary, 64<<10)),
		Link:       shown,
		Hashtags:   channels.Hashtags(a.CategoryNames(), r.renames, r.maxHashtags),
		Related:    a.Related,
		ReadAlso:   layout.ReadAlso(a.Language),
		Categories: a.Categories,
		Language:   a.Language,
		Author:     a.Author,
		Published:  a.Published,
	}
	if img := strings.TrimSpace(a.ImageURL); img != "" && r.embed != EmbedNone && (r.embed != EmbedCard || isWebURL(link)) {
		d.Image, d.ImageCaption = img, strings.Join(strings.Fields(a.ImageCaption), " ")
	}
	f := layout.Fitter{Syntax: syntax, Execute: r.execute, Count: count, CountText: Length,
		MinSummary: r.minSummary, MaxSummary: r.maxSummary}
	text, err := f.Fit(d, MaxGraphemes)
	p := r.shape(a, text)
	switch {
	case err != nil:
		return p, fmt.Errorf("executing template: %w", err)
	case text == "":
		return p, errNothingToPost
	}
	return p, p.check()
}

// shape makes the post of text: its facets, languages and embed.
func (r *renderer) shape(a syndicate.Article, text string) post {
	a, text = validUTF8(a), strings.ToValidUTF8(text, "\uFFFD")
	link := strings.TrimSpace(a.Link)
	p := post{
		Text: text, Length: Length(text), TooBig: len(text) > MaxTextBytes,
		Link: link, Title: strings.Join(strings.Fields(a.Title), " "),
		Summary: syntax.Cut(strings.Join(strings.Fields(a.Summary), " "), 300, Length),
		Embed:   r.embed,
	}
	links := map[string]string{}
	if isWebURL(link) {
		links[displayLink(link)] = link
	} else if p.Embed == EmbedCard {
		p.Embed = EmbedNone // a card needs a page to open
	}
	p.Facets = facets(text, links)
	if lang := r.language; lang != "" {
		p.Langs = []string{lang}
	} else if isLanguage(a.Language) {
		p.Langs = []string{a.Language}
	}
	if img := strings.TrimSpace(a.ImageURL); img != "" && p.Embed != EmbedNone {
		p.Image, p.Caption = img, strings.Join(strings.Fields(a.ImageCaption), " ")
	}
	return p
}

// validUTF8 replaces what is not UTF-8 in the fields a post shows: a
// record's text must be valid, and a facet must lie on character
// boundaries.
func validUTF8(a syndicate.Article) syndicate.Article {
	for _, f := range []*string{&a.Title, &a.Summary, &a.Link, &a.ImageCaption, &a.ImageURL} {
		*f = strings.ToValidUTF8(*f, "\uFFFD")
	}
	return a
}

// check refuses a post Bluesky would refuse.
func (p post) check() error {
	switch {
	case p.Length > MaxGraphemes:
		return fmt.Errorf("the post is %d characters even with the title, summary and hashtags shortened, over the limit of %d", p.Length, MaxGraphemes)
	case p.TooBig:
		return fmt.Errorf("the post is %d bytes, over Bluesky's limit of %d", len(p.Text), MaxTextBytes)
	}
	return nil
}

// rendering is the post as a preview shows it.
func (p post) rendering() syndicate.Rendering {
	r := syndicate.Rendering{Text: p.Text, Format: "text", Length: p.Length, Limit: MaxGraphemes, Counting: syndicate.CountGraphemes}
	for _, f := range p.Facets {
		target := f.URL
		if target == "" {
			target = hashtagPage + url.PathEscape(f.Tag) // where Bluesky's app links a tag
		}
		r.Links = append(r.Links, syndicate.LinkSpan{Start: f.Start, End: f.End, URL: target})
	}
	switch p.Embed {
	case EmbedCard:
		r.Card = &syndicate.Card{URL: p.Link, Title: p.Title, Description: p.Summary, Thumb: p.Image}
	case EmbedImage:
		r.Image = p.Image
	}
	return r
}

// hashtagPage is where bsky.app shows the posts of a tag.
const hashtagPage = "https://bsky.app/hashtag/"

// displayLink is a link as the post shows it: without its scheme, cut
// with "…" past displayLinkLength characters.
func displayLink(link string) string {
	u, err := url.Parse(link)
	if err != nil || u.Host == "" {
		return link
	}
	shown := strings.TrimPrefix(strings.TrimPrefix(link, u.Scheme+"://"), "www.")
	shown = strings.TrimSuffix(shown, "/")
	if utf8.RuneCountInString(shown) <= displayLinkLength+1 {
		return shown
	}
	runes := []rune(shown)
	return string(runes[:displayLinkLength]) + channels.Ellipsis
}

// facets finds what of text Bluesky is to show as links and hashtags:
// each shown form of links (shown → URL), the other web URLs, and the
// #hashtags, in order and without overlaps.
func facets(text string, links map[string]string) []facet {
	var out []facet
	taken := func(start, end int) bool {
		for _, f := range out {
			if start < f.End && f.Start < end {
				return true
			}
		}
		return false
	}
	shown := make([]string, 0, len(links))
	for s := range links {
		shown = append(shown, s)
	}
	sort.Slice(shown, func(i, j int) bool { return len(shown[i]) > len(shown[j]) })
	for _, s := range shown {
		if s == "" {
			continue
		}
		for at := 0; ; {
			i := strings.Index(text[at:], s)
			if i < 0 {
				break
			}
			start, end := at+i, at+i+len(s)
			if !taken(start, end) && boundary(text, start, end) {
				out = append(out, facet{Start: start, End: end, URL: links[s]})
			}
			at = end
		}
	}
	for _, sp := range urlSpans(text) {
		if u := text[sp[0]:sp[1]]; !taken(sp[0], sp[1]) && isWebURL(u) {
			out = append(out, facet{Start: sp[0], End: sp[1], URL: u})
		}
	}
	for i := 0; i < len(text); i++ {
		if text[i] != '#' || (i > 0 && !isSpaceBefore(text, i)) {
			continue
		}
		end := i + 1
		for end < len(text) {
			r, size := utf8.DecodeRuneInString(text[end:])
			if !channels.IsHashtagRune(r) {
				break
			}
			end += size
		}
		tag := text[i+1 : end]
		if tag == "" || !strings.ContainsFunc(tag, unicode.IsLetter) || len(tag) > maxTagBytes ||
			uniseg.GraphemeClusterCount(tag) > maxTagGraphemes || taken(i, end) {
			continue
		}
		out = append(out, facet{Start: i, End: end, Tag: tag})
		i = end - 1
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// boundary reports whether text[start:end] stands as a word of its own.
func boundary(text string, start, end int) bool {
	if start > 0 {
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	if end < len(text) {
		if r, _ := utf8.DecodeRuneInString(text[end:]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

func isSpaceBefore(text string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(text[:i])
	return unicode.IsSpace(r) || strings.ContainsRune("([{\"'«“", r)
}

func isWebURL(s string) bool {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}
