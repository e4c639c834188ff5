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
// A "&" that starts no character reference (which Telegram keeps as it is)
// is written &amp; in what it keeps, so that the cut cannot make one: the
// cut output passes CheckEscaped.
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
	// What is kept, with every "&" that starts no reference written
	// &amp;: cut short, "&lt" followed by a letter would become "<".
	at := 0
	for _, r := range runes[:k] {
		if r.amp {
			b.WriteString(s[at : r.end-1])
			b.WriteString("&amp;")
			at = r.end
		}
	}
	end := 0
	if k > 0 {
		end = runes[k-1].end
	}
	b.WriteString(s[at:end])
	open := openTags(s[:end])
	// The ellipsis goes after a custom emoji or a date it would join.
	outside := len(open)
	for i, tag := range open {
		if tag == "tg-emoji" || tag == "tg-time" {
			outside = i
			break
		}
	}
	for i := len(open) - 1; i >= 0; i-- {
		if i == outside-1 {
			b.WriteString(Ellipsis)
		}
		b.WriteString("</" + open[i] + ">")
	}
	if outside == 0 {
		b.WriteString(Ellipsis)
	}
	return b.String(), nil
}

// char is one character of the parsed text and where its source ends in
// the HTML; amp marks a "&" that starts no character reference.
type char struct {
	r   rune
	end int
	amp bool
}

// scan lists the characters of s (valid for Parse) with their positions.
func scan(s string) []char {
	src := source(s)
	var out []char
	for i := 0; i < len(s); {
		switch s[i] {
		case '&':
			if r, next := src.charRef(i); r != 0 {
				i = next
				out = append(out, char{r: r, end: i})
				continue
			}
			i++
			out = append(out, char{r: '&', end: i, amp: true})
		case '<':
			var end int
			if src.at(i+1) == '/' {
				_, end, _ = src.readEndTag(i)
			} else {
				_, end, _ = src.readStartTag(i)
			}
			i = end + 1
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
	src := source(s)
	var stack []string
	for i := 0; i < len(s); i++ {
		if s[i] != '<' {
			continue
		}
		if src.at(i+1) == '/' {
			_, end, _ := src.readEndTag(i)
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i = end
			continue
		}
		t, end, _ := src.readStartTag(i)
		stack = append(stack, t.name)
		i = end
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
