package tghtml

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// MaxInput is the most bytes of HTML FromHTML reads; the rest is ignored.
// It is far more than a message can show, and bounds the work on a huge
// or hostile document.
const MaxInput = 1 << 20

// FromHTML turns arbitrary HTML into Telegram's subset, text that Parse
// always accepts:
//
//   - b/strong, i/em, u/ins, s/strike/del, a href, code (also kbd, samp,
//     tt), pre (with <code class="language-x"> inside), blockquote,
//     tg-spoiler and <span class="tg-spoiler"> are kept, as long as
//     Telegram's nesting rules allow them (no entity inside code or pre,
//     no link inside a link, a blockquote or pre only at the top level);
//   - headings become bold lines; list items become "• " lines; p, div and
//     the other blocks are separated by a blank line; br is a line break;
//   - images, figures' captions, tables, iframes, scripts, styles, forms
//     and media are dropped with their content; every other tag is dropped
//     and its text kept;
//   - white space is collapsed as a browser would, except inside pre;
//   - character references are decoded, and only &, < and > are escaped
//     again (as &amp; &lt; &gt;; &quot; inside attributes);
//   - a link is kept only with an absolute http(s) URL that Telegram keeps
//     (see CheckLink): a relative one is resolved against base (dropped
//     when base is nil); any other scheme (javascript:, data:, mailto: …)
//     and a host Telegram does not link (one without a dot, such as
//     localhost) drop the link, its text kept, as Telegram would;
//   - a pre whose only element is a code in a language (class
//     "language-x" or "lang-x"), or a pre in a language itself, becomes
//     <pre><code class="language-x"> around all of the pre, the one form
//     that Telegram reads as a pre in a language.
//
// The result has no leading or trailing white space.
func FromHTML(src string, base *url.URL) string {
	if len(src) > MaxInput {
		src = src[:MaxInput]
	}
	src = strings.ToValidUTF8(src, "\uFFFD")
	ctx := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	nodes, err := html.ParseFragment(strings.NewReader(src), ctx)
	if err != nil {
		// Only a reader error can make ParseFragment fail: keep the text.
		return escapeText(collapse(src))
	}
	if base != nil && !isWeb(base) {
		base = nil
	}
	c := &converter{base: base}
	for _, n := range nodes {
		c.walk(n)
	}
	return c.finish()
}

// frame is an open element that maps to a Telegram tag.
type frame struct {
	tag     string // b, i, u, s, a, code, pre, blockquote, tg-spoiler
	attr    string // the start tag's attributes, escaped, with a leading space
	emitted bool   // the start tag is written (written lazily, before text)
}

type converter struct {
	b    strings.Builder
	base *url.URL

	frames []frame
	// brk is how many line breaks (up to 2) go before the next text.
	brk     int
	space   bool   // a collapsed space goes before the next text
	prefix  string // written before the next text (a list bullet)
	started bool   // some text is written
	pre     int    // depth of elements that keep white space
	lists   int    // depth of lists
}

// item is a step of the walk: entering a node, or leaving an element.
type item struct {
	n     *html.Node
	leave func()
}

// walk visits n and its descendants without recursion, so a deeply nested
// document cannot exhaust the stack.
func (c *converter) walk(root *html.Node) {
	stack := []item{{n: root}}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if it.leave != nil {
			it.leave()
			continue
		}
		n := it.n
		switch n.Type {
		case html.TextNode:
			c.text(n.Data)
			continue
		case html.ElementNode:
		case html.DocumentNode:
		default:
			continue // comments, doctypes
		}
		leave, descend := c.enter(n)
		if leave != nil {
			stack = append(stack, item{leave: leave})
		}
		if !descend {
			continue
		}
		// Children in reverse, so the first is visited first.
		var children []*html.Node
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			children = append(children, ch)
		}
		for i := len(children) - 1; i >= 0; i-- {
			stack = append(stack, item{n: children[i]})
		}
	}
}

// dropped elements are left out with everything inside them.
var dropped = map[string]bool{
	"script": true, "style": true, "template": true, "noscript": true, "iframe": true, "frame": true,
	"frameset": true, "noframes": true, "object": true, "embed": true, "applet": true, "video": true,
	"audio": true, "source": true, "track": true, "canvas": true, "svg": true, "math": true, "table": true,
	"img": true, "picture": true, "map": true, "area": true, "head": true, "title": true, "meta": true,
	"link": true, "base": true, "button": true, "select": true, "textarea": true, "input": true,
	"option": true, "datalist": true, "output": true, "progress": true, "meter": true, "figcaption": true,
	"dialog": true, "slot": true, "tg-emoji": true,
}

// blocks are separated from what surrounds them by a blank line (2) or a
// line break (1).
var blocks = map[string]int{
	"p": 2, "div": 2, "section": 2, "article": 2, "header": 2, "footer": 2, "main": 2, "aside": 2,
	"nav": 2, "figure": 2, "address": 2, "details": 2, "summary": 1, "hr": 2, "center": 2, "hgroup": 2,
	"form": 2, "fieldset": 2, "legend": 1, "dl": 2, "dt": 1, "dd": 1, "body": 2, "html": 2,
	"ul": 2, "ol": 2, "menu": 2, "li": 1, "blockquote": 2, "pre": 2, "table": 2, "iframe": 2,
	"h1": 2, "h2": 2, "h3": 2, "h4": 2, "h5": 2, "h6": 2, "video": 2, "audio": 2, "canvas": 2, "svg": 2,
	"object": 2, "embed": 2,
}

