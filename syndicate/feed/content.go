package feed

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// articleHTML is an item's HTML parsed once, its URLs made absolute and its
// "Read also" blocks found.
type articleHTML struct {
	root *html.Node // a <body> holding the fragment
	// readAlso are the blocks of related links (and the lists a "Read
	// also" heading introduces), which are not the article's text.
	readAlso map[*html.Node]bool
	related  []syndicate.Link
}

// parseArticleHTML parses a fragment of feed HTML with every URL resolved
// against base (when base is an absolute URL) and lazy-loaded images given
// their real source.
func parseArticleHTML(raw, base string) *articleHTML {
	body := &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body}
	a := &articleHTML{root: body, readAlso: map[*html.Node]bool{}}
	if strings.TrimSpace(raw) == "" {
		return a
	}
	nodes, err := html.ParseFragment(strings.NewReader(flattenDeepHTML(raw)), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return a // only a failing reader errs, and a strings.Reader does not
	}
	for _, n := range nodes {
		body.AppendChild(n)
	}
	keepFallbacks(body, 0)
	mathAsText(body)
	var b *url.URL
	if u, err := url.Parse(strings.TrimSpace(base)); err == nil && u.IsAbs() {
		b = u
	}
	absolutise(body, b)
	a.findReadAlso(body)
	return a
}

// maxHTMLNesting bounds how deeply the elements of an item's HTML nest:
// the tags of those deeper are dropped, their text kept, before a tree is
// built (and walked) of it.
const maxHTMLNesting = 256

// flattenDeepHTML returns s without the tags of the elements nested more
// than maxHTMLNesting deep (by its tags, void ones not counted), or s
// itself when none is.
func flattenDeepHTML(s string) string {
	if strings.Count(s, "<") <= maxHTMLNesting || !tooDeep(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	z := html.NewTokenizer(strings.NewReader(s))
	depth := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return b.String()
		case html.StartTagToken:
			name, _ := z.TagName()
			if isVoidElement(string(name)) {
				break
			}
			depth++
			if depth > maxHTMLNesting {
				continue
			}
		case html.EndTagToken:
			depth = max(depth-1, 0)
			if depth >= maxHTMLNesting {
				continue
			}
		}
		b.Write(z.Raw())
	}
}

// tooDeep reports elements of s nested more than maxHTMLNesting deep.
func tooDeep(s string) bool {
	z := html.NewTokenizer(strings.NewReader(s))
	depth := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken:
			if name, _ := z.TagName(); !isVoidElement(string(name)) {
				if depth++; depth > maxHTMLNesting {
					return true
				}
			}
		case html.EndTagToken:
			depth = max(depth-1, 0)
		}
	}
}

// maxFallbackDepth bounds how many frames inside frames have their
// fallback read: each level parses its text again.
const maxFallbackDepth = 4

// keepFallbacks puts in place of each <iframe> and <object> whose fallback
// holds text (what a reader without frames or plugins is shown) that
// fallback, to be sanitised as the rest. One without, as embedded videos
// are, is left for the sanitiser to drop as before.
func keepFallbacks(n *html.Node, depth int) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		switch {
		case c.Type != html.ElementNode || c.Namespace != "":
		case c.DataAtom == atom.Iframe && depth < maxFallbackDepth:
			// An iframe's content is raw text to the parser: the
			// fallback is that text read as HTML.
			raw := nodeRawText(c)
			if strings.TrimSpace(raw) == "" {
				break
			}
			nodes, err := html.ParseFragment(strings.NewReader(raw), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
			if err != nil {
				break
			}
			fallback := &html.Node{Type: html.ElementNode, Data: "div", DataAtom: atom.Div}
			for _, f := range nodes {
				fallback.AppendChild(f)
			}
			keepFallbacks(fallback, depth+1)
			replaceWithChildren(c, fallback)
			c = next
			continue
		case c.DataAtom == atom.Object && hasText(c):
			keepFallbacks(c, depth)
			replaceWithChildren(c, c)
			c = next
			continue
		}
		keepFallbacks(c, depth)
		c = next
	}
}

// replaceWithChildren puts the children of from in place of n.
func replaceWithChildren(n, from *html.Node) {
	parent := n.Parent
	for f := from.FirstChild; f != nil; f = from.FirstChild {
		from.RemoveChild(f)
		parent.InsertBefore(f, n)
	}
	parent.RemoveChild(n)
}

// nodeRawText is the text directly inside n.
func nodeRawText(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// hasText reports text other than whitespace inside n.
func hasText(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode && strings.TrimSpace(c.Data) != "" {
			return true
		}
		if c.Type == html.ElementNode && !isInvisible(c) && hasText(c) {
			return true
		}
	}
	return false
}

// mathAsText replaces each MathML <math> by its text, which channels can
// show where they cannot show MathML: its alttext, else a TeX annotation,
// else the text of its tokens (a+b).
func mathAsText(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode && c.Namespace == "math" && c.Data == "math" {
			n.InsertBefore(&html.Node{Type: html.TextNode, Data: mathText(c)}, c)
			n.RemoveChild(c)
		} else {
			mathAsText(c)
		}
		c = next
	}
}

