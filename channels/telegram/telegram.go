// Package telegram posts articles to a Telegram channel or group through the
// Bot API, with github.com/go-telegram-bot-api/telegram-bot-api/v5.
//
// The library is used for its request encoding and error type only: its
// constructors call getMe (so the BotAPI is built by hand), it takes no
// context and knows nothing newer than Bot API 5.5, so every call goes
// through MakeRequest (or UploadFiles) with a per-call HTTP client that adds
// the context (see client.go), and the newer parameters
// (link_preview_options, reply_parameters, message_thread_id,
// protect_content) are plain Params.
//
// A post is one of three shapes (see Config.Mode): a message (sendMessage,
// with or without a link preview); a photo with the post as its caption
// (sendPhoto); or, when the post is too long for a caption, a photo with a
// short caption and the post as a reply to it.
//
// Receipt.RemoteID says which, so that Edit knows what to edit:
//
//	CHAT/ID               a message
//	CHAT/photo:ID         a photo whose caption is the post
//	CHAT/photo:ID+REPLY   a photo with a short caption, and the post in the
//	                      message REPLY that answers it
//
// CHAT is the chat's numeric id (or the configured @name when Telegram did
// not say it), so an edit reaches the right chat even after `chat` changes.
// A RemoteID without "CHAT/" (an older receipt) means the configured chat.
//
// Telegram has no idempotency key: once a send has left, a missing answer
// makes the delivery uncertain, never a silent re-send. Edits are
// idempotent and are simply retried.
package telegram

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
	"unicode"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/telegram/internal/tghtml"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Channel posts to one Telegram chat. It is safe for concurrent use.
type Channel struct {
	id             string
	configuredChat string
	silent         bool
	protect        bool
	threadID       int
	mode           string
	photo          string
	button         string
	maxHashtags    int
	hashtagMap     map[string]string
	maxImageBytes  int64
	token          string
	bot            *tgbotapi.BotAPI // never used directly: call copies it
	http           *http.Client
	images         channels.ImageFetcher
	lookupIP       func(ctx context.Context, network, host string) ([]net.IP, error)
	// opaqueTransport: see callClient.opaque.
	opaqueTransport bool
	tmpl            *template.Template
	pacer           *pacer
	log             *slog.Logger
	now             func() time.Time

	chatMu sync.Mutex
	chat   string // where posts go: configuredChat, or where it moved
}

var (
	_ syndicate.Channel = (*Channel)(nil)
	_ syndicate.Editor  = (*Channel)(nil)
)

// New builds the channel from settings Validate accepted. It makes no network call; Check
// does.
func New(cfg Config) (*Channel, error) {
	cfg = cfg.withDefaults()
	text := defaultTemplate
	if cfg.Template != "" {
		text = cfg.Template
	}
	tmpl, err := parseTemplate(text)
	if err != nil {
		return nil, fmt.Errorf("telegram channel %q: template: %w", cfg.ID, err)
	}
	bot := &tgbotapi.BotAPI{Token: cfg.BotToken.Value()}
	// The endpoint is a format string: a literal % in the URL must be doubled.
	bot.SetAPIEndpoint(strings.ReplaceAll(cfg.APIURL, "%", "%%") + "/bot%s/%s")
	c := &Channel{
		id:              cfg.ID,
		configuredChat:  cfg.Chat,
		chat:            cfg.Chat,
		silent:          cfg.Silent,
		protect:         cfg.ProtectContent,
		threadID:        int(cfg.MessageThreadID),
		mode:            cfg.Mode,
		photo:           cfg.Photo,
		button:          cfg.Button,
		maxHashtags:     cfg.MaxHashtags,
		hashtagMap:      cfg.Hashtags,
		maxImageBytes:   cfg.MaxImageBytes,
		token:           cfg.BotToken.Value(),
		bot:             bot,
		http:            newHTTPClient(cfg),
		images:          channels.ImageFetcher{Client: &http.Client{Transport: cfg.ImageTransport, Timeout: cfg.Timeout}},
		lookupIP:        cfg.LookupIP,
		opaqueTransport: !isStdTransport(cfg.Transport),
		tmpl:            tmpl,
		pacer:           newPacer(cfg.interval(), cfg.Now),
		log:             cfg.Log,
		now:             cfg.Now,
	}
	// Execute the template once now, so that a misspelt field fails at
	// start and not at the first post.
	sample := syndicate.Article{
		Title: "Title", Summary: "Summary", ContentHTML: "<p>Content</p>", Link: "https://example.org/article",
		ImageURL: "https://example.org/image.jpg", ImageCaption: "Caption", Categories: []string{"News"},
		Related:  []syndicate.Link{{Title: "Related", URL: "https://example.org/related"}},
		Language: "en", Author: "Author", Published: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
	}
	if _, _, err := c.execute(c.data(sample, sample.ImageURL)); err != nil {
		return nil, fmt.Errorf("telegram channel %q: template, on a sample article: %w", cfg.ID, err)
	}
	return c, nil
}

