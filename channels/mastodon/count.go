package mastodon

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/syndicate-daemon/syndicate/channels"
)

// Length counts text the way Mastodon checks a status against its limit,
// with the default 23 characters per URL.
func Length(text string) int { return countChars(text, DefaultCharactersPerURL) }

// countChars counts grapheme clusters after Mastodon's rewriting: every
// http(s) URL becomes perURL characters (or stays as written when perURL
// is negative) and a remote mention @user@domain becomes @user. One
// approximation: Mastodon knows the list of top-level domains, this takes
// any of letters for one, so a long URL on a made-up domain counts 23 here
// and in full there.
func countChars(text string, perURL int) int {
	return channels.Graphemes(countable(text, perURL))
}

// countStatus counts a status as Mastodon checks it against its limit:
// the content warning as written, then the text rewritten as countChars
// does, in one string.
func countStatus(spoiler, text string, perURL int) int {
	return channels.Graphemes(spoiler + countable(text, perURL))
}

// countable rewrites text as Mastodon does before counting it.
func countable(text string, perURL int) string {
	if !strings.Contains(text, "://") && !strings.Contains(text, "@") {
		return text
	}
	var b strings.Builder
	pos := 0
	for _, e := range entities(text) {
		b.WriteString(text[pos:e.start])
		switch {
		case !e.url:
			b.WriteString(text[e.start:e.userEnd])
		case perURL < 0:
			b.WriteString(text[e.start:e.end])
		default:
			b.WriteString(strings.Repeat("x", perURL))
		}
		pos = e.end
	}
	b.WriteString(text[pos:])
	return b.String()
}

// entity is a URL or a remote mention, as byte offsets into the text. For a
// mention, text[start:userEnd] is the "@user" part that counts.
type entity struct {
	start, end, userEnd int
	url                 bool
}

// entities returns the URLs and remote mentions of text in order; a
// mention inside a URL is part of the URL.
func entities(text string) []entity {
	urls := findURLs(text)
	var out []entity
	i := 0
	for _, m := range findMentions(text) {
		for i < len(urls) && urls[i].end <= m.start {
			out = append(out, urls[i])
			i++
		}
		if i < len(urls) && urls[i].start < m.end {
			continue // overlaps a URL
		}
		out = append(out, m)
	}
	return append(out, urls[i:]...)
}

// findURLs finds http:// and https:// URLs as Mastodon's extractor does
// (twitter-text rules, simplified: any top-level domain of letters is
// taken for a real one).
func findURLs(text string) []entity {
	var out []entity
	from, prevEnd := 0, 0
	for {
		k := strings.Index(text[from:], "://")
		if k < 0 {
			return out
		}
		sep := from + k
		from = sep + 3
		start := -1
		switch {
		case sep >= 5 && strings.EqualFold(text[sep-5:sep], "https"):
			start = sep - 5
		case sep >= 4 && strings.EqualFold(text[sep-4:sep], "http"):
			start = sep - 4
		}
		if start < prevEnd { // no scheme, or inside the previous URL
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(text[:start]); start > 0 && !urlMayFollow(r) {
			continue
		}
		end := domainEnd(text, from)
		if end == from {
			continue
		}
		if port := scanTrimmed(text, end+1, func(r rune) bool { return '0' <= r && r <= '9' }, func(rune) bool { return false }); end < len(text) && text[end] == ':' && port > end+1 {
			end = port
		}
		if end < len(text) && strings.IndexByte("/?#", text[end]) >= 0 {
			end = scanTrimmed(text, end, isURLRune, func(r rune) bool { return !isURLEndRune(r) })
		}
		out = append(out, entity{start: start, end: end, url: true})
		from, prevEnd = end, end
	}
}

// domainEndsAt reports whether a domain may end at text[i]: not before a
// letter, digit or @.
func domainEndsAt(text string, i int) bool {
	r, _ := utf8.DecodeRuneInString(text[i:])
	return i == len(text) || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '@')
}

// urlMayFollow reports whether a URL may start right after r.
func urlMayFollow(r rune) bool {
	if r < utf8.RuneSelf && (isASCIIAlnum(r) || strings.ContainsRune("@$#", r)) {
		return false
	}
	return r != '＠' && r != '＃'
}

func isASCIIAlnum(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
}