// inlineTags maps the HTML tags kept as formatting to Telegram's.
var inlineTags = map[string]string{
	"b": "b", "strong": "b", "i": "i", "em": "i", "cite": "i", "u": "u", "ins": "u",
	"s": "s", "strike": "s", "del": "s", "code": "code", "kbd": "code", "samp": "code", "tt": "code",
	"tg-spoiler": "tg-spoiler",
}

// enter handles the start of an element. It returns what to do when the
// element ends, and whether to visit its children.
func (c *converter) enter(n *html.Node) (leave func(), descend bool) {
	if n.Type == html.DocumentNode {
		return nil, true
	}
	name := strings.ToLower(n.Data)
	gap := blocks[name]
	if c.lists > 0 && (name == "ul" || name == "ol" || name == "menu") {
		gap = 1 // a list inside a list item
	}
	if dropped[name] {
		c.brkAtLeast(gap)
		return nil, false
	}
	var leaves []func()
	if gap > 0 {
		c.brkAtLeast(gap)
		leaves = append(leaves, func() { c.brkAtLeast(gap) })
	}
	switch name {
	case "br":
		if c.pre > 0 {
			c.text("\n")
		} else {
			c.brk = min(c.brk+1, 2)
		}
		return nil, false
	case "pre", "listing", "xmp", "plaintext", "textarea":
		c.pre++
		leaves = append(leaves, func() { c.pre-- })
	case "ul", "ol", "menu":
		c.lists++
		leaves = append(leaves, func() { c.lists-- })
	case "li":
		c.prefix = strings.Repeat("  ", max(c.lists-1, 0)) + "• "
		leaves = append(leaves, func() { c.prefix = "" })
	case "dd":
		c.prefix = "  "
		leaves = append(leaves, func() { c.prefix = "" })
	}
	tag, attr, lang := "", "", ""
	switch {
	case name == "h1" || name == "h2" || name == "h3" || name == "h4" || name == "h5" || name == "h6" || name == "dt":
		tag = "b"
	case name == "a":
		if href, ok := c.link(attrValue(n, "href")); ok {
			tag, attr = "a", ` href="`+escapeAttr(href)+`"`
		}
	case name == "pre" || name == "blockquote":
		tag = name
		if name == "pre" {
			lang = preLanguage(n)
		}
	case name == "span" && hasClass(n, "tg-spoiler"):
		tag = "tg-spoiler"
	case name == "code" && c.inside("pre"):
		// Plain text in the pre, which took its language (preLanguage).
	default:
		tag = inlineTags[name]
	}
	if tag != "" && c.allows(tag) {
		c.frames = append(c.frames, frame{tag: tag, attr: attr})
		depth := len(c.frames)
		if lang != "" {
			// Around the same text as the pre, so that Telegram makes
			// one entity of both; the code element inside is then
			// plain text.
			c.frames = append(c.frames, frame{tag: "code", attr: ` class="language-` + lang + `"`})
		}
		leaves = append(leaves, func() { c.close(depth) })
	}
	if len(leaves) == 0 {
		return nil, true
	}
	return func() {
		for i := len(leaves) - 1; i >= 0; i-- {
			leaves[i]()
		}
	}, true
}

// allows applies Telegram's nesting rules (see CheckNesting): nothing
// inside code or pre, no link in a link, no formatting twice, a
// blockquote or pre only at the top level, code only at the top level or
// in a blockquote.
func (c *converter) allows(tag string) bool {
	for _, f := range c.frames {
		if f.tag == "code" || f.tag == "pre" || f.tag == tag {
			return false
		}
	}
	switch tag {
	case "blockquote", "pre":
		return len(c.frames) == 0
	case "code":
		return len(c.frames) == 0 || (len(c.frames) == 1 && c.frames[0].tag == "blockquote")
	}
	return true
}

func (c *converter) inside(tag string) bool {
	for _, f := range c.frames {
		if f.tag == tag {
			return true
		}
	}
	return false
}

// close ends the frames from depth up.
func (c *converter) close(depth int) {
	for len(c.frames) >= depth {
		f := c.frames[len(c.frames)-1]
		c.frames = c.frames[:len(c.frames)-1]
		if f.emitted {
			c.b.WriteString("</" + f.tag + ">")
		}
	}
}

func (c *converter) brkAtLeast(n int) { c.brk = max(c.brk, n) }

// text writes character data: collapsed outside pre, escaped, after the
// pending breaks and the start tags not yet written.
func (c *converter) text(s string) {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\r':
			return '\n'
		case r == '\n' || r == '\t':
			return r
		case r == '\f' || r == '\v':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	if c.pre > 0 {
		if s != "" {
			c.write(s)
		}
		return
	}
	for s != "" {
		i := strings.IndexFunc(s, isHTMLSpace)
		if i < 0 {
			c.write(s)
			return
		}
		if i > 0 {
			c.write(s[:i])
		}
		c.space = true
		s = strings.TrimLeftFunc(s[i:], isHTMLSpace)
	}
}

