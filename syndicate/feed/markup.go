package feed

import (
	"encoding/base64"
	"encoding/xml"
	"html"
	"strings"
)

const (
	xhtmlNS   = "http://www.w3.org/1999/xhtml"
	mathMLNS  = "http://www.w3.org/1998/Math/MathML"
	contentNS = "http://purl.org/rss/1.0/modules/content/"
)

// markupCapture collects what an element of the document holds, as it is
// scanned, for the content forms gofeed does not read (RSS xhtml:body,
// <body>, <fullitem>) or reads wrongly (Atom xhtml whose elements carry a
// prefix, Atom mode="base64" under a text type).
//
// html is its child elements written as HTML: each element by its local
// name (xhtml:p is <p>, math stays <math>), its unprefixed attributes
// kept, namespace declarations and prefixed attributes dropped, its text
// escaped. text is its text alone, as the parser decoded it.
type markupCapture struct {
	html, text strings.Builder
	elements   int  // elements inside it
	prefixed   bool // an element inside it was written with a prefix
	depth      int  // elements open inside it

	// The single top-level <div> an Atom xhtml construct wraps its
	// content in (RFC 4287 3.1.1.3), which is not part of it.
	topElements                      int
	topIsDiv                         bool
	divStart, divOpenEnd, divCloseAt int
	divEnd                           int
}

// start writes a start tag met inside the captured element.
func (c *markupCapture) start(t xml.StartElement) {
	c.elements++
	if t.Name.Space != "" {
		c.prefixed = true
	}
	top := c.depth == 0
	if top {
		c.topElements++
		if c.topElements == 1 && t.Name.Local == "div" {
			c.topIsDiv, c.divStart = true, c.html.Len()
		}
	}
	c.html.WriteByte('<')
	c.html.WriteString(t.Name.Local)
	for _, a := range t.Attr {
		if a.Name.Space != "" || a.Name.Local == "xmlns" {
			continue // xmlns:p, xml:lang, xlink:href
		}
		c.html.WriteByte(' ')
		c.html.WriteString(a.Name.Local)
		c.html.WriteString(`="`)
		writeEscaped(&c.html, a.Value, true)
		c.html.WriteByte('"')
	}
	c.html.WriteByte('>')
	if top && c.topElements == 1 && c.topIsDiv {
		c.divOpenEnd = c.html.Len()
	}
	if !isVoidElement(t.Name.Local) {
		c.depth++
	}
}

// end writes the end tag of an element met inside the captured one.
func (c *markupCapture) end(local string) {
	if isVoidElement(local) {
		return
	}
	c.depth--
	if c.depth == 0 && c.topIsDiv && c.topElements == 1 {
		c.divCloseAt = c.html.Len()
	}
	c.html.WriteString("</")
	c.html.WriteString(local)
	c.html.WriteByte('>')
	if c.depth == 0 && c.topIsDiv && c.topElements == 1 {
		c.divEnd = c.html.Len()
	}
}

func (c *markupCapture) chars(b []byte) {
	s := string(b)
	c.text.WriteString(s)
	writeEscaped(&c.html, s, false)
}

// markup is what the element holds as HTML: its elements, when it has
// any, else its text (which is then HTML, escaped in the document).
func (c *markupCapture) markup() string {
	if c.elements == 0 {
		return c.text.String()
	}
	return c.html.String()
}

// xhtml is what an Atom xhtml construct holds as HTML, without the <div>
// it is wrapped in.
func (c *markupCapture) xhtml() string {
	s := c.html.String()
	if c.topElements == 1 && c.topIsDiv && c.divEnd > 0 &&
		strings.TrimSpace(s[:c.divStart]) == "" && strings.TrimSpace(s[c.divEnd:]) == "" {
		return s[c.divOpenEnd:c.divCloseAt]
	}
	return s
}

// writeEscaped writes s escaped for HTML text (or a quoted attribute
// value). An "&name;" is left as it is: the XML parser under the scan
// passes references to entities it does not know (HTML's &nbsp;) through
// as written, and the HTML parser knows them.
func writeEscaped(b *strings.Builder, s string, attr bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			if attr {
				b.WriteString("&#34;")
			} else {
				b.WriteByte(c)
			}
		case '&':
			if n := entityNameLength(s[i+1:]); n > 0 {
				b.WriteByte('&')
			} else {
				b.WriteString("&amp;")
			}
		default:
			b.WriteByte(c)
		}
	}
}

// entityNameLength is the length of "name;" at the start of s when s
// starts with a reference's name and semicolon, else 0.
func entityNameLength(s string) int {
	for i := 0; i < len(s) && i < 32; i++ {
		c := s[i]
		switch {
		case c == ';':
			return i
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', i > 0 && c >= '0' && c <= '9':
		default:
			return 0
		}
	}
	return 0
}

// isVoidElement names the HTML elements that have no end tag.
func isVoidElement(local string) bool {
	switch local {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr":
		return true
	}
	return false
}

// textConstruct is an Atom <content>, <summary> or <title> whose form gofeed does
// not read as published: its type and mode, and what it holds.
type textConstruct struct {
	Type, Mode string
	capture    *markupCapture
}

// value returns the construct's HTML when it differs from what gofeed
// read (gofeed's reading is then wrong): the XHTML of a type="xhtml"
// construct whose elements are written with a prefix (gofeed keeps them
// as <xhtml:p>, which no HTML parser knows), the decoded bytes of a
// mode="base64" one that gofeed left encoded (it decodes only under no
// type or a binary one). A decoded text/plain construct is escaped, as
// it is text.
func (t *textConstruct) value(gofeedValue string) (string, bool) {
	if t == nil || t.capture == nil {
		return "", false
	}
	typ := strings.ToLower(strings.TrimSpace(t.Type))
	switch {
	case isBase64(t.Mode):
		raw := strings.Map(func(r rune) rune {
			if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
				return -1
			}
			return r
		}, t.capture.text.String())
		decoded, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || string(decoded) == gofeedValue {
			return "", false
		}
		s := string(decoded)
		if typ == "text" || typ == "text/plain" {
			s = html.EscapeString(s)
		}
		return s, true
	case (typ == "xhtml" || strings.Contains(typ, "xhtml")) && t.capture.prefixed:
		return t.capture.xhtml(), true
	}
	return "", false
}

// captures reports whether an Atom <content> or <summary> with these
// attributes is one textConstruct may read better than gofeed.
func capturesConstruct(typ, mode string) bool {
	return isBase64(mode) || strings.Contains(strings.ToLower(typ), "xhtml")
}

// isBase64 reports an Atom 0.3 construct's mode="base64".
func isBase64(mode string) bool {
	return strings.EqualFold(strings.TrimSpace(mode), "base64")
}
