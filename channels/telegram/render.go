package telegram

import (
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"text/template"
	"unicode"

	"github.com/rivo/uniseg"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/layout"
	"github.com/syndicate-daemon/syndicate/channels/telegram/internal/tghtml"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Telegram's limits, in UTF-16 code units of the text after entity parsing.
const (
	MaxTextLength    = 4096 // a message
	MaxCaptionLength = 1024 // a photo's caption
)

//go:embed templates/default.tmpl
var defaultTemplate string

// TemplateData is what a post template (Go text/template, parse_mode HTML)
// is given: the data every post channel's template gets (layout.Data).
// The template's output must be HTML Telegram accepts, checked with
// Telegram's own rules: only the tags b, strong, i, em, u, ins, s,
// strike, del, a href, code, pre, blockquote (expandable), tg-spoiler,
// span class="tg-spoiler", tg-emoji emoji-id and tg-time unix format, and
// every plain-text field written through escape (Telegram shows a "&" that
// starts no character reference as it is, and reads "&lt" as "<").
//
//	.Title         the article's title, plain text on one line
//	.Summary       its summary, plain text (paragraphs kept)
//	.Content       its content (ContentHTML) already turned into
//	               Telegram's HTML by telegramHTML: write it as is
//	.Link          its canonical link
//	.Related       its "Read also" links: each .Title (plain text) and
//	               .URL (an absolute http(s) URL that Telegram links: not
//	               to a host without a dot, such as localhost)
//	.ReadAlso      "Read also", or "Lee también" for Spanish
//	.Hashtags      hashtags made from the categories ("#MassStrike")
//	.Categories    its sections and tags, as written
//	.Language      its language ("en", "es", …)
//	.Published     its date, zero when unknown
//	.Author        its author
//	.Image         the featured image's URL, "" when there is none
//	.ImageCaption  the featured image's caption or alt text
//	.Caption       true when the text is a photo's caption (at most
//	               MaxCaptionLength), false for a message (MaxTextLength)
//
// When the output is over the limit, the channel executes the template
// again with, in turn, fewer hashtags (the last dropped first), fewer
// Related links, then .Content, .Summary and last .Title cut at a word with
// "…" (as little as needed, tags closed). .Link is never cut.
//
// When a photo's post is too long for a caption, the photo gets a short
// caption, the template executed with .Caption true and without .Summary,
// .Content, .Related and .Hashtags, and the full post follows as a reply
// to it.
//
// Functions:
//
//	escape        HTML-escapes any value for text or a double-quoted
//	              attribute: & < > " become &amp; &lt; &gt; &quot;
//	telegramHTML  turns any HTML into Telegram's subset (see tghtml's
//	              FromHTML): {{telegramHTML .Some}} or, to resolve
//	              relative links, {{telegramHTML .Some .Link}}
//	cut           cuts plain text at a word to N characters with "…":
//	              {{escape (cut 200 .Summary)}}
//	join          strings.Join: {{join .Hashtags " "}}
//	isWebURL      reports whether a string is an absolute http(s) URL
type TemplateData = layout.Data

func parseTemplate(text string) (*template.Template, error) {
	return template.New("telegram").Funcs(template.FuncMap{
		"escape":       escape,
		"isWebURL":     isWebURL,
		"telegramHTML": TelegramHTML,
		"cut":          func(n int, s string) string { return cutPlain(s, n) },
		"join":         strings.Join,
	}).Parse(text)
}

// TelegramHTML turns arbitrary HTML into Telegram's subset, which Telegram
// always accepts: see the package tghtml's FromHTML for the rules. Relative
// links resolve against base, the first of bases that is an absolute
// http(s) URL; without one they are dropped (their text kept).
func TelegramHTML(html string, bases ...string) string {
	var base *url.URL
	for _, b := range bases {
		if isWebURL(b) {
			base, _ = url.Parse(b)
			break
		}
	}
	return tghtml.FromHTML(html, base)
}

// escape writes v for Telegram's HTML parser, which knows only the named
// entities lt, gt, amp and quot.
func escape(v any) string {
	s, ok := v.(string)
	if !ok {
		s = fmt.Sprint(v)
	}
	return tghtml.Escape(s)
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

// webURL resolves ref against base and returns it when it is an absolute
// http(s) URL.
func webURL(ref, base string) (string, bool) {
	ref = strings.TrimSpace(clean(ref))
	if ref == "" {
		return "", false
	}
	u, err := url.Parse(ref)
	if err != nil {
		return "", false
	}
	if !u.IsAbs() {
		b, err := url.Parse(base)
		if err != nil || !isWebURL(base) {
			return "", false
		}
		u = b.ResolveReference(u)
	}
	s := u.String()
	return s, isWebURL(s)
}

// data is the template data of a, complete: nothing cut yet.
func (c *Channel) data(a syndicate.Article, image string) TemplateData {
	link := strings.TrimSpace(clean(a.Link))
	d := TemplateData{
		Title:        oneLine(headOf(a.Title, maxField)),
		Summary:      paragraphs(headOf(a.Summary, maxField)),
		Link:         link,
		ReadAlso:     layout.ReadAlso(a.Language),
		Hashtags:     channels.Hashtags(a.CategoryNames(), c.hashtagMap, c.maxHashtags),
		Language:     a.Language,
		Published:    a.Published,
		Author:       oneLine(a.Author),
		Image:        image,
		ImageCaption: oneLine(a.ImageCaption),
	}
	if strings.TrimSpace(a.ContentHTML) != "" {
		d.Content = TelegramHTML(a.ContentHTML, link)
		if cut, err := tghtml.Truncate(d.Content, maxField); err == nil {
			d.Content = cut
		}
	}
	for _, cat := range a.Categories {
		if cat = oneLine(cat); cat != "" {
			d.Categories = append(d.Categories, cat)
		}
	}
	for _, l := range a.Related {
		u, ok := webURL(l.URL, link)
		if !ok || u == link {
			continue
		}
		if _, err := tghtml.CheckLink(u); err != nil {
			continue // Telegram would show the title without its link
		}
		title := oneLine(l.Title)
		if title == "" {
			title = u
		}
		d.Related = append(d.Related, syndicate.Link{Title: title, URL: u})
	}
	return d
}

// maxField bounds the text fields before fitting: more than a message can
// ever hold, so fitting a huge summary costs no more than a long one.
const maxField = MaxTextLength + 2

// message is a rendered text or caption.
type message struct {
	text  string
	n     int // its length as Telegram counts it
	limit int
}

// fitTo renders d within limit, shortening it as TemplateData describes.
func (c *Channel) fitTo(d TemplateData, limit int) (message, error) {
	text, n, err := c.execute(d)
	for err == nil && n > limit && len(d.Hashtags) > 0 {
		d.Hashtags = d.Hashtags[:len(d.Hashtags)-1]
		text, n, err = c.execute(d)
	}
	for err == nil && n > limit && len(d.Related) > 0 {
		d.Related = d.Related[:len(d.Related)-1]
		text, n, err = c.execute(d)
	}
	cuts := []struct {
		field *string
		html  bool
	}{{&d.Content, true}, {&d.Summary, false}, {&d.Title, false}}
	for _, f := range cuts {
		if err != nil || n <= limit {
			break
		}
		text, n, err = c.fit(&d, f.field, f.html, limit)
	}
	if err == nil && n > limit {
		err = &tooLongError{n: n, limit: limit}
	}
	if err != nil {
		return message{}, err
	}
	if plain, _, _ := tghtml.Parse(text); strings.TrimFunc(plain, unicode.IsSpace) == "" {
		return message{}, errors.New("the post is empty")
	}
	return message{text: text, n: n, limit: limit}, nil
}

// tooLongError says a post is too long even with everything that may be
// cut cut.
type tooLongError struct{ n, limit int }

func (e *tooLongError) Error() string {
	return fmt.Sprintf("the post is %d characters long without its title, summary and content, over Telegram's %d", e.n, e.limit)
}

// fit cuts *field (Telegram HTML when html is set, else plain text) at a
// word, as little as needed for the message to fit limit, and renders.
// When no cut fits it leaves *field empty and returns the length over the
// limit.
func (c *Channel) fit(d *TemplateData, field *string, html bool, limit int) (string, int, error) {
	cut, fullLen := cutPlain, channels.UTF16Len(*field)
	if html {
		cut = cutHTML
		fullLen, _ = tghtml.Length(*field)
	}
	full := *field
	*field = ""
	text, without, err := c.execute(*d)
	if err != nil || without > limit || full == "" {
		return text, without, err
	}
	try := func(k int) (string, int, error) {
		*field = cut(full, k)
		return c.execute(*d)
	}
	// The field adds at least its own length, so no budget above top can
	// fit. Search down from it in doubling steps (the template's
	// separators usually cost a few units), then bisect the last step.
	top := min(fullLen, limit-without)
	fits, fails := -1, top+1
	var bestCut, bestText string
	var bestN int
	for k, step := top, 1; ; k, step = max(k-step, 0), step*2 {
		text, n, err := try(k)
		if err != nil {
			return "", 0, err
		}
		if n <= limit {
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
		if n <= limit {
			fits, bestCut, bestText, bestN = mid, *field, text, n
		} else {
			fails = mid
		}
	}
	*field = bestCut
	return bestText, bestN, nil
}

// cutPlain cuts plain text at a word to at most n UTF-16 units, "…"
// included, never inside a URL (see tghtml.Truncate).
func cutPlain(s string, n int) string {
	cut, err := tghtml.Truncate(tghtml.Escape(s), n)
	if err != nil {
		return ""
	}
	plain, _, err := tghtml.Parse(cut)
	if err != nil {
		return ""
	}
	return plain
}

// cutHTML cuts Telegram HTML the same way, closing the tags left open.
func cutHTML(s string, n int) string {
	cut, err := tghtml.Truncate(s, n)
	if err != nil {
		return ""
	}
	return cut
}

// headOf returns the shortest prefix of s that ends between grapheme
// clusters and is over n UTF-16 units long (or s): cutting it at a word
// within n gives what cutting s would, without segmenting all of a long
// text.
func headOf(s string, n int) string {
	if len(s) <= n {
		return s // n bytes are at most n units
	}
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

// maxTextBytes is the most bytes of HTML the Bot API takes for a text or
// caption: it refuses more ("text is too long") before it parses it.
const maxTextBytes = 1 << 15

// execute runs the template and checks its output as Telegram would. A
// text over maxTextBytes counts as over every limit, so that fitting cuts
// it too.
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
	n := channels.UTF16Len(plain)
	if len(text) > maxTextBytes {
		n = max(n, MaxTextLength+1)
	}
	return text, n, nil
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