// Post shapes.
const (
	shapeMessage = iota // sendMessage
	shapePhoto          // sendPhoto, the post as its caption
	shapeSplit          // sendPhoto with a short caption, the post as a reply
)

// plan is a post rendered, ready to go.
type plan struct {
	shape   int
	image   string  // the featured image's URL (shapePhoto, shapeSplit)
	caption message // the photo's caption (shapePhoto, shapeSplit)
	text    message // the message (shapeMessage) or the reply (shapeSplit)
	preview bool    // a link preview of the article (shapeMessage)
}

// plan renders a in the channel's mode; withImage false renders it as if it
// had no image (it could not be fetched).
func (c *Channel) plan(a syndicate.Article, withImage bool) (plan, error) {
	image := ""
	if withImage && c.mode == ModePhoto {
		image, _ = webURL(a.ImageURL, a.Link)
	}
	if image == "" {
		text, err := c.fitMessage(c.data(a, ""))
		return plan{shape: shapeMessage, text: text, preview: c.mode != ModeText && isWebURL(strings.TrimSpace(a.Link))}, err
	}
	d := c.data(a, image)
	d.Caption = true
	text, n, err := c.execute(d)
	if err != nil {
		return plan{}, err
	}
	if n <= MaxCaptionLength {
		return plan{shape: shapePhoto, image: image, caption: message{text: text, n: n, limit: MaxCaptionLength}}, nil
	}
	caption, err := c.shortCaption(d)
	if err != nil {
		return plan{}, err
	}
	d.Caption = false
	full, err := c.fitMessage(d)
	return plan{shape: shapeSplit, image: image, caption: caption, text: full}, err
}

// shortCaption is the caption of a photo whose post follows as a reply.
// When even that is too long (a link of over a thousand characters), the
// photo goes without a caption.
func (c *Channel) shortCaption(d TemplateData) (message, error) {
	d.Caption = true
	d.Summary, d.Content, d.Related, d.Hashtags = "", "", nil, nil
	m, err := c.fitTo(d, MaxCaptionLength)
	var long *tooLongError
	if errors.As(err, &long) {
		return message{limit: MaxCaptionLength}, nil
	}
	return m, err
}

// fitMessage renders d as a message, which must not be empty.
func (c *Channel) fitMessage(d TemplateData) (message, error) {
	d.Caption = false
	m, err := c.fitTo(d, MaxTextLength)
	if err == nil && isBlank(m.text) {
		err = errors.New("the post is empty")
	}
	return m, err
}

func isBlank(html string) bool {
	plain, _, _ := tghtml.Parse(html)
	return strings.TrimFunc(plain, unicode.IsSpace) == ""
}

// Render shows what Send would post, without any network call: the HTML
// of the message, or of the photo's caption (Limit MaxCaptionLength) with
// the photo's URL in Image. When the post is too long for a caption, it
// shows the message that follows the photo as a reply (the photo's own
// caption is then the title and link). Length is counted as Telegram
// counts: UTF-16 code units after entity parsing.
func (c *Channel) Render(post syndicate.Post) (syndicate.Rendering, error) {
	p, err := c.planPost(post, true)
	if err != nil {
		return syndicate.Rendering{}, fmt.Errorf("telegram channel %q: rendering %q: %w", c.id, post.Article.Title, err)
	}
	r := p.rendering()
	r.Button, r.ButtonURL = c.buttonOf(post.Article)
	return r, nil
}