func mathText(m *html.Node) string {
	if alt := strings.TrimSpace(attr(m, "alttext")); alt != "" {
		return strings.Join(strings.Fields(alt), " ")
	}
	var tex string
	var tokens strings.Builder
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch {
			case c.Type == html.TextNode:
				tokens.WriteString(c.Data)
			case c.Type != html.ElementNode:
			case c.Data == "annotation":
				if enc := strings.ToLower(attr(c, "encoding")); tex == "" && (enc == "application/x-tex" || enc == "tex") {
					tex = nodeRawText(c)
				}
			case c.Data == "annotation-xml":
			default:
				visit(c)
			}
		}
	}
	visit(m)
	if t := strings.Join(strings.Fields(tex), " "); t != "" {
		return t
	}
	return strings.Join(strings.Fields(tokens.String()), " ")
}

// absolutise resolves the URLs of the tree against base, and moves the
// real source of a lazy-loaded image (data-src) into its src.
func absolutise(n *html.Node, base *url.URL) {
	if n.Type == html.ElementNode {
		if n.DataAtom == atom.Img {
			if lazy := lazySource(n); lazy != "" {
				setAttr(n, "src", lazy)
			}
		}
		for i, a := range n.Attr {
			switch a.Key {
			case "href", "src", "cite", "poster":
				n.Attr[i].Val = resolveReference(a.Val, base)
			}
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		absolutise(c, base)
	}
}

// lazySource is the data-src of an image whose src is missing or a
// placeholder (a data: URL), "" otherwise.
func lazySource(img *html.Node) string {
	src := strings.TrimSpace(attr(img, "src"))
	if src != "" && !strings.HasPrefix(strings.ToLower(src), "data:") {
		return ""
	}
	for _, name := range []string{"data-src", "data-lazy-src", "data-original"} {
		if v := strings.TrimSpace(attr(img, name)); v != "" {
			return v
		}
	}
	return ""
}

// resolveReference resolves a relative reference against base; a URL with
// a scheme (mailto:, javascript:) or one that does not parse is left for
// the sanitiser to judge.
func resolveReference(raw string, base *url.URL) string {
	ref, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || ref.Scheme != "" || base == nil {
		return raw
	}
	return base.ResolveReference(ref).String()
}

func setAttr(n *html.Node, key, val string) {
	for i, a := range n.Attr {
		if a.Key == key {
			n.Attr[i].Val = val
			return
		}
	}
	n.Attr = append(n.Attr, html.Attribute{Key: key, Val: val})
}

// newSanitiser returns the policy feed HTML goes through before any channel
// sees it: the structure channels render (paragraphs, emphasis, quotes,
// code, lists, headings, figures, images, simple tables) and links to
// http, https and mailto URLs. Everything else goes: scripts, styles and
// frames with their content, event handlers, classes and styles, and any
// other element with its tags only, its text kept.
func newSanitiser() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "b", "em", "i", "u", "s", "del", "blockquote", "q", "code", "pre",
		"ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption",
		"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src", "alt").OnElements("img")
	p.AllowAttrs("colspan", "rowspan").Matching(regexp.MustCompile(`^[0-9]{1,3}$`)).OnElements("th", "td")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.AddSpaceWhenStrippingTag(true)
	return p
}

// sanitisedHTML is the fragment as the sanitiser lets it through; an image
// whose source is not a web address (mailto:) loses it, and so the image.
// It is p.Sanitize of the fragment rendered back as HTML, without copying
// the rendered HTML into a string and the sanitised HTML out of a buffer.
func (a *articleHTML) sanitisedHTML(p *bluemonday.Policy) string {
	var rendered bytes.Buffer
	for c := a.root.FirstChild; c != nil; c = c.NextSibling {
		if err := html.Render(&rendered, c); err != nil {
			break // only a failing writer errs, and a bytes.Buffer does not
		}
	}
	raw := rendered.Bytes()
	if len(bytes.TrimSpace(raw)) == 0 {
		return string(raw) // what Sanitize returns of blank HTML
	}
	var out strings.Builder
	out.Grow(len(raw))
	if err := p.SanitizeReaderToWriter(bytes.NewReader(raw), &out); err != nil {
		return "" // as Sanitize
	}
	return out.String()
}

// findReadAlso finds the blocks whose text opens with a "Read also" marker
// ("Read also", "See also", "Lee también", "Ver también" and their like in
// a few languages; the outermost such block), and collects their links as
// related links.
// A marker alone in its block ("<h3>See also</h3>") introduces the list
// that follows it.
func (a *articleHTML) findReadAlso(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if !isReadAlsoBlock(c) {
			a.findReadAlso(c)
			continue
		}
		a.readAlso[c] = true
		links := linksIn(c)
		if len(links) == 0 {
			if list := nextElement(c); list != nil && (list.DataAtom == atom.Ul || list.DataAtom == atom.Ol) {
				a.readAlso[list] = true
				links = linksIn(list)
			}
		}
		a.related = appendLinks(a.related, links...)
	}
}

