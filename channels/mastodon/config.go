package mastodon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
)

// Defaults used when the configuration leaves a field empty.
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

// Config is one Mastodon channel: an account on an instance.
type Config struct {
	ID          string // the channel id, used in error texts
	Server      string // base URL of the instance, e.g. https://mastodon.social
	AccessToken string
	// Visibility of the posts: public (default), unlisted or private.
	Visibility string
	// Template, when set, is a text/template source that replaces the
	// embedded default. See TemplateData for the fields it can use.
	Template string
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
	// DefaultMaxSummary, or MinSummary when that is higher; a negative
	// value means no cap.
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
	// NoImage posts without the article's featured image.
	NoImage bool
	// MaxImageBytes caps the featured image's download (default 10 MiB).
	MaxImageBytes int64
	// MediaTimeout is how long an uploaded image may stay in processing
	// before the post goes out without it (default 1m).
	MediaTimeout time.Duration
	// Pacing spaces the account's API calls below Mastodon's rate limits.
	Pacing Pacing
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

// withDefaults returns the configuration completed with defaults, or every
// problem found in it.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	c.Server = strings.TrimRight(strings.TrimSpace(c.Server), "/")
	if c.Server == "" {
		errs = append(errs, errors.New("server: required"))
	} else if u, err := url.Parse(c.Server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("server: %q is not an http(s) URL", c.Server))
	}
	// An empty token is allowed: dry runs and previews render without one,
	// and no API call is made without it (see errNoToken).
	switch c.Visibility {
	case "":
		c.Visibility = DefaultVisibility
	case "public", "unlisted", "private":
	default:
		errs = append(errs, fmt.Errorf("visibility: %q is not one of public, unlisted, private", c.Visibility))
	}
	if c.MaxCharacters < 0 {
		errs = append(errs, fmt.Errorf("max_characters: %d is negative", c.MaxCharacters))
	}
	if c.MaxHashtags < 0 {
		errs = append(errs, fmt.Errorf("max_hashtags: %d is negative", c.MaxHashtags))
	}
	switch {
	case c.MinSummary < 0:
		errs = append(errs, fmt.Errorf("min_summary: %d is negative", c.MinSummary))
	case c.MaxSummary > 0 && c.MinSummary > c.MaxSummary:
		errs = append(errs, fmt.Errorf("min_summary: %d is more than max_summary (%d)", c.MinSummary, c.MaxSummary))
	}
	c.MinSummary, c.MaxSummary = summaryBounds(c.MinSummary, c.MaxSummary)
	for _, category := range sortedKeys(c.Hashtags) {
		if strings.TrimSpace(category) == "" {
			errs = append(errs, errors.New("hashtags: a category name is empty"))
		} else if tag := c.Hashtags[category]; strings.TrimSpace(tag) != "" && channels.Hashtag(tag) == "" {
			errs = append(errs, fmt.Errorf("hashtags[%q]: %q makes no hashtag (it needs a letter); use \"\" to drop the category", category, tag))
		}
	}
	for _, category := range sortedKeys(c.ContentWarnings) {
		if strings.TrimSpace(category) == "" {
			errs = append(errs, errors.New("content_warnings: a category name is empty"))
		} else if strings.TrimSpace(c.ContentWarnings[category]) == "" {
			errs = append(errs, fmt.Errorf("content_warnings[%q]: the warning is empty", category))
		}
	}
	switch {
	case c.MaxImageBytes < 0:
		errs = append(errs, fmt.Errorf("max_image_bytes: %d is negative", c.MaxImageBytes))
	case c.MaxImageBytes == 0:
		c.MaxImageBytes = DefaultMaxImageBytes
	}
	switch {
	case c.MediaTimeout < 0:
		errs = append(errs, fmt.Errorf("media_timeout: %v is negative", c.MediaTimeout))
	case c.MediaTimeout == 0:
		c.MediaTimeout = DefaultMediaTimeout
	}
	c.Pacing = c.Pacing.withDefaults()
	switch {
	case c.Timeout < 0:
		errs = append(errs, fmt.Errorf("timeout: %v is negative", c.Timeout))
	case c.Timeout == 0:
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
	return c, errors.Join(errs...)
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
