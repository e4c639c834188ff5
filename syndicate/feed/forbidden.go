package feed

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"
)

// isXMLChar reports whether XML 1.0 allows the character r in a document
// (production Char): tab, line feed, carriage return, U+0020–U+D7FF,
// U+E000–U+FFFD and U+10000–U+10FFFF. Everything else (NUL and the other
// C0 controls, surrogates, U+FFFE, U+FFFF) makes the parser under gofeed
// refuse the whole document, written raw or as a character reference.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// dropForbiddenXML removes from a UTF-8 document the characters XML
// forbids, and the character references to them (&#0;, &#x1B;, &#xFFFE;,
// &#55296;, a number past U+10FFFF), wherever they are: in text, in
// attribute values, in CDATA sections (whose references are HTML's, and
// as unusable). A document without any comes back as it is.
func dropForbiddenXML(doc []byte) []byte {
	first := firstForbidden(doc)
	if first < 0 {
		return doc
	}
	out := make([]byte, 0, len(doc))
	out = append(out, doc[:first]...)
	for i := first; i < len(doc); {
		if doc[i] == '&' {
			if n, ok := forbiddenReference(doc[i:]); ok {
				i += n
				continue
			}
			out = append(out, '&')
			i++
			continue
		}
		r, size := utf8.DecodeRune(doc[i:])
		if isXMLChar(r) && (r != utf8.RuneError || size > 1) {
			out = append(out, doc[i:i+size]...)
		}
		i += size
	}
	return out
}

// dropForbiddenText is dropForbiddenXML for a string: a field as gofeed
// gives it, whose references (&amp;#0; in the document) are HTML's now.
func dropForbiddenText(s string) string {
	if firstForbidden([]byte(s)) < 0 {
		return s
	}
	return string(dropForbiddenXML([]byte(s)))
}

// firstForbidden is the offset of the first forbidden character or
// reference to one in doc, or -1.
func firstForbidden(doc []byte) int {
	for i := 0; i < len(doc); {
		c := doc[i]
		switch {
		case c == '&':
			if _, ok := forbiddenReference(doc[i:]); ok {
				return i
			}
			i++
		case c < 0x20:
			if c != '\t' && c != '\n' && c != '\r' {
				return i
			}
			i++
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(doc[i:])
			if !isXMLChar(r) || (r == utf8.RuneError && size == 1) {
				return i
			}
			i += size
		}
	}
	return -1
}

// forbiddenReference reports whether s starts with a numeric character
// reference to a character XML forbids, and its length.
func forbiddenReference(s []byte) (int, bool) {
	if len(s) < 4 || s[0] != '&' || s[1] != '#' {
		return 0, false
	}
	base, start := 10, 2
	if s[2] == 'x' || s[2] == 'X' {
		base, start = 16, 3
	}
	end := start
	for end < len(s) && isDigit(s[end], base) {
		end++
	}
	if end == start || end >= len(s) || s[end] != ';' {
		return 0, false // not a reference: the parser takes it as text
	}
	digits := strings.TrimLeft(string(s[start:end]), "0")
	if digits == "" {
		return end + 1, true // &#0;, &#x0000;
	}
	n, err := strconv.ParseUint(digits, base, 32)
	if err != nil || n > utf8.MaxRune {
		return end + 1, true // past Unicode
	}
	return end + 1, !isXMLChar(rune(n))
}

func isDigit(c byte, base int) bool {
	switch {
	case c >= '0' && c <= '9':
		return true
	case base == 16:
		return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
	}
	return false
}

// itemSpan is where one item (or entry) of an XML document starts and
// ends, its end tag included.
type itemSpan struct{ start, end int }

// findItems returns the spans of the items and entries of an XML
// document, found by their tags alone (outside comments, CDATA sections
// and processing instructions), so that a document the parser refuses can
// still be cut into its items. An item that does not end runs to the end
// of the document.
func findItems(doc []byte) []itemSpan {
	var spans []itemSpan
	for i := 0; i < len(doc); {
		next, name, ok := nextItemStart(doc, i)
		if !ok {
			break
		}
		end := itemEnd(doc, next, name)
		spans = append(spans, itemSpan{start: next, end: end})
		i = end
	}
	return spans
}

// nextItemStart finds the next <item> or <entry> start tag (with any
// prefix) at or after i: its offset and its qualified name.
func nextItemStart(doc []byte, i int) (int, string, bool) {
	for i < len(doc) {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			return 0, "", false
		}
		i += j
		if skip := skipMarkup(doc, i); skip > i {
			i = skip
			continue
		}
		if name, ok := itemTagName(doc[i+1:]); ok {
			return i, name, true
		}
		i++
	}
	return 0, "", false
}

// skipMarkup returns the offset past the comment, CDATA section,
// processing instruction or declaration starting at i, or i when none does.
func skipMarkup(doc []byte, i int) int {
	rest := doc[i:]
	switch {
	case bytes.HasPrefix(rest, []byte("<!--")):
		return skipPast(doc, i+4, "-->")
	case bytes.HasPrefix(rest, []byte("<![CDATA[")):
		return skipPast(doc, i+9, "]]>")
	case bytes.HasPrefix(rest, []byte("<?")):
		return skipPast(doc, i+2, "?>")
	case bytes.HasPrefix(rest, []byte("<!")):
		return skipDecl(doc, i+2)
	}
	return i
}

// itemTagName reads the name after "<" when it is item or entry, with or
// without a prefix, followed by the end of a name.
func itemTagName(s []byte) (string, bool) {
	n := 0
	for n < len(s) && !isNameEnd(s[n]) {
		n++
	}
	if n == len(s) {
		return "", false
	}
	name := string(s[:n])
	local := name
	if k := strings.LastIndexByte(name, ':'); k >= 0 {
		local = name[k+1:]
	}
	return name, isItem(local)
}

func isNameEnd(c byte) bool {
	return c == '>' || c == '/' || isXMLSpace(c) || c == '<'
}

// itemEnd returns the offset past the end tag that closes the element
// name opened at start (nested ones of the same name counted), or
// len(doc) when it does not end.
func itemEnd(doc []byte, start int, name string) int {
	open := bytes.IndexByte(doc[start:], '>')
	if open < 0 {
		return len(doc)
	}
	if open > 0 && doc[start+open-1] == '/' {
		return start + open + 1 // <item/>
	}
	depth := 1
	for i := start + open + 1; i < len(doc); {
		j := bytes.IndexByte(doc[i:], '<')
		if j < 0 {
			break
		}
		i += j
		if skip := skipMarkup(doc, i); skip > i {
			i = skip
			continue
		}
		rest := doc[i+1:]
		closing := len(rest) > 0 && rest[0] == '/'
		if closing {
			rest = rest[1:]
		}
		if bytes.HasPrefix(rest, []byte(name)) && len(rest) > len(name) && isNameEnd(rest[len(name)]) {
			if closing {
				if depth--; depth == 0 {
					gt := bytes.IndexByte(doc[i:], '>')
					if gt < 0 {
						return len(doc)
					}
					return i + gt + 1
				}
			} else if gt := bytes.IndexByte(doc[i:], '>'); gt > 0 && doc[i+gt-1] != '/' {
				depth++ // one of the same name inside, not <item/>
			}
		}
		i++
	}
	return len(doc)
}
