// Package telegram posts articles to a Telegram channel or group through the
// Bot API, with github.com/go-telegram-bot-api/telegram-bot-api/v5.
//
// The library is used for its request encoding and error type only: its
// constructors call getMe (so the BotAPI is built by hand), it takes no
// context and knows nothing newer than Bot API 5.5, so every call goes
// through MakeRequest with a per-call HTTP client that adds the context
// (see client.go).
//
// Telegram has no idempotency key: once a sendMessage request has left, a
// missing answer makes the delivery uncertain, never a silent re-send.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"text/template"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Channel posts to one Telegram chat. It is safe for concurrent use.
type Channel struct {
	id       string
	chat     string
	silent   bool
	threadID int
	token    string
	bot      *tgbotapi.BotAPI // never used directly: call copies it
	http     *http.Client
	// opaqueTransport: see callClient.opaque.
	opaqueTransport bool
	tmpl            *template.Template
	pacer           *pacer
	now             func() time.Time
}

var _ syndicate.Channel = (*Channel)(nil)

// New checks cfg and builds the channel. It makes no network call; Check
// does.
func New(cfg Config) (*Channel, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	text := defaultTemplate
	if cfg.Template != "" {
		text = cfg.Template
	}
	tmpl, err := parseTemplate(text)
	if err != nil {
		return nil, fmt.Errorf("telegram channel %q: template: %w", cfg.ID, err)
	}
	bot := &tgbotapi.BotAPI{Token: cfg.BotToken}
	// The endpoint is a format string: a literal % in the URL must be doubled.
	bot.SetAPIEndpoint(strings.ReplaceAll(cfg.APIURL, "%", "%%") + "/bot%s/%s")
	return &Channel{
		id:              cfg.ID,
		chat:            cfg.Chat,
		silent:          cfg.Silent,
		threadID:        cfg.MessageThreadID,
		token:           cfg.BotToken,
		bot:             bot,
		http:            newHTTPClient(cfg),
		opaqueTransport: !isStdTransport(cfg.Transport),
		tmpl:            tmpl,
		pacer:           newPacer(cfg.interval(), cfg.Now),
		now:             cfg.Now,
	}, nil
}

// Render shows the message Send would post: the HTML text, and its length
// as Telegram counts it (UTF-16 code units after entity parsing).
func (c *Channel) Render(post syndicate.Post) (syndicate.Rendering, error) {
	text, n, err := c.render(post.Article)
	if err != nil {
		return syndicate.Rendering{}, fmt.Errorf("telegram channel %q: rendering %q: %w", c.id, post.Article.Title, err)
	}
	return syndicate.Rendering{Text: text, Format: "html", Length: n, Limit: MaxTextLength}, nil
}

// Send posts the article with sendMessage, after waiting for the chat's
// pacing. A wait that would outlast ctx's deadline is not waited for: Send
// returns a retryable error with the time the chat is free.
// errNoToken refuses an API call of a channel built without a token.
var errNoToken = errors.New("no bot_token configured")

func (c *Channel) Send(ctx context.Context, post syndicate.Post) (syndicate.Receipt, error) {
	if c.token == "" {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, errNoToken))
	}
	text, _, err := c.render(post.Article)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: rendering %q: %w", c.id, post.Article.Title, err))
	}
	params, err := c.sendParams(post.Article, text)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, err))
	}
	if err := ctx.Err(); err != nil {
		return syndicate.Receipt{}, &syndicate.SendError{Kind: syndicate.Retryable, Err: fmt.Errorf("telegram: sendMessage to %s: %w", c.chat, err)}
	}
	if err := c.pacer.wait(ctx); err != nil {
		var soon *tooSoonError
		if errors.As(err, &soon) {
			return syndicate.Receipt{}, &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: soon.until,
				Err: fmt.Errorf("telegram: waiting to post to %s: %w", c.chat, err)}
		}
		return syndicate.Receipt{}, &syndicate.SendError{Kind: syndicate.Retryable,
			Err: fmt.Errorf("telegram: waiting to post to %s: %w", c.chat, err)}
	}
	result, cc, err := c.call(ctx, "sendMessage", params)
	if err != nil {
		return syndicate.Receipt{}, c.classify(err, cc, "sendMessage to "+c.chat)
	}
	var msg tgbotapi.Message
	if err := json.Unmarshal(result, &msg); err != nil || msg.MessageID == 0 {
		// "ok": true means it is posted; only its id is unknown.
		return syndicate.Receipt{}, nil
	}
	return syndicate.Receipt{RemoteID: strconv.Itoa(msg.MessageID), URL: c.messageURL(msg)}, nil
}

