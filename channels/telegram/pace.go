package telegram

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/syndicate-daemon/syndicate/channels"
)

// pacer spaces the posts to one chat, and holds them all back after a 429
// until Telegram's retry_after has passed.
type pacer struct {
	lim   *rate.Limiter
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu    sync.Mutex
	until time.Time // nothing goes out before (a 429's retry_after)
}

func newPacer(interval time.Duration, now func() time.Time) *pacer {
	limit := rate.Inf
	if interval > 0 {
		limit = rate.Every(interval)
	}
	return &pacer{lim: rate.NewLimiter(limit, 1), now: now, sleep: channels.Sleep}
}

// tooSoonError says the chat cannot take a post before ctx's deadline.
type tooSoonError struct{ until time.Time }

func (e *tooSoonError) Error() string {
	return "the chat cannot take another post before " + e.until.UTC().Format(time.RFC3339)
}

// wait blocks until the chat may take a post. When that is later than ctx's
// deadline it returns a *tooSoonError at once, so the caller can schedule
// the attempt instead of holding a worker.
func (p *pacer) wait(ctx context.Context) error {
	for {
		now := p.now()
		p.mu.Lock()
		at := now
		if p.until.After(at) {
			at = p.until
		}
		// Reserving at the end of a block keeps the spacing after it.
		r := p.lim.ReserveN(at, 1)
		delay := r.DelayFrom(now)
		p.mu.Unlock()
		if delay <= 0 {
			return nil
		}
		if deadline, ok := ctx.Deadline(); ok && delay > time.Until(deadline) {
			r.CancelAt(now)
			return &tooSoonError{until: now.Add(delay)}
		}
		if err := p.sleep(ctx, delay); err != nil {
			r.CancelAt(p.now())
			return err
		}
		// A 429 may have come in for another post while this one slept.
		p.mu.Lock()
		blocked := p.until.After(p.now())
		p.mu.Unlock()
		if !blocked {
			return nil
		}
	}
}

// block holds every post back until t.
func (p *pacer) block(t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t.After(p.until) {
		p.until = t
	}
}

// take counts a post that goes out without waiting (the reply that
// completes a photo's post), so the next post waits for it too.
func (p *pacer) take() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lim.ReserveN(p.now(), 1)
}
