package mastodon

import (
	"github.com/syndicate-daemon/syndicate/channels/layout"
)

// syntax is what Mastodon links in a text, which a cut never goes through.
var syntax = layout.Syntax{Entities: entitySpans, URLs: urlSpans}

func entitySpans(text string) [][2]int { return spans(entities(text)) }

func urlSpans(text string) [][2]int { return spans(findURLs(text)) }

func spans(es []entity) [][2]int {
	out := make([][2]int, len(es))
	for i, e := range es {
		out[i] = [2]int{e.start, e.end}
	}
	return out
}

// cutText cuts s to at most n characters as count counts them, at a word,
// with an ellipsis, never inside what Mastodon links (see layout.Syntax.Cut).
func cutText(s string, n int, count func(string) int) string { return syntax.Cut(s, n, count) }

// cutSummary cuts s at a sentence end, or else as cutText does (see
// layout.Syntax.CutSummary).
func cutSummary(s string, n, floor int, count func(string) int) string {
	return syntax.CutSummary(s, n, floor, count)
}
