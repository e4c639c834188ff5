package mastodon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
)

// transport sits under go-mastodon's http.Client. go-mastodon has no way to
// set a header, and it retries a 429 by itself for up to an hour with no
// way out but the context; so the transport adds the Idempotency-Key, and
// turns every 429, 5xx and redirect into an error that go-mastodon returns
// at once, carrying the status, the server's message and the retry time.
// It also reads every answer's X-RateLimit headers for the pacing (see
// observation).
type transport struct {
	base http.RoundTripper
	now  func() time.Time
}

type idempotencyKey struct{}

// withIdempotencyKey makes the status POSTs made with ctx carry key.
func withIdempotencyKey(ctx context.Context, key string) context.Context {
	if key == "" {
		return ctx
	}
	return context.WithValue(ctx, idempotencyKey{}, key)
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if key, ok := req.Context().Value(idempotencyKey{}).(string); ok &&
		req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/api/v1/statuses") {
		req = req.Clone(req.Context()) // a RoundTripper must not change the caller's request
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	obs, _ := req.Context().Value(observationKey{}).(*observation)
	obs.read(resp, t.now())
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests, code >= 500,
		code >= 300 && code < 400 && code != http.StatusNotModified:
		return nil, t.responseError(resp)
	}
	return resp, nil
}

// observation is what an answer said of the account's rate budget: the
// X-RateLimit-Limit, -Remaining and -Reset that Mastodon (and GoToSocial)
// send with every API answer, naming the most used of the limits the
// request counts in, and whether the answer was a 429, with the time it
// names (X-RateLimit-Reset, else Retry-After).
type observation struct {
	counted   bool // the headers gave a remaining count and a reset time
	limit     int  // 0 when not given
	remaining int
	reset     time.Time
	throttled bool
	retryAt   time.Time // of a 429; zero when it named none
}

type observationKey struct{}

// withObservation makes the answers to the requests made with ctx report
// to obs.
func withObservation(ctx context.Context, obs *observation) context.Context {
	return context.WithValue(ctx, observationKey{}, obs)
}

// read records what resp says; a nil observation records nothing.
func (o *observation) read(resp *http.Response, now time.Time) {
	if o == nil {
		return
	}
	h := resp.Header
	reset := parseReset(h.Get("X-RateLimit-Reset"), now)
	remaining, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Remaining")))
	if err == nil && remaining >= 0 && !reset.IsZero() {
		o.counted, o.remaining, o.reset = true, remaining, reset
		if limit, err := strconv.Atoi(strings.TrimSpace(h.Get("X-RateLimit-Limit"))); err == nil && limit > 0 {
			o.limit = limit
		}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		o.throttled = true
		o.retryAt = reset
		if o.retryAt.IsZero() {
			o.retryAt = channels.ParseRetryAfter(h.Get("Retry-After"), now)
		}
	}
}

// parseReset reads X-RateLimit-Reset: Mastodon's ISO-8601 time (e.g.
// 2026-11-26T21:35:00.000Z), or a Unix time in seconds, as older
// GoToSocial versions send, or seconds from now. It returns the zero time
// when the header is absent or unreadable.
func parseReset(v string, now time.Time) time.Time {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		if n >= 1_000_000_000 {
			return time.Unix(n, 0).UTC()
		}
		return now.Add(time.Duration(n) * time.Second)
	}
	return time.Time{}
}

// responseError is an answer that the transport kept from go-mastodon.
type responseError struct {
	Status     int
	Message    string    // the server's {"error": "…"}, else the status text
	RetryAfter time.Time // from X-RateLimit-Reset or Retry-After; zero if absent
	Location   string    // where a redirect points
}

func (e *responseError) Error() string {
	s := fmt.Sprintf("%d %s", e.Status, e.Message)
	if e.Location != "" {
		s += fmt.Sprintf(" (the server redirects to %s: configure the instance's own URL)", e.Location)
	}
	if !e.RetryAfter.IsZero() {
		s += " (retry after " + e.RetryAfter.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

func (t *transport) responseError(resp *http.Response) *responseError {
	defer resp.Body.Close()
	e := &responseError{
		Status:   resp.StatusCode,
		Message:  errorMessage(resp),
		Location: resp.Header.Get("Location"),
	}
	if e.RetryAfter = parseReset(resp.Header.Get("X-RateLimit-Reset"), t.now()); e.RetryAfter.IsZero() {
		e.RetryAfter = channels.ParseRetryAfter(resp.Header.Get("Retry-After"), t.now())
	}
	return e
}

// errorMessage reads Mastodon's {"error": "…"} from an error answer, or
// falls back to the status text.
func errorMessage(resp *http.Response) string {
	var body struct {
		Error string `json:"error"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&body); err == nil && body.Error != "" {
		return body.Error
	}
	return http.StatusText(resp.StatusCode)
}
