package mastodon

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// backfill sends n articles with images, one after the other as the
// pipeline does, against a fake that keeps Mastodon's rate limits, on one
// clock that the channel's waits advance. It returns the errors and how
// long the clock ran.
func backfill(t *testing.T, n int, pacing Pacing) (*mastodontest.Server, []error, time.Duration) {
	t.Helper()
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	srv.SetMediaProcessing(1)
	clk := &clock{now: clockStart}
	srv.SetClock(clk.Now)
	ch := newChannel(t, srv.URL(), func(c *Config) { c.Now, c.sleep, c.Pacing = clk.Now, clk.Sleep, pacing })
	var errs []error
	for i := range n {
		a := withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption)
		a.Link = fmt.Sprintf("%s-%d", a.Link, i)
		// The pipeline's context: no deadline here, so every wait is waited.
		if _, err := ch.Send(t.Context(), postOf(a, fmt.Sprintf("delivery-%d", i))); err != nil {
			errs = append(errs, err)
		}
	}
	return srv, errs, clk.Now().Sub(clockStart)
}

func TestBackfillOf50NeverTripsTheRateLimits(t *testing.T) {
	srv, errs, took := backfill(t, 50, Pacing{})
	if len(errs) > 0 {
		t.Fatalf("%d sends failed, the first: %v", len(errs), errs[0])
	}
	if n := srv.Throttled(); n != 0 {
		t.Errorf("the fake answered 429 %d times", n)
	}
	st := srv.Statuses()
	if len(st) != 50 || len(srv.Media()) != 50 {
		t.Fatalf("%d statuses, %d media", len(st), len(srv.Media()))
	}
	for _, s := range st {
		if len(s.MediaIDs) != 1 {
			t.Fatalf("status %s without its image", s.ID)
		}
	}
	// 50 uploads at 30 per 30 minutes take more than 30 minutes: 27 go
	// at once, the rest when the window lets go of them, not a day later.
	t.Logf("the backfill took %v", took)
	if took < 30*time.Minute || took > 2*time.Hour {
		t.Errorf("the backfill took %v", took)
	}
}

// Without pacing, the same backfill trips the media limit: the test above
// proves something.
func TestBackfillWithoutPacingTrips(t *testing.T) {
	srv, errs, _ := backfill(t, 50, Pacing{RequestsPer5m: -1, MediaPer30m: -1, StatusesPer3h: -1})
	if srv.Throttled() == 0 || len(errs) == 0 {
		t.Fatalf("no 429 without pacing (%d errors)", len(errs))
	}
	kind, at := syndicate.Classify(errs[0])
	if kind != syndicate.Retryable || !at.Equal(time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("first error %v (%v, retry at %v), want retryable at the end of the 30-minute window", errs[0], kind, at)
	}
}

func TestPacingPastTheDeadlineIsRetryable(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), func(c *Config) { c.Pacing = Pacing{StatusesPer3h: 2} })
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := ch.Send(ctx, postOf(kazakhstan(), "k1")); err != nil {
		t.Fatal(err)
	}
	_, err := ch.Send(ctx, postOf(kazakhstan(), "k2"))
	kind, at := syndicate.Classify(err)
	if err == nil || kind != syndicate.Retryable || !strings.Contains(err.Error(), "pacing the account's statuses (at most 2 per 3h)") {
		t.Fatalf("got %v (%v), want a retryable pacing error", err, kind)
	}
	// One status in 3 hours (90% of 2, at least 1): the next one is due
	// then.
	if want := clockStart.Add(3 * time.Hour); !at.Equal(want) {
		t.Errorf("retry at %v, want %v", at, want)
	}
	if n := srv.Requests("/api/v1/statuses"); n != 1 {
		t.Errorf("%d status posts", n)
	}
	// The budget was given back: nothing else is held up.
	if _, err := ch.Check(ctx); err != nil {
		t.Errorf("check: %v", err)
	}
}

func TestPacingSharedByTheChannelsOfAnAccount(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	first := newChannel(t, srv.URL(), func(c *Config) { c.Pacing = Pacing{StatusesPer3h: 2} })
	second := newChannel(t, srv.URL(), func(c *Config) { c.ID, c.Peers = "mastodon-es", []*Channel{first} })
	other := newChannel(t, srv.URL(), func(c *Config) { c.ID, c.Server = "mastodon-other", srv.URL()+"/" })
	if second.pacer != first.pacer || other.pacer == first.pacer {
		t.Fatal("pacing not shared by the same account only")
	}
	ctx := testContext(t)
	if _, err := first.Send(ctx, postOf(kazakhstan(), "k1")); err != nil {
		t.Fatal(err)
	}
	_, err := second.Send(ctx, postOf(kazakhstan(), "k2"))
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Retryable {
		t.Fatalf("the second channel of the account: %v (%v), want a retryable pacing error", err, kind)
	}
}

func TestPacingWaitHonoursCancellation(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	ch := newChannel(t, srv.URL(), func(c *Config) {
		c.Pacing = Pacing{StatusesPer3h: 2}
		c.sleep = channels.Sleep // a real wait, which only the cancellation ends
	})
	if _, err := ch.Send(t.Context(), postOf(kazakhstan(), "k1")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := ch.Send(ctx, postOf(kazakhstan(), "k2"))
		done <- err
	}()
	cancel()
	err := <-done
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Retryable {
		t.Fatalf("got %v (%v), want a retryable error", err, kind)
	}
	if n := len(srv.Statuses()); n != 1 {
		t.Errorf("%d statuses", n)
	}
}

