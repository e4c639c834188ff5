package length

//go:generate go run gen_tlds.go

import (
	"strings"
	"unicode/utf8"
)

// The URLs Mastodon counts 23 characters each are those twitter-text's
// extract_urls_with_indices finds with a protocol, its valid_url partly
// replaced by Mastodon's (config/initializers/twitter_regex.rb):
//
//	preceding character, or the start of a line
//	protocol  https? dat dweb ipfs ipns ssb gopher gemini, then ://
//	domain    labels and a known top-level domain
//	port      :digits
//	path      / then path characters, ending as Mastodon says
//	query     ? then query characters, ending with a query ending one
//
// The extractor scans the text as a regular expression would, leftmost
// first: a domain without a protocol is matched too, and skipped, so that
// what it holds ("example.org/https://…") is no URL either. A URL is
// dropped when its domain is not valid for IDNA, when it is over 4,096
// characters, and when it is a t.co link with a slug over 40; a t.co link
// ends with its slug.

const (
	maxURLLength     = 4096
	maxTcoSlugLength = 40
)

// protocols are Mastodon's, in the order its regular expression tries them.
var protocols = []string{"https", "http", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "gemini"}

type tld struct {
	name  string
	order int
}

// tldsByFirst indexes the top-level domains by their first rune, each list
// in the order the regular expression tries them.
var tldsByFirst = func() map[rune][]tld {
	m := make(map[rune][]tld)
	for i, name := range append(append([]string(nil), genericTLDs...), countryTLDs...) {
		r, _ := utf8.DecodeRuneInString(name)
		m[r] = append(m[r], tld{name, i})
	}
	return m
}()

// urlScanner finds the URLs of one text, remembering what it learnt about
// its labels so that a long text is scanned in linear time.
type urlScanner struct {
	text   string
	labels []int       // 1 + the end of the run of label runes from each byte, 0 when not known yet
	chains map[int]int // start of a label after a dot → its chain
	tlds   map[int]int // start of a top-level domain → its end
}

// URLs returns the URLs of text that Mastodon counts as 23 characters, in
// order.
func URLs(text string) []Entity {
	if !strings.Contains(text, "://") {
		return nil
	}
	s := &urlScanner{text: text, labels: make([]int, len(text)+1), chains: map[int]int{}, tlds: map[int]int{}}
	var out []Entity
	for pos := 0; pos < len(text); {
		start, end, protocol, domStart, domEnd, ok := s.next(pos)
		if !ok {
			break
		}
		pos = end
		if !protocol {
			continue
		}
		if end, ok = s.tco(start, end); !ok || !validLength(text[start:end], text[domStart:domEnd]) {
			continue
		}
		out = append(out, Entity{Start: start, End: end, URL: true})
	}
	return out
}

// next finds the leftmost match of valid_url at or after pos and returns
// the URL's span (without the preceding character), whether it has a
// protocol, and its domain's span.
func (s *urlScanner) next(pos int) (start, end int, protocol bool, domStart, domEnd int, ok bool) {
	text := s.text
	for p := pos; p < len(text); {
		r, size := utf8.DecodeRuneInString(text[p:])
		if isPrecedingRune(r) {
			if end, protocol, ds, de, ok := s.url(p + size); ok {
				return p + size, end, protocol, ds, de, true
			}
		}
		// Or ^: the start of the text. (After a newline, the newline is a
		// preceding character, tried first; a match never ends with one.)
		if p == 0 {
			if end, protocol, ds, de, ok := s.url(0); ok {
				return 0, end, protocol, ds, de, true
			}
		}
		p += size
	}
	return 0, 0, false, 0, 0, false
}

// url matches a URL at text[u:]: a protocol and a domain, or else a domain
// alone, then a port, a path and a query.
func (s *urlScanner) url(u int) (end int, protocol bool, domStart, domEnd int, ok bool) {
	if u >= len(s.text) {
		return 0, false, 0, 0, false
	}
	if r, _ := utf8.DecodeRuneInString(s.text[u:]); !isDomainRune(r) {
		return 0, false, 0, 0, false
	}
	for _, p := range protocols {
		if e := matchFold(s.text, u, p); e >= 0 && strings.HasPrefix(s.text[e:], "://") {
			if de := s.domain(e + 3); de >= 0 {
				return s.rest(de), true, e + 3, de, true
			}
			break // one protocol at most can match here
		}
	}
	if de := s.domain(u); de >= 0 {
		return s.rest(de), false, u, de, true
	}
	return 0, false, 0, 0, false
}

