// Package length counts a status as Mastodon does before it refuses one
// over its limit (StatusLengthValidator): the content warning, then the
// text with every URL as 23 characters and every mention @user@domain as
// @user, in grapheme clusters. The URLs and mentions are those Mastodon's
// extractor finds: twitter-text 3.1's rules, with Mastodon's own for URL
// protocols, paths and queries, and for mentions.
package length

import (
	"strings"

	"github.com/rivo/uniseg"
)

// Entity is a URL or a mention, as byte offsets into the text. For a
// mention, text[Start:UserEnd] is the "@user" it counts as.
type Entity struct {
	Start, End, UserEnd int
	URL                 bool
}

// DefaultPerURL is what Mastodon counts a URL as.
const DefaultPerURL = 23

// Status counts a status with its content warning. A URL counts perURL
// characters, or as written when perURL is negative.
func Status(spoiler, text string, perURL int) int {
	return uniseg.GraphemeClusterCount(spoiler + Countable(text, perURL))
}

// Text counts a status's text alone.
func Text(text string, perURL int) int { return Status("", text, perURL) }

// Countable rewrites text as Mastodon does before counting it: a blank
// text counts nothing, a URL is perURL x's (or as written, perURL < 0), a
// mention is @user.
func Countable(text string, perURL int) string {
	if isBlank(text) {
		return ""
	}
	if !strings.Contains(text, "://") && !strings.Contains(text, "@") {
		return text
	}
	var b strings.Builder
	pos := 0
	for _, e := range Entities(text) {
		b.WriteString(text[pos:e.Start])
		switch {
		case !e.URL:
			b.WriteString(text[e.Start:e.UserEnd])
		case perURL < 0:
			b.WriteString(text[e.Start:e.End])
		default:
			b.WriteString(strings.Repeat("x", perURL))
		}
		pos = e.End
	}
	b.WriteString(text[pos:])
	return b.String()
}

// Entities returns the URLs and mentions of text in order, each that
// overlaps an earlier one dropped.
func Entities(text string) []Entity {
	urls, mentions := URLs(text), Mentions(text)
	out := make([]Entity, 0, len(urls)+len(mentions))
	i, j := 0, 0
	for i < len(urls) || j < len(mentions) {
		var e Entity
		if j >= len(mentions) || i < len(urls) && urls[i].Start < mentions[j].Start {
			e, i = urls[i], i+1
		} else {
			e, j = mentions[j], j+1
		}
		if n := len(out); n > 0 && out[n-1].End > e.Start {
			continue
		}
		out = append(out, e)
	}
	return out
}
