package layout

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-daemon/syndicate/channels"
)

// Syntax is how a platform finds what of a text it turns into links, which
// a cut must never go through.
type Syntax struct {
	// Entities returns the spans (byte offsets) of the URLs and mentions
	// the platform links in a text, in order.
	Entities func(text string) [][2]int
	// URLs returns the spans of the URLs alone.
	URLs func(text string) [][2]int
}

// Cut cuts s to at most n characters, as count counts them, with an
// ellipsis. It cuts only at a word boundary (Unicode's, so a text without
// spaces, such as Japanese, is cut between its words), never inside a URL,
// a mention or a hashtag, never glues the ellipsis to a URL (a space comes
// between them), and returns "" rather than a lone ellipsis.
func (sx Syntax) Cut(s string, n int, count func(string) int) string {
	if n <= 0 {
		return ""
	}
	s = boundedPrefix(s, n)
	if count(s) <= n {
		return s
	}
	cuts := sx.cutPoints(s)
	// Largest cut whose text fits: lengths grow with the prefix, nearly
	// (a URL counts the same however long), so the search is binary and
	// every candidate is checked.
	best := ""
	lo, hi := 0, len(cuts)-1
	for lo <= hi {
		mid := (lo + hi) / 2
		text := trimCut(s[:cuts[mid]])
		if text == "" {
			lo = mid + 1
			continue
		}
		if t := sx.withEllipsis(text); count(t) <= n {
			best = t
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return best
}

// withEllipsis ends a cut text with an ellipsis, after a space when the
// ellipsis would otherwise become part of a URL: Mastodon, for one, takes
// "…" for a character of a path or a query, so
// "https://example.org/statement…" would link to a page that does not exist.
func (sx Syntax) withEllipsis(text string) string {
	t := text + channels.Ellipsis
	for _, u := range sx.URLs(t) {
		if u[1] > len(text) {
			return text + " " + channels.Ellipsis
		}
	}
	return t
}

// boundedPrefix returns a prefix of s that a cut to n characters never
// goes beyond: once the characters that surely count (those of words that
// are neither URLs nor mentions, less trailing punctuation a cut would
// drop) exceed n, nothing further can fit. It spares counting a huge text
// again and again.
func boundedPrefix(s string, n int) string {
	sure := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			i += size
			continue
		}
		end := i + strings.IndexFunc(s[i:], unicode.IsSpace)
		if end < i {
			end = len(s)
		}
		word := s[i:end]
		if strings.Contains(word, "://") || strings.Contains(word, "@") {
			sure++ // a URL or a mention counts at least 1
		} else {
			g := uniseg.NewGraphemes(word)
			for g.Next() {
				if !isCutTrimmed(g.Str()) {
					sure++
				}
				if sure > n+1 {
					_, to := g.Positions()
					return s[:i+to]
				}
			}
		}
		if sure > n+1 {
			return s[:end]
		}
		i = end
	}
	return s
}

// cutPoints returns the byte offsets where s may be cut, in order: word
// boundaries (Unicode's) strictly inside s that are not inside a URL, a
// mention, a hashtag or a word holding "://".
func (sx Syntax) cutPoints(s string) []int {
	protected := sx.atomicSpans(s)
	inside := func(p int) bool {
		i := sort.Search(len(protected), func(i int) bool { return protected[i][1] > p })
		return i < len(protected) && protected[i][0] < p
	}
	var out []int
	pos, state, rest := 0, -1, s
	for len(rest) > 0 {
		var word string
		word, rest, state = uniseg.FirstWordInString(rest, state)
		pos += len(word)
		if pos < len(s) && !inside(pos) {
			out = append(out, pos)
		}
	}
	return out
}

// atomicSpans returns the spans of s that must never be cut, sorted and
// without overlaps: URLs, mentions, hashtags, and whole words holding
// "://" (in case a URL is recognised differently elsewhere).
func (sx Syntax) atomicSpans(s string) [][2]int {
	var spans [][2]int
	spans = append(spans, sx.Entities(s)...)
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '@', '#':
			end := i + 1
			for end < len(s) {
				r, size := utf8.DecodeRuneInString(s[end:])
				if !channels.IsHashtagRune(r) && r != '.' && r != '-' {
					break
				}
				end += size
			}
			if end > i+1 {
				spans = append(spans, [2]int{i, end})
			}
		case ':':
			if strings.HasPrefix(s[i:], "://") {
				start := 0
				if k := strings.LastIndexFunc(s[:i], unicode.IsSpace); k >= 0 {
					_, size := utf8.DecodeRuneInString(s[k:])
					start = k + size
				}
				end := len(s)
				if k := strings.IndexFunc(s[i:], unicode.IsSpace); k >= 0 {
					end = i + k
				}
				spans = append(spans, [2]int{start, end})
			}
		}
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i][0] < spans[j][0] })
	merged := spans[:0]
	for _, sp := range spans {
		if n := len(merged); n > 0 && sp[0] < merged[n-1][1] {
			merged[n-1][1] = max(merged[n-1][1], sp[1])
			continue
		}
		merged = append(merged, sp)
	}
	return merged
}

// cutTrimmed are the characters dropped from the end of a cut text, so it
// does not end "word, …".
const cutTrimmed = ",;:-–—([{"

// trimCut drops trailing spaces and punctuation that would sit badly
// before an ellipsis.
func trimCut(s string) string {
	return strings.TrimRightFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(cutTrimmed, r)
	})
}

// isCutTrimmed reports whether trimCut may drop all of a grapheme cluster.
func isCutTrimmed(g string) bool { return trimCut(g) == "" }
