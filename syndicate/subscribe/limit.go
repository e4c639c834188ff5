package subscribe

import (
	"net/netip"
	"sync"
	"time"
)

// Limits are the rate limits of Subscribe: a sliding window per client
// address and one per email address. A Max of 0 turns that limit off.
type Limits struct {
	// PerIP requests with a valid address are accepted from one client
	// address in IPWindow. IPv6 clients are counted per /64, the block one
	// household or host usually has.
	PerIP    int
	IPWindow time.Duration
	// PerAddress confirmation mails go to one email address (on any list)
	// in AddressWindow; further requests get the same answer and send
	// nothing, so the form cannot bomb an inbox.
	PerAddress    int
	AddressWindow time.Duration
	// MaxTracked bounds the requests remembered by each limit (0: 100,000).
	// When it is reached and none has left its window, new requests are
	// refused: under a flood from that many sources the form stops sending
	// rather than forget whom it has mailed.
	MaxTracked int
}

// DefaultLimits are the limits of a daemon whose configuration sets none:
// 5 requests an hour per client address, 3 confirmation mails a day per
// email address.
func DefaultLimits() Limits {
	return Limits{PerIP: 5, IPWindow: time.Hour, PerAddress: 3, AddressWindow: 24 * time.Hour}
}

const defaultMaxTracked = 100_000

// window is a sliding-window rate limit per key: at most max events in
// any period. Events are kept in a queue in time order (and per key), so
// forgetting the expired ones costs O(1) per event.
type window struct {
	max, maxEvents int
	period         time.Duration

	mu    sync.Mutex
	byKey map[string][]time.Time
	queue []event // oldest first: every event remembered
}

type event struct {
	key string
	at  time.Time
}

func newWindow(max int, period time.Duration, maxEvents int) *window {
	if maxEvents <= 0 {
		maxEvents = defaultMaxTracked
	}
	return &window{max: max, period: period, maxEvents: maxEvents, byKey: map[string][]time.Time{}}
}

// allow records an event for key at now if the key has had fewer than
// max in the period before; otherwise it records nothing and says how
// long until the next one is allowed.
func (w *window) allow(key string, now time.Time) (ok bool, retryAfter time.Duration) {
	if w == nil || w.max <= 0 {
		return true, 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.expire(now)
	hits := w.byKey[key]
	if len(hits) >= w.max {
		return false, hits[len(hits)-w.max].Add(w.period).Sub(now)
	}
	if len(w.queue) >= w.maxEvents {
		return false, w.queue[0].at.Add(w.period).Sub(now)
	}
	w.byKey[key] = append(hits, now)
	w.queue = append(w.queue, event{key, now})
	return true, 0
}

func (w *window) expire(now time.Time) {
	n := 0
	for n < len(w.queue) && !w.queue[n].at.Add(w.period).After(now) {
		e := w.queue[n]
		hits := w.byKey[e.key]
		if len(hits) <= 1 {
			delete(w.byKey, e.key)
		} else {
			w.byKey[e.key] = hits[1:]
		}
		n++
	}
	if n == 0 {
		return
	}
	w.queue = w.queue[n:]
	// Give the memory of a long queue back once most of it has gone.
	if cap(w.queue) > 64 && len(w.queue) < cap(w.queue)/4 {
		w.queue = append([]event(nil), w.queue...)
	}
}

// ipKey is the client address a limit counts: an IPv4 address, or the /64
// of an IPv6 one. Anything unparsable counts as one client.
func ipKey(clientIP string) string {
	a, err := netip.ParseAddr(clientIP)
	if err != nil {
		if ap, err2 := netip.ParseAddrPort(clientIP); err2 == nil {
			a, err = ap.Addr(), nil
		}
	}
	if err != nil {
		return "unknown"
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}
