package bluesky

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// reserveShare is the part of each of the account's budgets the channel
// leaves to other uses of the account (an editor posting by hand).
const reserveShare = 0.1

// limits is what the PDS said of the account's limits: its ratelimit-*
// headers on createRecord (5,000 points an hour, 3 a create) and on
// uploadBlob (1,000 a day), and the end of the last refusal (429) of any
// call. The SDK returns none of the headers of a success, and of a
// refusal not Retry-After: they are read from the answers themselves.
type limits struct {
	writes  budget
	uploads budget

	mu        sync.Mutex
	throttled time.Time // no call before this: the PDS refused one until then
}

func newLimits() *limits {
	return &limits{writes: budget{what: "write points"}, uploads: budget{what: "image uploads"}}
}

// observe reads an answer's rate-limit headers.
func (l *limits) observe(method string, resp *http.Response, now time.Time) {
	switch method {
	case "com.atproto.repo.createRecord":
		l.writes.observe(resp.Header)
	case "com.atproto.repo.uploadBlob":
		l.uploads.observe(resp.Header)
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		return
	}
	// The later of what the two headers say: a front end of the PDS may
	// refuse for longer than the method's window, or say only Retry-After.
	until := channels.ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	if reset, ok := unixHeader(resp.Header, "ratelimit-reset"); ok && reset.After(until) {
		until = reset
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.throttled) {
		l.throttled = until
	}
}

// throttledUntil is when the PDS allows calls again after its last
// refusal, or the zero time.
func (l *limits) throttledUntil(now time.Time) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !now.Before(l.throttled) {
		return time.Time{}
	}
	return l.throttled
}

// wait refuses, with the time to come back, an attempt the PDS would
// refuse (it throttled the account) or that would eat into the reserve of
// the write points, or of the uploads when the post has an image.
func (l *limits) wait(now time.Time, uploads bool) error {
	if until := l.throttledUntil(now); !until.IsZero() {
		return &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: until,
			Err: fmt.Errorf("the PDS refused calls (429) until %s", until.UTC().Format(time.RFC3339))}
	}
	if err := l.writes.wait(now); err != nil {
		return err
	}
	if uploads {
		return l.uploads.wait(now)
	}
	return nil
}

// budget is what the PDS said is left of one limit of the account. The
// channel keeps off the last reserveShare of it until the window ends.
type budget struct {
	what string // "write points"

	mu        sync.Mutex
	known     bool
	limit     int
	remaining int
	reset     time.Time
}

// observe reads the ratelimit-* headers of an answer.
func (b *budget) observe(h http.Header) {
	limit, errL := strconv.Atoi(h.Get("ratelimit-limit"))
	remaining, errR := strconv.Atoi(h.Get("ratelimit-remaining"))
	reset, ok := unixHeader(h, "ratelimit-reset")
	if errL != nil || errR != nil || !ok || limit <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.known, b.limit, b.remaining, b.reset = true, limit, remaining, reset
}

// wait refuses a call that would eat into the reserve, with the time the
// window ends.
func (b *budget) wait(now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known || !now.Before(b.reset) {
		return nil
	}
	if reserve := int(float64(b.limit) * reserveShare); b.remaining <= reserve {
		return &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: b.reset,
			Err: fmt.Errorf("pacing the account's %s: the PDS has %d of %d left until %s, kept for other uses of the account",
				b.what, b.remaining, b.limit, b.reset.UTC().Format(time.RFC3339))}
	}
	return nil
}

func unixHeader(h http.Header, name string) (time.Time, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

// watchLimits is a RoundTripper that hands the PDS's answers to l.
type watchLimits struct {
	base http.RoundTripper
	l    *limits
	now  func() time.Time
}

func (w watchLimits) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(r)
	if err == nil {
		w.l.observe(path.Base(r.URL.Path), resp, w.now()) // /xrpc/<method>
	}
	return resp, err
}