// isReadAlsoBlock reports a block whose text opens with a marker followed
// by nothing, by punctuation ("Read also: …") or by its first link ("See
// also <a>…</a>").
func isReadAlsoBlock(n *html.Node) bool {
	switch n.DataAtom {
	case atom.P, atom.Div, atom.Li, atom.Aside, atom.Section, atom.Footer, atom.Nav,
		atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
	default:
		return false
	}
	budget := textPrefixBudget
	if r, ok := firstTextRune(n, &budget); !ok || !strings.ContainsRune(readAlsoInitials, unicode.ToLower(r)) {
		return false // most blocks: no marker can start their text
	}
	start := strings.ToLower(textPrefix(n, 64))
	for _, m := range readAlsoMarkers {
		if !strings.HasPrefix(start, m) {
			continue
		}
		rest := strings.TrimSpace(start[len(m):])
		if rest == "" {
			return true
		}
		for _, punct := range [...]string{":", "-", "–", "—", "…", "|", "»", "→", ">"} {
			if strings.HasPrefix(rest, punct) {
				return true
			}
		}
		if first := firstElement(n, atom.A); first != nil {
			linkText := strings.ToLower(strings.Join(strings.Fields(nodeText(first)), " "))
			return linkText != "" && (strings.HasPrefix(rest, linkText) || strings.HasPrefix(linkText, rest))
		}
		return false
	}
	return false
}

// readAlsoMarkers open the text of a "Read also" block.
var readAlsoMarkers = [...]string{
	"read also", "also read", "see also", "related articles", "related posts", "related stories", "related",
	"lee también", "leer también", "lea también", "ver también", "vea también", "véase también",
	"lire aussi", "à lire aussi", "voir aussi", "leia também", "veja também", "leggi anche", "vedi anche",
	"siehe auch", "lesen sie auch",
}

// readAlsoInitials are the first letters of readAlsoMarkers.
var readAlsoInitials = func() string {
	var b strings.Builder
	for _, m := range readAlsoMarkers {
		r, _ := utf8.DecodeRuneInString(m)
		if !strings.ContainsRune(b.String(), r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}()

// textPrefixBudget is how many nodes textPrefix looks at.
const textPrefixBudget = 256

// firstTextRune is the first letter textPrefix would give of n, looking
// at the same nodes in the same order (and no more than *budget of them),
// without writing any text; ok is false when it gives none.
func firstTextRune(n *html.Node, budget *int) (r rune, ok bool) {
	if *budget <= 0 {
		return 0, false
	}
	*budget--
	switch n.Type {
	case html.TextNode:
		for _, r := range n.Data {
			if !unicode.IsSpace(r) {
				return r, true
			}
		}
		return 0, false
	case html.ElementNode:
		if isInvisible(n) {
			return 0, false
		}
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if r, ok := firstTextRune(c, budget); ok {
			return r, true
		}
	}
	return 0, false
}

// textPrefix returns about the first limit bytes of n's visible text,
// whitespace collapsed, without walking the rest: it looks at no more than
// a few hundred nodes, so that checking every block of deeply nested HTML
// stays linear.
func textPrefix(n *html.Node, limit int) string {
	w := textWriter{limit: limit, budget: textPrefixBudget}
	w.walk(n)
	return strings.Join(strings.Fields(w.b.String()), " ")
}

// linksIn returns the links of n to web pages, in order, titled by their
// text (else the alt text of their image, else the URL).
func linksIn(n *html.Node) []syndicate.Link {
	var links []syndicate.Link
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode && n.DataAtom == atom.A {
			if u := resolveURL(attr(n, "href"), ""); u != "" {
				title := strings.Join(strings.Fields(nodeText(n)), " ")
				if title == "" {
					if img := firstElement(n, atom.Img); img != nil {
						title = strings.Join(strings.Fields(attr(img, "alt")), " ")
					}
				}
				links = append(links, syndicate.Link{Title: firstNonEmpty(title, u), URL: u})
			}
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	visit(n)
	return links
}

// maxRelated bounds the related links of an article: channels show a few.
const maxRelated = 20

// appendLinks appends the links whose URL is not there yet, up to
// maxRelated in all.
func appendLinks(to []syndicate.Link, links ...syndicate.Link) []syndicate.Link {
	seen := make(map[string]bool, len(to))
	for _, l := range to {
		seen[l.URL] = true
	}
	for _, l := range links {
		if len(to) >= maxRelated {
			break
		}
		if !seen[l.URL] {
			seen[l.URL] = true
			to = append(to, l)
		}
	}
	return to
}

// firstElement returns the first descendant of n of kind a, nil if none.
func firstElement(n *html.Node, a atom.Atom) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.ElementNode && c.DataAtom == a {
			return c
		}
		if found := firstElement(c, a); found != nil {
			return found
		}
	}
	return nil
}

// nextElement returns the element after n among its siblings, nil if none.
func nextElement(n *html.Node) *html.Node {
	for s := n.NextSibling; s != nil; s = s.NextSibling {
		switch {
		case s.Type == html.ElementNode:
			return s
		case s.Type == html.TextNode && strings.TrimSpace(s.Data) != "":
			return nil
		}
	}
	return nil
}
