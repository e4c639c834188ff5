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

// Mastodon's rate limits per account (DESIGN.md), the default Pacing.
const (
	DefaultRequestsPer5m = 300 // API requests in 5 minutes
	DefaultMediaPer30m   = 30  // media uploads in 30 minutes
	DefaultStatusesPer3h = 300 // statuses posted in 3 hours
)

// pacingShare is the part of each limit the channel allows itself, leaving
// the rest to whoever else uses the account (an editor posting by hand).
const pacingShare = 0.9

// Pacing sets the budgets the channel keeps to until the server says what
// is left of them (see budget), and with a server that never does. Zero
// (or less) is no pacing of that budget at all, the server's count
// included (a local test server, a benchmark); DefaultSettings holds
// Mastodon's limits.
type Pacing struct {
	RequestsPer5m int
	MediaPer30m   int
	StatusesPer3h int
}

// maxPaceWait is the longest a call waits for the budget within a send.
// The engine gives a send a context of its own, which shutdown does not
// cut, so a longer wait is not waited: the send is refused for now, with
// the time the budget allows it, and the channel's queue waits until then
// instead (as long as `once --max-wait` allows, and cut by a shutdown).
const maxPaceWait = 5 * time.Second

// resetMargin is added to the end of the server's window before a call
// counts on a fresh one, for clocks a little apart.
const resetMargin = time.Second

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

// budget is one of the account's limits. Once the server has said what is
// left of it (the X-RateLimit headers of its answers, or a 429), that
// count decides: a call goes at once while more than the reserve (the 10%
// of the limit that pacingShare leaves to other uses of the account) is
// left, else when the server's window ends, and the channel's own calls
// are taken off the count until the next answer says it anew. Until then,
// or with a server that says nothing, the configured limit decides, as a
// sliding window: a call goes as soon as fewer than usable (pacingShare
// of the limit) went in the window before it, so that no window of the
// limit's length sees more than usable calls, however the server aligns
// its windows, while a call after a quiet spell goes at once.
type budget struct {
	what   string
	limit  int
	usable int
	window time.Duration
	calls  []time.Time // the calls of the last window, and those waiting to go, in order
	server serverCount
	// pending counts the calls under way: taken, not yet answered.
	pending int
}

// serverCount is the server's own count of a budget, as its answers gave
// it, less the calls taken since.
type serverCount struct {
	known     bool
	limit     int
	remaining int
	reset     time.Time // when the server's window ends
	// from is when the window counted begins, when it is one that calls
	// wait for: no call goes before it. Zero for the window of the answer.
	from time.Time
}

// reserve is what is kept of the server's limit for other uses.
func (s serverCount) reserve() int { return s.limit - max(1, int(float64(s.limit)*pacingShare)) }

// at returns the count as it stands at t: once the window has ended
// (with resetMargin), a whole limit, in a window of the budget's length
// (the server's next answer says its own).
func (s serverCount) at(t time.Time, window time.Duration) serverCount {
	if end := s.reset.Add(resetMargin); !t.Before(end) {
		n := t.Sub(end)/window + 1
		s.remaining = s.limit
		s.from = s.reset.Add((n-1)*window + resetMargin)
		s.reset = s.reset.Add(n * window)
	}
	return s
}

func newBudget(what string, limit int, window time.Duration) *budget {
	if limit <= 0 {
		return nil
	}
	return &budget{what: what, limit: limit, usable: max(1, int(float64(limit)*pacingShare)), window: window}
}

// next is the earliest time, from at on, that the budget allows a call.
func (b *budget) next(at time.Time) time.Time {
	if b.server.known {
		if at.Before(b.server.from) {
			at = b.server.from // a call already waits for this window
		}
		s := b.server.at(at, b.window)
		if s.remaining > s.reserve() {
			return at
		}
		return s.reset.Add(resetMargin)
	}
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
	if b.server.known {
		b.server = b.server.at(t, b.window)
		b.server.remaining--
	}
	b.pending++
}

// forget gives back the call counted at t, which did not go out.
func (b *budget) forget(t time.Time) {
	for i := len(b.calls) - 1; i >= 0; i-- {
		if b.calls[i].Equal(t) {
			b.calls = slices.Delete(b.calls, i, i+1)
			break
		}
	}
	if b.server.known {
		b.server.remaining++
	}
	b.pending = max(0, b.pending-1)
}

// answered counts a call as answered, and takes what the answer said of
// the budget: the calls still under way are not in the server's count yet.
func (b *budget) answered(obs *observation, now time.Time) {
	b.pending = max(0, b.pending-1)
	switch {
	case obs.throttled:
		b.server.known, b.server.remaining = true, 0
		b.server.reset = obs.retryAt
		if b.server.reset.IsZero() || !b.server.reset.After(now) {
			b.server.reset = now.Add(time.Minute)
		}
		if obs.limit > 0 {
			b.server.limit = obs.limit
		} else if b.server.limit == 0 {
			b.server.limit = b.limit
		}
	case obs.counted:
		limit := obs.limit
		if limit == 0 {
			limit = max(b.server.limit, b.limit, obs.remaining)
		}
		b.server = serverCount{known: true, limit: limit, remaining: obs.remaining - b.pending, reset: obs.reset}
	}
}

