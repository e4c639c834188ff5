package mastodon

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/schema"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Defaults of the settings (see DefaultSettings) and of what Config leaves empty.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultVisibility = "public"
	DefaultUserAgent  = "syndicate"
	// DefaultMaxCharacters, DefaultCharactersPerURL and
	// DefaultDescriptionLimit are Mastodon's own defaults, used until (or
	// when) the instance tells otherwise.
	DefaultMaxCharacters    = 500
	DefaultCharactersPerURL = 23
	DefaultDescriptionLimit = 1500
	// DefaultMaxImageBytes caps the featured image downloaded for a post
	// (the instance's own image_size_limit caps it further).
	DefaultMaxImageBytes = 10 << 20
	// DefaultMediaTimeout is how long an uploaded image may stay in
	// processing before the post goes out without it.
	DefaultMediaTimeout = time.Minute
	// DefaultMinSummary and DefaultMaxSummary bound the summary of a post,
	// in characters as Mastodon counts them (see Config.MinSummary and
	// Config.MaxSummary).
	DefaultMinSummary = 100
	DefaultMaxSummary = 300
)

// Settings are a mastodon channel's own keys, with the meanings the
// configuration gives them: DefaultSettings holds their defaults, Decode
// reads them and Validate checks them, for every command at load.
type Settings struct {
	Server      string // base URL of the instance, e.g. https://mastodon.social
	AccessToken schema.Secret
	// Visibility of the posts: public (default), unlisted or private.
	Visibility string
	// MaxCharacters overrides the instance's limit; 0 asks the instance.
	MaxCharacters int
	// MaxHashtags is the most hashtags made from the article's categories
	// (0 adds none). When the post does not fit, they are dropped, last
	// first, once the summary is down to MinSummary.
	MaxHashtags int
	// MinSummary is the floor the summary is shortened to, when the post
	// does not fit, before a hashtag is dropped; below it, the summary is
	// dropped instead. 0 means DefaultMinSummary, or MaxSummary when that
	// is lower.
	MinSummary int
	// MaxSummary caps the summary even when the post would fit with more:
	// a post reads as a post, not as the article. 0 means
	// DefaultMaxSummary, or MinSummary when that is higher.
	MaxSummary int
	// Hashtags renames categories before they become hashtags: the key is
	// a category (compared without regard to case), the value the name of
	// its hashtag ("Mass strike" → "General strike" posts
	// #GeneralStrike); an empty value drops the category.
	Hashtags map[string]string
	// ContentWarnings maps categories (compared without regard to case) to
	// a content warning: a post of an article in any of them carries the
	// warnings as spoiler_text and is marked sensitive.
	ContentWarnings map[string]string
	// Image attaches the article's featured image.
	Image bool
	// MaxImageBytes caps the featured image's download.
	MaxImageBytes int64
	// MediaTimeout is how long an uploaded image may stay in processing
	// before the post goes out without it.
	MediaTimeout schema.Duration
	// RateLimits are the account's limits, which the channel paces its
	// calls under (the rate_limits: keys); 0 is no limit.
	RateLimits Pacing
}

// DefaultSettings are the settings of a mastodon channel that sets none.
func DefaultSettings() Settings {
	return Settings{
		Visibility:    DefaultVisibility,
		MaxHashtags:   4,
		Image:         true,
		MaxImageBytes: DefaultMaxImageBytes,
		MediaTimeout:  schema.Duration(DefaultMediaTimeout),
		RateLimits:    Pacing{RequestsPer5m: DefaultRequestsPer5m, MediaPer30m: DefaultMediaPer30m, StatusesPer3h: DefaultStatusesPer3h},
	}
}

// Decode reads a mastodon channel's own keys from its mapping o.
func Decode(d *schema.Decoder, o *schema.Object) *Settings {
	s := DefaultSettings()
	d.BaseURL(o, "server", &s.Server)
	d.Secret(o, "access_token", &s.AccessToken)
	d.Str(o, "visibility", &s.Visibility)
	d.Int(o, "max_characters", &s.MaxCharacters)
	d.Int(o, "max_hashtags", &s.MaxHashtags)
	d.Int(o, "min_summary", &s.MinSummary)
	d.Int(o, "max_summary", &s.MaxSummary)
	d.StrMap(o, "hashtags", &s.Hashtags)
	d.StrMap(o, "content_warnings", &s.ContentWarnings)
	d.Bool(o, "image", &s.Image)
	d.Int64(o, "max_image_bytes", &s.MaxImageBytes)
	d.Duration(o, "media_timeout", &s.MediaTimeout)
	if ro := d.Sub(o, "rate_limits"); ro != nil {
		d.Int(ro, "requests_per_5m", &s.RateLimits.RequestsPer5m)
		d.Int(ro, "media_per_30m", &s.RateLimits.MediaPer30m)
		d.Int(ro, "statuses_per_3h", &s.RateLimits.StatusesPer3h)
		d.UnknownKeys(ro, nil)
	}
	return &s
}

