package mastodon

import (
	"github.com/syndicate-daemon/syndicate/channels/mastodon/internal/length"
)

// Length counts text the way Mastodon checks a status against its limit,
// with the default 23 characters per URL.
func Length(text string) int { return countChars(text, DefaultCharactersPerURL) }

// countChars counts a text as Mastodon does (internal/length): grapheme
// clusters, every URL it links as perURL characters (or as written when
// perURL is negative), a remote mention @user@domain as @user.
func countChars(text string, perURL int) int { return length.Text(text, perURL) }

// countStatus counts a status as Mastodon checks it against its limit:
// the content warning as written, then the text rewritten as countChars
// does, in one string.
func countStatus(spoiler, text string, perURL int) int { return length.Status(spoiler, text, perURL) }

// entity is a URL or a mention, as byte offsets into the text. For a
// mention, text[start:userEnd] is the "@user" part that counts.
type entity struct {
	start, end, userEnd int
	url                 bool
}

// entities returns the URLs and mentions of text in order, as Mastodon
// finds them.
func entities(text string) []entity { return toEntities(length.Entities(text)) }

// findURLs returns the URLs Mastodon links in text.
func findURLs(text string) []entity { return toEntities(length.URLs(text)) }

func toEntities(l []length.Entity) []entity {
	out := make([]entity, len(l))
	for i, e := range l {
		out[i] = entity{start: e.Start, end: e.End, userEnd: e.UserEnd, url: e.URL}
	}
	return out
}
