package email

import (
	"strings"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// entryRule is the line the text template puts above each article.
const entryRule = "----------------------------------------------------------------------"

// RenderEntry shows an article as its entry in the next digest would read
// in the text part: the digest is rendered with that article alone, and
// the lines between its rules are its entry. Length counts graphemes; a
// digest entry has no limit.
func (c *Channel) RenderEntry(a syndicate.Article) (syndicate.Rendering, error) {
	r, err := c.Preview(syndicate.Digest{ChannelID: c.cfg.ID}, []syndicate.Article{a})
	if err != nil {
		return syndicate.Rendering{}, err
	}
	text := r.Text
	if _, after, ok := strings.Cut(text, entryRule+"\n"); ok {
		text = after
		if before, _, ok := strings.Cut(text, entryRule); ok {
			text = before
		}
	}
	text = strings.Trim(text, "\n")
	image := ""
	if isWebURL(a.ImageURL) {
		image = a.ImageURL
	}
	return syndicate.Rendering{Text: text, Format: "text", Length: channels.Graphemes(text), Image: image, Counting: syndicate.CountGraphemes}, nil
}
