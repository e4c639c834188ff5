// Package tghtml parses Telegram's parse_mode HTML as the Bot API does: it
// follows the rules of tdlib's parse_html, which the Bot API runs, case for
// case (see tdlib_test.go for tdlib's own cases): the same tags and
// attributes, the same text and entities in the same order, the same
// refusals with the same words. It is shared by the channel (to count what
// it renders and to check an operator's template or an editor's text) and
// by the fake server in telegramtest (to refuse what Telegram refuses).
//
// Parse is exactly as lenient as Telegram: a "&" that starts no character
// reference is kept as it is, a reference may lack its ";", an attribute
// may lack its value, unknown attributes are ignored. The text syndicate
// writes itself is held to more (see CheckEscaped), in the converter and
// its tests, not here.
package tghtml

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Entity is a formatting span of the parsed text as the Bot API returns it:
// offset and length in UTF-16 code units.
type Entity struct {
	Type   string `json:"type"`
	Offset int    `json:"offset"`
	Length int    `json:"length"`
	// URL of a text_link, as Telegram rewrites it (see CheckLink).
	URL string `json:"url,omitempty"`
	// User of a text_mention (a link to tg://user?id=…).
	User *User `json:"user,omitempty"`
	// Language of a pre.
	Language string `json:"language,omitempty"`
	// CustomEmojiID of a custom_emoji (<tg-emoji emoji-id="…">).
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
	// UnixTime and DateTimeFormat of a date_time (<tg-time unix="…"
	// format="…">); the format as the Bot API writes it back: "r", or
	// "w", then "d" or "D", then "t" or "T", each when asked for.
	UnixTime       int64  `json:"unix_time,omitempty"`
	DateTimeFormat string `json:"date_time_format,omitempty"`
}

// User is the user a text_mention names.
type User struct {
	ID int64 `json:"id"`
}

// Error is a refusal of Parse; its text is what follows "can't parse
// entities: " in Telegram's answer.
type Error struct {
	Message string
	Offset  int // the byte offset the message names, or -1
}

func (e *Error) Error() string { return e.Message }

// ErrNotUTF8 refuses a text that is not valid UTF-8; Telegram answers
// "text must be encoded in UTF-8" before it parses any markup.
var ErrNotUTF8 = errors.New("Text must be encoded in UTF-8")

func errorAt(offset int, format string, args ...any) *Error {
	return &Error{Message: fmt.Sprintf(format, args...), Offset: offset}
}

// kind is an entity type as tdlib knows it; the order of kinds when two
// entities cover the same text is tdlib's priority.
type kind int

const (
	kindBold kind = iota
	kindItalic
	kindUnderline
	kindStrikethrough
	kindSpoiler
	kindCode
	kindPre
	kindPreCode
	kindTextURL
	kindMentionName
	kindBlockQuote
	kindExpandableBlockQuote
	kindCustomEmoji
	kindFormattedDate
)

// priority orders entities that start at the same place and have the same
// length: the lower first (tdlib's MessageEntity::get_type_priority).
func (k kind) priority() int {
	switch k {
	case kindBold:
		return 90
	case kindItalic:
		return 91
	case kindUnderline:
		return 92
	case kindStrikethrough:
		return 93
	case kindSpoiler:
		return 94
	case kindCode:
		return 20
	case kindPre:
		return 11
	case kindPreCode:
		return 10
	case kindTextURL, kindMentionName:
		return 49
	case kindBlockQuote, kindExpandableBlockQuote:
		return 0
	case kindCustomEmoji:
		return 99
	case kindFormattedDate:
		return 30
	}
	return 50
}

// entity is an entity while the text is parsed.
type entity struct {
	kind           kind
	offset, length int
	arg            string // URL, language, custom emoji id
	user           int64
	date           int32
	dateFlags      int
}

// Flags of a date's format.
const (
	dateRelative = 1 << iota
	dateShortTime
	dateLongTime
	dateShortDate
	dateLongDate
	dateDayOfWeek
)

