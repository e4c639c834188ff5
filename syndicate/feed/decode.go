package feed

import (
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// xmlEncodingDecl finds the encoding of an XML declaration; group 1 is its value.
var xmlEncodingDecl = regexp.MustCompile(`^\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']`)

const (
	bomUTF8    = "\xEF\xBB\xBF"
	bomUTF16BE = "\xFE\xFF"
	bomUTF16LE = "\xFF\xFE"
	bomUTF32BE = "\x00\x00\xFE\xFF"
	bomUTF32LE = "\xFF\xFE\x00\x00"

	// Labels of the encodings decoded here rather than by charset, which
	// knows only the WHATWG encodings.
	labelUTF32BE = "utf-32be"
	labelUTF32LE = "utf-32le"
)

// toUTF8 decodes a feed document to UTF-8, choosing the encoding from, in
// order: a byte order mark (UTF-8, UTF-16 or UTF-32), UTF-16 or UTF-32
// without one ("<" next to zero bytes), the charset of the HTTP
// Content-Type, the XML declaration, else UTF-8. The XML declaration, if
// any, is rewritten to say utf-8 so the XML parser does not decode a second
// time.
//
// A document read as UTF-8 that is not valid UTF-8 is in fact in a legacy
// encoding its server did not declare (or declared wrongly). The heuristic:
// every valid UTF-8 sequence is kept, and every other byte is read as
// Windows-1252, the encoding such documents are in by far most often (it
// is a superset of the printable ISO-8859-1). A document mixing both, as
// feeds assembled from several sources do, comes out right too.
func toUTF8(body []byte, contentType string) ([]byte, error) {
	body, label := detectEncoding(body, contentType)
	var decoded []byte
	switch label {
	case labelUTF32BE, labelUTF32LE:
		decoded = decodeUTF32(body, label == labelUTF32BE)
	default:
		enc, name := charset.Lookup(label)
		if enc == nil || name == "utf-8" {
			decoded = utf8OrWindows1252(body)
			break
		}
		var err error
		if decoded, err = enc.NewDecoder().Bytes(body); err != nil {
			return nil, fmt.Errorf("decode as %s: %w", name, err)
		}
	}
	return declareUTF8(decoded), nil
}

// detectEncoding returns the body without its byte order mark and the label
// of its encoding.
func detectEncoding(body []byte, contentType string) ([]byte, string) {
	switch {
	case hasPrefix(body, bomUTF8):
		return body[len(bomUTF8):], "utf-8"
	case hasPrefix(body, bomUTF32BE):
		return body[len(bomUTF32BE):], labelUTF32BE
	case hasPrefix(body, bomUTF32LE): // before UTF-16 LE, whose BOM starts it
		return body[len(bomUTF32LE):], labelUTF32LE
	case hasPrefix(body, bomUTF16LE):
		return body[len(bomUTF16LE):], "utf-16le"
	case hasPrefix(body, bomUTF16BE):
		return body[len(bomUTF16BE):], "utf-16be"
	case hasPrefix(body, "<\x00\x00\x00"):
		return body, labelUTF32LE
	case hasPrefix(body, "\x00\x00\x00<"):
		return body, labelUTF32BE
	case len(body) >= 4 && body[0] == '<' && body[1] == 0 && body[3] == 0:
		return body, "utf-16le"
	case len(body) >= 4 && body[0] == 0 && body[1] == '<' && body[2] == 0:
		return body, "utf-16be"
	}
	if label := httpCharset(contentType); label != "" {
		return body, label
	}
	if label := xmlDeclaredEncoding(body); label != "" {
		return body, label
	}
	return body, "utf-8"
}

// httpCharset returns the Content-Type's charset if it names a known encoding.
func httpCharset(contentType string) string {
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return knownLabel(params["charset"])
}

func xmlDeclaredEncoding(body []byte) string {
	m := xmlEncodingDecl.FindSubmatch(head(body))
	if m == nil {
		return ""
	}
	return knownLabel(string(m[1]))
}

// knownLabel returns label if it names an encoding toUTF8 can decode, else "".
// A UTF-16 or UTF-32 label without a byte order mark means big-endian.
func knownLabel(label string) string {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-32", "utf-32be", "ucs-4":
		return labelUTF32BE
	case "utf-32le":
		return labelUTF32LE
	}
	if enc, _ := charset.Lookup(label); enc == nil {
		return ""
	}
	return label
}

