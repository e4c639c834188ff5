package telegram

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
)

// spacing is how the posts to one chat are paced: at most perMinute in any
// minute and at least minGap apart. Zero lifts a bound.
type spacing struct {
	perMinute int
	minGap    time.Duration
}

// pacer spaces the messages to one chat, and holds them all back after a
// 429 until Telegram's retry_after has passed.
//
// The rule, exactly as built: it remembers when the recent messages went
// out, or will (a sliding window, not a bucket), and a post asked for at
// now goes at the earliest t >= now such that
//
//   - t is not before the end of a 429's retry_after;
//   - t is at least minGap after the latest message remembered;
//   - fewer than perMinute messages remembered are less than a minute
//     before t: the perMinute-th latest is at t-1m or earlier.
//
// Every message counts: the reply that completes a photo's post goes at
// once, without waiting (take), and the posts after it count it for both
// bounds. A post takes its turn when it starts to wait, so the next one
// is spaced after it; a wait that would outlast the caller's deadline
// takes no turn and says when the chat is free (tooSoonError); a wait
// cancelled gives its turn back; a 429 that comes in during a wait makes
// the post wait again. The window lives in memory: a restart forgets it.
//
// So a post after a quiet spell goes at once, and with the defaults (20 a
// minute, 1s apart) a burst of articles published together goes at 0 s,
// 1 s, 2 s …: 5 by 4 s, 20 by 19 s, the 21st at 60 s, when the first is a
// minute old; 50 back to back by 2m9s. Photos followed by a reply go two
// messages at a time: 5 by 4 s, 20 by 69 s (10 in the first minute).
type pacer struct {
	spacing
	now   func() time.Time
	sleep func(context.Context, time.Duration) error

	mu    sync.Mutex
	sent  []time.Time // the posts of the last minute, and those waiting to go out, in order
	until time.Time   // nothing goes out before (a 429's retry_after)
}

func newPacer(s spacing, now func() time.Time) *pacer {
	return &pacer{spacing: s, now: now, sleep: channels.Sleep}
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
		at := p.next(now)
		delay := at.Sub(now)
		if deadline, ok := ctx.Deadline(); ok && delay > 0 && delay > time.Until(deadline) {
			p.mu.Unlock()
			return &tooSoonError{until: at}
		}
		// The post's turn is taken now, so that the next one is spaced
		// after it even while this one waits.
		p.record(at)
		p.mu.Unlock()
		if delay <= 0 {
			return nil
		}
		if err := p.sleep(ctx, delay); err != nil {
			p.mu.Lock()
			p.forget(at)
			p.mu.Unlock()
			return err
		}
		// A 429 may have come in for another post while this one slept.
		p.mu.Lock()
		blocked := p.until.After(p.now())
		if blocked {
			p.forget(at)
		}
		p.mu.Unlock()
		if !blocked {
			return nil
		}
	}
}

// next is the earliest time, from now on, that both bounds and a 429 allow
// a post. Taking it at the end of a block keeps the spacing after it.
// p.mu is held.
func (p *pacer) next(now time.Time) time.Time {
	at := now
	if p.until.After(at) {
		at = p.until
	}
	if n := len(p.sent); n > 0 {
		if t := p.sent[n-1].Add(p.minGap); t.After(at) {
			at = t
		}
		if p.perMinute > 0 && n >= p.perMinute {
			// The post perMinute back must be a minute old, so that no
			// minute holds more than perMinute.
			if t := p.sent[n-p.perMinute].Add(time.Minute); t.After(at) {
				at = t
			}
		}
	}
	return at
}

// record counts a post that goes out at t. p.mu is held.
func (p *pacer) record(t time.Time) {
	if p.perMinute <= 0 && p.minGap <= 0 {
		return
	}
	// A post that went out a minute ago or more bounds no post to come
	// but by the gap after it, which t now stands for.
	horizon := p.now().Add(-time.Minute)
	old := 0
	for old < len(p.sent) && !p.sent[old].After(horizon) {
		old++
	}
	p.sent = slices.Delete(p.sent, 0, old)
	i := len(p.sent)
	for i > 0 && p.sent[i-1].After(t) {
		i--
	}
	p.sent = slices.Insert(p.sent, i, t)
}

// forget gives back the turn taken for a post at t that did not go out.
// p.mu is held.
func (p *pacer) forget(t time.Time) {
	for i := len(p.sent) - 1; i >= 0; i-- {
		if p.sent[i].Equal(t) {
			p.sent = slices.Delete(p.sent, i, i+1)
			return
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
	p.record(p.now())
}
