package mastodon

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
)

// transport sits under go-mastodon's http.Client. go-mastodon has no way to
// set a header, and it retries a 429 by itself for up to an hour with no
// way out but the context; so the transport adds the Idempotency-Key, and
// turns every 429, 5xx and redirect into an error that go-mastodon returns
// at once, carrying the status, the server's message and the retry time.
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
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests, code >= 500,
		code >= 300 && code < 400 && code != http.StatusNotModified:
		return nil, t.responseError(resp)
	}
	return resp, nil
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
	// Mastodon's X-RateLimit-Reset is an ISO-8601 time, e.g. 2026-11-26T21:35:00.000Z.
	if reset, err := time.Parse(time.RFC3339, strings.TrimSpace(resp.Header.Get("X-RateLimit-Reset"))); err == nil {
		e.RetryAfter = reset
	} else {
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
