package mastodon

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// hashtags makes at most n hashtags of categories, each renamed or dropped
// by renames (folded category → name, "" drops) first. Duplicates, without
// regard to case, are skipped, and so are categories that make no
// hashtag.
func hashtags(categories []string, renames map[string]string, n int) []string {
	var tags []string
	seen := map[string]bool{}
	for _, c := range categories {
		if len(tags) >= n {
			break
		}
		if to, ok := renames[foldCategory(c)]; ok {
			if to == "" {
				continue
			}
			c = to
		}
		tag := hashtag(c)
		key := strings.ToLower(tag)
		if tag == "" || seen[key] {
			continue
		}
		seen[key] = true
		tags = append(tags, tag)
	}
	return tags
}

// hashtag makes a hashtag of a category as Mastodon would link it:
// CamelCase, letters of any script and accents kept ("Mass strike" →
// "#MassStrike", "Kazajistán" → "#Kazajistán"), every character Mastodon
// does not take in a tag removed ("C++" → "#C", "self-organization" →
// "#SelfOrganization"). It returns "" when no letter is left (Mastodon does
// not link "#2022").
func hashtag(category string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(category, func(r rune) bool { return !isTagRune(r) }) {
		// A middle dot or a zero-width non-joiner may join letters, but
		// neither starts or ends a tag.
		word = strings.Trim(word, "·\u200c")
		if word == "" {
			continue
		}
		first, size := utf8.DecodeRuneInString(word)
		b.WriteRune(unicode.ToTitle(first))
		b.WriteString(word[size:])
	}
	tag := b.String()
	if !strings.ContainsFunc(tag, unicode.IsLetter) {
		return ""
	}
	return "#" + tag
}

// isTagRune reports whether r may be part of a Mastodon hashtag: Ruby's
// [[:word:]] (letters, marks, decimal digits, connectors such as _), a
// middle dot (Catalan l·l) and the zero-width non-joiner (Persian).
func isTagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Nd, r) || unicode.Is(unicode.Pc, r) ||
		r == '·' || r == '\u200c'
}
