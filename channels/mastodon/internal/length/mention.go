package length

import (
	"strings"
	"unicode/utf8"
)

// maxMentionDomain is the longest domain of a mention Mastodon takes for
// one (its Extractor's MAX_DOMAIN_LENGTH).
const maxMentionDomain = 253

// Mentions returns the mentions of text as Mastodon's Extractor finds them
// with Account::MENTION_RE: an @ not after =, / or a word character, a
// user (letters, digits and _, runs of . and - between them), and
// possibly @ and a domain (word characters, runs of . and - between
// them). A mention followed by an @, a Latin accented letter or :// is
// none, nor is one whose domain is over 253 characters. UserEnd is the end
// of "@user", which is what a mention counts.
func Mentions(text string) []Entity {
	var out []Entity
	for pos := 0; pos < len(text); {
		k := strings.IndexByte(text[pos:], '@')
		if k < 0 {
			break
		}
		at := pos + k
		pos = at + 1
		if r, _ := utf8.DecodeLastRuneInString(text[:at]); at > 0 && (r == '=' || r == '/' || isWordRune(r)) {
			continue
		}
		userEnd := dotted(text, at+1, isUserRune)
		if userEnd == at+1 {
			continue
		}
		end := userEnd
		if end < len(text) && text[end] == '@' {
			if e := dotted(text, end+1, isWordRune); e > end+1 {
				end = e
			}
		}
		pos = end // the scan goes on after the match, taken or not
		if mentionEndsBadly(text[end:]) {
			continue
		}
		if end > userEnd && utf8.RuneCountInString(text[userEnd+1:end]) > maxMentionDomain {
			continue
		}
		out = append(out, Entity{Start: at, End: end, UserEnd: userEnd})
	}
	return out
}

// dotted matches in+ ([.-]+ in+)* at text[i:] and returns its end, i when
// there is none.
func dotted(text string, i int, in func(rune) bool) int {
	end := runEnd(text, i, in)
	if end == i {
		return i
	}
	for {
		sep := runEnd(text, end, func(r rune) bool { return r == '.' || r == '-' })
		if sep == end {
			return end
		}
		next := runEnd(text, sep, in)
		if next == sep {
			return end
		}
		end = next
	}
}

// mentionEndsBadly is twitter-text's end_mention_match: what follows is an
// @ sign, a Latin accented letter or ://.
func mentionEndsBadly(after string) bool {
	r, _ := utf8.DecodeRuneInString(after)
	return after != "" && (r == '@' || r == '＠' || strings.HasPrefix(after, "://") || anyFold(r, isLatinAccent))
}
