package feed

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// parseHTML parses a fragment of feed HTML. The parser accepts any input;
// the error it can return comes only from the reader, a strings.Reader here.
func parseHTML(s string) *html.Node {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return &html.Node{Type: html.DocumentNode}
	}
	return doc
}

// plainText turns feed HTML into plain text: tags removed, entities decoded,
// whitespace collapsed, blocks separated by a blank line. The fallback of an
// <iframe> or <object> is its text, as in an article's content (see
// keepFallbacks).
func plainText(s string) string {
	if s == "" {
		return ""
	}
	if t, ok := tagFreeText(s); ok {
		return t
	}
	doc := parseHTML(s)
	keepFallbacks(doc, 0)
	return nodeText(doc)
}

// inlineText is plainText on one line, for titles, captions and names.
func inlineText(s string) string {
	if t, ok := tagFreeText(s); ok {
		return t
	}
	return strings.Join(strings.Fields(plainText(s)), " ")
}

// tagFreeText is plainText of s without building a tree, for the text
// most titles and names are: valid UTF-8 without tags, NULs or carriage
// returns, which the parser makes one text node of, its references
// decoded as html.UnescapeString decodes them.
func tagFreeText(s string) (string, bool) {
	if strings.ContainsAny(s, "<\x00\r") || !utf8.ValidString(s) {
		return "", false
	}
	return collapseSpace(html.UnescapeString(s)), true
}

// collapseSpace is strings.Join(strings.Fields(s), " "), s itself when
// that is s.
func collapseSpace(s string) string {
	clean := true
	space := true // at the start, as after a space
	for _, r := range s {
		if unicode.IsSpace(r) {
			if space || r != ' ' {
				clean = false
				break
			}
			space = true
		} else {
			space = false
		}
	}
	if clean && !space || s == "" {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func nodeText(n *html.Node) string {
	var w textWriter
	w.walk(n)
	return strings.ToValidUTF8(w.b.String(), string(utf8.RuneError))
}

// textWriter accumulates text, collapsing whitespace and turning block
// boundaries into line breaks that are only written when text follows.
type textWriter struct {
	b        strings.Builder
	breaks   int  // line breaks owed before the next text
	spaceDue bool // whitespace seen since the last text
	// skip, when set, leaves out more elements than the invisible ones.
	skip func(*html.Node) bool
	// limit, when positive, stops the walk once that many bytes are
	// written, or once it has visited budget nodes.
	limit, budget int
}

func (w *textWriter) walk(n *html.Node) {
	if w.limit > 0 {
		if w.b.Len() >= w.limit || w.budget <= 0 {
			return
		}
		w.budget--
	}
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
		if isInvisible(n) || (w.skip != nil && w.skip(n)) {
			return
		}
	}
	gap := blockGap(n)
	w.lineBreak(gap)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
	w.lineBreak(gap)
}

func (w *textWriter) lineBreak(n int) {
	w.breaks = max(w.breaks, n)
}

func (w *textWriter) text(s string) {
	for i := 0; i < len(s); {
		// A run of ASCII other than spaces is written whole, as the
		// runes one by one would be.
		j := i
		for j < len(s) && s[j] < utf8.RuneSelf && !asciiSpace[s[j]] {
			j++
		}
		if j > i {
			w.separate()
			w.b.WriteString(s[i:j])
			i = j
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unicode.IsSpace(r) {
			w.spaceDue = true
			continue
		}
		w.separate()
		w.b.WriteRune(r)
	}
}

// separate writes what is owed before the next text: line breaks, else a
// space, and nothing at the start.
func (w *textWriter) separate() {
	if w.b.Len() > 0 {
		switch {
		case w.breaks > 0:
			for range w.breaks {
				w.b.WriteByte('\n')
			}
		case w.spaceDue:
			w.b.WriteByte(' ')
		}
	}
	w.breaks, w.spaceDue = 0, false
}

// asciiSpace are the ASCII characters unicode.IsSpace reports.
var asciiSpace = [utf8.RuneSelf]bool{'\t': true, '\n': true, '\v': true, '\f': true, '\r': true, ' ': true}

// blockGap is the number of line breaks an element puts around its text.
func blockGap(n *html.Node) int {
	if n.Type != html.ElementNode {
		return 0
	}
	switch n.DataAtom {
	case atom.Br, atom.Li, atom.Tr, atom.Dt, atom.Dd:
		return 1
	case atom.P, atom.Div, atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6,
		atom.Ul, atom.Ol, atom.Dl, atom.Blockquote, atom.Figure, atom.Figcaption,
		atom.Pre, atom.Table, atom.Section, atom.Article, atom.Header, atom.Footer,
		atom.Aside, atom.Nav, atom.Main, atom.Hr, atom.Address, atom.Details:
		return 2
	}
	return 0
}

func isInvisible(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Iframe, atom.Object:
		return true
	}
	return false
}

// isAside reports elements whose text is not part of the article's running
// text: images with their captions, pull-quotes, side notes.
func isAside(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Figure, atom.Figcaption, atom.Blockquote, atom.Aside:
		return true
	}
	return isCaption(n) || isInvisible(n)
}

// isCaption reports a caption: a figure's, or an element whose class says
// so (WordPress writes <p class="wp-caption-text">).
func isCaption(n *html.Node) bool {
	if n.DataAtom == atom.Figure || n.DataAtom == atom.Figcaption {
		return true
	}
	return strings.Contains(strings.ToLower(attr(n, "class")), "caption")
}

// paragraphs returns the plain text of the non-empty <p> elements of the
// running text, in order, at most limit of them (limit < 0: all). Asides,
// captions and "Read also" blocks are not running text.
func (a *articleHTML) paragraphs(limit int) []string {
	var found []string
	var visit func(n *html.Node) bool
	visit = func(n *html.Node) bool {
		if n.Type == html.ElementNode {
			if isAside(n) || a.readAlso[n] {
				return true
			}
			if n.DataAtom == atom.P {
				if t := strings.Join(strings.Fields(nodeText(n)), " "); t != "" {
					found = append(found, t)
				}
				return limit < 0 || len(found) < limit
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if !visit(c) {
				return false
			}
		}
		return true
	}
	visit(a.root)
	return found
}

// leadParagraph returns the first paragraph of the running text, or, for
// HTML without <p>, the first block of its text.
func (a *articleHTML) leadParagraph() string {
	if p := a.paragraphs(1); len(p) > 0 {
		return p[0]
	}
	first, _, _ := strings.Cut(a.text(), "\n\n")
	return first
}

// text is the plain text of the fragment without its captions and "Read
// also" blocks.
func (a *articleHTML) text() string {
	w := textWriter{skip: func(n *html.Node) bool { return isCaption(n) || a.readAlso[n] }}
	w.walk(a.root)
	return strings.ToValidUTF8(w.b.String(), string(utf8.RuneError))
}
