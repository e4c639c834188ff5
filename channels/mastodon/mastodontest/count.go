package mastodontest

import (
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"

	"github.com/syndicate-daemon/syndicate/channels/mastodon/internal/length"
)

// Length counts a status as Mastodon does before refusing it: grapheme
// clusters, every URL Mastodon links as perURL characters, @user@domain as
// @user. A negative perURL counts URLs as written, as some servers do. It
// is the channel's own counter, which the channel's tests check against
// Mastodon's rules themselves (testdata/mastodon-length.js).
func Length(text string, perURL int) int { return length.Text(text, perURL) }

// StatusLength counts a status with its content warning: Mastodon counts
// the warning as written, followed by the text rewritten as Length does.
func StatusLength(spoiler, text string, perURL int) int { return length.Status(spoiler, text, perURL) }

// GoToSocialLength counts a status as GoToSocial does before refusing one:
// the code points of the text and of the content warning, as sent, with
// every URL and mention at its full length.
func GoToSocialLength(spoiler, text string) int {
	return utf8.RuneCountInString(text) + utf8.RuneCountInString(spoiler)
}

// PleromaLength counts a status as Pleroma and Akkoma do: the grapheme
// clusters of the trimmed text followed by the content warning, trimmed
// again, with every URL and mention at its full length.
func PleromaLength(spoiler, text string) int {
	return uniseg.GraphemeClusterCount(strings.TrimSpace(strings.TrimSpace(text) + spoiler))
}