// Validate checks the settings; v names keys relative to the channel.
func (s *Settings) Validate(v *schema.Checker) {
	if v.Required("server", s.Server) {
		v.URL("server", s.Server)
	}
	v.Required("access_token", s.AccessToken.Value())
	v.OneOf("visibility", s.Visibility, "public", "unlisted", "private")
	v.AtLeast("max_characters", int64(s.MaxCharacters), 0)
	v.AtLeast("max_hashtags", int64(s.MaxHashtags), 0)
	v.AtLeast("min_summary", int64(s.MinSummary), 0)
	v.AtLeast("max_summary", int64(s.MaxSummary), 0)
	if s.MinSummary > 0 && s.MaxSummary > 0 && s.MinSummary > s.MaxSummary {
		v.Add("min_summary", "must not be more than max_summary (%d)", s.MaxSummary)
	}
	// Problems are sorted in file order, whatever the maps' order.
	for category, tag := range s.Hashtags {
		switch {
		case strings.TrimSpace(category) == "":
			v.Add("hashtags", "a category name is empty")
		case strings.TrimSpace(tag) != "" && channels.Hashtag(tag) == "":
			v.Add("hashtags."+category, "%q makes no hashtag: it must hold a letter (or be empty, to drop the category)", tag)
		}
	}
	for category, warning := range s.ContentWarnings {
		if strings.TrimSpace(category) == "" {
			v.Add("content_warnings", "a category name is empty")
		} else {
			v.Required("content_warnings."+category, strings.TrimSpace(warning))
		}
	}
	v.AtLeast("max_image_bytes", s.MaxImageBytes, 1)
	v.Positive("media_timeout", s.MediaTimeout)
	v.AtLeast("rate_limits.requests_per_5m", int64(s.RateLimits.RequestsPer5m), 0)
	v.AtLeast("rate_limits.media_per_30m", int64(s.RateLimits.MediaPer30m), 0)
	v.AtLeast("rate_limits.statuses_per_3h", int64(s.RateLimits.StatusesPer3h), 0)
}

// Edits reports that a mastodon channel edits its posts (on_update: edit).
func (*Settings) Edits() bool { return true }

// Config is one Mastodon channel: its settings and what the daemon gives
// it to run. New trusts the settings to have passed Validate.
type Config struct {
	Settings
	ID string // the channel id, used in error texts
	// Template, when set, is a text/template source that replaces the
	// embedded default. See TemplateData for the fields it can use.
	Template string
	// Peers are channels built before this one: one on the same account
	// (the same server and token) shares its pacing with this one, so the
	// account's limits hold for both together.
	Peers []*Channel
	// Timeout bounds every API call and the image download (default 30s).
	Timeout   time.Duration
	UserAgent string // default "syndicate"
	// Transport carries the requests (the API's and the image's); nil
	// means http.DefaultTransport.
	Transport http.RoundTripper
	// ImageTransport, when set, carries the downloads of featured images
	// instead of Transport: one that refuses what a feed must not make
	// the daemon fetch (see package netguard).
	ImageTransport http.RoundTripper
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives the warnings of posts that went out without their
	// image; nil discards them.
	Logger *slog.Logger

	// sleep waits d or until ctx ends; tests replace it to advance their
	// clock instead.
	sleep func(ctx context.Context, d time.Duration) error
}

// Build makes the channel of settings s, which Validate accepted, with
// what the daemon gives every channel, and declares what it can do; it is
// what the daemon calls.
func Build(d channels.Deps, s *Settings) (syndicate.Built, error) {
	var peers []*Channel
	for _, b := range d.Built {
		if m, ok := b.(*Channel); ok {
			peers = append(peers, m)
		}
	}
	c, err := New(Config{
		Settings: *s, ID: d.ID, Template: d.Template, Timeout: d.Timeout, UserAgent: d.UserAgent,
		ImageTransport: d.ImageTransport, Now: d.Now, Logger: d.Logger, Peers: peers,
	})
	if err != nil {
		return syndicate.Built{}, err
	}
	return syndicate.Built{Channel: c, Capabilities: syndicate.Capabilities{Editor: c, Resolver: c, TextChecker: c, Checker: c}}, nil
}

// withDefaults returns the configuration with what the daemon did not
// give filled in.
func (c Config) withDefaults() Config {
	c.Server = strings.TrimRight(strings.TrimSpace(c.Server), "/")
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
	if c.sleep == nil {
		c.sleep = channels.Sleep
	}
	return c
}

// summaryBounds returns the summary's floor and cap with the defaults
// filled in: a bound left at 0 takes its default, moved so as not to
// cross the other one. A negative cap stays: no cap.
func summaryBounds(floor, limit int) (int, int) {
	if floor == 0 {
		floor = DefaultMinSummary
		if limit > 0 {
			floor = min(floor, limit)
		}
	}
	if limit == 0 {
		limit = max(DefaultMaxSummary, floor)
	}
	return floor, limit
}

// foldKeys returns m with its keys trimmed and lower-cased, for lookups
// that ignore case.
func foldKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		out[channels.FoldCategory(k)] = strings.TrimSpace(m[k])
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
