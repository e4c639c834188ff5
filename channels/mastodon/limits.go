package mastodon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/syndicate-daemon/syndicate/channels"
)

// limitsTTL is how long the instance's limits are trusted before Send asks
// again.
const limitsTTL = 24 * time.Hour

// Limits are what the instance allows in a status and its media.
type Limits struct {
	MaxCharacters    int // configuration.statuses.max_characters
	CharactersPerURL int // configuration.statuses.characters_reserved_per_url
	// DescriptionLimit is the longest image description, in characters
	// (configuration.media_attachments.description_limit).
	DescriptionLimit int
	// ImageSizeLimit is the largest image upload in bytes
	// (configuration.media_attachments.image_size_limit); 0 when unknown.
	ImageSizeLimit int64
}

func defaultLimits() Limits {
	return Limits{MaxCharacters: DefaultMaxCharacters, CharactersPerURL: DefaultCharactersPerURL, DescriptionLimit: DefaultDescriptionLimit}
}

// Limits returns the limits posts are fitted to: the instance's, fetched
// from /api/v2/instance (falling back to /api/v1/instance, then to
// Mastodon's defaults when neither exists) and cached for 24 hours, with
// Config.MaxCharacters, when set, in place of the instance's character
// limit. When a refresh fails, the stale values are kept; with
// MaxCharacters set, a failure falls back to the defaults for the rest.
func (c *Channel) Limits(ctx context.Context) (Limits, error) {
	c.mu.Lock()
	cached, at := c.limits, c.limitsAt
	c.mu.Unlock()
	if !at.IsZero() && c.cfg.Now().Sub(at) < limitsTTL {
		return c.withOverride(cached), nil
	}
	l, err := c.fetchLimits(ctx)
	switch {
	case err != nil && !at.IsZero():
		return c.withOverride(cached), nil
	case err != nil && c.cfg.MaxCharacters > 0:
		l = defaultLimits()
	case err != nil:
		return Limits{}, err
	}
	c.mu.Lock()
	c.limits, c.limitsAt = l, c.cfg.Now()
	c.mu.Unlock()
	return c.withOverride(l), nil
}

// cachedLimits returns the limits without any network call.
func (c *Channel) cachedLimits() Limits {
	c.mu.Lock()
	l, fetched := c.limits, !c.limitsAt.IsZero()
	c.mu.Unlock()
	if !fetched {
		l = defaultLimits()
	}
	return c.withOverride(l)
}

func (c *Channel) withOverride(l Limits) Limits {
	if c.cfg.MaxCharacters > 0 {
		l.MaxCharacters = c.cfg.MaxCharacters
	}
	return l
}

func (c *Channel) fetchLimits(ctx context.Context) (Limits, error) {
	l, err := c.instanceV2(ctx)
	if isNotFound(err) {
		l, err = c.instanceV1(ctx)
		if isNotFound(err) {
			return defaultLimits(), nil
		}
	}
	var notJSON *decodeError
	switch {
	case errors.As(err, &notJSON):
		// Not a Mastodon server, most likely a wrong server URL: retrying cannot help.
		return Limits{}, channels.Permanent(fmt.Errorf("mastodon: reading the instance's limits (is %s a Mastodon instance?): %w", c.cfg.Server, err))
	case err != nil:
		return Limits{}, c.sendError("reading the instance's limits", err, false, true)
	}
	return l, nil
}

// instanceConfiguration is the part of an instance's configuration the
// channel reads, the same in v1 (Mastodon 3.x) and v2.
type instanceConfiguration struct {
	Statuses struct {
		MaxCharacters    float64 `json:"max_characters"`
		CharactersPerURL float64 `json:"characters_reserved_per_url"`
	} `json:"statuses"`
	MediaAttachments struct {
		DescriptionLimit float64 `json:"description_limit"`
		ImageSizeLimit   float64 `json:"image_size_limit"`
	} `json:"media_attachments"`
}

func (ic instanceConfiguration) limits() Limits {
	l := defaultLimits()
	if n := int(ic.Statuses.MaxCharacters); n > 0 {
		l.MaxCharacters = n
	}
	if n := int(ic.Statuses.CharactersPerURL); n > 0 {
		l.CharactersPerURL = n
	}
	if n := int(ic.MediaAttachments.DescriptionLimit); n > 0 {
		l.DescriptionLimit = n
	}
	if n := int64(ic.MediaAttachments.ImageSizeLimit); n > 0 {
		l.ImageSizeLimit = n
	}
	return l
}

// instanceV2 reads GET /api/v2/instance, which go-mastodon does not know.
func (c *Channel) instanceV2(ctx context.Context) (Limits, error) {
	var v2 struct {
		Configuration instanceConfiguration `json:"configuration"`
	}
	err := c.call(ctx, callRequest, func(ctx context.Context) error {
		_, err := c.do(ctx, http.MethodGet, "/api/v2/instance", nil, &v2)
		return err
	})
	if err != nil {
		return Limits{}, err
	}
	return v2.Configuration.limits(), nil
}

// instanceV1 reads GET /api/v1/instance, for servers older than Mastodon 4.
func (c *Channel) instanceV1(ctx context.Context) (Limits, error) {
	var inst *mastodon.Instance
	err := c.call(ctx, callRequest, func(ctx context.Context) error {
		var err error
		inst, err = c.client.GetInstance(ctx)
		return err
	})
	if err != nil {
		return Limits{}, err
	}
	var ic instanceConfiguration
	if conf := inst.Configuration; conf != nil {
		if conf.Statuses != nil {
			st := *conf.Statuses
			ic.Statuses.MaxCharacters, _ = st["max_characters"].(float64)
			ic.Statuses.CharactersPerURL, _ = st["characters_reserved_per_url"].(float64)
		}
		ic.MediaAttachments.DescriptionLimit, _ = conf.MediaAttachments["description_limit"].(float64)
		ic.MediaAttachments.ImageSizeLimit, _ = conf.MediaAttachments["image_size_limit"].(float64)
	}
	return ic.limits(), nil
}

func isNotFound(err error) bool {
	var api *mastodon.APIError
	return errors.As(err, &api) && (api.StatusCode == http.StatusNotFound || api.StatusCode == http.StatusGone)
}
