package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/syndicate-daemon/syndicate/channels"
)

// DefaultAPIURL is where the Bot API lives when Config.APIURL is empty.
const DefaultAPIURL = "https://api.telegram.org"

// Defaults of the optional settings.
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

// Config is one Telegram channel: a bot posting to one chat.
type Config struct {
	ID string // the channel's id in the configuration, for messages
	// APIURL is the Bot API base: requests go to {APIURL}/bot{token}/{method}.
	// Default DefaultAPIURL.
	APIURL   string
	BotToken string
	Chat     string // "@name" or a numeric id such as -1001234567890
	// Silent sends without a notification sound (disable_notification).
	Silent bool
	// ProtectContent forbids forwarding and saving the posts.
	ProtectContent bool
	// MessageThreadID posts into a forum topic when not zero.
	MessageThreadID int
	// Mode is ModePhoto (default), ModePreview or ModeText.
	Mode string
	// Photo is PhotoAuto (default), PhotoURL or PhotoUpload.
	Photo string
	// MaxImageBytes bounds a downloaded image (default
	// DefaultMaxImageBytes); a larger one is not sent.
	MaxImageBytes int64
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
	// Template overrides the embedded default text/template (see
	// TemplateData for what it is given).
	Template string
	// Timeout bounds each HTTP request. Default 30s.
	Timeout time.Duration
	// PerMinute and MinInterval pace the posts to the chat: at most
	// PerMinute in any minute and at least MinInterval apart. A post goes
	// as soon as both allow: after a quiet spell at once, in a burst at
	// the defaults (20, 1s) one a second until 20 have gone in the last
	// minute. Zero means the default; a negative value lifts that bound
	// (for benchmarks against a local server).
	PerMinute   int
	MinInterval time.Duration
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

// withDefaults returns cfg with its defaults filled in, or every problem
// found, each naming its setting.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if u, err := url.Parse(cfg.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("api_url %q: want an http or https URL", cfg.APIURL))
	}
	// An empty token is allowed: dry runs and previews render without one,
	// and Send and Check refuse to call the API without it.
	switch {
	case strings.ContainsAny(cfg.BotToken, "/?#% \t\r\n"):
		// It becomes part of the URL path.
		errs = append(errs, errors.New("bot_token: contains characters a Telegram token never has"))
	}
	if err := checkChat(cfg.Chat); err != nil {
		errs = append(errs, err)
	}
	if cfg.MessageThreadID < 0 {
		errs = append(errs, fmt.Errorf("message_thread_id %d: must not be negative", cfg.MessageThreadID))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v: must not be negative", cfg.Timeout))
	}
	switch cfg.Mode {
	case "":
		cfg.Mode = ModePhoto
	case ModePhoto, ModePreview, ModeText:
	default:
		errs = append(errs, fmt.Errorf("mode %q: want photo, preview or text", cfg.Mode))
	}
	switch cfg.Photo {
	case "":
		cfg.Photo = PhotoAuto
	case PhotoAuto, PhotoURL, PhotoUpload:
	default:
		errs = append(errs, fmt.Errorf("photo %q: want auto, url or upload", cfg.Photo))
	}
	switch {
	case cfg.MaxImageBytes < 0:
		errs = append(errs, fmt.Errorf("max_image_bytes %d: must not be negative", cfg.MaxImageBytes))
	case cfg.MaxImageBytes == 0:
		cfg.MaxImageBytes = DefaultMaxImageBytes
	}
	cfg.Button = strings.TrimSpace(cfg.Button)
	if strings.EqualFold(cfg.Button, ButtonOff) || strings.EqualFold(cfg.Button, "false") {
		cfg.Button = ButtonOff
	} else if strings.ContainsFunc(cfg.Button, unicode.IsControl) {
		errs = append(errs, errors.New("button: must be one line of text"))
	}
	if cfg.MaxHashtags < 0 {
		errs = append(errs, fmt.Errorf("max_hashtags %d: must not be negative", cfg.MaxHashtags))
	}
	for _, cat := range slices.Sorted(maps.Keys(cfg.Hashtags)) {
		if name := cfg.Hashtags[cat]; name != "" && channels.Hashtag(name) == "" {
			errs = append(errs, fmt.Errorf("hashtags: %q: %q makes no hashtag: a name must hold a letter (or be empty, for none)", cat, name))
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.LookupIP == nil {
		cfg.LookupIP = net.DefaultResolver.LookupIP
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PerMinute == 0 {
		cfg.PerMinute = DefaultPerMinute
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("telegram channel %q: %w", cfg.ID, errors.Join(errs...))
	}
	return cfg, nil
}

func checkChat(chat string) error {
	if chat == "" {
		return errors.New("chat: required")
	}
	if name, ok := strings.CutPrefix(chat, "@"); ok {
		if name == "" || strings.IndexFunc(name, func(r rune) bool {
			return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 {
			return fmt.Errorf("chat %q: a username has only letters, digits and _", chat)
		}
		return nil
	}
	if _, err := strconv.ParseInt(chat, 10, 64); err != nil {
		return fmt.Errorf("chat %q: want @name or a numeric id such as -1001234567890", chat)
	}
	return nil
}

// interval is the spacing of the posts to the chat: at most PerMinute in
// any minute and at least MinInterval apart. A negative setting lifts its
// bound.
func (cfg Config) interval() spacing {
	return spacing{perMinute: max(cfg.PerMinute, 0), minGap: max(cfg.MinInterval, 0)}
}
