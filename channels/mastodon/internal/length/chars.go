package length

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mastodon's regular expressions are Ruby's, case-insensitive: a class
// such as [a-z] matches every rune that folds to one of its own (ſ is an s,
// the Kelvin sign K a k), and a literal such as "business" also matches
// runes whose full case folding spells part of it ("buſineß").

// anyFold reports whether r, or a rune of its simple case-folding orbit,
// satisfies in.
func anyFold(r rune, in func(rune) bool) bool {
	if in(r) {
		return true
	}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if in(f) {
			return true
		}
	}
	return false
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// isAlnumFold is [a-z0-9] case-insensitively: also ſ and K.
func isAlnumFold(r rune) bool { return anyFold(r, isASCIIAlnum) }

func isDigit(r rune) bool { return '0' <= r && r <= '9' }

// multiFolds are the runes whose full case folding is several ASCII
// letters: the only ones that can spell part of a protocol or a top-level
// domain.
var multiFolds = map[rune]string{
	'ß': "ss", 'ẞ': "ss", 'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "st", 'ﬆ': "st",
}

// matchFold matches lit, lower case, at text[i:] case-insensitively as
// Ruby does, and returns the end of the match or -1.
func matchFold(text string, i int, lit string) int {
	for lit != "" {
		if i >= len(text) {
			return -1
		}
		if c := text[i]; c < utf8.RuneSelf && lit[0] < utf8.RuneSelf {
			if l := lit[0]; c != l && !('a' <= l && l <= 'z' && c == l-'a'+'A') {
				return -1
			}
			i, lit = i+1, lit[1:]
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		l, lsize := utf8.DecodeRuneInString(lit)
		switch m := multiFolds[r]; {
		case r == l || anyFold(r, func(f rune) bool { return f == l }):
			lit = lit[lsize:]
		case m != "" && strings.HasPrefix(lit, m):
			lit = lit[len(m):]
		default:
			return -1
		}
		i += size
	}
	return i
}

// firstFolds returns the runes a literal matched at text[i:] may start
// with, lower case, for looking up candidates.
func firstFolds(text string, i int) []rune {
	r, _ := utf8.DecodeRuneInString(text[i:])
	out := []rune{unicode.ToLower(r)}
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		out = append(out, unicode.ToLower(f))
	}
	if m := multiFolds[r]; m != "" {
		out = append(out, rune(m[0]))
	}
	return out
}

// isSpace is twitter-text's list of spaces (U+180E included, as in Unicode
// before 6.3).
func isSpace(r rune) bool {
	switch {
	case 0x09 <= r && r <= 0x0D, r == 0x20, r == 0x85, r == 0xA0, r == 0x1680, r == 0x180E,
		0x2000 <= r && r <= 0x200A, r == 0x2028, r == 0x2029, r == 0x202F, r == 0x205F, r == 0x3000:
		return true
	}
	return false
}

func isDirectional(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || 0x202A <= r && r <= 0x202E || 0x2066 <= r && r <= 0x2069
}

func isInvalid(r rune) bool { return r == 0xFFFE || r == 0xFEFF || r == 0xFFFF }

// isDomainRune is twitter-text's valid domain character: anything but
// ASCII punctuation (the backslash is not, to it), spaces, control,
// directional and invalid characters.
func isDomainRune(r rune) bool {
	if r < 0x80 {
		return r > 0x20 && r != 0x7F && (isASCIIAlnum(r) || r == '\\')
	}
	return !isSpace(r) && !isDirectional(r) && !isInvalid(r)
}

// isLabelRune is a rune a label may hold: a domain rune, - or _.
func isLabelRune(r rune) bool { return isDomainRune(r) || r == '-' || r == '_' }

// isPrecedingRune reports whether a URL may follow r (twitter-text's
// valid_url_preceding_chars).
func isPrecedingRune(r rune) bool {
	return !isAlnumFold(r) && !strings.ContainsRune("@＠$#＃", r) && !isInvalid(r)
}

// isPathRune is Mastodon's valid_general_url_path_chars: anything but
// White_Space, <, >, parentheses and ?.
func isPathRune(r rune) bool {
	return !unicode.Is(unicode.White_Space, r) && !strings.ContainsRune("<>()?", r)
}

// isPathEndRune is Mastodon's valid_url_path_ending_chars, less its
// balanced parentheses.
func isPathEndRune(r rune) bool {
	return !unicode.Is(unicode.White_Space, r) && !strings.ContainsRune(`()?!*"'「」<>;:=,.$%[]~&|@`, r)
}

// isGemPathRune is twitter-text's own valid_general_url_path_chars, of
// which the balanced parentheses Mastodon's path ending characters take
// are made.
func isGemPathRune(r rune) bool {
	return anyFold(r, func(r rune) bool {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || strings.ContainsRune("!*';:=+,.$/%#[]_~&|@", r) ||
			unicode.Is(unicode.Cyrillic, r) || unicode.Is(unicode.Pd, r) || isLatinAccent(r)
	})
}

// isLatinAccent is twitter-text's list of Latin accented letters and
// marks.
func isLatinAccent(r rune) bool {
	switch {
	case 0xC0 <= r && r <= 0xD6, 0xD8 <= r && r <= 0xF6, 0xF8 <= r && r <= 0x24F,
		r == 0x253, r == 0x254, r == 0x256, r == 0x257, r == 0x259, r == 0x25B, r == 0x263, r == 0x268,
		r == 0x26F, r == 0x272, r == 0x289, r == 0x28B, r == 0x2BB,
		0x300 <= r && r <= 0x36F, 0x1E00 <= r && r <= 0x1EFF:
		return true
	}
	return false
}

// isUChar is Mastodon's UCHARS, the non-ASCII characters of a query.
func isUChar(r rune) bool {
	switch {
	case 0xA0 <= r && r <= 0xD7FF, 0xF900 <= r && r <= 0xFDCF, 0xFDF0 <= r && r <= 0xFFEF, 0xE000 <= r && r <= 0xF8FF:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		if r&0xFFFF > 0xFFFD {
			return false
		}
		return r < 0xE0000 || r >= 0xE1000
	}
	return false
}

// isQueryRune is Mastodon's valid_url_query_chars.
func isQueryRune(r rune) bool {
	if r < 0x80 {
		return isASCIIAlnum(r) || strings.ContainsRune("!?*'();:&=+$/%#[]-_.,~|@^", r)
	}
	return isUChar(r)
}

// isQueryEndRune is Mastodon's valid_url_query_ending_chars.
func isQueryEndRune(r rune) bool {
	if r < 0x80 {
		return isASCIIAlnum(r) || strings.ContainsRune("_&=#/-", r)
	}
	return isUChar(r)
}

// isWordRune is Ruby's [[:word:]]: Alphabetic, marks, decimal digits and
// connector punctuation.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// isUserRune is the user part of Account::USERNAME_RE, [a-z0-9_]
// case-insensitively.
func isUserRune(r rune) bool { return r == '_' || isAlnumFold(r) }

// isBlank reports whether s holds only White_Space, as Ruby's blank? does.
func isBlank(s string) bool {
	for _, r := range s {
		if !unicode.Is(unicode.White_Space, r) {
			return false
		}
	}
	return true
}

// runEnd returns the end of the run of runes satisfying in from text[i].
func runEnd(text string, i int, in func(rune) bool) int {
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		if !in(r) {
			break
		}
		i += size
	}
	return i
}
