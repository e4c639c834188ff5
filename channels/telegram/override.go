package telegram

import (
	"context"
	"fmt"
	"strings"

	"github.com/syndicate-daemon/syndicate/channels/telegram/internal/tghtml"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// An editor may rewrite a post in review (syndicate.Post.Override): the
// text, in Telegram's HTML subset, replaces the channel's own rendering as
// the message or the photo's caption. It is checked as Telegram checks it,
// with Telegram's own rules (tghtml.Parse): markup it cannot parse,
// entities it would drop, and the length limits.

// checkOverride parses the editor's text as Telegram would and returns its
// length as Telegram counts it.
func checkOverride(text string) (int, error) {
	if strings.TrimSpace(text) == "" {
		return 0, fmt.Errorf("the text is empty")
	}
	if len(text) > maxTextBytes {
		return 0, fmt.Errorf("the text is %d bytes of HTML, over the %d Telegram takes", len(text), maxTextBytes)
	}
	n, err := tghtml.Length(text)
	if err != nil {
		return 0, fmt.Errorf("can't parse entities (Telegram would refuse the post): %w", err)
	}
	if err := tghtml.CheckNesting(text); err != nil {
		return 0, fmt.Errorf("entities Telegram would drop: %w", err)
	}
	if isBlank(text) {
		return 0, fmt.Errorf("the text is empty once its markup is parsed")
	}
	return n, nil
}

// planPost is plan, or the plan of the editor's text when the post has one.
func (c *Channel) planPost(post syndicate.Post, withImage bool) (plan, error) {
	if post.Override == "" {
		return c.plan(post.Article, withImage)
	}
	a := post.Article
	n, err := checkOverride(post.Override)
	if err != nil {
		return plan{}, err
	}
	text := message{text: post.Override, n: n, limit: MaxTextLength}
	image := ""
	if withImage && c.mode == ModePhoto {
		image, _ = webURL(a.ImageURL, a.Link)
	}
	switch {
	case n > MaxTextLength:
		return plan{}, fmt.Errorf("the text is %d characters, over Telegram's limit of %d", n, MaxTextLength)
	case image == "":
		return plan{shape: shapeMessage, text: text, preview: c.mode != ModeText && isWebURL(strings.TrimSpace(a.Link))}, nil
	case n <= MaxCaptionLength:
		text.limit = MaxCaptionLength
		return plan{shape: shapePhoto, image: image, caption: text}, nil
	}
	caption, err := c.shortCaption(c.data(a, image))
	if err != nil {
		return plan{}, err
	}
	return plan{shape: shapeSplit, image: image, caption: caption, text: text}, nil
}

// CheckText renders the post with the editor's text as Send would post
// it, refusing what Telegram would refuse.
func (c *Channel) CheckText(post syndicate.Post) (syndicate.Rendering, error) {
	p, err := c.planPost(post, true)
	if err != nil {
		return syndicate.Rendering{}, err
	}
	r := p.rendering()
	r.Button, r.ButtonURL = c.buttonOf(post.Article)
	return r, nil
}

// rendering is the part of the plan a preview shows: the caption of a
// photo that carries the whole post, else the message.
func (p plan) rendering() syndicate.Rendering {
	m := p.text
	if p.shape == shapePhoto {
		m = p.caption
	}
	return syndicate.Rendering{Text: m.text, Format: "html", Length: m.n, Limit: m.limit, Image: p.image, Counting: syndicate.CountUTF16HTML}
}

// overrideEdits are the edits that put the editor's text in the place of
// the post sent: the reply that follows a photo, the photo's caption, or
// the message.
func (c *Channel) overrideEdits(ctx context.Context, chat string, id remoteID, post syndicate.Post) ([]func() *syndicate.SendError, error) {
	a := post.Article
	n, err := checkOverride(post.Override)
	if err != nil {
		return nil, err
	}
	text := message{text: post.Override, n: n, limit: MaxTextLength}
	switch {
	case n > MaxTextLength:
		return nil, fmt.Errorf("the text is %d characters, over Telegram's limit of %d", n, MaxTextLength)
	case id.photo && id.reply != 0:
		return []func() *syndicate.SendError{func() *syndicate.SendError { return c.editText(ctx, chat, id.reply, text, a, false) }}, nil
	case id.photo:
		if n > MaxCaptionLength {
			return nil, fmt.Errorf("the text is %d characters, over the limit of %d of the photo's caption it replaces", n, MaxCaptionLength)
		}
		text.limit = MaxCaptionLength
		return []func() *syndicate.SendError{func() *syndicate.SendError { return c.editCaption(ctx, chat, id.first, text, &a) }}, nil
	}
	preview := c.mode != ModeText
	return []func() *syndicate.SendError{func() *syndicate.SendError { return c.editText(ctx, chat, id.first, text, a, preview) }}, nil
}