// rest matches the optional port, path and query after a domain.
func (s *urlScanner) rest(i int) int {
	text := s.text
	if i+1 < len(text) && text[i] == ':' && isDigit(rune(text[i+1])) {
		i = runEnd(text, i+1, isDigit)
	}
	if i < len(text) && text[i] == '/' {
		i = s.path(i + 1)
	}
	if i < len(text) && text[i] == '?' {
		if q := query(text, i+1); q >= 0 {
			i = q
		}
	}
	return i
}

// labelEnd returns the end of the run of label runes from i.
func (s *urlScanner) labelEnd(i int) int {
	if e := s.labels[i]; e > 0 {
		return e - 1
	}
	e := runEnd(s.text, i, isLabelRune)
	for j := i; j < e; j++ {
		s.labels[j] = e + 1
	}
	s.labels[e] = e + 1
	return e
}

// subdomainLabel reports whether text[i:e] is a label of valid_subdomain:
// not empty, starting and ending with a domain rune. A label of
// valid_domain_name is one too, without _.
func (s *urlScanner) subdomainLabel(i, e int) bool {
	if e <= i {
		return false
	}
	first, _ := utf8.DecodeRuneInString(s.text[i:e])
	last, _ := utf8.DecodeLastRuneInString(s.text[i:e])
	return isDomainRune(first) && isDomainRune(last)
}

func (s *urlScanner) nameLabel(i, e int) bool {
	return s.subdomainLabel(i, e) && !strings.Contains(s.text[i:e], "_")
}

// domain matches valid_domain at text[i:], subdomains, a domain name and a
// top-level domain, and returns its end or -1. The regular expression
// takes as many subdomains as there are labels followed by a dot, then
// gives them back one by one until a domain name and a top-level domain
// follow: the domain found is the longest such.
func (s *urlScanner) domain(i int) int {
	e := s.labelEnd(i)
	if !s.subdomainLabel(i, e) || e >= len(s.text) || s.text[e] != '.' {
		return -1
	}
	if end := s.chain(e + 1); end >= 0 {
		return end
	}
	if s.nameLabel(i, e) {
		return s.tld(e + 1)
	}
	return -1
}

// chain returns the end of the longest domain whose domain name is one of
// the labels from i on, all followed by a dot, or -1.
func (s *urlScanner) chain(i int) int {
	var starts []int
	end := -1
	for {
		if v, ok := s.chains[i]; ok {
			end = v
			break
		}
		e := s.labelEnd(i)
		if !s.subdomainLabel(i, e) || e >= len(s.text) || s.text[e] != '.' {
			s.chains[i] = -1
			break
		}
		starts = append(starts, i)
		i = e + 1
	}
	for k := len(starts) - 1; k >= 0; k-- {
		st := starts[k]
		if end < 0 {
			if e := s.labelEnd(st); s.nameLabel(st, e) {
				end = s.tld(e + 1)
			}
		}
		s.chains[st] = end
	}
	return end
}

// tld matches a top-level domain at text[i:]: the first of twitter-text's
// list that matches and is not followed by a letter, a digit, @, + or -,
// or else a punycode one (xn-- and letters or digits, no lookahead).
func (s *urlScanner) tld(i int) int {
	if e, ok := s.tlds[i]; ok {
		return e
	}
	e := s.matchTLD(i)
	s.tlds[i] = e
	return e
}

func (s *urlScanner) matchTLD(i int) int {
	text := s.text
	if i >= len(text) {
		return -1
	}
	best, bestOrder := -1, -1
	for _, f := range firstFolds(text, i) {
		for _, t := range tldsByFirst[f] {
			if bestOrder >= 0 && t.order >= bestOrder {
				break
			}
			e := matchFold(text, i, t.name)
			if e < 0 {
				continue
			}
			if r, _ := utf8.DecodeRuneInString(text[e:]); e < len(text) && (isAlnumFold(r) || r == '@' || r == '+' || r == '-') {
				continue
			}
			best, bestOrder = e, t.order
			break
		}
	}
	if best >= 0 {
		return best
	}
	if e := matchFold(text, i, "xn--"); e >= 0 {
		if end := runEnd(text, e, isAlnumFold); end > e {
			return end
		}
	}
	return -1
}