// describe says what holds the budget back, for an error's text.
func (b *budget) describe(now time.Time) string {
	if b.server.known {
		s := b.server.at(now, b.window)
		return fmt.Sprintf("the server has %d of %d left until %s, kept for other uses of the account",
			max(0, s.remaining), s.limit, s.reset.UTC().Format(time.RFC3339))
	}
	return fmt.Sprintf("at most %d per %s", b.limit, formatWindow(b.window))
}

// Which budgets a call spends, besides one API request.
const (
	callRequest = iota
	callUpload
	callStatus
)

// budgets returns the budgets a call of the kind spends, its own (whose
// count the answer gives) first. A nil budget has no limit.
func (p *pacer) budgets(kind int) []*budget {
	switch kind {
	case callUpload:
		return []*budget{p.media, p.requests}
	case callStatus:
		return []*budget{p.statuses, p.requests}
	}
	return []*budget{p.requests}
}

// due returns the earliest time, from now on, that the budgets allow a
// call of each of the kinds, and the budget that holds it back (nil when
// none does). p.mu must be held.
func (p *pacer) due(now time.Time, kinds ...int) (time.Time, *budget) {
	at := now
	var slowest *budget
	for _, kind := range kinds {
		for _, b := range p.budgets(kind) {
			if b == nil {
				continue
			}
			if t := b.next(at); t.After(at) {
				at, slowest = t, b
			}
		}
	}
	return at, slowest
}

// turn is a call's place in the budgets.
type turn struct {
	own     *budget   // the call's own budget, whose count its answer gives; nil for none
	budgets []*budget // all it spends
	at      time.Time
}

// pace waits until the account's budgets allow one more call of the kind,
// honouring ctx, and returns the call's turn, for settle. A wait longer
// than maxPaceWait, or one that would leave too little of ctx's time for
// the call itself, is not waited: it returns a retryable error at once,
// naming the time the budget allows the call.
func (c *Channel) pace(ctx context.Context, kind int) (*turn, error) {
	now := c.cfg.Now()
	p := c.pacer
	p.mu.Lock()
	at, slowest := p.due(now, kind)
	if err := c.paceRefusal(ctx, now, at, slowest); err != nil {
		p.mu.Unlock()
		return nil, err
	}
	// The call's turn is taken now, so that the next call is counted after
	// it even while this one waits.
	t := &turn{at: at, own: p.budgets(kind)[0]}
	for _, b := range p.budgets(kind) {
		if b != nil {
			b.record(at, now)
			t.budgets = append(t.budgets, b)
		}
	}
	p.mu.Unlock()
	delay := at.Sub(now)
	if delay <= 0 {
		return t, nil
	}
	if err := c.cfg.sleep(ctx, delay); err != nil {
		p.mu.Lock()
		for _, b := range t.budgets {
			b.forget(at)
		}
		p.mu.Unlock()
		return nil, channels.TransportError(fmt.Errorf("mastodon: waiting for the account's %s budget: %w", slowest.what, err), false, false)
	}
	return t, nil
}

// settle counts the call of the turn as answered, with what its answer
// said of the budget (which is the call's own: the media uploads' for an
// upload, the statuses' for a status post, the requests' otherwise).
func (c *Channel) settle(t *turn, obs *observation) {
	if t == nil {
		return
	}
	now := c.cfg.Now()
	c.pacer.mu.Lock()
	defer c.pacer.mu.Unlock()
	for _, b := range t.budgets {
		if b == t.own {
			b.answered(obs, now)
		} else {
			b.answered(&observation{}, now)
		}
	}
}

// checkPace returns the error pace would return for a call of each of the
// kinds, without taking a turn: a send asks before it uploads an image, so
// that no image waits unattached for a status the budget does not allow.
func (c *Channel) checkPace(ctx context.Context, kinds ...int) error {
	now := c.cfg.Now()
	c.pacer.mu.Lock()
	defer c.pacer.mu.Unlock()
	at, slowest := c.pacer.due(now, kinds...)
	return c.paceRefusal(ctx, now, at, slowest)
}

// paceRefusal returns the retryable error of a call due at at, when that is
// more than maxPaceWait away, or leaves too little of ctx's time for the
// call itself (a timeout's worth, or half of what is left).
func (c *Channel) paceRefusal(ctx context.Context, now, at time.Time, slowest *budget) error {
	delay := at.Sub(now)
	if delay <= 0 {
		return nil
	}
	late := delay > maxPaceWait
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		late = late || delay > left-min(c.cfg.Timeout, left/2)
	}
	if !late {
		return nil
	}
	return &syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: at, Err: fmt.Errorf(
		"mastodon: pacing the account's %s (%s): the next one is due at %s",
		slowest.what, slowest.describe(now), at.UTC().Format(time.RFC3339))}
}

func formatWindow(d time.Duration) string {
	if d%time.Hour == 0 {
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return fmt.Sprintf("%dmin", d/time.Minute)
}