// errNoToken refuses an API call of a channel built without a token.
var errNoToken = errors.New("no bot_token configured")

// Send posts the article, after waiting for the chat's pacing. A wait that
// would outlast ctx's deadline is not waited for: Send returns a retryable
// error with the time the chat is free.
//
// A featured image that cannot be fetched, or that Telegram refuses, does
// not stop the post: it goes out without it (as in ModePreview), and
// Receipt.Warning says so. When the post follows a photo as a reply and
// that reply fails, the photo stays, and Warning says what is missing.
func (c *Channel) Send(ctx context.Context, post syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	a := post.Article
	if c.token == "" {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, errNoToken))
	}
	p, err := c.planPost(post, true)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: rendering %q: %w", c.id, a.Title, err))
	}
	var warnings []string
	var photo photoSource
	if p.image != "" {
		photo, err = c.photoFor(ctx, p.image)
		if err != nil {
			if ctx.Err() != nil {
				return syndicate.Receipt{}, &syndicate.SendError{Kind: syndicate.Retryable, Err: fmt.Errorf("telegram: fetching the image: %w", err)}
			}
			warnings = append(warnings, channels.WithoutImage(p.image, err))
			if p, err = c.planPost(post, false); err != nil {
				return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("telegram channel %q: rendering %q: %w", c.id, a.Title, err))
			}
		}
	}
	if err := c.wait(ctx, "post to"); err != nil {
		return syndicate.Receipt{}, err
	}
	var r syndicate.Receipt
	if p.shape == shapeMessage {
		msg, _, se := c.sendMessage(ctx, a, p.text, p.preview, 0)
		if se != nil {
			return syndicate.Receipt{}, se
		}
		r = c.receipt(msg, remoteID{first: msg.MessageID})
	} else {
		var se *syndicate.SendError
		if r, warnings, se = c.sendPhotoPost(ctx, post, p, photo, warnings); se != nil {
			return syndicate.Receipt{}, se
		}
	}
	r.Warning = c.warning(warnings)
	return r, nil
}

// sendPhotoPost posts a photo and, for shapeSplit, the reply.
func (c *Channel) sendPhotoPost(ctx context.Context, post syndicate.Post, p plan, photo photoSource, warnings []string) (syndicate.Receipt, []string, *syndicate.SendError) {
	a := post.Article
	msg, apiErr, se := c.sendPhoto(ctx, a, p, photo)
	if se != nil && imageRefused(apiErr) && photo.url != "" && c.photo == PhotoAuto {
		// Telegram could not fetch the URL; nothing was posted. Send
		// the bytes instead.
		if up, err := c.upload(ctx, p.image); err == nil {
			msg, apiErr, se = c.sendPhoto(ctx, a, p, up)
		} else if ctx.Err() != nil {
			return syndicate.Receipt{}, nil, &syndicate.SendError{Kind: syndicate.Retryable, Err: fmt.Errorf("telegram: fetching the image: %w", err)}
		}
	}
	if se != nil && imageRefused(apiErr) {
		// Nothing was posted: post without the photo.
		warnings = append(warnings, channels.WithoutImage(p.image, se))
		np, err := c.planPost(post, false)
		if err != nil {
			return syndicate.Receipt{}, nil, channels.Permanent(fmt.Errorf("telegram channel %q: rendering %q: %w", c.id, a.Title, err))
		}
		msg, _, se := c.sendMessage(ctx, a, np.text, np.preview, 0)
		if se != nil {
			return syndicate.Receipt{}, nil, se
		}
		return c.receipt(msg, remoteID{first: msg.MessageID}), warnings, nil
	}
	if se != nil {
		return syndicate.Receipt{}, nil, se
	}
	id := remoteID{photo: true, first: msg.MessageID}
	if p.shape == shapeSplit {
		c.pacer.take()
		reply, err := c.sendReply(ctx, a, p.text, msg)
		switch kind, _ := syndicate.Classify(err); {
		case err == nil:
			id.reply = reply.MessageID
		case kind == syndicate.Uncertain:
			warnings = append(warnings, fmt.Sprintf("the photo went out with a short caption; the text that follows it as a reply may have too (%v): check the chat", err))
		default:
			warnings = append(warnings, fmt.Sprintf("the photo went out with a short caption, but not the text that follows it as a reply (%v): post it by hand", err))
		}
	}
	return c.receipt(msg, id), warnings, nil
}