func (e entity) public() Entity {
	out := Entity{Offset: e.offset, Length: e.length}
	switch e.kind {
	case kindBold:
		out.Type = "bold"
	case kindItalic:
		out.Type = "italic"
	case kindUnderline:
		out.Type = "underline"
	case kindStrikethrough:
		out.Type = "strikethrough"
	case kindSpoiler:
		out.Type = "spoiler"
	case kindCode:
		out.Type = "code"
	case kindPre:
		out.Type = "pre"
	case kindPreCode:
		out.Type, out.Language = "pre", e.arg
	case kindTextURL:
		out.Type, out.URL = "text_link", e.arg
	case kindMentionName:
		out.Type, out.User = "text_mention", &User{ID: e.user}
	case kindBlockQuote:
		out.Type = "blockquote"
	case kindExpandableBlockQuote:
		out.Type = "expandable_blockquote"
	case kindCustomEmoji:
		out.Type, out.CustomEmojiID = "custom_emoji", e.arg
	case kindFormattedDate:
		out.Type, out.UnixTime, out.DateTimeFormat = "date_time", int64(e.date), dateFormat(e.dateFlags)
	}
	return out
}

// dateFormat writes a date's flags as the Bot API does.
func dateFormat(flags int) string {
	if flags&dateRelative != 0 {
		return "r"
	}
	var b strings.Builder
	if flags&dateDayOfWeek != 0 {
		b.WriteByte('w')
	}
	switch {
	case flags&dateShortDate != 0:
		b.WriteByte('d')
	case flags&dateLongDate != 0:
		b.WriteByte('D')
	}
	switch {
	case flags&dateShortTime != 0:
		b.WriteByte('t')
	case flags&dateLongTime != 0:
		b.WriteByte('T')
	}
	return b.String()
}

// dateFlags reads the format attribute of a tg-time.
func dateFlags(format string) (int, bool) {
	if format == "r" || format == "R" {
		return dateRelative, true
	}
	flags := 0
	for i := 0; i < len(format); i++ {
		switch format[i] {
		case 't':
			flags |= dateShortTime
		case 'T':
			flags |= dateLongTime
		case 'd':
			flags |= dateShortDate
		case 'D':
			flags |= dateLongDate
		case 'w', 'W':
			flags |= dateDayOfWeek
		default:
			return 0, false
		}
	}
	return flags, true
}

// The tags Telegram knows.
var knownTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "s": true, "strike": true, "del": true,
	"u": true, "ins": true, "tg-spoiler": true, "tg-emoji": true, "tg-time": true, "span": true,
	"pre": true, "code": true, "blockquote": true,
}

// startTag is a start tag read, with what its attributes say.
type startTag struct {
	name string
	arg  string // href of a, language of code, tg-… class of span, emoji-id, format of tg-time, "1" for an expandable blockquote
	date int32  // unix of tg-time
}

// source reads s as tdlib reads its input: a NUL-terminated string, so a
// NUL inside a tag ends the text just as its end does.
type source string

