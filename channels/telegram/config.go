package telegram

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/schema"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// DefaultAPIURL is where the Bot API lives (Telegram's own server).
const DefaultAPIURL = "https://api.telegram.org"

// Defaults of the settings (see DefaultSettings) and of what Config leaves empty.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultPerMinute     = 20
	DefaultMinInterval   = time.Second
	DefaultMaxImageBytes = 10 << 20 // Telegram's limit for an uploaded photo
)

// Modes: how a post goes out.
const (
	// ModePhoto sends the featured image with sendPhoto and the post as its
	// caption (or, when the post is longer than a caption may be, a short
	// caption and the post as a reply to the photo). An article without a
	// usable image goes out as in ModePreview. The default.
	ModePhoto = "photo"
	// ModePreview sends the post with sendMessage, with a link preview of
	// the article that prefers large media.
	ModePreview = "preview"
	// ModeText sends the post with sendMessage without a link preview.
	ModeText = "text"
)

// Photo: how the featured image travels in ModePhoto.
const (
	// PhotoAuto gives Telegram the image's URL when its host is public,
	// and uploads the image otherwise (a loopback, private or local host),
	// or when Telegram could not fetch the URL. The default.
	PhotoAuto = "auto"
	// PhotoURL always gives Telegram the URL.
	PhotoURL = "url"
	// PhotoUpload always downloads the image and uploads it.
	PhotoUpload = "upload"
)

// ButtonOff as Config.Button leaves the inline button out.
const ButtonOff = "off"

// Settings are a telegram channel's own keys, with the meanings the
// configuration gives them: DefaultSettings holds their defaults, Decode
// reads them and Validate checks them, for every command at load.
type Settings struct {
	// APIURL is the Bot API base: requests go to {APIURL}/bot{token}/{method}.
	APIURL   string
	BotToken schema.Secret
	Chat     string // "@name" or a numeric id such as -1001234567890
	// Silent sends without a notification sound (disable_notification).
	Silent bool
	// ProtectContent forbids forwarding and saving the posts.
	ProtectContent bool
	// MessageThreadID posts into a forum topic when not zero.
	MessageThreadID int64
	// Mode is ModePhoto (default), ModePreview or ModeText.
	Mode string
	// Photo is PhotoAuto (default), PhotoURL or PhotoUpload.
	Photo string
	// Button is the text of the inline URL button under each post that
	// opens the article. Empty means "Read the article", or "Leer el
	// artículo" for an article in Spanish; ButtonOff leaves it out.
	Button string
	// MaxHashtags is the most hashtags made from the article's categories
	// (0 adds none).
	MaxHashtags int
	// Hashtags renames categories (compared without regard to case) before
	// they become CamelCase hashtags: {"Mass strike": "General strike"}
	// makes #GeneralStrike; an empty name makes no hashtag of that
	// category.
	Hashtags map[string]string
	// Pacing spaces the posts to the chat (the pacing: keys).
	Pacing Pacing
}

// Pacing limits how fast the channel posts to its chat: at most PerMinute
// in any minute and at least MinInterval apart. A post goes as soon as
// both allow: after a quiet spell at once, in a burst at the defaults
// (20, 1s) one a second until 20 have gone in the last minute. Zero lifts
// that bound (for benchmarks against a local server).
type Pacing struct {
	PerMinute   int
	MinInterval schema.Duration
}

// DefaultSettings are the settings of a telegram channel that sets none.
func DefaultSettings() Settings {
	return Settings{
		APIURL:      DefaultAPIURL,
		Mode:        ModePhoto,
		Photo:       PhotoAuto,
		MaxHashtags: 4,
		Pacing:      Pacing{PerMinute: DefaultPerMinute, MinInterval: schema.Duration(DefaultMinInterval)},
	}
}

// Decode reads a telegram channel's own keys from its mapping o.
func Decode(d *schema.Decoder, o *schema.Object) *Settings {
	s := DefaultSettings()
	d.BaseURL(o, "api_url", &s.APIURL)
	d.Secret(o, "bot_token", &s.BotToken)
	d.Str(o, "chat", &s.Chat)
	d.Bool(o, "silent", &s.Silent)
	d.Bool(o, "protect_content", &s.ProtectContent)
	d.Str(o, "mode", &s.Mode)
	d.Str(o, "photo", &s.Photo)
	d.Str(o, "button", &s.Button)
	d.Int(o, "max_hashtags", &s.MaxHashtags)
	d.StrMap(o, "hashtags", &s.Hashtags)
	if po := d.Sub(o, "pacing"); po != nil {
		d.Int(po, "per_minute", &s.Pacing.PerMinute)
		d.Duration(po, "min_interval", &s.Pacing.MinInterval)
		d.UnknownKeys(po, nil)
	}
	d.Int64(o, "message_thread_id", &s.MessageThreadID)
	return &s
}