// sendReply posts the text that follows a photo. It has no link preview
// (the photo is there) and carries the button. A refusal for flood control
// is waited out once, when ctx allows: the photo is already posted.
func (c *Channel) sendReply(ctx context.Context, a syndicate.Article, text message, photo tgbotapi.Message) (tgbotapi.Message, error) {
	for attempt := 0; ; attempt++ {
		msg, _, se := c.sendMessage(ctx, a, text, false, photo.MessageID)
		if se == nil {
			return msg, nil
		}
		if attempt > 0 || se.Kind != syndicate.Retryable {
			return msg, se
		}
		if err := c.wait(ctx, "reply in"); err != nil {
			return msg, se
		}
	}
}

// imageRefused reports whether Telegram refused a sendPhoto for its photo
// (it could not fetch or read it, or the bot may not send photos there):
// nothing was posted, and the post can go without the photo.
func imageRefused(e *tgbotapi.Error) bool {
	if e == nil || (e.Code != 0 && e.Code != http.StatusBadRequest) {
		return false
	}
	desc := strings.ToLower(e.Message)
	for _, s := range []string{"photo", "image", "http url", "web page content", "file identifier", "file must", "dimensions"} {
		if strings.Contains(desc, s) {
			return true
		}
	}
	return false
}

// wait waits for the chat's pacing.
func (c *Channel) wait(ctx context.Context, what string) *syndicate.SendError {
	chat := c.currentChat()
	if err := ctx.Err(); err != nil {
		return &syndicate.SendError{Kind: syndicate.Retryable, Err: fmt.Errorf("telegram: %s %s: %w", what, chat, err)}
	}
	if err := c.pacer.wait(ctx); err != nil {
		var soon *tooSoonError
		if errors.As(err, &soon) {
			return &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: soon.until,
				Err: fmt.Errorf("telegram: waiting to %s %s: %w", what, chat, err)}
		}
		return &syndicate.SendError{Kind: syndicate.Retryable, Err: fmt.Errorf("telegram: waiting to %s %s: %w", what, chat, err)}
	}
	return nil
}

type linkPreview struct {
	URL              string `json:"url,omitempty"`
	PreferLargeMedia bool   `json:"prefer_large_media,omitempty"`
	IsDisabled       bool   `json:"is_disabled,omitempty"`
}

type replyParameters struct {
	MessageID                int  `json:"message_id"`
	AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
}

// params returns what every send to chat shares.
func (c *Channel) params(chat string) tgbotapi.Params {
	p := tgbotapi.Params{"chat_id": chat, "parse_mode": tgbotapi.ModeHTML}
	p.AddNonZero("message_thread_id", c.threadID)
	p.AddBool("disable_notification", c.silent)
	p.AddBool("protect_content", c.protect)
	return p
}

// addButton adds the inline button that opens the article, unless it is
// off or the article has no link Telegram takes for a button (it refuses
// the whole post for a button to a host without a dot, such as
// localhost).
func (c *Channel) addButton(p tgbotapi.Params, a syndicate.Article) error {
	label, link := c.buttonOf(a)
	if label == "" {
		return nil
	}
	button := tgbotapi.NewInlineKeyboardButtonURL(label, link)
	if err := p.AddInterface("reply_markup", tgbotapi.NewInlineKeyboardMarkup(tgbotapi.NewInlineKeyboardRow(button))); err != nil {
		return fmt.Errorf("encoding reply_markup: %w", err)
	}
	return nil
}

