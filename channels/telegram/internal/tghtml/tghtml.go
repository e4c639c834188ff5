// Package tghtml parses the HTML subset of Telegram's parse_mode HTML the way
// the Bot API does: the same tags, attributes and error texts. It is shared
// by the channel (to count and check what it renders) and by the fake server
// in telegramtest (to refuse what Telegram refuses).
//
// It is stricter than Telegram in one respect: Telegram keeps a "&" that does
// not start a character reference as a literal, this parser refuses it, so
// that a missing escape shows up in tests instead of in a channel. It also
// requires the ";" that Telegram lets one omit.
package tghtml

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Entity is a formatting span of the parsed text, as the Bot API returns it:
// offset and length in UTF-16 code units.
type Entity struct {
	Type     string `json:"type"`
	Offset   int    `json:"offset"`
	Length   int    `json:"length"`
	URL      string `json:"url,omitempty"`
	Language string `json:"language,omitempty"`
}

// Error is a parse failure; its text is what follows "can't parse
// entities: " in Telegram's answer.
type Error struct {
	Reason string
	Offset int // in bytes
}

func (e *Error) Error() string { return fmt.Sprintf("%s at byte offset %d", e.Reason, e.Offset) }

// entityType returns the entity a supported tag makes, or "".
func entityType(tag string) string {
	switch tag {
	case "b", "strong":
		return "bold"
	case "i", "em":
		return "italic"
	case "u", "ins":
		return "underline"
	case "s", "strike", "del":
		return "strikethrough"
	case "a":
		return "text_link"
	case "code", "pre", "blockquote":
		return tag
	case "tg-spoiler", "span":
		return "spoiler"
	}
	return ""
}

type openTag struct {
	name   string
	arg    string // href of a, language of code or pre
	offset int    // UTF-16 offset in the plain text where it starts
	at     int    // byte offset of the tag in the input
}

// Parse returns the text with the tags removed and the character references
// decoded, and its entities.
func Parse(s string) (plain string, entities []Entity, err error) {
	if !utf8.ValidString(s) {
		return "", nil, &Error{Reason: "Strings must be encoded in UTF-8", Offset: firstInvalid(s)}
	}
	var (
		out   strings.Builder
		units int // UTF-16 length of out
		stack []openTag
	)
	out.Grow(len(s))
	for i := 0; i < len(s); {
		switch s[i] {
		case '&':
			r, n, ok := charRef(s[i:])
			if !ok {
				return "", nil, &Error{Reason: `Unescaped "&" (write it as "&amp;")`, Offset: i}
			}
			out.WriteRune(r)
			units += utf16.RuneLen(r)
			i += n
		case '<':
			if i+1 < len(s) && s[i+1] == '/' {
				if len(stack) == 0 {
					return "", nil, &Error{Reason: "Unexpected end tag", Offset: i}
				}
				name, next, perr := endTag(s, i)
				if perr != nil {
					return "", nil, perr
				}
				top := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if name != "" && name != top.name {
					return "", nil, &Error{Reason: fmt.Sprintf(`Unmatched end tag, expected "</%s>", found "</%s>"`, top.name, name), Offset: i}
				}
				if e, ok := closeTag(top, units, stack); ok {
					entities = append(entities, e)
				}
				i = next
				continue
			}
			tag, next, perr := startTag(s, i)
			if perr != nil {
				return "", nil, perr
			}
			tag.offset = units
			stack = append(stack, tag)
			i = next
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			out.WriteString(s[i : i+n])
			units += utf16.RuneLen(r)
			i += n
		}
	}
	if len(stack) > 0 {
		top := stack[len(stack)-1]
		return "", nil, &Error{Reason: fmt.Sprintf(`Can't find end tag corresponding to start tag "%s"`, top.name), Offset: top.at}
	}
	sort.SliceStable(entities, func(a, b int) bool {
		if entities[a].Offset != entities[b].Offset {
			return entities[a].Offset < entities[b].Offset
		}
		return entities[a].Length > entities[b].Length
	})
	return out.String(), entities, nil
}

// closeTag makes the entity of a closed tag, unless it is empty. A code with
// a language directly inside pre gives its language to the pre instead.
func closeTag(t openTag, units int, stack []openTag) (Entity, bool) {
	if t.name == "code" && t.arg != "" && len(stack) > 0 && stack[len(stack)-1].name == "pre" {
		stack[len(stack)-1].arg = t.arg
		return Entity{}, false
	}
	if units <= t.offset {
		return Entity{}, false
	}
	e := Entity{Type: entityType(t.name), Offset: t.offset, Length: units - t.offset}
	switch t.name {
	case "a":
		e.URL = t.arg
	case "pre":
		e.Language = t.arg
	}
	return e, true
}

