package syndicate_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

func cronSchedule(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := cron.ParseStandard(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestScheduleOffset: each feed's scheduled polls are shifted by a steady
// amount below min(period, 10 min), and the feeds of one schedule spread
// over it.
func TestScheduleOffset(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 7, 13, 0, time.UTC)
	for _, tc := range []struct {
		spec   string
		window time.Duration
	}{
		{"@every 1h", 10 * time.Minute},
		{"*/5 * * * *", 5 * time.Minute},
		{"@every 30s", 30 * time.Second},
		{"0 8 * * MON", 10 * time.Minute},
	} {
		s := cronSchedule(t, tc.spec)
		buckets := map[time.Duration]bool{}
		for i := range 1000 {
			id := fmt.Sprintf("feed-%d", i)
			off := syndicate.ScheduleOffset(id, s, now)
			if off < 0 || off >= tc.window {
				t.Fatalf("%s: offset of %s is %v, want in [0, %v)", tc.spec, id, off, tc.window)
			}
			if again := syndicate.ScheduleOffset(id, s, now.Add(37*time.Hour)); again != off {
				t.Fatalf("%s: offset of %s moved from %v to %v", tc.spec, id, off, again)
			}
			buckets[off*10/tc.window] = true
		}
		if len(buckets) != 10 {
			t.Errorf("%s: 1000 feeds fall in %d of 10 tenths of the window, want all", tc.spec, len(buckets))
		}
	}
	if off := syndicate.ScheduleOffset("f", nil, now); off != 0 {
		t.Fatalf("no schedule: %v", off)
	}
}

// countingReader counts the reads in flight and their peak, and can hold
// every read until released.
type countingReader struct {
	inFlight, peak, reads atomic.Int64
	hold                  chan struct{} // nil: reads return at once
}

func (r *countingReader) Read(ctx context.Context, src syndicate.FeedSource, v syndicate.Validators) (syndicate.FetchResult, error) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	r.reads.Add(1)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			break
		}
	}
	if r.hold != nil {
		select {
		case <-r.hold:
		case <-ctx.Done():
		}
	} else {
		time.Sleep(5 * time.Millisecond)
	}
	return syndicate.FetchResult{NotModified: true}, nil
}

func newPollEngine(t *testing.T, r syndicate.FeedReader, feeds, slots int) *syndicate.Engine {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &syndicate.Engine{Store: store, Reader: r, MaxConcurrentPolls: slots, Targets: map[string]syndicate.Target{}}
	for i := range feeds {
		e.Feeds = append(e.Feeds, syndicate.Feed{Source: syndicate.FeedSource{ID: fmt.Sprintf("feed-%d", i)}})
	}
	return e
}

// TestPollsAreBounded: Once and Run never have more polls in flight than
// MaxConcurrentPolls.
func TestPollsAreBounded(t *testing.T) {
	r := &countingReader{}
	e := newPollEngine(t, r, 40, 3)
	if _, err := e.Once(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if p, n := r.peak.Load(), r.reads.Load(); p > 3 || n != 40 {
		t.Fatalf("once: peak %d polls in flight over %d reads, want at most 3 over 40", p, n)
	}

	r = &countingReader{}
	e = newPollEngine(t, r, 40, 3)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.Run(ctx) })
	deadline := time.Now().Add(20 * time.Second)
	for r.reads.Load() < 40 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if p, n := r.peak.Load(), r.reads.Load(); p > 3 || n != 40 {
		t.Fatalf("run: peak %d polls in flight over %d reads, want at most 3 over 40", p, n)
	}
}

// TestPingsCoalesce: pings for a feed while its poll runs are not lost,
// and a burst of them costs one more poll, not one each.
func TestPingsCoalesce(t *testing.T) {
	r := &countingReader{hold: make(chan struct{})}
	e := newPollEngine(t, r, 1, 0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.Run(ctx) })
	for !e.Ready() || r.inFlight.Load() != 1 { // the poll at start is held
		time.Sleep(time.Millisecond)
	}
	for range 500 {
		if !e.PollNow("feed-0") {
			t.Fatal("PollNow refused a known feed")
		}
	}
	if e.PollNow("nope") {
		t.Fatal("PollNow took an unknown feed")
	}
	close(r.hold) // the start poll ends; the pings' poll follows
	deadline := time.Now().Add(10 * time.Second)
	for r.reads.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // room for any extra poll to show
	cancel()
	wg.Wait()
	if n := r.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2: the one at start and one for the 500 pings", n)
	}
}

// TestPingWhileAnotherProcessPolls: a ping that finds the feed being
// polled by another process is not dropped: that poll's fetch may have
// left before the change the ping announces, so this process polls once
// the other's poll has ended.
func TestPingWhileAnotherProcessPolls(t *testing.T) {
	r := &countingReader{}
	e := newPollEngine(t, r, 1, 0)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { _ = e.Run(ctx) })
	for !e.Ready() || r.reads.Load() != 1 { // the poll at start
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // its record is written

	const other = "other-host/1/abcd" // another host: never taken for stopped
	now := time.Now()
	if h, err := e.Store.TakeLease(ctx, "feed:feed-0", other, now, now.Add(time.Minute), ""); err != nil || h != other {
		t.Fatalf("TakeLease = %q, %v", h, err)
	}
	if !e.PollNow("feed-0") {
		t.Fatal("PollNow refused a known feed")
	}
	time.Sleep(300 * time.Millisecond)
	if n := r.reads.Load(); n != 1 {
		t.Fatalf("%d reads while another process held the feed, want 1", n)
	}
	if err := e.Store.ReleaseLease(ctx, "feed:feed-0", other); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.reads.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	wg.Wait()
	if n := r.reads.Load(); n != 2 {
		t.Fatalf("%d reads, want 2: the ping's poll once the other process's had ended", n)
	}
}