func (s source) at(i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// readStartTag reads the start tag at s[begin] == '<' (not followed by
// '/'). It returns the index of its closing '>'.
func (s source) readStartTag(begin int) (startTag, int, error) {
	i := begin + 1
	for !isSpace(s.at(i)) && s.at(i) != '>' {
		i++
	}
	if s.at(i) == 0 {
		return startTag{}, 0, errorAt(begin, "Unclosed start tag at byte offset %d", begin)
	}
	tag := startTag{name: lower(string(s[begin+1 : i]))}
	if !knownTags[tag.name] {
		return startTag{}, 0, errorAt(begin, `Unsupported start tag "%s" at byte offset %d`, tag.name, begin)
	}
	for s.at(i) != '>' {
		for s.at(i) != 0 && isSpace(s.at(i)) {
			i++
		}
		if s.at(i) == '>' {
			break
		}
		attrBegin := i
		for c := s.at(i); !isSpace(c) && c != '=' && c != '>' && c != '/' && c != '"' && c != '\''; c = s.at(i) {
			i++
		}
		attr := string(s[attrBegin:i])
		if attr == "" {
			return startTag{}, 0, errorAt(begin, `Empty attribute name in the tag "%s" at byte offset %d`, tag.name, begin)
		}
		for s.at(i) != 0 && isSpace(s.at(i)) {
			i++
		}
		if s.at(i) != '=' {
			if s.at(i) == 0 {
				return startTag{}, 0, errorAt(begin, `Unclosed start tag "%s" at byte offset %d`, tag.name, begin)
			}
			// An attribute without a value.
			if tag.name == "blockquote" && attr == "expandable" {
				tag.arg = "1"
			}
			continue
		}
		i++
		for s.at(i) != 0 && isSpace(s.at(i)) {
			i++
		}
		if s.at(i) == 0 {
			return startTag{}, 0, errorAt(begin, `Unclosed start tag "%s" at byte offset %d`, tag.name, begin)
		}
		var value string
		if q := s.at(i); q != '"' && q != '\'' {
			// A name token: letters, digits, periods and hyphens, not
			// case sensitive.
			tokenBegin := i
			for c := s.at(i); isAlnum(c) || c == '.' || c == '-'; c = s.at(i) {
				i++
			}
			value = lower(string(s[tokenBegin:i]))
			if c := s.at(i); !isSpace(c) && c != '>' {
				return startTag{}, 0, errorAt(tokenBegin, "Unexpected end of name token at byte offset %d", tokenBegin)
			}
		} else {
			// A string literal, its character references decoded.
			i++
			var v []byte
			for s.at(i) != q && s.at(i) != 0 {
				if s[i] == '&' {
					if code, next := s.charRef(i); code != 0 {
						v = appendCode(v, code)
						i = next
						continue
					}
				}
				v = append(v, s[i])
				i++
			}
			if s.at(i) == q {
				i++
			}
			value = string(v)
		}
		if s.at(i) == 0 {
			return startTag{}, 0, errorAt(begin, "Unclosed start tag at byte offset %d", begin)
		}
		switch {
		case tag.name == "a" && attr == "href":
			tag.arg = value
		case tag.name == "code" && attr == "class" && strings.HasPrefix(value, "language-"):
			tag.arg = value[len("language-"):]
		case tag.name == "span" && attr == "class" && strings.HasPrefix(value, "tg-"):
			tag.arg = value[len("tg-"):]
		case tag.name == "tg-emoji" && attr == "emoji-id":
			tag.arg = value
		case tag.name == "blockquote" && attr == "expandable":
			tag.arg = "1"
		case tag.name == "tg-time" && attr == "unix":
			tag.date = toInt32(value)
		case tag.name == "tg-time" && attr == "format":
			tag.arg = value
		}
	}
	if tag.name == "span" && tag.arg != "spoiler" {
		return startTag{}, 0, errorAt(begin, `Tag "span" must have class "tg-spoiler" at byte offset %d`, begin)
	}
	return tag, i, nil
}

// readEndTag reads the end tag at s[begin:] == "</" and returns its name
// (empty for "</>", which closes the innermost tag) and the index of its
// '>'.
func (s source) readEndTag(begin int) (string, int, error) {
	i := begin + 1
	for !isSpace(s.at(i)) && s.at(i) != '>' {
		i++
	}
	name := lower(string(s[begin+2 : i]))
	for isSpace(s.at(i)) && s.at(i) != 0 {
		i++
	}
	if s.at(i) != '>' {
		return "", 0, errorAt(begin, "Unclosed end tag at byte offset %d", begin)
	}
	return name, i, nil
}

// charRef decodes the character reference at s[pos] == '&': &lt; &gt;
// &amp; &quot; (case sensitive), &#NNN; or &#xHHH; with at most 7 decimal
// or 6 hexadecimal digits, the ";" optional. It returns the code point and
// the index after the reference, or 0 when there is none (the '&' is then
// a character of the text).
func (s source) charRef(pos int) (rune, int) {
	end := pos + 1
	var code uint32
	if s.at(pos+1) == '#' {
		end++
		if s.at(pos+2) == 'x' {
			end++
			for isHexDigit(s.at(end)) {
				code = code*16 + uint32(hexValue(s.at(end)))
				end++
			}
		} else {
			for isDigit(s.at(end)) {
				code = code*10 + uint32(s.at(end)-'0')
				end++
			}
		}
		if code == 0 || code >= 0x10ffff || end-pos >= 10 {
			return 0, 0
		}
	} else {
		for isAlpha(s.at(end)) {
			end++
		}
		switch s[pos+1 : end] {
		case "lt":
			code = '<'
		case "gt":
			code = '>'
		case "amp":
			code = '&'
		case "quot":
			code = '"'
		default:
			return 0, 0
		}
	}
	if s.at(end) == ';' {
		end++
	}
	return rune(code), end
}

// open is a tag open while the text is parsed.
type open struct {
	startTag
	offset int // UTF-16 offset in the text where it starts
	start  int // byte offset in the text where it starts
}

// Parse returns the text with the tags removed and the character references
// decoded, and its entities in Telegram's order: by offset, the longer
// first, then by type (blockquote, pre, code, date, link, bold, italic,
// underline, strikethrough, spoiler, custom emoji). It refuses what Telegram
// refuses, with Telegram's words.
//
// Besides the tags, it follows Telegram in these:
//   - an <a> without href links to its own text when that is a URL;
//     a link Telegram would not keep (see CheckLink) is no entity, its
//     text kept; a link to tg://user?id=N is a text_mention;
//   - a <pre> and a <code class="language-x"> around the same text are one
//     pre in language x; around different text, a pre and a code;
//   - an entity around no text is none, and its attributes are not checked.
func Parse(text string) (plain string, entities []Entity, err error) {
	if !utf8.ValidString(text) {
		return "", nil, ErrNotUTF8
	}
	s := source(text)
	var (
		out       = make([]byte, 0, len(s))
		units     int // UTF-16 length of out
		stack     []open
		found     []entity
		surrogate bool // a reference decoded to half a surrogate pair
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '&' {
			if code, next := s.charRef(i); code != 0 {
				units++
				if code > 0xffff {
					units++
				}
				if code >= 0xd800 && code <= 0xdfff {
					surrogate = true
				}
				out = appendCode(out, code)
				i = next - 1
				continue
			}
		}
		if c != '<' {
			if c&0xc0 != 0x80 {
				units++
				if c >= 0xf0 {
					units++
				}
			}
			out = append(out, c)
			continue
		}
		if s.at(i+1) != '/' {
			tag, end, err := s.readStartTag(i)
			if err != nil {
				return "", nil, err
			}
			stack = append(stack, open{startTag: tag, offset: units, start: len(out)})
			i = end
			continue
		}
		if len(stack) == 0 {
			return "", nil, errorAt(i, "Unexpected end tag at byte offset %d", i)
		}
		name, end, err := s.readEndTag(i)
		if err != nil {
			return "", nil, err
		}
		top := stack[len(stack)-1]
		if name != "" && name != top.name {
			return "", nil, errorAt(i, `Unmatched end tag at byte offset %d, expected "</%s>", found "</%s>"`, i, top.name, name)
		}
		stack = stack[:len(stack)-1]
		if units > top.offset {
			if found, err = closeEntity(found, top, units-top.offset, out[top.start:]); err != nil {
				return "", nil, err
			}
		}
		i = end
	}
	if len(stack) > 0 {
		return "", nil, &Error{Message: `Can't find end tag corresponding to start tag "` + stack[len(stack)-1].name + `"`, Offset: -1}
	}
	for k := range found {
		if found[k].kind == kindCode {
			found[k].arg = ""
		}
	}
	sortEntities(found)
	if surrogate {
		return "", nil, &Error{Message: "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units", Offset: -1}
	}
	entities = make([]Entity, len(found))
	for k, e := range found {
		entities[k] = e.public()
	}
	return string(out), entities, nil
}

// closeEntity adds the entity of the tag t, closed around length UTF-16
// units of text.
func closeEntity(found []entity, t open, length int, text []byte) ([]entity, error) {
	e := entity{offset: t.offset, length: length}
	last := func(k kind) bool {
		n := len(found)
		return n > 0 && found[n-1].kind == k && found[n-1].offset == e.offset && found[n-1].length == e.length
	}
	switch t.name {
	case "b", "strong":
		e.kind = kindBold
	case "i", "em":
		e.kind = kindItalic
	case "u", "ins":
		e.kind = kindUnderline
	case "s", "strike", "del":
		e.kind = kindStrikethrough
	case "tg-spoiler", "span":
		e.kind = kindSpoiler
	case "tg-emoji":
		id, err := strconv.ParseInt(t.arg, 10, 64)
		if err != nil || id == 0 || strconv.FormatInt(id, 10) != t.arg {
			return nil, &Error{Message: "Invalid custom emoji identifier specified", Offset: -1}
		}
		e.kind, e.arg = kindCustomEmoji, t.arg
	case "tg-time":
		flags, ok := dateFlags(t.arg)
		if !ok {
			return nil, &Error{Message: "Invalid date format used", Offset: -1}
		}
		if t.date <= 0 {
			return found, nil
		}
		e.kind, e.date, e.dateFlags = kindFormattedDate, t.date, flags
	case "a":
		url := t.arg
		if url == "" {
			url = string(text)
		}
		if id, ok := linkUserID(url); ok {
			e.kind, e.user = kindMentionName, id
			break
		}
		checked, err := CheckLink(url)
		if err != nil {
			return found, nil
		}
		e.kind, e.arg = kindTextURL, checked
	case "pre":
		if last(kindCode) && found[len(found)-1].arg != "" {
			found[len(found)-1].kind = kindPreCode
			return found, nil
		}
		e.kind = kindPre
	case "code":
		if last(kindPre) && t.arg != "" {
			found[len(found)-1].kind, found[len(found)-1].arg = kindPreCode, t.arg
			return found, nil
		}
		e.kind, e.arg = kindCode, t.arg
	case "blockquote":
		e.kind = kindBlockQuote
		if t.arg != "" {
			e.kind = kindExpandableBlockQuote
		}
	}
	return append(found, e), nil
}

// sortEntities puts entities in Telegram's order: by offset, the longer
// first, then by priority. Entities already in order keep it, as do those
// that compare equal.
func sortEntities(es []entity) {
	slices.SortStableFunc(es, func(a, b entity) int {
		if a.offset != b.offset {
			return a.offset - b.offset
		}
		if a.length != b.length {
			return b.length - a.length
		}
		return a.kind.priority() - b.kind.priority()
	})
}

// appendCode appends the code point as UTF-8, a surrogate as the three
// bytes it would take (which Parse refuses in the text).
func appendCode(b []byte, code rune) []byte {
	if code >= 0xd800 && code <= 0xdfff {
		return append(b, byte(0xe0|code>>12), byte(0x80|(code>>6)&0x3f), byte(0x80|code&0x3f))
	}
	return utf8.AppendRune(b, code)
}

// toInt32 reads a decimal number as tdlib's to_integer<int32> does: an
// optional "-", the digits up to the first other character, wrapped
// around 32 bits.
func toInt32(s string) int32 {
	neg := false
	if s != "" && s[0] == '-' {
		neg, s = true, s[1:]
	}
	var v uint32
	for i := 0; i < len(s) && isDigit(s[i]); i++ {
		v = v*10 + uint32(s[i]-'0')
	}
	if v > 1<<31-1 {
		v = ^v + 1
		neg = !neg
		if v > 1<<31-1 {
			return -1 << 31
		}
	}
	if neg {
		return -int32(v)
	}
	return int32(v)
}

// lower lowercases ASCII letters only, as tdlib does.
func lower(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r >= 'A' && r <= 'Z' }) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// isSpace is tdlib's: NUL counts as a space, form feed does not.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 || c == '\v'
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

func isHexDigit(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexValue(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}
