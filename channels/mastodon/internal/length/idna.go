package length

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// toASCII checks a domain as libidn's ToASCII does without flags, which
// twitter-text's is_valid_domain calls, and returns it as punycode. The
// domain is split into labels at . 。 ． and ｡. A label that is not ASCII
// goes through nameprep (RFC 3491): the characters it maps to nothing are
// dropped; then it must hold no prohibited character, none that Unicode
// 3.2 had not assigned, and no right-to-left letter unless it starts and
// ends with one and holds no left-to-right one; it must not start with
// xn--, unless nameprep made it ASCII. Every label is 1 to 63 characters
// once encoded.
func toASCII(domain string) (string, bool) {
	labels := splitDots(domain)
	var b strings.Builder
	for i, label := range labels {
		if i > 0 {
			b.WriteByte('.')
		}
		if label == "" && i == len(labels)-1 && i > 0 {
			continue // a trailing dot
		}
		ascii := label
		if !isASCII(label) {
			prepped, ok := nameprep(label)
			if !ok {
				return "", false
			}
			ascii = prepped
			if !isASCII(prepped) {
				if len(prepped) >= 4 && strings.EqualFold(prepped[:4], "xn--") {
					return "", false
				}
				// Each rune takes a character at least once encoded.
				if utf8.RuneCountInString(prepped) > 63-4 {
					return "", false
				}
				ascii = "xn--" + punycode(prepped)
			}
		}
		if len(ascii) < 1 || len(ascii) > 63 {
			return "", false
		}
		b.WriteString(ascii)
	}
	return b.String(), true
}

// nameprep prepares label as RFC 3491 says: the characters mapped to
// nothing dropped, case folded (table B.2), normalised to NFKC; then it
// must hold no prohibited character, and no right-to-left letter unless
// it starts and ends with one and holds no left-to-right one. A character
// that Unicode 3.2 had not assigned refuses the label (libidn does not
// map it, so it is still there to refuse).
func nameprep(label string) (string, bool) {
	var b strings.Builder
	for _, r := range label {
		switch {
		case unicode.Is(nameprepDeleted, r):
		case unicode.Is(nameprepUnassigned, r):
			return "", false
		case nameprepFolding[r] != "":
			b.WriteString(nameprepFolding[r])
		default:
			b.WriteRune(r)
		}
	}
	s := norm.NFKC.String(b.String())
	rtl, ltr := false, false
	for _, r := range s {
		switch {
		case unicode.Is(nameprepProhibited, r):
			return "", false
		case unicode.Is(nameprepRandal, r):
			rtl = true
		case unicode.Is(nameprepL, r):
			ltr = true
		}
	}
	if rtl {
		first, _ := utf8.DecodeRuneInString(s)
		last, _ := utf8.DecodeLastRuneInString(s)
		if ltr || !unicode.Is(nameprepRandal, first) || !unicode.Is(nameprepRandal, last) {
			return "", false
		}
	}
	return s, true
}

func splitDots(s string) []string {
	var out []string
	start := 0
	for i, r := range s {
		if r == '.' || r == '。' || r == '．' || r == '｡' {
			out = append(out, s[start:i])
			start = i + utf8.RuneLen(r)
		}
	}
	return append(out, s[start:])
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// punycode encodes s (RFC 3492), its basic code points kept as written.
func punycode(s string) string {
	const (
		base, tmin, tmax = 36, 1, 26
		skew, damp       = 38, 700
		initialBias      = 72
		initialN         = 128
	)
	digit := func(d int) byte {
		if d < 26 {
			return byte('a' + d)
		}
		return byte('0' + d - 26)
	}
	adapt := func(delta, points int, first bool) int {
		if first {
			delta /= damp
		} else {
			delta /= 2
		}
		delta += delta / points
		k := 0
		for delta > ((base-tmin)*tmax)/2 {
			delta /= base - tmin
			k += base
		}
		return k + (base-tmin+1)*delta/(delta+skew)
	}
	runes := []rune(s)
	var out []byte
	for _, r := range runes {
		if r < 0x80 {
			out = append(out, byte(r))
		}
	}
	basic := len(out)
	handled := basic
	if basic > 0 {
		out = append(out, '-')
	}
	n, delta, bias := initialN, 0, initialBias
	for handled < len(runes) {
		m := int(^uint(0) >> 1)
		for _, r := range runes {
			if int(r) >= n && int(r) < m {
				m = int(r)
			}
		}
		delta += (m - n) * (handled + 1)
		n = m
		for _, r := range runes {
			if int(r) < n {
				delta++
			}
			if int(r) == n {
				q := delta
				for k := base; ; k += base {
					t := k - bias
					switch {
					case t < tmin:
						t = tmin
					case t > tmax:
						t = tmax
					}
					if q < t {
						break
					}
					out = append(out, digit(t+(q-t)%(base-t)))
					q = (q - t) / (base - t)
				}
				out = append(out, digit(q))
				bias = adapt(delta, handled+1, handled == basic)
				delta = 0
				handled++
			}
		}
		delta++
		n++
	}
	return string(out)
}
