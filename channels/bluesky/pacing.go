package bluesky

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// reserveShare is the part of the account's write budget the channel
// leaves to other uses of the account (an editor posting by hand).
const reserveShare = 0.1

// budget is what the PDS said is left of the account's write points (its
// ratelimit-* headers on createRecord): a create costs 3 of 5,000 an hour.
// The channel keeps off the last reserveShare of it until the window ends.
type budget struct {
	mu        sync.Mutex
	known     bool
	limit     int
	remaining int
	reset     time.Time
}

// observe reads the rate-limit headers of an answer.
func (b *budget) observe(h http.Header) {
	limit, errL := strconv.Atoi(h.Get("ratelimit-limit"))
	remaining, errR := strconv.Atoi(h.Get("ratelimit-remaining"))
	reset, errT := strconv.ParseInt(h.Get("ratelimit-reset"), 10, 64)
	if errL != nil || errR != nil || errT != nil || limit <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.known, b.limit, b.remaining, b.reset = true, limit, remaining, time.Unix(reset, 0)
}

// wait refuses a create that would eat into the reserve, with the time
// the window ends.
func (b *budget) wait(now time.Time) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.known || !now.Before(b.reset) {
		return nil
	}
	if reserve := int(float64(b.limit) * reserveShare); b.remaining <= reserve {
		return &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: b.reset,
			Err: fmt.Errorf("pacing the account's writes: the PDS has %d of %d points left until %s, kept for other uses of the account",
				b.remaining, b.limit, b.reset.UTC().Format(time.RFC3339))}
	}
	return nil
}

// watchBudget is a RoundTripper that hands the rate-limit headers of the
// PDS's answers to createRecord to b: the SDK does not return them.
type watchBudget struct {
	base http.RoundTripper
	b    *budget
}

func (w watchBudget) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.base.RoundTrip(r)
	if err == nil && strings.HasSuffix(r.URL.Path, "/com.atproto.repo.createRecord") {
		w.b.observe(resp.Header)
	}
	return resp, err
}