func TestFakeRateLimitIs429WithReset(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.SetRateLimits(mastodontest.RateLimits{Statuses: 1})
	clk := &clock{now: clockStart}
	srv.SetClock(clk.Now)
	ch := newChannel(t, srv.URL(), func(c *Config) {
		c.Now, c.sleep = clk.Now, clk.Sleep
		c.Pacing = Pacing{RequestsPer5m: -1, MediaPer30m: -1, StatusesPer3h: -1}
	})
	if _, err := ch.Send(testContext(t), postOf(kazakhstan(), "k1")); err != nil {
		t.Fatal(err)
	}
	_, err := ch.Send(testContext(t), postOf(kazakhstan(), "k2"))
	kind, at := syndicate.Classify(err)
	// Windows of 3 hours from the epoch: 21:30 falls in 21:00–24:00.
	if want := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC); err == nil || kind != syndicate.Retryable || !at.Equal(want) {
		t.Fatalf("got %v (%v, %v), want retryable at %v", err, kind, at, want)
	}
}

func TestBudgetSlidingWindow(t *testing.T) {
	type call struct {
		after time.Duration // since the call before went out
		wait  time.Duration // how long it must wait
	}
	calls := func(n int, after, wait time.Duration) []call {
		c := make([]call, n)
		for i := range c {
			c[i] = call{after, wait}
		}
		return c
	}
	join := func(parts ...[]call) []call {
		var c []call
		for _, p := range parts {
			c = append(c, p...)
		}
		return c
	}
	tests := []struct {
		name   string
		limit  int
		window time.Duration
		calls  []call
	}{
		{"the first call goes at once", 30, 30 * time.Minute, calls(1, 0, 0)},
		// 90% of 30: 27 go at once, the 28th when the first is 30 minutes
		// old, the next ones as the window lets go of the others.
		{"a burst up to the usable share goes at once", 30, 30 * time.Minute,
			join(calls(27, 0, 0), calls(1, 0, 30*time.Minute), calls(1, 0, 0))},
		{"calls spread out never wait", 30, 30 * time.Minute, calls(100, 67*time.Second, 0)},
		{"after a burst, the window slides", 30, 30 * time.Minute,
			// At 0, 10 s … 260 s; the 28th, asked for at 320 s, at 30 min;
			// the 29th 10 s later.
			join(calls(1, 0, 0), calls(26, 10*time.Second, 0), calls(1, time.Minute, 30*time.Minute-320*time.Second), calls(1, 0, 10*time.Second))},
		{"a limit of one", 1, 3 * time.Hour, join(calls(1, 0, 0), calls(1, time.Hour, 2*time.Hour), calls(1, 3*time.Hour, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBudget("calls", tt.limit, tt.window)
			now := clockStart
			for i, c := range tt.calls {
				now = now.Add(c.after)
				at := b.next(now)
				if wait := at.Sub(now); wait != c.wait {
					t.Fatalf("call %d: waits %v, want %v", i, wait, c.wait)
				}
				b.record(at, now)
				now = at
			}
		})
	}
}

// A call that does not go out gives its turn back.
func TestBudgetForget(t *testing.T) {
	b := newBudget("calls", 2, time.Hour) // one usable an hour
	b.record(clockStart, clockStart)
	at := b.next(clockStart)
	b.record(at, clockStart)
	b.forget(at)
	if next := b.next(clockStart); !next.Equal(clockStart.Add(time.Hour)) {
		t.Errorf("next call at %v, want %v", next, clockStart.Add(time.Hour))
	}
}

// However the calls come, no window of a limit's length sees more than the
// usable share of it.
func TestBudgetBurstStaysWithinTheLimit(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 30))
	for _, gap := range []time.Duration{0, time.Second, 20 * time.Second, 66 * time.Second, -1} {
		t.Run(fmt.Sprint(gap), func(t *testing.T) {
			b := newBudget("media uploads", DefaultMediaPer30m, 30*time.Minute)
			now := clockStart
			var sent []time.Time
			for range 200 {
				d := gap
				if d < 0 {
					d = time.Duration(rng.Int64N(int64(2 * time.Minute)))
				}
				now = now.Add(d)
				at := b.next(now)
				b.record(at, now)
				sent = append(sent, at)
				now = at
			}
			for i := b.usable; i < len(sent); i++ {
				if d := sent[i].Sub(sent[i-b.usable]); d < b.window {
					t.Fatalf("uploads %d to %d within %v: more than %d in 30 minutes", i-b.usable, i, d, b.usable)
				}
			}
		})
	}
}

// A few articles with images published one after another go out at once:
// a ping is not held back by the pacing meant for a backfill.
func TestPacingLetsAFewPostsGoAtOnce(t *testing.T) {
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	clk := &clock{now: clockStart}
	srv.SetClock(clk.Now)
	var waits []time.Duration
	ch := newChannel(t, srv.URL(), func(c *Config) {
		c.Now = clk.Now
		c.sleep = func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			return clk.Sleep(ctx, d)
		}
	})
	for i := range 10 {
		clk.Add(10 * time.Second)
		a := withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption)
		a.Link = fmt.Sprintf("%s-%d", a.Link, i)
		if _, err := ch.Send(testContext(t), postOf(a, fmt.Sprintf("delivery-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if len(waits) > 0 {
		t.Errorf("waited %v", waits)
	}
	if n := len(srv.Media()); n != 10 {
		t.Errorf("%d uploads", n)
	}
}