// startTag reads the tag that starts at s[at] == '<' and returns the index
// just after its '>'.
func startTag(s string, at int) (openTag, int, error) {
	unclosed := &Error{Reason: "Unclosed start tag", Offset: at}
	j := at + 1
	for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
		j++
	}
	if j >= len(s) {
		return openTag{}, 0, unclosed
	}
	name := strings.ToLower(s[at+1 : j])
	if entityType(name) == "" {
		return openTag{}, 0, &Error{Reason: fmt.Sprintf("Unsupported start tag %q", name), Offset: at}
	}
	tag := openTag{name: name, at: at}
	var class string
	for {
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return openTag{}, 0, unclosed
		}
		if s[j] == '>' {
			j++
			break
		}
		attrAt := j
		for j < len(s) && !isSpace(s[j]) && s[j] != '=' && s[j] != '>' {
			j++
		}
		attr := strings.ToLower(s[attrAt:j])
		if attr == "" {
			return openTag{}, 0, &Error{Reason: fmt.Sprintf("Empty attribute name in the tag %q", name), Offset: at}
		}
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return openTag{}, 0, unclosed
		}
		if s[j] != '=' {
			if name == "blockquote" && attr == "expandable" {
				continue
			}
			return openTag{}, 0, &Error{Reason: fmt.Sprintf("Expected equal sign in declaration of an attribute of the tag %q", name), Offset: at}
		}
		j++
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j >= len(s) {
			return openTag{}, 0, unclosed
		}
		var value string
		if q := s[j]; q == '"' || q == '\'' {
			var v strings.Builder
			j++
			for j < len(s) && s[j] != q {
				if s[j] == '&' {
					r, n, ok := charRef(s[j:])
					if !ok {
						return openTag{}, 0, &Error{Reason: `Unescaped "&" (write it as "&amp;")`, Offset: j}
					}
					v.WriteRune(r)
					j += n
					continue
				}
				v.WriteByte(s[j])
				j++
			}
			if j >= len(s) {
				return openTag{}, 0, unclosed
			}
			j++
			value = v.String()
		} else {
			tokenAt := j
			for j < len(s) && (isAlnum(s[j]) || s[j] == '.' || s[j] == '-') {
				j++
			}
			if j >= len(s) {
				return openTag{}, 0, unclosed
			}
			if !isSpace(s[j]) && s[j] != '>' {
				return openTag{}, 0, &Error{Reason: "Unexpected end of name token", Offset: tokenAt}
			}
			value = strings.ToLower(s[tokenAt:j])
		}
		switch {
		case name == "a" && attr == "href":
			tag.arg = value
		case name == "code" && attr == "class" && strings.HasPrefix(value, "language-"):
			tag.arg = strings.TrimPrefix(value, "language-")
		case name == "span" && attr == "class":
			class = value
		}
	}
	if name == "span" && class != "tg-spoiler" {
		return openTag{}, 0, &Error{Reason: `Tag "span" must have class "tg-spoiler"`, Offset: at}
	}
	return tag, j, nil
}

// endTag reads the end tag at s[at:] == "</" and returns its name (maybe
// empty: "</>" closes the innermost tag) and the index after its '>'.
func endTag(s string, at int) (string, int, error) {
	j := at + 2
	for j < len(s) && !isSpace(s[j]) && s[j] != '>' {
		j++
	}
	name := strings.ToLower(s[at+2 : j])
	for j < len(s) && isSpace(s[j]) {
		j++
	}
	if j >= len(s) || s[j] != '>' {
		return "", 0, &Error{Reason: "Unclosed end tag", Offset: at}
	}
	return name, j + 1, nil
}

// charRef decodes the character reference at the start of s: &lt; &gt;
// &amp; &quot; &#NN; or &#xNN;. It returns the character and the bytes used.
func charRef(s string) (rune, int, bool) {
	if len(s) < 2 || s[0] != '&' {
		return 0, 0, false
	}
	if s[1] == '#' {
		j, base := 2, 10
		if len(s) > 2 && s[2] == 'x' {
			j, base = 3, 16
		}
		start := j
		v := 0
		for j < len(s) && digit(s[j], base) >= 0 {
			v = v*base + digit(s[j], base)
			if v >= 0x10ffff {
				return 0, 0, false
			}
			j++
		}
		if j == start || j >= len(s) || s[j] != ';' {
			return 0, 0, false
		}
		if v == 0 || (v >= 0xd800 && v <= 0xdfff) {
			return 0, 0, false
		}
		return rune(v), j + 1, true
	}
	for _, e := range [...]struct {
		name string
		r    rune
	}{{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}} {
		if strings.HasPrefix(s, e.name) {
			return e.r, len(e.name), true
		}
	}
	return 0, 0, false
}

func digit(c byte, base int) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case base == 16 && c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case base == 16 && c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func firstInvalid(s string) int {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(s[i:]); n == 1 {
				return i
			}
		}
	}
	return len(s)
}
