package channels

import (
	"maps"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hashtags makes at most max hashtags of an article's categories, in their
// order, as every channel posts them (see Hashtag for the form of each).
//
// renames maps a category to the name of its hashtag, as the channel's
// configuration writes it: a category is looked up without regard to case
// or to the spaces around and between its words ("mass  STRIKE" finds
// "Mass strike"), and an empty name drops it. A category that makes no
// hashtag is skipped, and so is a repeat (without regard to case): neither
// counts toward max.
func Hashtags(categories []string, renames map[string]string, max int) []string {
	if max <= 0 {
		return nil
	}
	var folded map[string]string
	if len(renames) > 0 {
		folded = make(map[string]string, len(renames))
		// Sorted, so that of two keys that fold alike the same one wins
		// every time.
		for _, k := range slices.Sorted(maps.Keys(renames)) {
			folded[FoldCategory(k)] = renames[k]
		}
	}
	var tags []string
	seen := map[string]bool{}
	for _, c := range categories {
		if name, ok := folded[FoldCategory(c)]; ok {
			if strings.TrimSpace(name) == "" {
				continue
			}
			c = name
		}
		tag := Hashtag(c)
		key := foldCase(tag)
		if tag == "" || seen[key] {
			continue
		}
		seen[key] = true
		tags = append(tags, tag)
		if len(tags) == max {
			break
		}
	}
	return tags
}

// Hashtag makes a hashtag of a category as Mastodon links it (and Telegram
// too): CamelCase, letters of any script and accents kept ("Mass strike" →
// "#MassStrike", "Kazajistán" → "#Kazajistán", "Технологии" →
// "#Технологии"), every character Mastodon does not take in a tag removed
// and taken as a break between words ("C++" → "#C", "self-organization" →
// "#SelfOrganization"). It returns "" when no letter is left: Mastodon
// does not link "#2022".
func Hashtag(category string) string {
	var b strings.Builder
	b.WriteByte('#')
	letter := false
	for _, word := range strings.FieldsFunc(category, func(r rune) bool { return !IsHashtagRune(r) }) {
		// A middle dot or a zero-width non-joiner joins the letters around
		// it (Catalan "l·l", Persian), but Mastodon ends a tag before one
		// that is not followed by a letter or digit.
		word = strings.Trim(word, hashtagJoiners)
		if word == "" {
			continue
		}
		first, size := utf8.DecodeRuneInString(word)
		b.WriteRune(unicode.ToTitle(first))
		b.WriteString(word[size:])
		letter = letter || strings.ContainsFunc(word, unicode.IsLetter)
	}
	if !letter {
		return ""
	}
	return b.String()
}

// hashtagJoiners are the characters that Mastodon takes inside a hashtag
// but not at either end: the middle dot and the zero-width non-joiner.
// (Recent Mastodon versions take the katakana middle dot too; older ones
// end the tag there, so it is left out: it separates words instead.)
const hashtagJoiners = "·\u200c"

// IsHashtagRune reports whether r may be part of a Mastodon hashtag: a
// letter, a mark (an accent), a decimal digit, a letter number (Ⅻ) or a
// connector (_), all of which Ruby's [[:word:]] takes, or a joiner (see
// hashtagJoiners) between them.
func IsHashtagRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.In(r, unicode.Nd, unicode.Nl, unicode.Pc) ||
		strings.ContainsRune(hashtagJoiners, r)
}

// FoldCategory is the form in which a channel's settings compare
// categories: without regard to case, to surrounding spaces or to how many
// spaces separate their words.
func FoldCategory(s string) string {
	return foldCase(strings.Join(strings.Fields(s), " "))
}

// foldCase folds the case of s, so that "ΛΌΓΟΣ" and "Λόγος", or "ǅ" and
// "Ǆ", compare equal.
func foldCase(s string) string { return strings.ToLower(strings.ToUpper(s)) }
