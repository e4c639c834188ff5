package layout

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// CutSummary cuts s to at most n characters, as count counts them. It cuts
// at the last sentence end that fits, when the sentence kept is at least
// floor characters long: the text then ends with the sentence's own
// punctuation ("." "!" "?" "。", and a closing quote or bracket after
// it), with no ellipsis, for nothing is missing from it. Otherwise it cuts
// at a word, with an ellipsis, as Cut does. Like Cut, it never cuts
// inside a URL, a mention or a hashtag.
func (sx Syntax) CutSummary(s string, n, floor int, count func(string) int) string {
	if n <= 0 {
		return ""
	}
	if count(s) <= n {
		return s
	}
	if text := sx.cutAtSentence(boundedPrefix(s, n), n, count); text != "" && count(text) >= floor {
		return text
	}
	return sx.Cut(s, n, count)
}

// cutAtSentence returns the longest run of whole sentences at the start of
// s that counts at most n, or "" when even the first does not fit.
func (sx Syntax) cutAtSentence(s string, n int, count func(string) int) string {
	ends := sx.sentenceEnds(s)
	// Counts grow with the prefix, nearly (a URL counts the same however
	// long), so the search is binary and every candidate is checked.
	best := ""
	lo, hi := 0, len(ends)-1
	for lo <= hi {
		mid := (lo + hi) / 2
		if text := s[:ends[mid]]; count(text) <= n {
			best = text
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return best
}

// sentenceEnds returns the byte offsets, in order, just after the ends of
// the sentences of s (Unicode's sentence boundaries, less the spaces after
// them) that end with a sentence's closing punctuation and are not inside
// a URL, a mention or a hashtag. A line that ends without such punctuation
// (a heading, a list item) is not a sentence end.
func (sx Syntax) sentenceEnds(s string) []int {
	protected := sx.atomicSpans(s)
	inside := func(p int) bool {
		i := sort.Search(len(protected), func(i int) bool { return protected[i][1] > p })
		return i < len(protected) && protected[i][0] < p
	}
	var out []int
	pos, state, rest := 0, -1, s
	for len(rest) > 0 {
		var sentence string
		sentence, rest, state = uniseg.FirstSentenceInString(rest, state)
		pos += len(sentence)
		if pos >= len(s) {
			break // the whole text, not a cut
		}
		end := len(strings.TrimRightFunc(s[:pos], unicode.IsSpace))
		if endsSentence(s[:end]) && !inside(end) {
			out = append(out, end)
		}
	}
	return out
}

// endsSentence reports whether s ends with a sentence's closing
// punctuation, possibly followed by closing quotes and brackets.
func endsSentence(s string) bool {
	for s != "" {
		r, size := utf8.DecodeLastRuneInString(s)
		switch {
		case unicode.Is(unicode.Sentence_Terminal, r):
			return true
		case unicode.In(r, unicode.Pe, unicode.Pf) || r == '"' || r == '\'':
			s = s[:len(s)-size] // a closing quote or bracket: look before it
		default:
			return false
		}
	}
	return false
}
