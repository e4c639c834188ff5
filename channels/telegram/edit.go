package telegram

import (
	"context"
	"fmt"
	"strings"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Edit changes a post already sent (on_update: edit) to show the article as
// it is now, keeping its shape, which sent.RemoteID tells (see the package
// documentation): editMessageText for a message, editMessageCaption for a
// photo's caption, both for a photo followed by the post as a reply. The
// photo itself is not replaced, and a message does not become a photo.
//
// A post that is too long for its photo's caption now is cut to fit, and
// Receipt.Warning says so. An edit that changes nothing is a success.
// Edits are idempotent: an answer lost is retryable, not uncertain.
func (c *Channel) Edit(ctx context.Context, post syndicate.Post, sent syndicate.Receipt) (syndicate.Receipt, error) {
	a := post.Article
	if c.token == "" {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, errNoToken))
	}
	id, err := parseRemoteID(sent.RemoteID)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: cannot edit: %w", c.id, err))
	}
	chat := id.chat
	if chat == "" {
		chat = c.currentChat()
	}
	rendering := func(err error) (syndicate.Receipt, error) {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: rendering %q: %w", c.id, a.Title, err))
	}
	image, _ := webURL(a.ImageURL, a.Link)
	var warnings []string
	var edits []func() *syndicate.SendError
	switch {
	case post.Override != "":
		e, err := c.overrideEdits(ctx, chat, id, post)
		if err != nil {
			return rendering(err)
		}
		edits = e
	case id.photo && id.reply != 0:
		d := c.data(a, image)
		caption, err := c.shortCaption(d)
		if err != nil {
			return rendering(err)
		}
		text, err := c.fitMessage(d)
		if err != nil {
			return rendering(err)
		}
		edits = append(edits,
			func() *syndicate.SendError { return c.editCaption(ctx, chat, id.first, caption, nil) },
			func() *syndicate.SendError { return c.editText(ctx, chat, id.reply, text, a, false) })
	case id.photo:
		d := c.data(a, image)
		d.Caption = true
		_, full, err := c.execute(d)
		if err != nil {
			return rendering(err)
		}
		caption, err := c.fitTo(d, MaxCaptionLength)
		if err != nil {
			return rendering(err)
		}
		if full > MaxCaptionLength {
			warnings = append(warnings, fmt.Sprintf("the post is now %d characters long: cut to fit the photo's caption (%d)", full, MaxCaptionLength))
		}
		edits = append(edits, func() *syndicate.SendError { return c.editCaption(ctx, chat, id.first, caption, &a) })
	default:
		text, err := c.fitMessage(c.data(a, ""))
		if err != nil {
			return rendering(err)
		}
		preview := c.mode != ModeText
		edits = append(edits, func() *syndicate.SendError { return c.editText(ctx, chat, id.first, text, a, preview) })
	}
	for _, edit := range edits {
		if err := c.wait(ctx, "edit in"); err != nil {
			return syndicate.Receipt{}, err
		}
		if err := edit(); err != nil {
			return syndicate.Receipt{}, err
		}
	}
	return syndicate.Receipt{RemoteID: sent.RemoteID, URL: sent.URL, Warning: c.warning(warnings)}, nil
}

// editText replaces a message's text and button.
func (c *Channel) editText(ctx context.Context, chat string, id int, text message, a syndicate.Article, preview bool) *syndicate.SendError {
	p := tgbotapi.Params{"chat_id": chat, "parse_mode": tgbotapi.ModeHTML, "text": text.text}
	p.AddNonZero("message_id", id)
	err := addPreview(p, a, preview)
	if err == nil {
		err = c.addButton(p, a)
	}
	if err != nil {
		return channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, err))
	}
	return c.edited(ctx, fmt.Sprintf("editMessageText %d in %s", id, chat), "editMessageText", p)
}

// editCaption replaces a photo's caption, and its button when a is given.
func (c *Channel) editCaption(ctx context.Context, chat string, id int, caption message, a *syndicate.Article) *syndicate.SendError {
	p := tgbotapi.Params{"chat_id": chat, "parse_mode": tgbotapi.ModeHTML, "caption": caption.text}
	p.AddNonZero("message_id", id)
	if a != nil {
		if err := c.addButton(p, *a); err != nil {
			return channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, err))
		}
	}
	return c.edited(ctx, fmt.Sprintf("editMessageCaption %d in %s", id, chat), "editMessageCaption", p)
}

// edited makes an edit; "message is not modified" is a success.
func (c *Channel) edited(ctx context.Context, what, method string, p tgbotapi.Params) *syndicate.SendError {
	_, apiErr, se := c.request(ctx, what, method, p, nil, true)
	if se != nil && apiErr != nil && strings.Contains(strings.ToLower(apiErr.Message), "message is not modified") {
		return nil
	}
	return se
}
