package mastodontest

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// The fake counts with regular expressions modelled on Mastodon's own
// (twitter-text URLs with a protocol, Account::MENTION_RE), independently
// of the channel's counter, so the two check each other.
var (
	urlPattern = regexp.MustCompile(`(?i)(?:^|[^a-z0-9@$#＠＃])(https?://` +
		`(?:[\p{L}\p{M}\p{N}_-]+\.)+(?:\p{L}{2,}|xn--[a-z0-9-]+)(?::[0-9]+)?` + // domain, port
		`((?:[/?#]` + urlChars + `*` + urlEnd + `|[/#])?))`) // path and query, never ending in punctuation
	urlChars       = `[a-z0-9!*';:=+,.$/%#\[\]_~&|@()?\x{00C0}-\x{00D6}\x{00D8}-\x{00F6}\x{00F8}-\x{024F}\x{0400}-\x{04FF}\x{2013}-]`
	urlEnd         = `[a-z0-9=_#/+&\x{00C0}-\x{00D6}\x{00D8}-\x{00F6}\x{00F8}-\x{024F}\x{0400}-\x{04FF}-]`
	mentionPattern = regexp.MustCompile(`(?i)(?:^|[^=/\p{L}\p{M}\p{N}\p{Pc}])` +
		`(@[a-z0-9_]+(?:[a-z0-9_.-]*[a-z0-9_])?)(@[\p{L}\p{M}\p{N}\p{Pc}.-]+[\p{L}\p{M}\p{N}\p{Pc}])`)
)

// Length counts a status as Mastodon does before refusing it: grapheme
// clusters, every http(s) URL as perURL characters, @user@domain as @user.
// A negative perURL counts URLs as written, as some servers do.
func Length(text string, perURL int) int {
	return uniseg.GraphemeClusterCount(countable(text, perURL))
}

// StatusLength counts a status with its content warning: Mastodon counts
// the warning as written, followed by the text rewritten as Length does.
func StatusLength(spoiler, text string, perURL int) int {
	return uniseg.GraphemeClusterCount(spoiler + countable(text, perURL))
}

// countable rewrites text as Mastodon does before counting it.
func countable(text string, perURL int) string {
	type span struct {
		start, end int
		repl       string
	}
	var spans []span
	for _, u := range urlSpans(text) {
		repl := text[u[0]:u[1]]
		if perURL >= 0 {
			repl = strings.Repeat("x", perURL)
		}
		spans = append(spans, span{u[0], u[1], repl})
	}
	inURL := func(i int) bool {
		for _, s := range spans {
			if s.start <= i && i < s.end {
				return true
			}
		}
		return false
	}
	var mentions []span
	for _, m := range mentionPattern.FindAllStringSubmatchIndex(text, -1) {
		if !inURL(m[2]) && !inURL(m[5]-1) {
			mentions = append(mentions, span{m[2], m[5], text[m[2]:m[3]]})
		}
	}
	spans = append(spans, mentions...)
	var b strings.Builder
	pos := 0
	for pos < len(text) {
		next := -1
		for i, s := range spans {
			if s.start >= pos && (next < 0 || s.start < spans[next].start) {
				next = i
			}
		}
		if next < 0 {
			break
		}
		b.WriteString(text[pos:spans[next].start])
		b.WriteString(spans[next].repl)
		pos = spans[next].end
	}
	if pos < len(text) {
		b.WriteString(text[pos:])
	}
	return b.String()
}

// urlSpans returns the start and end of every URL in text.
func urlSpans(text string) [][2]int {
	var out [][2]int
	for _, m := range urlPattern.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[2], m[3]
		// A domain ends before anything but a letter, digit or @. Mastodon's
		// regular expression then backtracks to a shorter domain, one that
		// ends before a dot, hyphen or underscore; Go's does not.
		if r, _ := utf8.DecodeRuneInString(text[end:]); m[4] == m[5] && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '@') {
			end = shorterDomain(text, start, end)
			if end < 0 {
				continue
			}
		}
		out = append(out, [2]int{start, end})
	}
	return out
}

// domainOnly is a URL that is only a scheme and a domain.
var domainOnly = regexp.MustCompile(`(?i)^https?://(?:[\p{L}\p{M}\p{N}_-]+\.)+(?:\p{L}{2,}|xn--[a-z0-9-]+)$`)

// shorterDomain returns the end of the longest URL text[start:e], e < end,
// that is a scheme and a domain followed by a dot, hyphen or underscore,
// or -1.
func shorterDomain(text string, start, end int) int {
	for e := end - 1; e > start; e-- {
		if strings.IndexByte(".-_", text[e]) >= 0 && domainOnly.MatchString(text[start:e]) {
			return e
		}
	}
	return -1
}
