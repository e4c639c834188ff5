package mastodon

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Mastodon's rate limits per account (DESIGN.md), the defaults of Pacing.
const (
	DefaultRequestsPer5m = 300 // API requests in 5 minutes
	DefaultMediaPer30m   = 30  // media uploads in 30 minutes
	DefaultStatusesPer3h = 300 // statuses posted in 3 hours
)

// pacingShare is the part of each limit the channel allows itself, leaving
// the rest to whoever else uses the account (an editor posting by hand).
const pacingShare = 0.9

// Pacing sets the budgets the channel keeps to. Zero means Mastodon's
// limit; a negative value, no limit (a local test server, a benchmark).
type Pacing struct {
	RequestsPer5m int
	MediaPer30m   int
	StatusesPer3h int
}

func (p Pacing) withDefaults() Pacing {
	if p.RequestsPer5m == 0 {
		p.RequestsPer5m = DefaultRequestsPer5m
	}
	if p.MediaPer30m == 0 {
		p.MediaPer30m = DefaultMediaPer30m
	}
	if p.StatusesPer3h == 0 {
		p.StatusesPer3h = DefaultStatusesPer3h
	}
	return p
}

// pacer holds an account's budgets; channels on one account share it.
type pacer struct {
	mu                        sync.Mutex
	requests, media, statuses *budget // nil: no limit
}

func newPacer(p Pacing) *pacer {
	return &pacer{
		requests: newBudget("API requests", p.RequestsPer5m, 5*time.Minute),
		media:    newBudget("media uploads", p.MediaPer30m, 30*time.Minute),
		statuses: newBudget("statuses", p.StatusesPer3h, 3*time.Hour),
	}
}

// budget is one of Mastodon's limits as a sliding window: it remembers when
// its recent calls went out, and a call goes as soon as fewer than usable
// (pacingShare of the limit) went in the window before it. No window of
// the limit's length then sees more than usable calls, however Mastodon
// aligns its windows, so a backfill never trips the limit, while a call
// after a quiet spell goes at once.
type budget struct {
	what   string
	limit  int
	usable int
	window time.Duration
	calls  []time.Time // the calls of the last window, and those waiting to go, in order
}

func newBudget(what string, limit int, window time.Duration) *budget {
	if limit <= 0 {
		return nil
	}
	return &budget{what: what, limit: limit, usable: max(1, int(float64(limit)*pacingShare)), window: window}
}

// next is the earliest time, from at on, that the budget allows a call.
func (b *budget) next(at time.Time) time.Time {
	if n := len(b.calls); n >= b.usable {
		if t := b.calls[n-b.usable].Add(b.window); t.After(at) {
			return t
		}
	}
	return at
}

// record counts a call that goes out at t, now being now.
func (b *budget) record(t, now time.Time) {
	// A call a window old bounds no call to come.
	horizon := now.Add(-b.window)
	old := 0
	for old < len(b.calls) && !b.calls[old].After(horizon) {
		old++
	}
	b.calls = slices.Delete(b.calls, 0, old)
	i := len(b.calls)
	for i > 0 && b.calls[i-1].After(t) {
		i--
	}
	b.calls = slices.Insert(b.calls, i, t)
}

// forget gives back the call counted at t, which did not go out.
func (b *budget) forget(t time.Time) {
	for i := len(b.calls) - 1; i >= 0; i-- {
		if b.calls[i].Equal(t) {
			b.calls = slices.Delete(b.calls, i, i+1)
			return
		}
	}
}

// Which budgets a call spends, besides one API request.
const (
	callRequest = iota
	callUpload
	callStatus
)

// pace waits until the account's budgets allow one more call of the kind,
// honouring ctx. When the wait would leave too little of ctx's time for
// the call itself, it waits not at all and returns a retryable error that
// names the time the budget allows it.
func (c *Channel) pace(ctx context.Context, kind int) error {
	budgets := []*budget{c.pacer.requests}
	switch kind {
	case callUpload:
		budgets = append(budgets, c.pacer.media)
	case callStatus:
		budgets = append(budgets, c.pacer.statuses)
	}
	now := c.cfg.Now()
	c.pacer.mu.Lock()
	at := now
	var slowest *budget
	for _, b := range budgets {
		if b == nil {
			continue
		}
		if t := b.next(at); t.After(at) {
			at, slowest = t, b
		}
	}
	delay := at.Sub(now)
	if deadline, ok := ctx.Deadline(); ok && delay > 0 {
		left := time.Until(deadline)
		// Keep time for the call itself: a timeout's worth, or half of
		// what is left.
		if delay > left-min(c.cfg.Timeout, left/2) {
			c.pacer.mu.Unlock()
			return &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: at, Err: fmt.Errorf(
				"mastodon: pacing the account's %s (at most %d per %s): the next one is due at %s, past this attempt's deadline",
				slowest.what, slowest.limit, formatWindow(slowest.window), at.UTC().Format(time.RFC3339))}
		}
	}
	// The call's turn is taken now, so that the next call is counted after
	// it even while this one waits.
	for _, b := range budgets {
		if b != nil {
			b.record(at, now)
		}
	}
	c.pacer.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	if err := c.cfg.sleep(ctx, delay); err != nil {
		c.pacer.mu.Lock()
		for _, b := range budgets {
			if b != nil {
				b.forget(at)
			}
		}
		c.pacer.mu.Unlock()
		return channels.TransportError(fmt.Errorf("mastodon: waiting for the account's %s budget: %w", slowest.what, err), false, false)
	}
	return nil
}

func formatWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dmin", d/time.Minute)
}
