package bluesky

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/schema"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Defaults of the settings (see DefaultSettings) and of what Config leaves empty.
const (
	DefaultService   = "https://bsky.social"
	DefaultTimeout   = 30 * time.Second
	DefaultUserAgent = "syndicate"
	// DefaultMaxImageBytes caps the featured image downloaded for a post;
	// what goes up is scaled down to what its use allows (see MaxThumbBytes).
	DefaultMaxImageBytes = 10 << 20
	DefaultMinSummary    = 80
	DefaultMaxSummary    = 200
)

// Embeds: what goes under the post's text.
const (
	// EmbedCard is a link card of the article, with the featured image as
	// its thumbnail. The default.
	EmbedCard = "card"
	// EmbedImage attaches the featured image, its caption as alt text;
	// the link stays in the text.
	EmbedImage = "image"
	// EmbedNone posts the text alone.
	EmbedNone = "none"
)

// Settings are a bluesky channel's own keys, with the meanings the
// configuration gives them: DefaultSettings holds their defaults, Decode
// reads them and Validate checks them, for every command at load.
type Settings struct {
	Handle      string        // the account, e.g. emancipation.bsky.social
	AppPassword schema.Secret // an app password, never the account's own
	Service     string        // the PDS's base URL
	// Language of the posts (langs); "" takes the article's.
	Language string
	Embed    string // EmbedCard, EmbedImage or EmbedNone
	// MaxHashtags is the most hashtags made from the article's categories
	// (0 adds none); Hashtags renames categories first (an empty name
	// drops one), as for Mastodon.
	MaxHashtags int
	Hashtags    map[string]string
	// MinSummary and MaxSummary bound the summary, in graphemes: the floor
	// it is shortened to before a hashtag is dropped, and its cap.
	MinSummary, MaxSummary int
	// MaxImageBytes caps the featured image's download.
	MaxImageBytes int64
}

// DefaultSettings are the settings of a bluesky channel that sets none.
func DefaultSettings() Settings {
	return Settings{
		Service:       DefaultService,
		Embed:         EmbedCard,
		MaxHashtags:   3,
		MinSummary:    DefaultMinSummary,
		MaxSummary:    DefaultMaxSummary,
		MaxImageBytes: DefaultMaxImageBytes,
	}
}

// Decode reads a bluesky channel's own keys from its mapping o.
func Decode(d *schema.Decoder, o *schema.Object) *Settings {
	s := DefaultSettings()
	d.Str(o, "handle", &s.Handle)
	d.Secret(o, "app_password", &s.AppPassword)
	d.BaseURL(o, "service", &s.Service)
	d.Str(o, "language", &s.Language)
	d.Str(o, "embed", &s.Embed)
	d.Int(o, "max_hashtags", &s.MaxHashtags)
	d.StrMap(o, "hashtags", &s.Hashtags)
	d.Int(o, "min_summary", &s.MinSummary)
	d.Int(o, "max_summary", &s.MaxSummary)
	d.Int64(o, "max_image_bytes", &s.MaxImageBytes)
	s.Handle = strings.TrimPrefix(strings.TrimSpace(s.Handle), "@")
	return &s
}

// Validate checks the settings; v names keys relative to the channel.
func (s *Settings) Validate(v *schema.Checker) {
	if v.Required("handle", s.Handle) && !isHandle(s.Handle) {
		v.Add("handle", "must be a handle such as emancipation.bsky.social (got %q)", s.Handle)
	}
	v.Required("app_password", s.AppPassword.Value())
	if v.Required("service", s.Service) {
		v.URL("service", s.Service)
	}
	if s.Language != "" && !isLanguage(s.Language) {
		v.Add("language", "must be a language tag such as en, es or pt-BR (got %q)", s.Language)
	}
	v.OneOf("embed", s.Embed, EmbedCard, EmbedImage, EmbedNone)
	v.AtLeast("max_hashtags", int64(s.MaxHashtags), 0)
	for category, tag := range s.Hashtags {
		switch {
		case strings.TrimSpace(category) == "":
			v.Add("hashtags", "a category name is empty")
		case strings.TrimSpace(tag) != "" && channels.Hashtag(tag) == "":
			v.Add("hashtags."+category, "%q makes no hashtag: it must hold a letter (or be empty, to drop the category)", tag)
		}
	}
	v.AtLeast("min_summary", int64(s.MinSummary), 0)
	v.AtLeast("max_summary", int64(s.MaxSummary), 0)
	if s.MinSummary > s.MaxSummary && s.MaxSummary > 0 {
		v.Add("min_summary", "must not be more than max_summary (%d)", s.MaxSummary)
	}
	v.AtLeast("max_image_bytes", s.MaxImageBytes, 1)
}

// Edits reports that a bluesky channel cannot edit its posts: Bluesky
// shows no edits, so on_update: edit is refused at load.
func (*Settings) Edits() bool { return false }

// isHandle accepts a domain name of at least two labels (letters, digits
// and hyphens, not at a label's ends), as AT Protocol handles are.
func isHandle(s string) bool {
	labels := strings.Split(s, ".")
	if len(s) > 253 || len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return !('0' <= last[0] && last[0] <= '9')
}

// isLanguage accepts BCP 47-like tags: en, pt-BR, zh-Hant-TW.
func isLanguage(s string) bool {
	for i, part := range strings.Split(s, "-") {
		if len(part) < 2 || len(part) > 8 || (i == 0 && len(part) > 3) {
			return false
		}
		for _, r := range part {
			letter := 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
			if !letter && (i == 0 || r < '0' || r > '9') {
				return false
			}
		}
	}
	return true
}

// Config is one Bluesky channel: its settings and what the daemon gives
// it to run. New trusts the settings to have passed Validate.
type Config struct {
	Settings
	ID string // the channel id, used in error texts
	// Template, when set, is a text/template source that replaces the
	// embedded default. See TemplateData for the fields it can use.
	Template  string
	Timeout   time.Duration // bounds every call and the image download (default 30s)
	UserAgent string        // default "syndicate"
	// Transport carries the PDS's requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// ImageTransport carries the downloads of featured images (default
	// Transport): one that refuses what a feed must not make the daemon
	// fetch (see package netguard).
	ImageTransport http.RoundTripper
	Now            func() time.Time // default time.Now
	// Logger receives what the operator should know (a post sent without
	// its image); nil discards it.
	Logger *slog.Logger
	// Vault keeps the session between runs; nil keeps it in memory only.
	Vault channels.Vault
}

// Build makes the channel of settings s, which Validate accepted, with
// what the daemon gives every channel, and declares what it can do; it is
// what the daemon calls.
func Build(d channels.Deps, s *Settings) (syndicate.Built, error) {
	c, err := New(Config{
		Settings: *s, ID: d.ID, Template: d.Template, Timeout: d.Timeout, UserAgent: d.UserAgent,
		ImageTransport: d.ImageTransport, Now: d.Now, Logger: d.Logger, Vault: d.Vault,
	})
	if err != nil {
		return syndicate.Built{}, err
	}
	// A send is safe to repeat: its record key is fixed, and it looks
	// for the record before creating it.
	return syndicate.Built{Channel: c, Capabilities: syndicate.Capabilities{TextChecker: c, Checker: c, Resendable: true}}, nil
}

// withDefaults returns the configuration with what the daemon did not
// give filled in.
func (c Config) withDefaults() Config {
	c.Service = strings.TrimRight(strings.TrimSpace(c.Service), "/")
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Transport == nil {
		c.Transport = http.DefaultTransport
	}
	if c.ImageTransport == nil {
		c.ImageTransport = c.Transport
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}