// buttonOf is the inline button under the post of a: its label and the
// link it opens; "" for none.
func (c *Channel) buttonOf(a syndicate.Article) (label, link string) {
	link = strings.TrimSpace(a.Link)
	if c.button == ButtonOff || !isWebURL(link) {
		return "", ""
	}
	if _, err := tghtml.CheckLink(link); err != nil {
		return "", ""
	}
	label = c.button
	if label == "" {
		label = buttonLabel(a.Language)
	}
	return label, link
}

// addPreview sets link_preview_options: a large preview of the article, or
// none.
func addPreview(p tgbotapi.Params, a syndicate.Article, preview bool) error {
	o := linkPreview{IsDisabled: true}
	if link := strings.TrimSpace(a.Link); preview && isWebURL(link) {
		o = linkPreview{URL: link, PreferLargeMedia: true}
	}
	if err := p.AddInterface("link_preview_options", o); err != nil {
		return fmt.Errorf("encoding link_preview_options: %w", err)
	}
	return nil
}

// sendMessage posts text, as a reply to replyTo when it is not 0.
func (c *Channel) sendMessage(ctx context.Context, a syndicate.Article, text message, preview bool, replyTo int) (tgbotapi.Message, *tgbotapi.Error, *syndicate.SendError) {
	chat := c.currentChat()
	p := c.params(chat)
	p["text"] = text.text
	err := addPreview(p, a, preview)
	if err == nil {
		err = c.addButton(p, a)
	}
	if err == nil && replyTo != 0 {
		err = p.AddInterface("reply_parameters", replyParameters{MessageID: replyTo, AllowSendingWithoutReply: true})
	}
	if err != nil {
		return tgbotapi.Message{}, nil, channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, err))
	}
	return c.sent(ctx, "sendMessage to "+chat, "sendMessage", p, nil)
}

// sendPhoto posts the photo with its caption; the button goes with it
// unless the post follows as a reply.
func (c *Channel) sendPhoto(ctx context.Context, a syndicate.Article, pl plan, photo photoSource) (tgbotapi.Message, *tgbotapi.Error, *syndicate.SendError) {
	chat := c.currentChat()
	p := c.params(chat)
	p["caption"] = pl.caption.text
	if photo.url != "" {
		p["photo"] = photo.url
	}
	if pl.shape == shapePhoto {
		if err := c.addButton(p, a); err != nil {
			return tgbotapi.Message{}, nil, channels.Permanent(fmt.Errorf("telegram channel %q: %w", c.id, err))
		}
	}
	return c.sent(ctx, "sendPhoto to "+chat, "sendPhoto", p, photo.file)
}

// sent makes a send and reads the message it made.
func (c *Channel) sent(ctx context.Context, what, method string, p tgbotapi.Params, file *tgbotapi.RequestFile) (tgbotapi.Message, *tgbotapi.Error, *syndicate.SendError) {
	result, apiErr, se := c.request(ctx, what, method, p, file, false)
	if se != nil {
		return tgbotapi.Message{}, apiErr, se
	}
	var msg tgbotapi.Message
	// "ok": true means it is posted; only its id may be unknown.
	_ = json.Unmarshal(result, &msg)
	if msg.Chat == nil {
		msg.Chat = &tgbotapi.Chat{}
	}
	if msg.Chat.ID == 0 {
		if id, err := strconv.ParseInt(p["chat_id"], 10, 64); err == nil {
			msg.Chat.ID = id
		} else if name, ok := strings.CutPrefix(p["chat_id"], "@"); ok && msg.Chat.UserName == "" {
			msg.Chat.UserName = name
		}
	}
	return msg, nil, nil
}

// receipt makes the receipt of a post whose first message is msg.
func (c *Channel) receipt(msg tgbotapi.Message, id remoteID) syndicate.Receipt {
	if id.first == 0 {
		return syndicate.Receipt{}
	}
	switch {
	case msg.Chat.ID != 0:
		id.chat = strconv.FormatInt(msg.Chat.ID, 10)
	case msg.Chat.UserName != "":
		id.chat = "@" + msg.Chat.UserName
	}
	return syndicate.Receipt{RemoteID: id.String(), URL: messageURL(msg.Chat, id.first)}
}

func isStdTransport(rt http.RoundTripper) bool {
	_, ok := rt.(*http.Transport)
	return rt == nil || ok
}

