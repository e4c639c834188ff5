package feed

import (
	"fmt"
	"mime"
	"regexp"

	"golang.org/x/net/html/charset"
)

// xmlEncodingDecl finds the encoding of an XML declaration; group 1 is its value.
var xmlEncodingDecl = regexp.MustCompile(`^\s*<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']`)

const (
	bomUTF8    = "\xEF\xBB\xBF"
	bomUTF16BE = "\xFE\xFF"
	bomUTF16LE = "\xFF\xFE"
)

// toUTF8 decodes a feed document to UTF-8, choosing the encoding from, in
// order: a byte order mark, UTF-16 without one ("<" next to a zero byte),
// the charset of the HTTP Content-Type, the XML declaration, else UTF-8.
// The XML declaration, if any, is rewritten to say utf-8 so the XML parser
// does not decode a second time. Bytes invalid in the encoding become
// U+FFFD.
func toUTF8(body []byte, contentType string) ([]byte, error) {
	body, label := detectEncoding(body, contentType)
	enc, name := charset.Lookup(label)
	if enc == nil {
		enc, name = charset.Lookup("utf-8")
	}
	decoded, err := enc.NewDecoder().Bytes(body)
	if err != nil {
		return nil, fmt.Errorf("decode as %s: %w", name, err)
	}
	return declareUTF8(decoded), nil
}

// detectEncoding returns the body without its byte order mark and the label
// of its encoding.
func detectEncoding(body []byte, contentType string) ([]byte, string) {
	switch {
	case hasPrefix(body, bomUTF8):
		return body[len(bomUTF8):], "utf-8"
	case hasPrefix(body, bomUTF16LE):
		return body[len(bomUTF16LE):], "utf-16le"
	case hasPrefix(body, bomUTF16BE):
		return body[len(bomUTF16BE):], "utf-16be"
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
	label := params["charset"]
	if enc, _ := charset.Lookup(label); enc == nil {
		return ""
	}
	return label
}

func xmlDeclaredEncoding(body []byte) string {
	m := xmlEncodingDecl.FindSubmatch(head(body))
	if m == nil {
		return ""
	}
	label := string(m[1])
	if enc, _ := charset.Lookup(label); enc == nil {
		return ""
	}
	return label
}

func declareUTF8(doc []byte) []byte {
	m := xmlEncodingDecl.FindSubmatchIndex(head(doc))
	if m == nil {
		return doc
	}
	start, end := m[2], m[3]
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
