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
func Length(text string, perURL int) int {
	type span struct {
		start, end int
		repl       string
	}
	var spans []span
	for _, u := range urlSpans(text) {
		spans = append(spans, span{u[0], u[1], strings.Repeat("x", perURL)})
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
	return uniseg.GraphemeClusterCount(b.String())
}

// urlSpans returns the start and end of every URL in text.
func urlSpans(text string) [][2]int {
	var out [][2]int
	for _, m := range urlPattern.FindAllStringSubmatchIndex(text, -1) {
		// A domain ends before anything but a letter, digit or @.
		if r, _ := utf8.DecodeRuneInString(text[m[3]:]); m[4] == m[5] && (unicode.IsLetter(r) || unicode.IsDigit(r) || r == '@') {
			continue
		}
		out = append(out, [2]int{m[2], m[3]})
	}
	return out
}