// decodeUTF32 decodes UTF-32; a unit that is no Unicode scalar value, and a
// trailing partial unit, become U+FFFD.
func decodeUTF32(body []byte, bigEndian bool) []byte {
	out := make([]byte, 0, len(body)/4+len(body)%4)
	for len(body) > 0 {
		if len(body) < 4 {
			out = utf8.AppendRune(out, utf8.RuneError)
			break
		}
		var r rune
		if bigEndian {
			r = rune(uint32(body[0])<<24 | uint32(body[1])<<16 | uint32(body[2])<<8 | uint32(body[3]))
		} else {
			r = rune(uint32(body[3])<<24 | uint32(body[2])<<16 | uint32(body[1])<<8 | uint32(body[0]))
		}
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		out = utf8.AppendRune(out, r)
		body = body[4:]
	}
	return out
}

// utf8OrWindows1252 returns body when it is valid UTF-8; otherwise it keeps
// every valid UTF-8 sequence and reads each other byte as Windows-1252.
func utf8OrWindows1252(body []byte) []byte {
	if utf8.Valid(body) {
		return body
	}
	out := make([]byte, 0, len(body)+len(body)/8)
	for len(body) > 0 {
		r, size := utf8.DecodeRune(body)
		if r == utf8.RuneError && size <= 1 {
			out = utf8.AppendRune(out, windows1252Rune(body[0]))
			body = body[1:]
			continue
		}
		out = append(out, body[:size]...)
		body = body[size:]
	}
	return out
}

// windows1252Rune is the character of one Windows-1252 byte. The five bytes
// Windows-1252 leaves undefined map to the C1 controls of the same value,
// as in the WHATWG encoding standard.
func windows1252Rune(b byte) rune {
	if b >= 0x80 && b <= 0x9F {
		if r := windows1252C1[b-0x80]; r != 0 {
			return r
		}
	}
	return rune(b)
}

// windows1252C1 maps bytes 0x80–0x9F of Windows-1252 to their characters;
// 0 marks the five undefined ones.
var windows1252C1 = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// fixC1 replaces the C1 controls U+0080–U+009F, which no one writes on
// purpose, by the Windows-1252 characters that were meant (a document
// encoded as Windows-1252 and read as ISO-8859-1, or a character reference
// such as &#146; taken literally): U+0092 becomes ’. The five codes that
// Windows-1252 leaves undefined are dropped, and so are the characters
// XML forbids and the references to them (&amp;#0; in a document is
// &#0; in its HTML).
func fixC1(s string) string {
	s = dropForbiddenText(s)
	if !hasC1(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		switch {
		case r < 0x80 || r > 0x9F:
			b.WriteRune(r)
		case windows1252C1[r-0x80] != 0:
			b.WriteRune(windows1252C1[r-0x80])
		}
	}
	return b.String()
}

func hasC1(s string) bool {
	// In UTF-8, U+0080–U+009F are 0xC2 followed by 0x80–0x9F.
	for i := 0; i+1 < len(s); i++ {
		if s[i] == 0xC2 && s[i+1] >= 0x80 && s[i+1] <= 0x9F {
			return true
		}
	}
	return false
}

func declareUTF8(doc []byte) []byte {
	m := xmlEncodingDecl.FindSubmatchIndex(head(doc))
	if m == nil {
		return doc
	}
	start, end := m[2], m[3]
	if strings.EqualFold(string(doc[start:end]), "utf-8") {
		return doc // says so already: no copy of the document for it
	}
	out := make([]byte, 0, len(doc)-(end-start)+len("utf-8"))
	out = append(out, doc[:start]...)
	out = append(out, "utf-8"...)
	return append(out, doc[end:]...)
}

// head is where an XML declaration can be.
func head(doc []byte) []byte {
	return doc[:min(len(doc), 1024)]
}

func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}
