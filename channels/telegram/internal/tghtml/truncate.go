package tghtml

import (
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Ellipsis ends a text that was cut.
const Ellipsis = "…"

// Length returns the length of s as Telegram counts it: UTF-16 code units
// of the text after entity parsing. s must be text Parse accepts.
func Length(s string) (int, error) {
	plain, _, err := Parse(s)
	if err != nil {
		return 0, err
	}
	return utf16Len(plain), nil
}

// Truncate cuts s, text that Parse accepts, so that its parsed text is at
// most limit UTF-16 code units, Ellipsis included. It returns s when it
// fits. Otherwise it cuts after the last whole word that fits (dropping
// trailing spaces and punctuation such as ",;:"), never inside a tag, a
// character reference or a character, and never inside a word that is a
// URL; it adds Ellipsis and closes every tag still open. Only when the
// first word alone is too long is it cut between grapheme clusters (a URL
// is then left out whole). It returns "" when not even the ellipsis fits.
func Truncate(s string, limit int) (string, error) {
	plain, _, err := Parse(s)
	if err != nil {
		return "", err
	}
	if utf16Len(plain) <= limit {
		return s, nil
	}
	budget := limit - utf16Len(Ellipsis)
	if budget < 0 {
		return "", nil
	}
	runes := scan(s)
	// units[k] is the length of the first k characters.
	units := make([]int, len(runes)+1)
	for i, r := range runes {
		units[i+1] = units[i] + utf16.RuneLen(r.r)
	}
	// The longest prefix within budget.
	fit := 0
	for fit < len(runes) && units[fit+1] <= budget {
		fit++
	}
	k := wordCut(runes, fit)
	if k == 0 {
		k = graphemeCut(runes, fit)
	}
	k = trimCut(runes, k)
	var b strings.Builder
	end := 0
	if k > 0 {
		end = runes[k-1].end
	}
	b.WriteString(s[:end])
	b.WriteString(Ellipsis)
	open := openTags(s[:end])
	for i := len(open) - 1; i >= 0; i-- {
		b.WriteString("</" + open[i] + ">")
	}
	return b.String(), nil
}

// char is one character of the parsed text and where its source ends in
// the HTML.
type char struct {
	r   rune
	end int
}

// scan lists the characters of s (valid for Parse) with their positions.
func scan(s string) []char {
	var out []char
	for i := 0; i < len(s); {
		switch s[i] {
		case '&':
			r, n, _ := charRef(s[i:])
			i += n
			out = append(out, char{r: r, end: i})
		case '<':
			var next int
			if i+1 < len(s) && s[i+1] == '/' {
				_, next, _ = endTag(s, i)
			} else {
				_, next, _ = startTag(s, i)
			}
			i = next
		default:
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			out = append(out, char{r: r, end: i})
		}
	}
	return out
}

// openTags returns the tags open at the end of s, outermost first.
func openTags(s string) []string {
	var stack []string
	for i := 0; i < len(s); {
		if s[i] != '<' {
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '/' {
			_, next, _ := endTag(s, i)
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i = next
			continue
		}
		t, next, _ := startTag(s, i)
		stack = append(stack, t.name)
		i = next
	}
	return stack
}

// wordCut returns the largest k <= fit such that the first k characters
// end a word: the next character is a space (or there is none), and the
// word is not left empty. It returns 0 when there is none.
func wordCut(runes []char, fit int) int {
	for k := fit; k > 0; k-- {
		if unicode.IsSpace(runes[k-1].r) {
			continue
		}
		if k == len(runes) || unicode.IsSpace(runes[k].r) {
			return k
		}
	}
	return 0
}

// graphemeCut cuts the first word between grapheme clusters, to at most
// fit characters, unless it is a URL. It returns 0 when nothing fits.
func graphemeCut(runes []char, fit int) int {
	first := 0
	for first < len(runes) && unicode.IsSpace(runes[first].r) {
		first++
	}
	if fit <= first {
		return 0
	}
	last := first
	for last < len(runes) && !unicode.IsSpace(runes[last].r) {
		last++
	}
	word := make([]rune, 0, last-first)
	for _, c := range runes[first:last] {
		word = append(word, c.r)
	}
	if isURLWord(string(word)) {
		return 0
	}
	// A boundary depends on what precedes it and on the next character
	// only: one character past the cut is enough to find it.
	text := string(word[:min(fit-first+1, len(word))])
	best, n := 0, 0
	state := -1
	for rest := text; rest != ""; {
		var cluster string
		cluster, rest, _, state = uniseg.FirstGraphemeClusterInString(rest, state)
		n += utf8.RuneCountInString(cluster)
		if n > fit-first {
			break
		}
		best = n
	}
	if best == 0 {
		return 0
	}
	return first + best
}

// trimCut drops trailing spaces and punctuation that sit badly before an
// ellipsis ("word, …").
func trimCut(runes []char, k int) int {
	for k > 0 && (unicode.IsSpace(runes[k-1].r) || strings.ContainsRune(".,;:-–—([{«“‘¿¡", runes[k-1].r)) {
		k--
	}
	return k
}

// isURLWord reports whether a word holds a URL, which must not be cut.
func isURLWord(w string) bool {
	w = strings.ToLower(strings.TrimLeft(w, "\"'([{«“‘¿¡<"))
	return strings.Contains(w, "://") || strings.HasPrefix(w, "www.")
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
