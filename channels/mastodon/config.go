package mastodon

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults used when the configuration leaves a field empty.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultVisibility = "public"
	DefaultUserAgent  = "syndicate"
	// DefaultMaxCharacters and DefaultCharactersPerURL are Mastodon's own
	// defaults, used until (or when) the instance tells otherwise.
	DefaultMaxCharacters    = 500
	DefaultCharactersPerURL = 23
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
	// (0 adds none). They are dropped, last first, before the summary is
	// shortened.
	MaxHashtags int
	// Timeout bounds every API call (default 30s).
	Timeout   time.Duration
	UserAgent string // default "syndicate"
	// Transport carries the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Now is the clock (default time.Now).
	Now func() time.Time
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
	if c.Now == nil {
		c.Now = time.Now
	}
	return c, errors.Join(errs...)
}
