package telegram

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"time"
	"unicode"

	"github.com/rivo/uniseg"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/telegram/internal/tghtml"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// MaxTextLength is Telegram's limit for a message, in UTF-16 code units of
// the text after entity parsing.
const MaxTextLength = 4096

//go:embed templates/default.tmpl
var defaultTemplate string

// TemplateData is what a message template (Go text/template, parse_mode
// HTML) is given. Every field is plain text from the feed and must go
// through escape; the output may use only Telegram's tags (b, strong, i, em,
// u, ins, s, strike, del, a href, code, pre, blockquote, tg-spoiler).
//
//	.Title       the article's title, on one line
//	.Summary     its summary; cut at a word, with "…", when the message
//	             would be over MaxTextLength
//	.Link        its canonical link (never cut)
//	.Categories  its sections and tags
//	.Language    its language ("en", "es", …)
//	.Published   its date, zero when unknown
//	.Author      its author
//
// Functions:
//
//	escape    HTML-escapes any value for text or a quoted attribute:
//	          & < > " become &amp; &lt; &gt; &quot;
//	isWebURL  reports whether a string is an absolute http(s) URL
//
// When even an empty summary is too long, the title is cut too.
type TemplateData struct {
	Title      string
	Summary    string
	Link       string
	Categories []string
	Language   string
	Published  time.Time
	Author     string
}

func parseTemplate(text string) (*template.Template, error) {
	return template.New("telegram").Funcs(template.FuncMap{
		"escape":   escape,
		"isWebURL": isWebURL,
	}).Parse(text)
}

// escape writes v for Telegram's HTML parser, which knows only the named
// entities lt, gt, amp and quot.
func escape(v any) string {
	s, ok := v.(string)
	if !ok {
		s = fmt.Sprint(v)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isWebURL(s string) bool {
	if s == "" || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return false
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	return (scheme == "http" || scheme == "https") && u.Host != ""
}

// render returns the message for a, within MaxTextLength, and its length.
func (c *Channel) render(a syndicate.Article) (string, int, error) {
	d := TemplateData{
		Title:     oneLine(a.Title),
		Summary:   paragraphs(a.Summary),
		Link:      strings.TrimSpace(clean(a.Link)),
		Language:  a.Language,
		Published: a.Published,
		Author:    oneLine(a.Author),
	}
	for _, cat := range a.Categories {
		if cat = oneLine(cat); cat != "" {
			d.Categories = append(d.Categories, cat)
		}
	}
	text, n, err := c.execute(d)
	if err == nil && n > MaxTextLength {
		// Cut the summary; if even none is too long, the title too.
		text, n, err = c.fit(&d, &d.Summary)
		if err == nil && n > MaxTextLength {
			text, n, err = c.fit(&d, &d.Title)
		}
		if err == nil && n > MaxTextLength {
			err = fmt.Errorf("the message is %d characters long without its title and summary, over Telegram's %d", n, MaxTextLength)
		}
	}
	if err != nil {
		return "", 0, err
	}
	if plain, _, _ := tghtml.Parse(text); strings.TrimFunc(plain, unicode.IsSpace) == "" {
		return "", 0, errors.New("the message is empty")
	}
	return text, n, nil
}

// fit cuts *field at a word, as little as needed for the message to fit,
// and renders. When no cut fits it leaves *field empty and returns the
// length over the limit.
func (c *Channel) fit(d *TemplateData, field *string) (string, int, error) {
	full := headOf(*field, MaxTextLength+2)
	*field = ""
	text, without, err := c.execute(*d)
	if err != nil || without > MaxTextLength {
		return text, without, err
	}
	try := func(limit int) (string, int, error) {
		*field = channels.CutAtWord(full, limit, channels.UTF16Len)
		return c.execute(*d)
	}
	// The field adds at least its own length, so no limit above top can
	// fit. Search down from it in doubling steps (the template's
	// separators usually cost a few units), then bisect the last step.
	top := min(channels.UTF16Len(full), MaxTextLength-without)
	fits, fails := -1, top+1
	var bestCut, bestText string
	var bestN int
	for k, step := top, 1; ; k, step = max(k-step, 0), step*2 {
		text, n, err := try(k)
		if err != nil {
			return "", 0, err
		}
		if n <= MaxTextLength {
			fits, bestCut, bestText, bestN = k, *field, text, n
			break
		}
		fails = k
		if k == 0 {
			break
		}
	}
	if fits < 0 {
		*field = ""
		return c.execute(*d)
	}
	for fails-fits > 1 {
		mid := (fits + fails) / 2
		text, n, err := try(mid)
		if err != nil {
			return "", 0, err
		}
		if n <= MaxTextLength {
			fits, bestCut, bestText, bestN = mid, *field, text, n
		} else {
			fails = mid
		}
	}
	*field = bestCut
	return bestText, bestN, nil
}

// headOf returns the shortest prefix of s that ends between grapheme
// clusters and is over n UTF-16 units long (or s): cutting it at a word within
// n gives what cutting s would, without segmenting all of a long summary.
func headOf(s string, n int) string {
	units, end := 0, 0
	state := -1
	for end < len(s) && units <= n {
		var cluster string
		cluster, _, _, state = uniseg.FirstGraphemeClusterInString(s[end:], state)
		units += channels.UTF16Len(cluster)
		end += len(cluster)
	}
	return s[:end]
}

// execute runs the template and checks its output as Telegram would.
func (c *Channel) execute(d TemplateData) (string, int, error) {
	var b strings.Builder
	if err := c.tmpl.Execute(&b, d); err != nil {
		return "", 0, fmt.Errorf("executing the template: %w", err)
	}
	text := strings.TrimSpace(b.String())
	plain, _, err := tghtml.Parse(text)
	if err != nil {
		return "", 0, fmt.Errorf("the template's output is not HTML Telegram accepts: %w", err)
	}
	return text, channels.UTF16Len(plain), nil
}

// clean makes s valid UTF-8 without control characters other than
// newline and tab.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
}

func oneLine(s string) string { return strings.Join(strings.Fields(clean(s)), " ") }

// paragraphs trims each line and keeps at most one blank line in a row.
func paragraphs(s string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(clean(s), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			blank = len(out) > 0
			continue
		}
		if blank {
			out = append(out, "")
			blank = false
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}
