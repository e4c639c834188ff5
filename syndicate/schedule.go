package syndicate

import (
	"context"
	"hash/fnv"
	"runtime"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// MaxScheduleOffset caps the shift of a feed's scheduled polls.
const MaxScheduleOffset = 10 * time.Minute

// ScheduleOffset is how long after its schedule fires a feed's scheduled
// poll starts: hash(feed id) mod min(period, MaxScheduleOffset), the period
// being the schedule's interval at now. A thousand feeds on one schedule
// are so spread over it instead of stampeding one server in one second;
// each feed keeps its own steady offset. Pings, once and digests are
// never shifted.
func ScheduleOffset(feedID string, s cron.Schedule, now time.Time) time.Duration {
	if s == nil {
		return 0
	}
	window := min(schedulePeriod(s, now), MaxScheduleOffset)
	if window <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(feedID))
	return time.Duration(h.Sum64() % uint64(window))
}

// schedulePeriod is the schedule's interval at now: between its next two
// firings.
func schedulePeriod(s cron.Schedule, now time.Time) time.Duration {
	first := s.Next(now)
	return s.Next(first).Sub(first)
}

// pollSlots bounds the polls in flight, in Run and in Once: the feeds are
// many, the machine's cores and connections are not.
type pollSlots chan struct{}

// DefaultPollConcurrency is how many polls run at once unless configured:
// four a CPU, at most 64. A poll mostly waits on the network, but parsing
// and sanitising a changed feed is processor work.
func DefaultPollConcurrency() int { return min(4*runtime.NumCPU(), 64) }

func (e *Engine) slots() pollSlots {
	e.slotsOnce.Do(func() {
		n := e.MaxConcurrentPolls
		if n <= 0 {
			n = DefaultPollConcurrency()
		}
		e.pollSlots = make(pollSlots, n)
	})
	return e.pollSlots
}

// acquire waits for a slot; false when ctx ends first.
func (s pollSlots) acquire(ctx context.Context) bool {
	select {
	case s <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (s pollSlots) release() { <-s }

// pollRequests is the set of feeds asked to be polled now (a ping, a
// WebSub delivery): a set, not a queue, so no request is lost and a burst
// of pings for one feed costs one poll.
type pollRequests struct {
	mu      sync.Mutex
	pending map[string]bool
	signal  chan struct{} // holds one token while pending is not empty
}

func newPollRequests() *pollRequests {
	return &pollRequests{pending: map[string]bool{}, signal: make(chan struct{}, 1)}
}

func (p *pollRequests) add(feedID string) {
	p.mu.Lock()
	p.pending[feedID] = true
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

// take empties the set.
func (p *pollRequests) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	ids := make([]string, 0, len(p.pending))
	for id := range p.pending {
		ids = append(ids, id)
	}
	clear(p.pending)
	return ids
}