// path matches Mastodon's (/ valid_url_path*) from just after the slash
// and returns its end. Path runes run up to White_Space, <, >, a
// parenthesis or ?; balanced parentheses, one level nested at most, may
// come between runs; and the path ends with the last path ending rune, or
// balanced parentheses of twitter-text's own path characters, that the
// regular expression's backtracking reaches first: the rightmost.
func (s *urlScanner) path(x int) int {
	text := s.text
	type run struct {
		start, end int  // path runes
		gemParens  bool // the parentheses after the run are of twitter-text's characters
	}
	var runs []run
	for i := x; ; {
		e := runEnd(text, i, isPathRune)
		runs = append(runs, run{start: i, end: e})
		pe, gem := parens(text, e)
		if pe < 0 {
			break
		}
		runs[len(runs)-1].gemParens = gem
		i = pe
	}
	for k := len(runs) - 1; k >= 0; k-- {
		if k < len(runs)-1 && runs[k].gemParens {
			return runs[k+1].start
		}
		for e := runs[k].end; e > runs[k].start; {
			r, size := utf8.DecodeLastRuneInString(text[:e])
			if isPathEndRune(r) {
				return e
			}
			e -= size
		}
	}
	return x
}

// parens matches valid_url_balanced_parens at text[i:], a ( then path
// runes, or path runes around one nested pair, then a ): it returns the
// end, or -1, and whether every rune inside is one of twitter-text's own
// path characters.
func parens(text string, i int) (int, bool) {
	if i >= len(text) || text[i] != '(' {
		return -1, false
	}
	gem := func(from, to int) bool {
		for _, r := range text[from:to] {
			if !isGemPathRune(r) {
				return false
			}
		}
		return true
	}
	e := runEnd(text, i+1, isPathRune)
	switch {
	case e < len(text) && text[e] == ')' && e > i+1:
		return e + 1, gem(i+1, e)
	case e < len(text) && text[e] == '(':
		e2 := runEnd(text, e+1, isPathRune)
		if e2 >= len(text) || text[e2] != ')' || e2 == e+1 {
			return -1, false
		}
		e3 := runEnd(text, e2+1, isPathRune)
		if e3 >= len(text) || text[e3] != ')' {
			return -1, false
		}
		return e3 + 1, gem(i+1, e) && gem(e+1, e2) && gem(e2+1, e3)
	}
	return -1, false
}

// query matches Mastodon's query after the ?: query runes ending with a
// query ending rune. It returns the end, or -1.
func query(text string, i int) int {
	e := runEnd(text, i, isQueryRune)
	for e > i {
		r, size := utf8.DecodeLastRuneInString(text[:e])
		if isQueryEndRune(r) {
			return e
		}
		e -= size
	}
	return -1
}

// tco applies twitter-text's rule for t.co links to the URL text[start:end]:
// such a link ends with its slug, and is none when the slug is over 40
// characters.
func (s *urlScanner) tco(start, end int) (int, bool) {
	url := s.text[start:end]
	var i int
	if i = matchFold(url, 0, "https://t.co/"); i < 0 {
		if i = matchFold(url, 0, "http://t.co/"); i < 0 {
			return end, true
		}
	}
	slug := runEnd(url, i, isAlnumFold)
	if slug == i {
		return end, true
	}
	if utf8.RuneCountInString(url[i:slug]) > maxTcoSlugLength {
		return 0, false
	}
	return start + slug, true
}

// validLength applies twitter-text's is_valid_domain: the domain is valid
// for IDNA, and the URL, its domain as punycode, is at most 4,096
// characters.
func validLength(url, domain string) bool {
	ascii, ok := toASCII(domain)
	if !ok {
		return false
	}
	n := utf8.RuneCountInString(url)
	if grown := len(ascii) - utf8.RuneCountInString(domain); grown > 0 {
		n += grown
	}
	return n <= maxURLLength
}

// TopLevelDomains returns twitter-text's top-level domains, in the order
// its regular expression tries them.
func TopLevelDomains() []string {
	return append(append([]string(nil), genericTLDs...), countryTLDs...)
}