type linkPreview struct {
	URL              string `json:"url,omitempty"`
	PreferLargeMedia bool   `json:"prefer_large_media,omitempty"`
	IsDisabled       bool   `json:"is_disabled,omitempty"`
}

// sendParams builds sendMessage's parameters. link_preview_options and
// message_thread_id are newer than the library, hence plain Params.
func (c *Channel) sendParams(a syndicate.Article, text string) (tgbotapi.Params, error) {
	p := tgbotapi.Params{"chat_id": c.chat, "text": text, "parse_mode": tgbotapi.ModeHTML}
	p.AddNonZero("message_thread_id", c.threadID)
	p.AddBool("disable_notification", c.silent)
	link := strings.TrimSpace(a.Link)
	if !isWebURL(link) {
		// No article link: no preview of whatever URL the summary holds.
		return p, p.AddInterface("link_preview_options", linkPreview{IsDisabled: true})
	}
	button := tgbotapi.NewInlineKeyboardButtonURL(buttonLabel(a.Language), link)
	if err := p.AddInterface("reply_markup", tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button))); err != nil {
		return nil, fmt.Errorf("encoding reply_markup: %w", err)
	}
	if err := p.AddInterface("link_preview_options", linkPreview{URL: link, PreferLargeMedia: true}); err != nil {
		return nil, fmt.Errorf("encoding link_preview_options: %w", err)
	}
	return p, nil
}

func isStdTransport(rt http.RoundTripper) bool {
	_, ok := rt.(*http.Transport)
	return rt == nil || ok
}

func buttonLabel(language string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.ReplaceAll(language, "_", "-")), "-")
	if base == "es" {
		return "Leer el artículo"
	}
	return "Read the article"
}

// messageURL links to a message of a public chat; a private one has none.
func (c *Channel) messageURL(msg tgbotapi.Message) string {
	name, ok := strings.CutPrefix(c.chat, "@")
	if !ok && msg.Chat != nil {
		name = msg.Chat.UserName
	}
	if name == "" {
		return ""
	}
	return fmt.Sprintf("https://t.me/%s/%d", name, msg.MessageID)
}

// Check reaches Telegram as the bot (getMe), finds the chat (getChat) and
// the bot's rights in it (getChatMember), for `syndicate check --online`.
func (c *Channel) Check(ctx context.Context) (string, error) {
	fail := func(what string, err error) (string, error) {
		return "", fmt.Errorf("telegram channel %q: %s: %w", c.id, what, err)
	}
	if c.token == "" {
		return fail("getMe", errNoToken)
	}
	var me tgbotapi.User
	if err := c.get(ctx, "getMe", nil, &me); err != nil {
		return fail("getMe", err)
	}
	var chat tgbotapi.Chat
	if err := c.get(ctx, "getChat", tgbotapi.Params{"chat_id": c.chat}, &chat); err != nil {
		return fail("getChat "+c.chat, err)
	}
	var member struct {
		Status          string `json:"status"`
		CanPostMessages bool   `json:"can_post_messages"`
		CanSendMessages *bool  `json:"can_send_messages"`
	}
	params := tgbotapi.Params{"chat_id": c.chat}
	params.AddNonZero64("user_id", me.ID)
	if err := c.get(ctx, "getChatMember", params, &member); err != nil {
		return fail("getChatMember "+c.chat, err)
	}
	bot, where := "@"+me.UserName, c.chat
	if !strings.HasPrefix(where, "@") && chat.Title != "" {
		where = fmt.Sprintf("%q (%s)", chat.Title, c.chat)
	}
	fix := "add the bot to " + where + " as an administrator with the right to post"
	switch {
	case member.Status == "creator":
	case member.Status == "administrator" && chat.Type == "channel" && !member.CanPostMessages:
		return fail("checking rights", fmt.Errorf("bot %s is an administrator of %s without the right to post messages", bot, where))
	case member.Status == "administrator":
	case member.Status == "member" && chat.Type == "channel":
		return fail("checking rights", fmt.Errorf("bot %s is a member of channel %s but not an administrator: %s", bot, where, fix))
	case member.Status == "member":
	case member.Status == "restricted" && (member.CanSendMessages == nil || *member.CanSendMessages):
	default:
		return fail("checking rights", fmt.Errorf("bot %s cannot post in %s (status %q): %s", bot, where, member.Status, fix))
	}
	return fmt.Sprintf("bot %s can post in %s", bot, where), nil
}
