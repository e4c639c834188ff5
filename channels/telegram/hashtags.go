package telegram

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// hashtags makes at most n hashtags of categories, as the Mastodon channel
// does: CamelCase with accents kept ("Mass strike" → "#MassStrike",
// "Kazajistán" → "#Kazajistán"), without duplicates (ignoring case), and
// none without a letter ("2022"). custom renames a category, compared
// without regard to case, before it becomes a hashtag ("Mass strike" →
// "General strike" makes #GeneralStrike); an empty name makes none.
func hashtags(categories []string, n int, custom map[string]string) []string {
	var tags []string
	seen := map[string]bool{}
	for _, c := range categories {
		if len(tags) >= n {
			break
		}
		if name, renamed := lookupFold(custom, c); renamed {
			c = strings.TrimPrefix(strings.TrimSpace(name), "#")
		}
		tag := camelCase(c)
		key := strings.ToLower(tag)
		if !strings.ContainsFunc(tag, unicode.IsLetter) || seen[key] {
			continue
		}
		seen[key] = true
		tags = append(tags, "#"+tag)
	}
	return tags
}

func camelCase(s string) string {
	var b strings.Builder
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) }) {
		first, size := utf8.DecodeRuneInString(word)
		b.WriteRune(unicode.ToUpper(first))
		b.WriteString(word[size:])
	}
	return b.String()
}

func lookupFold(m map[string]string, key string) (string, bool) {
	if v, ok := m[key]; ok {
		return v, true
	}
	key = strings.TrimSpace(key)
	for k, v := range m {
		if strings.EqualFold(strings.TrimSpace(k), key) {
			return v, true
		}
	}
	return "", false
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsNumber(r) || unicode.Is(unicode.Pc, r)
}