// isLatinOrCyrillicLetter covers the accented letters twitter-text allows
// in a URL path.
func isLatinOrCyrillicLetter(r rune) bool {
	return (0xC0 <= r && r <= 0x24F && r != 0xD7 && r != 0xF7) || (0x400 <= r && r <= 0x4FF)
}

func isURLRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r) || strings.ContainsRune("!*';:=+,.$/%#[]-_~&|@()?", r)
	}
	return isLatinOrCyrillicLetter(r) || r == '–'
}

// isURLEndRune: a URL never ends with punctuation such as . , ) ? !
func isURLEndRune(r rune) bool {
	if r < utf8.RuneSelf {
		return isASCIIAlnum(r) || strings.ContainsRune("=_#/-+&", r)
	}
	return isLatinOrCyrillicLetter(r)
}

// domainEnd returns the end of the longest domain starting at text[from],
// or from when there is none. Like twitter-text's regular expression, which
// backtracks, it may stop before a dot, hyphen or underscore: a domain is
// labels of letters, digits, - and _, at least two, the last (the
// top-level domain) of letters or punycode, and it ends before anything
// but a letter, digit or @ ("https://a.org.0" is a URL and ".0", so is
// "https://a.org-0"). IP addresses and bare names are not URLs to Mastodon.
func domainEnd(text string, from int) int {
	best := from
	lastDot, labelStart := -1, from
	emptyLabel := false // no longer domain can be valid
	tldLetters, tldRunes := true, 0
	for i := from; ; {
		r, size := utf8.DecodeRuneInString(text[i:])
		inHost := i < len(text) && (isWordRune(r) || r == '-' || r == '.')
		if (!inHost || r == '.' || r == '-' || r == '_') && lastDot >= 0 && !emptyLabel && domainEndsAt(text, i) {
			tld := text[lastDot+1 : i]
			if (tldLetters && tldRunes >= 2) || (len(tld) > 4 && strings.EqualFold(tld[:4], "xn--")) {
				best = i
			}
		}
		if !inHost {
			return best
		}
		if r == '.' {
			emptyLabel = emptyLabel || i == labelStart
			lastDot, labelStart = i, i+1
			tldLetters, tldRunes = true, 0
		} else {
			tldLetters = tldLetters && unicode.IsLetter(r)
			tldRunes++
		}
		i += size
	}
}

// findMentions finds remote mentions (@user@domain); a local @user counts
// as written, so it is not an entity here.
func findMentions(text string) []entity {
	var out []entity
	for i := 0; i < len(text); i++ {
		if text[i] != '@' {
			continue
		}
		if r, _ := utf8.DecodeLastRuneInString(text[:i]); i > 0 && (r == '=' || r == '/' || isWordRune(r)) {
			continue
		}
		userEnd := scanTrimmed(text, i+1, func(r rune) bool { return r < utf8.RuneSelf && (isASCIIAlnum(r) || r == '_' || r == '.' || r == '-') },
			func(r rune) bool { return r == '.' || r == '-' })
		if userEnd == i+1 || text[i+1] == '.' || text[i+1] == '-' {
			continue
		}
		if userEnd >= len(text) || text[userEnd] != '@' {
			i = userEnd - 1
			continue
		}
		end := scanTrimmed(text, userEnd+1, func(r rune) bool { return isWordRune(r) || r == '.' || r == '-' },
			func(r rune) bool { return r == '.' || r == '-' })
		if utf8.RuneCountInString(text[userEnd+1:end]) < 2 {
			i = userEnd - 1
			continue
		}
		out = append(out, entity{start: i, end: end, userEnd: userEnd})
		i = end - 1
	}
	return out
}

// scanTrimmed returns the end of the longest run of in-runes from start,
// less any trailing trim-runes.
func scanTrimmed(text string, start int, in, trim func(rune) bool) int {
	end := start
	for end < len(text) {
		r, size := utf8.DecodeRuneInString(text[end:])
		if !in(r) {
			break
		}
		end += size
	}
	for end > start {
		r, size := utf8.DecodeLastRuneInString(text[:end])
		if !trim(r) {
			break
		}
		end -= size
	}
	return end
}

// isWordRune is Ruby's [[:word:]]: letters, marks, numbers, connectors.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.Is(unicode.Pc, r)
}
