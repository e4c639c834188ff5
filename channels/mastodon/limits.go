package mastodon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/mattn/go-mastodon"

	"github.com/syndicate-daemon/syndicate/channels"
)

// limitsTTL is how long the instance's limits are trusted before Send asks
// again.
const limitsTTL = 24 * time.Hour

// Limits are what the instance allows in a status.
type Limits struct {
	MaxCharacters    int // configuration.statuses.max_characters
	CharactersPerURL int // configuration.statuses.characters_reserved_per_url
}

func defaultLimits() Limits {
	return Limits{MaxCharacters: DefaultMaxCharacters, CharactersPerURL: DefaultCharactersPerURL}
}

// Limits returns the limits posts are fitted to: Config.MaxCharacters when
// set (then without asking), else the instance's, fetched from
// /api/v2/instance (falling back to /api/v1/instance, then to Mastodon's
// defaults when neither exists) and cached for 24 hours. When a refresh
// fails, the stale values are kept.
func (c *Channel) Limits(ctx context.Context) (Limits, error) {
	if c.cfg.MaxCharacters > 0 {
		return c.cachedLimits(), nil
	}
	c.mu.Lock()
	cached, at := c.limits, c.limitsAt
	c.mu.Unlock()
	if !at.IsZero() && c.cfg.Now().Sub(at) < limitsTTL {
		return cached, nil
	}
	l, err := c.fetchLimits(ctx)
	if err != nil {
		if !at.IsZero() {
			return cached, nil
		}
		return Limits{}, err
	}
	c.mu.Lock()
	c.limits, c.limitsAt = l, c.cfg.Now()
	c.mu.Unlock()
	return l, nil
}

// cachedLimits returns the limits without any network call.
func (c *Channel) cachedLimits() Limits {
	c.mu.Lock()
	l, fetched := c.limits, !c.limitsAt.IsZero()
	c.mu.Unlock()
	if !fetched {
		l = defaultLimits()
	}
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
	if err != nil {
		return Limits{}, c.sendError("reading the instance's limits", err, false, true)
	}
	return l, nil
}

// instanceV2 reads GET /api/v2/instance, which go-mastodon does not know,
// through the same client and transport.
func (c *Channel) instanceV2(ctx context.Context) (Limits, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u, err := url.JoinPath(c.cfg.Server, "/api/v2/instance")
	if err != nil {
		return Limits{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Limits{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.AccessToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.client.Do(req)
	if err != nil {
		return Limits{}, err
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // lets the connection be reused
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		return Limits{}, &mastodon.APIError{StatusCode: resp.StatusCode, Message: errorMessage(resp)}
	}
	var v2 struct {
		Configuration struct {
			Statuses struct {
				MaxCharacters    float64 `json:"max_characters"`
				CharactersPerURL float64 `json:"characters_reserved_per_url"`
			} `json:"statuses"`
		} `json:"configuration"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&v2); err != nil {
		// Not a Mastodon server, most likely a wrong server URL: retrying cannot help.
		return Limits{}, channels.Permanent(fmt.Errorf("decoding /api/v2/instance (is %s a Mastodon instance?): %w", c.cfg.Server, err))
	}
	st := v2.Configuration.Statuses
	return orDefaults(int(st.MaxCharacters), int(st.CharactersPerURL)), nil
}

// instanceV1 reads GET /api/v1/instance, for servers older than Mastodon 4.
func (c *Channel) instanceV1(ctx context.Context) (Limits, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	inst, err := c.client.GetInstance(ctx)
	if err != nil {
		return Limits{}, err
	}
	var maxChars, perURL float64
	if inst.Configuration != nil && inst.Configuration.Statuses != nil {
		st := *inst.Configuration.Statuses
		maxChars, _ = st["max_characters"].(float64)
		perURL, _ = st["characters_reserved_per_url"].(float64)
	}
	return orDefaults(int(maxChars), int(perURL)), nil
}

func orDefaults(maxChars, perURL int) Limits {
	l := defaultLimits()
	if maxChars > 0 {
		l.MaxCharacters = maxChars
	}
	if perURL > 0 {
		l.CharactersPerURL = perURL
	}
	return l
}

func isNotFound(err error) bool {
	var api *mastodon.APIError
	return errors.As(err, &api) && (api.StatusCode == http.StatusNotFound || api.StatusCode == http.StatusGone)
}
