package mastodon

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"

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
	requests, media, statuses *budget // nil: no limit
}

func newPacer(p Pacing) *pacer {
	return &pacer{
		requests: newBudget("API requests", p.RequestsPer5m, 5*time.Minute),
		media:    newBudget("media uploads", p.MediaPer30m, 30*time.Minute),
		statuses: newBudget("statuses", p.StatusesPer3h, 3*time.Hour),
	}
}

// budget is one of Mastodon's limits as a token bucket. With burst b and
// rate r, no window of the limit's length sees more than b + r·window
// calls, which is kept to pacingShare of the limit: a backfill never
// trips it, however Mastodon aligns its windows.
type budget struct {
	what   string
	limit  int
	window time.Duration
	lim    *rate.Limiter
}

func newBudget(what string, limit int, window time.Duration) *budget {
	if limit <= 0 {
		return nil
	}
	usable := max(1, int(float64(limit)*pacingShare))
	burst := max(1, usable/10)
	refill := max(1, usable-burst)
	return &budget{
		what: what, limit: limit, window: window,
		lim: rate.NewLimiter(rate.Limit(float64(refill)/window.Seconds()), burst),
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
	var (
		reserved []*rate.Reservation
		delay    time.Duration
		slowest  *budget
	)
	for _, b := range budgets {
		if b == nil {
			continue
		}
		r := b.lim.ReserveN(now, 1)
		reserved = append(reserved, r)
		if d := r.DelayFrom(now); d > delay {
			delay, slowest = d, b
		}
	}
	if delay <= 0 {
		return nil
	}
	giveBack := func() {
		at := c.cfg.Now()
		for _, r := range reserved {
			r.CancelAt(at)
		}
	}
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		// Keep time for the call itself: a timeout's worth, or half of
		// what is left.
		if delay > left-min(c.cfg.Timeout, left/2) {
			giveBack()
			at := now.Add(delay)
			return &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: at, Err: fmt.Errorf(
				"mastodon: pacing the account's %s (at most %d per %s): the next one is due at %s, past this attempt's deadline",
				slowest.what, slowest.limit, formatWindow(slowest.window), at.UTC().Format(time.RFC3339))}
		}
	}
	if err := c.cfg.sleep(ctx, delay); err != nil {
		giveBack()
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
