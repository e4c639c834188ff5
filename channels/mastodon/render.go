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
// Hashtags, Summary and Title arrive already fitted: the channel executes
// the template, and while the result is over the instance's limit it drops
// hashtags (last first), then shortens Summary at a word boundary with "…"
// (down to nothing), then Title. Link is never shortened. Functions:
// {{cut N .Field}} (or {{.Field | cut N}}) cuts a text to N characters,
// counted as Mastodon counts; {{join .Hashtags " "}} is strings.Join. The
// output is tidied: trailing spaces dropped, runs of blank lines collapsed
// into one, leading and trailing blank lines removed.
type TemplateData struct {
	Title      string   // plain text on one line
	Summary    string   // plain text
	Link       string   // the article's canonical link
	Hashtags   []string // "#MassStrike", made from Categories, at most Config.MaxHashtags
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
}

func newRenderer(name, src string, maxHashtags int) (*renderer, error) {
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
	r := &renderer{tmpl: t, maxHashtags: maxHashtags}
	// Execute once now, so a misspelt field fails at start and not at the
	// first send.
	sample := TemplateData{
		Title: "Title", Summary: "Summary", Link: "https://example.org/article",
		Hashtags: []string{"#News"}, Categories: []string{"News"}, Language: "en", Author: "Author",
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

// render returns the post for a, fitted to lim. The returned Rendering is
// filled even with an error, so a preview can show what is wrong.
func (r *renderer) render(a syndicate.Article, lim Limits) (syndicate.Rendering, error) {
	count := func(s string) int { return countChars(s, lim.CharactersPerURL) }
	// Far more than can ever fit; spares fitting a huge text over and over.
	maxBytes := max(64<<10, 64*lim.MaxCharacters)
	d := TemplateData{
		Title:      strings.Join(strings.Fields(truncateBytes(a.Title, maxBytes)), " "),
		Summary:    strings.TrimSpace(truncateBytes(a.Summary, maxBytes)),
		Link:       strings.TrimSpace(a.Link),
		Hashtags:   hashtags(a.Categories, r.maxHashtags),
		Categories: a.Categories,
		Language:   a.Language,
		Author:     a.Author,
		Published:  a.Published,
	}
	text, err := r.fit(d, lim.MaxCharacters, count)
	out := syndicate.Rendering{Text: text, Format: "text", Length: count(text), Limit: lim.MaxCharacters}
	switch {
	case err != nil:
		return out, fmt.Errorf("executing template: %w", err)
	case text == "":
		return out, errNothingToPost
	case out.Length > out.Limit:
		return out, fmt.Errorf("the post is %d characters even with the title, summary and hashtags dropped, over the limit of %d", out.Length, out.Limit)
	}
	return out, nil
}

// fit executes the template with fewer hashtags, then the summary, then
// the title shortened, until the text fits within limit. When even none of
// them fits, it returns that text, over the limit.
func (r *renderer) fit(d TemplateData, limit int, count func(string) int) (string, error) {
	try := func() (string, bool, error) {
		text, err := r.execute(d)
		return text, count(text) <= limit, err
	}
	text, ok, err := try()
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

// cutText cuts s at a word to at most n characters with an ellipsis. It
// never leaves part of a URL, mention or hashtag, and returns "" rather
// than a lone ellipsis.
func cutText(s string, n int, count func(string) int) string {
	// Every word and every space counts at least 1, so a cut to n never
	// keeps more than n words: the rest need not be counted again and again.
	if end := wordsEnd(s, n+1); end < len(s) {
		s = s[:end]
	}
	if count(s) <= n {
		return s
	}
	if n <= 0 {
		return ""
	}
	body := strings.TrimSuffix(channels.CutAtWord(s, n, count), channels.Ellipsis)
	// CutAtWord splits a word only when the first word alone is too long.
	if p := len(body); p > 0 && p < len(s) && !spaceAt(s, p) && !spaceBefore(s, p) {
		start := strings.LastIndexFunc(body, unicode.IsSpace)
		if start >= 0 {
			_, size := utf8.DecodeRuneInString(body[start:])
			start += size
		} else {
			start = 0
		}
		end := len(s)
		if i := strings.IndexFunc(s[p:], unicode.IsSpace); i >= 0 {
			end = p + i
		}
		if atomic(s[start:end]) {
			body = strings.TrimRightFunc(s[:start], func(r rune) bool {
				return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—([{", r)
			})
		}
	}
	if strings.TrimSpace(body) == "" {
		return ""
	}
	return body + channels.Ellipsis
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

// wordsEnd returns where the (k+1)th word of s starts, or len(s).
func wordsEnd(s string, k int) int {
	words, inWord := 0, false
	for i, r := range s {
		if unicode.IsSpace(r) {
			inWord = false
			continue
		}
		if !inWord {
			if words == k {
				return i
			}
			words++
			inWord = true
		}
	}
	return len(s)
}

func spaceAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsSpace(r)
}

func spaceBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return unicode.IsSpace(r)
}

// atomic reports whether a word must not be cut: a URL, a mention or a
// hashtag, possibly after an opening quote or bracket.
func atomic(word string) bool {
	word = strings.TrimLeft(word, "\"'([{«“‘¿¡")
	return strings.Contains(word, "://") || strings.HasPrefix(word, "@") || strings.HasPrefix(word, "#")
}

// hashtags makes at most n hashtags of categories, CamelCase with accents
// kept ("Mass strike" → "#MassStrike"), skipping duplicates and those
// Mastodon would not take for a tag (no letter: "#2022").
func hashtags(categories []string, n int) []string {
	var tags []string
	seen := map[string]bool{}
	for _, c := range categories {
		if len(tags) == n {
			break
		}
		var b strings.Builder
		for _, word := range strings.FieldsFunc(c, func(r rune) bool { return !isWordRune(r) }) {
			first, size := utf8.DecodeRuneInString(word)
			b.WriteRune(unicode.ToUpper(first))
			b.WriteString(word[size:])
		}
		tag := b.String()
		key := strings.ToLower(tag)
		if !strings.ContainsFunc(tag, unicode.IsLetter) || seen[key] {
			continue
		}
		seen[key] = true
		tags = append(tags, "#"+tag)
	}
	return tags
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