func (c *converter) write(s string) {
	if c.started && c.brk > 0 {
		c.b.WriteString(strings.Repeat("\n", c.brk))
		c.space = false
	} else if c.started && c.space && c.pre == 0 {
		c.b.WriteByte(' ')
	}
	c.brk, c.space = 0, false
	if c.prefix != "" {
		c.b.WriteString(c.prefix)
		c.prefix = ""
	}
	for i := range c.frames {
		if f := &c.frames[i]; !f.emitted {
			c.b.WriteString("<" + f.tag + f.attr + ">")
			f.emitted = true
		}
	}
	c.b.WriteString(escapeText(s))
	c.started = true
}

func (c *converter) finish() string {
	c.close(1)
	return strings.TrimSpace(c.b.String())
}

// link returns href as an absolute http(s) URL, or false.
func (c *converter) link(href string) (string, bool) {
	// Browsers drop ASCII tabs and newlines inside URLs, and surrounding
	// spaces.
	href = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, strings.TrimSpace(href))
	if href == "" {
		return "", false
	}
	u, err := url.Parse(href)
	if err != nil {
		return "", false
	}
	if !u.IsAbs() {
		if c.base == nil || u.Scheme != "" || u.Opaque != "" {
			return "", false
		}
		u = c.base.ResolveReference(u)
	}
	if !isWeb(u) {
		return "", false
	}
	s := u.String()
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", false
	}
	if _, err := CheckLink(s); err != nil {
		return "", false
	}
	return s, true
}

// preLanguage returns the language of a pre: that of its code when it
// holds one code element and nothing else but white space, else its own.
func preLanguage(pre *html.Node) string {
	var only *html.Node
	for ch := pre.FirstChild; ch != nil; ch = ch.NextSibling {
		switch {
		case ch.Type == html.ElementNode && only == nil:
			only = ch
		case ch.Type == html.ElementNode:
			return language(pre)
		case ch.Type == html.TextNode && strings.TrimFunc(ch.Data, isHTMLSpace) != "":
			return language(pre)
		}
	}
	if only != nil && strings.EqualFold(only.Data, "code") {
		if lang := language(only); lang != "" {
			return lang
		}
	}
	return language(pre)
}

func isWeb(u *url.URL) bool {
	scheme := strings.ToLower(u.Scheme)
	return (scheme == "http" || scheme == "https") && u.Host != "" && u.Opaque == ""
}

func attrValue(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attrValue(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
}

// language returns the x of a class "language-x" (or "lang-x"), reduced to
// the characters a language name has.
func language(n *html.Node) string {
	for _, c := range strings.Fields(attrValue(n, "class")) {
		lang, ok := strings.CutPrefix(c, "language-")
		if !ok {
			lang, ok = strings.CutPrefix(c, "lang-")
		}
		if !ok {
			continue
		}
		lang = strings.Map(func(r rune) rune {
			if isAlnum(byte(r)) && r < 0x80 || r == '-' || r == '_' || r == '+' || r == '#' || r == '.' {
				return r
			}
			return -1
		}, lang)
		if lang != "" && len(lang) <= 32 {
			return lang
		}
	}
	return ""
}

func isHTMLSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f'
}

// collapse reduces runs of white space to one space.
func collapse(s string) string { return strings.Join(strings.FieldsFunc(s, isHTMLSpace), " ") }

// escapeText escapes text for Telegram's HTML parser.
func escapeText(s string) string {
	if !strings.ContainsAny(s, "&<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// escapeAttr escapes a double-quoted attribute value.
func escapeAttr(s string) string {
	return strings.ReplaceAll(escapeText(s), `"`, "&quot;")
}

// Escape escapes plain text for Telegram's HTML parser, in text or in a
// double-quoted attribute: & < > " become &amp; &lt; &gt; &quot;.
func Escape(s string) string { return escapeAttr(s) }

// CheckEscaped reports a "&" in s that does not start a character
// reference ended by ";" (&lt; &gt; &amp; &quot; &#N; &#xN;), in the text
// or in an attribute. Telegram accepts such text: it keeps a "&" that
// starts no reference as it is, and reads "&lt" without ";" as "<", so a
// missing escape changes the text without an error. What syndicate writes
// itself (FromHTML, Escape, and Truncate of either) never has one; a
// template or an editor's text, which Telegram checks as Parse does, may.
func CheckEscaped(s string) error {
	src := source(s)
	for i := strings.IndexByte(s, '&'); i >= 0; {
		code, next := src.charRef(i)
		if code == 0 || s[next-1] != ';' {
			return fmt.Errorf(`unescaped "&" (write it as "&amp;") at byte offset %d`, i)
		}
		j := strings.IndexByte(s[next:], '&')
		if j < 0 {
			break
		}
		i = next + j
	}
	return nil
}
