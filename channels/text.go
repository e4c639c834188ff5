package channels

import (
	"strings"
	"unicode"
	"unicode/utf16"

	"github.com/rivo/uniseg"
)

// Ellipsis ends a text that was cut.
const Ellipsis = "…"

// LanguageCode reduces a language tag to its ISO 639 code, lower-case
// ("en-US" → "en", "pt_BR" → "pt"), or returns "" when it holds none.
func LanguageCode(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	if len(tag) < 2 || len(tag) > 3 || strings.ContainsFunc(tag, func(r rune) bool { return r < 'a' || r > 'z' }) {
		return ""
	}
	return tag
}

// Graphemes counts user-perceived characters, as Mastodon counts them.
func Graphemes(s string) int { return uniseg.GraphemeClusterCount(s) }

// UTF16Len counts UTF-16 code units, as Telegram counts them.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// CutAtWord returns s when length(s) <= limit; otherwise the longest prefix
// of s that ends at a word boundary, followed by Ellipsis, whose length is
// within limit. A single word longer than limit is cut between grapheme
// clusters. It returns "" when not even the ellipsis fits.
func CutAtWord(s string, limit int, length func(string) int) string {
	if length(s) <= limit {
		return s
	}
	if length(Ellipsis) > limit {
		return ""
	}
	// Grapheme boundaries, so nothing is cut inside a cluster.
	var bounds []int
	g := uniseg.NewGraphemes(s)
	for g.Next() {
		_, end := g.Positions()
		bounds = append(bounds, end)
	}
	fits := func(end int) bool { return length(trimCut(s[:end])+Ellipsis) <= limit }
	// Largest grapheme boundary that fits (lengths grow with the prefix).
	lo, hi := 0, len(bounds)-1
	best := -1
	for lo <= hi {
		mid := (lo + hi) / 2
		if fits(bounds[mid]) {
			best = mid
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	if best < 0 {
		return Ellipsis
	}
	cut := bounds[best]
	// Step back to the last space, unless the first word alone overflows.
	if cut < len(s) && !startsWithSpace(s[cut:]) {
		if i := strings.LastIndexFunc(s[:cut], unicode.IsSpace); i > 0 {
			cut = i
		}
	}
	return trimCut(s[:cut]) + Ellipsis
}

func startsWithSpace(s string) bool {
	for _, r := range s {
		return unicode.IsSpace(r)
	}
	return false
}

// trimCut drops trailing spaces and punctuation that would sit badly
// before an ellipsis ("word, …").
func trimCut(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",;:-–—([{", r)
	})
}
