package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/syndicate-daemon/syndicate/channels"
)

// limitsTTL is how long the instance's limits are trusted before Send asks
// again.
const limitsTTL = 24 * time.Hour

// Limits are what the instance allows in a status and its media, and the
// software it runs, which says how it counts a status.
type Limits struct {
	MaxCharacters    int // configuration.statuses.max_characters (Pleroma, Akkoma: max_toot_chars)
	CharactersPerURL int // configuration.statuses.characters_reserved_per_url
	// DescriptionLimit is the longest image description, in characters
	// (configuration.media_attachments.description_limit).
	DescriptionLimit int
	// ImageSizeLimit is the largest image upload in bytes
	// (configuration.media_attachments.image_size_limit); 0 when unknown.
	ImageSizeLimit int64
	// Software is the server's software, as its instance document (its
	// version, its source_url) or else its nodeinfo names it: "mastodon",
	// "gotosocial", "pleroma", "akkoma", another name, or "" when neither
	// says. Only GoToSocial, Pleroma and Akkoma are counted otherwise than
	// Mastodon counts.
	Software string
	Version  string // the software's version; "" when unknown
}

func defaultLimits() Limits {
	return Limits{MaxCharacters: DefaultMaxCharacters, CharactersPerURL: DefaultCharactersPerURL, DescriptionLimit: DefaultDescriptionLimit}
}

// Limits returns the limits posts are fitted to: the instance's, fetched
// from /api/v2/instance (falling back to /api/v1/instance, then to
// Mastodon's defaults when neither exists; Pleroma's and Akkoma's from
// /api/v1/instance, which gives their limits; the software from nodeinfo
// when the instance document does not name it) and cached for 24 hours,
// with Config.MaxCharacters, when set, in place of the instance's
// character limit. When a refresh fails, the stale values are kept; with
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
	if c.learned != nil && c.learned.basis != l {
		c.learned = nil // the server changed: what its refusal taught may not hold
	}
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
	doc, err := c.instance(ctx, "/api/v2/instance")
	if isNotFound(err) {
		doc, err = c.instance(ctx, "/api/v1/instance")
		if isNotFound(err) {
			doc, err = instanceDocument{}, nil
		}
	} else if err == nil {
		if sw, _ := identify(doc.Version, doc.SourceURL); sw == SoftwarePleroma || sw == SoftwareAkkoma {
			// Their limits are in /api/v1/instance.
			if v1, err := c.instance(ctx, "/api/v1/instance"); err == nil {
				doc.MaxTootChars, doc.DescriptionLimit, doc.UploadLimit = v1.MaxTootChars, v1.DescriptionLimit, v1.UploadLimit
			}
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
	l := doc.limits()
	if l.Software == "" {
		if sw, version := c.nodeInfo(ctx); sw != "" {
			l.Software, l.Version = sw, version
		}
	}
	return l, nil
}

// instanceDocument is the part of /api/v2/instance or /api/v1/instance the
// channel reads.
type instanceDocument struct {
	Version   string `json:"version"`
	SourceURL string `json:"source_url"` // v2
	// Pleroma's and Akkoma's v1 fields (GoToSocial gives max_toot_chars
	// too).
	MaxTootChars     number                `json:"max_toot_chars"`
	DescriptionLimit number                `json:"description_limit"`
	UploadLimit      number                `json:"upload_limit"`
	Configuration    instanceConfiguration `json:"configuration"`
}

// instanceConfiguration is the part of an instance's configuration the
// channel reads, the same in v1 (Mastodon 3.x) and v2.
type instanceConfiguration struct {
	Statuses struct {
		MaxCharacters    number `json:"max_characters"`
		CharactersPerURL number `json:"characters_reserved_per_url"`
	} `json:"statuses"`
	MediaAttachments struct {
		DescriptionLimit number `json:"description_limit"`
		ImageSizeLimit   number `json:"image_size_limit"`
	} `json:"media_attachments"`
}

func (d instanceDocument) limits() Limits {
	l := defaultLimits()
	l.Software, l.Version = identify(d.Version, d.SourceURL)
	conf := d.Configuration
	pleroma := l.Software == SoftwarePleroma || l.Software == SoftwareAkkoma
	set := func(dst *int, values ...number) {
		for _, v := range values {
			if v > 0 {
				*dst = int(v)
				return
			}
		}
	}
	if pleroma {
		set(&l.MaxCharacters, d.MaxTootChars, conf.Statuses.MaxCharacters)
		set(&l.DescriptionLimit, d.DescriptionLimit, conf.MediaAttachments.DescriptionLimit)
	} else {
		set(&l.MaxCharacters, conf.Statuses.MaxCharacters, d.MaxTootChars)
		set(&l.DescriptionLimit, conf.MediaAttachments.DescriptionLimit)
	}
	set(&l.CharactersPerURL, conf.Statuses.CharactersPerURL)
	var size int
	if pleroma {
		set(&size, d.UploadLimit, conf.MediaAttachments.ImageSizeLimit)
	} else {
		set(&size, conf.MediaAttachments.ImageSizeLimit)
	}
	l.ImageSizeLimit = int64(size)
	return l
}

// number is a JSON number that a server may also send as a string, or as
// something else, which reads as 0.
type number int64

func (n *number) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err == nil {
		*n = number(f)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		if f, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
			*n = number(f)
			return nil
		}
	}
	*n = 0
	return nil
}

// instance reads an instance document: GET /api/v2/instance, which
// go-mastodon does not know, or /api/v1/instance.
func (c *Channel) instance(ctx context.Context, path string) (instanceDocument, error) {
	var doc instanceDocument
	err := c.call(ctx, callRequest, func(ctx context.Context) error {
		_, err := c.do(ctx, http.MethodGet, path, nil, &doc)
		return err
	})
	return doc, err
}

func isNotFound(err error) bool {
	var api *mastodon.APIError
	return errors.As(err, &api) && (api.StatusCode == http.StatusNotFound || api.StatusCode == http.StatusGone)
}