// Validate checks the settings; v names keys relative to the channel.
func (s *Settings) Validate(v *schema.Checker) {
	if v.Required("api_url", s.APIURL) {
		v.URL("api_url", s.APIURL)
	}
	if v.Required("bot_token", s.BotToken.Value()) && strings.ContainsAny(s.BotToken.Value(), "/?#% \t\r\n") {
		// It becomes part of the URL path.
		v.Add("bot_token", "holds characters a Telegram token never has")
	}
	if v.Required("chat", s.Chat) && !isChat(s.Chat) {
		v.Add("chat", "must be @name (5 to 32 letters, digits or _) or a numeric chat id (got %q)", s.Chat)
	}
	v.OneOf("mode", s.Mode, ModePhoto, ModePreview, ModeText)
	v.OneOf("photo", s.Photo, PhotoAuto, PhotoURL, PhotoUpload)
	if strings.ContainsFunc(s.Button, unicode.IsControl) {
		v.Add("button", "must be one line of text, or off")
	}
	v.AtLeast("max_hashtags", int64(s.MaxHashtags), 0)
	// Problems are sorted in file order, whatever the map's order.
	for category, name := range s.Hashtags {
		switch {
		case strings.TrimSpace(category) == "":
			v.Add("hashtags", "a category name is empty")
		case name != "" && channels.Hashtag(name) == "":
			v.Add("hashtags."+category, "%q makes no hashtag: it must hold a letter (or be empty, for none)", name)
		}
	}
	v.AtLeast("pacing.per_minute", int64(s.Pacing.PerMinute), 0)
	v.AtLeast("message_thread_id", s.MessageThreadID, 0)
}

// Edits reports that a telegram channel edits its posts (on_update: edit).
func (*Settings) Edits() bool { return true }

// isChat accepts "@name" (5 to 32 of [A-Za-z0-9_]) or an integer chat id.
func isChat(s string) bool {
	if name, ok := strings.CutPrefix(s, "@"); ok {
		if len(name) < 5 || len(name) > 32 {
			return false
		}
		for _, r := range name {
			if !(r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9')) {
				return false
			}
		}
		return true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n != 0 && !strings.HasPrefix(s, "+")
}

// Config is one Telegram channel: a bot posting to one chat, its settings
// and what the daemon gives it to run. New trusts the settings to have
// passed Validate.
type Config struct {
	Settings
	ID string // the channel's id in the configuration, for messages
	// Template overrides the embedded default text/template (see
	// TemplateData for what it is given).
	Template string
	// Timeout bounds each HTTP request. Default 30s.
	Timeout time.Duration
	// MaxImageBytes bounds a downloaded image (default
	// DefaultMaxImageBytes); a larger one is not sent.
	MaxImageBytes int64
	// Transport carries the requests; nil means http.DefaultTransport.
	// Whether a request was written is learnt from net/http/httptrace: a
	// RoundTripper that neither is nor wraps an *http.Transport (with the
	// request's context) makes every failed send uncertain.
	Transport http.RoundTripper
	// ImageTransport carries the downloads of featured images; nil means
	// http.DefaultTransport.
	ImageTransport http.RoundTripper
	// LookupIP resolves an image's host for PhotoAuto; nil means
	// net.DefaultResolver.LookupIP.
	LookupIP func(ctx context.Context, network, host string) ([]net.IP, error)
	// Log receives what the operator should know (a chat that moved); nil
	// discards it.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Build makes the channel of settings s, which Validate accepted, with
// what the daemon gives every channel, and declares what it can do; it is
// what the daemon calls.
func Build(d channels.Deps, s *Settings) (syndicate.Built, error) {
	c, err := New(Config{
		Settings: *s, ID: d.ID, Template: d.Template, Timeout: d.Timeout,
		ImageTransport: d.ImageTransport, Now: d.Now, Log: d.Logger,
	})
	if err != nil {
		return syndicate.Built{}, err
	}
	return syndicate.Built{Channel: c, Capabilities: syndicate.Capabilities{Editor: c, TextChecker: c, Checker: c}}, nil
}

// withDefaults returns cfg with what the daemon did not give filled in.
func (cfg Config) withDefaults() Config {
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	cfg.Button = strings.TrimSpace(cfg.Button)
	if strings.EqualFold(cfg.Button, ButtonOff) || strings.EqualFold(cfg.Button, "false") {
		cfg.Button = ButtonOff
	}
	if cfg.MaxImageBytes <= 0 {
		cfg.MaxImageBytes = DefaultMaxImageBytes
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.LookupIP == nil {
		cfg.LookupIP = net.DefaultResolver.LookupIP
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return cfg
}

// interval is the spacing of the posts to the chat: at most PerMinute in
// any minute and at least MinInterval apart; zero lifts a bound.
func (cfg Config) interval() spacing {
	return spacing{perMinute: max(cfg.Pacing.PerMinute, 0), minGap: max(cfg.Pacing.MinInterval.Std(), 0)}
}