func buttonLabel(language string) string {
	if channels.LanguageCode(language) == "es" {
		return "Leer el artículo"
	}
	return "Read the article"
}

// messageURL links to a message: t.me/name/ID in a public chat,
// t.me/c/ID/ID (for members) in a private channel or supergroup, nothing
// in another chat.
func messageURL(chat *tgbotapi.Chat, id int) string {
	if chat.UserName != "" {
		return fmt.Sprintf("https://t.me/%s/%d", chat.UserName, id)
	}
	if s := strconv.FormatInt(chat.ID, 10); strings.HasPrefix(s, "-100") && len(s) > 4 {
		return fmt.Sprintf("https://t.me/c/%s/%d", s[4:], id)
	}
	return ""
}

// currentChat is where posts go now.
func (c *Channel) currentChat() string {
	c.chatMu.Lock()
	defer c.chatMu.Unlock()
	return c.chat
}

// migrate moves the channel from chat from to the supergroup to, when a
// request to from was refused because the group became that supergroup.
// It reports whether posts now go to the supergroup.
func (c *Channel) migrate(from string, to int64) bool {
	target := strconv.FormatInt(to, 10)
	c.chatMu.Lock()
	defer c.chatMu.Unlock()
	if c.chat == from {
		c.chat = target
		c.log.Warn("telegram: the group became a supergroup; posting there from now on, until the next start: set chat in the configuration",
			"channel", c.id, "chat", c.configuredChat, "from", from, "to", target)
	}
	return c.chat == target
}

// warning joins what the receipt must tell, and reminds that the chat
// moved.
func (c *Channel) warning(notes []string) string {
	if chat := c.currentChat(); chat != c.configuredChat {
		notes = append(notes, fmt.Sprintf("the group %s became the supergroup %s, where this went: set chat to %s in the configuration", c.configuredChat, chat, chat))
	}
	return strings.Join(notes, "; ")
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
	chatID := c.currentChat()
	var me tgbotapi.User
	if err := c.get(ctx, "getMe", nil, &me); err != nil {
		return fail("getMe", err)
	}
	var chat tgbotapi.Chat
	if err := c.get(ctx, "getChat", tgbotapi.Params{"chat_id": chatID}, &chat); err != nil {
		return fail("getChat "+chatID, err)
	}
	var member struct {
		Status          string `json:"status"`
		CanPostMessages bool   `json:"can_post_messages"`
		CanSendMessages *bool  `json:"can_send_messages"`
		CanSendPhotos   *bool  `json:"can_send_photos"`
	}
	params := tgbotapi.Params{"chat_id": chatID}
	params.AddNonZero64("user_id", me.ID)
	if err := c.get(ctx, "getChatMember", params, &member); err != nil {
		return fail("getChatMember "+chatID, err)
	}
	bot, where := "@"+me.UserName, chatID
	if !strings.HasPrefix(where, "@") && chat.Title != "" {
		where = fmt.Sprintf("%q (%s)", chat.Title, chatID)
	}
	fix := "add the bot to " + where + " as an administrator with the right to post messages"
	switch {
	case member.Status == "creator":
	case member.Status == "administrator" && chat.Type == "channel" && !member.CanPostMessages:
		return fail("checking rights", fmt.Errorf("bot %s is an administrator of %s without the right to post messages: give it that right", bot, where))
	case member.Status == "administrator":
	case member.Status == "member" && chat.Type == "channel":
		return fail("checking rights", fmt.Errorf("bot %s is a member of channel %s but not an administrator: %s", bot, where, fix))
	case member.Status == "member":
	case member.Status == "restricted" && (member.CanSendMessages == nil || *member.CanSendMessages):
		if member.CanSendPhotos != nil && !*member.CanSendPhotos && c.mode == ModePhoto {
			return fmt.Sprintf("bot %s can post in %s, but not photos: posts will go without their images", bot, where), nil
		}
	default:
		return fail("checking rights", fmt.Errorf("bot %s cannot post in %s (status %q): %s", bot, where, member.Status, fix))
	}
	return fmt.Sprintf("bot %s can post in %s", bot, where), nil
}
