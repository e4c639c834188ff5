package mastodon

import (
	"context"
	"fmt"
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
	// 50 uploads at 30 per 30 minutes take more than 30 minutes; pacing
	// makes them take about an hour, not a day.
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
