package mastodon

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// engineRetry is the retry policy the engine applies by default
// (max_attempts 10, min_backoff 10s, max_backoff 1h).
var engineRetry = syndicate.RetryPolicy{MaxAttempts: 10, MinBackoff: 10 * time.Second, MaxBackoff: time.Hour}

// run is how a burst went: when each post went out, from the start, and
// the refusals met on the way.
type run struct {
	sent     []time.Duration
	refusals []error
}

// sendLikeTheEngine sends the posts in order, as the engine delivers a
// channel's queue: one at a time, each with a context of its own bounded
// by the send timeout (2 minutes) that shutdown does not cut; a retryable
// refusal holds the queue until its RetryAfter, or the retry policy's
// backoff when that is later, and the same post goes again. The clock is
// the channel's, which its waits advance.
func sendLikeTheEngine(t *testing.T, ch *Channel, clk *clock, posts []syndicate.Post) run {
	t.Helper()
	var r run
	start := clk.Now()
	for _, post := range posts {
		for attempt := 1; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 2*time.Minute)
			_, err := ch.Send(ctx, post)
			cancel()
			if err == nil {
				r.sent = append(r.sent, clk.Now().Sub(start))
				break
			}
			kind, retryAfter := syndicate.Classify(err)
			if kind != syndicate.Retryable || attempt >= engineRetry.MaxAttempts {
				t.Fatalf("post %s: attempt %d: %v (%v)", post.IdempotencyKey, attempt, err, kind)
			}
			r.refusals = append(r.refusals, err)
			next := clk.Now().Add(engineRetry.Backoff(attempt, 0))
			if retryAfter.After(next) {
				next = retryAfter
			}
			clk.Add(next.Sub(clk.Now()))
		}
	}
	return r
}

// burst sends n articles with images published together, at default
// settings, against a fake that keeps Mastodon's rate limits on the
// channel's clock, starting at start. setup, when not nil, changes the
// fake first.
func burst(t *testing.T, n int, start time.Time, pacing Pacing, setup func(*mastodontest.Server)) (*mastodontest.Server, run) {
	t.Helper()
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	if setup != nil {
		setup(srv)
	}
	clk := &clock{now: start}
	srv.SetClock(clk.Now)
	ch := newChannel(t, srv.URL(), func(c *Config) { c.Now, c.sleep, c.RateLimits = clk.Now, clk.Sleep, pacing })
	posts := make([]syndicate.Post, n)
	for i := range posts {
		a := withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption)
		a.Link = fmt.Sprintf("%s-%d", a.Link, i)
		posts[i] = postOf(a, fmt.Sprintf("delivery-%d", i))
	}
	r := sendLikeTheEngine(t, ch, clk, posts)
	for _, st := range srv.Statuses() {
		if len(st.MediaIDs) != 1 {
			t.Fatalf("status %s without its image", st.ID)
		}
	}
	if len(srv.Statuses()) != n || len(srv.Media()) != n {
		t.Fatalf("%d statuses, %d uploads, want %d", len(srv.Statuses()), len(srv.Media()), n)
	}
	return srv, r
}

// spread summarises when posts went out: "5 at +0s" or "27 at +0s, 23 at +20m1s".
func spread(sent []time.Duration) string {
	var parts []string
	for i := 0; i < len(sent); {
		j := i
		for j < len(sent) && sent[j] == sent[i] {
			j++
		}
		parts = append(parts, fmt.Sprintf("%d at +%v", j-i, sent[i]))
		i = j
	}
	return strings.Join(parts, ", ")
}

// Articles with images published together go out together, as long as the
// media budget (30 uploads in 30 minutes, 27 of them for the channel)
// allows: a burst of 5 or 20 waits for nothing.
func TestBurstsWithinTheBudgetGoAtOnce(t *testing.T) {
	for _, n := range []int{5, 20} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			srv, r := burst(t, n, clockStart, DefaultSettings().RateLimits, nil)
			t.Logf("a burst of %d: %s", n, spread(r.sent))
			for i, d := range r.sent {
				if d != 0 {
					t.Errorf("post %d went out %v after the first", i, d)
				}
			}
			if len(r.refusals) > 0 || srv.Throttled() > 0 {
				t.Errorf("%d refusals (%v), %d 429s", len(r.refusals), r.refusals, srv.Throttled())
			}
		})
	}
}

// A backfill past the media budget: 27 uploads go at once, the others when
// the server's window ends (its X-RateLimit-Reset, 22:00, 20 minutes after
// a start at 21:40), not 30 minutes after the first; each send that would
// wait that long is refused for then instead, and none meets a 429.
func TestBackfillKeepsToTheServersWindow(t *testing.T) {
	start := clockStart.Add(10 * time.Minute) // 21:40
	srv, r := burst(t, 50, start, DefaultSettings().RateLimits, nil)
	t.Logf("a backfill of 50: %s; %d refusals for later", spread(r.sent), len(r.refusals))
	if n := srv.Throttled(); n != 0 {
		t.Errorf("the fake answered 429 %d times", n)
	}
	end := 20*time.Minute + resetMargin
	for i, d := range r.sent {
		if want := time.Duration(0); i >= 27 {
			want = end
			if d != want {
				t.Errorf("post %d went out at +%v, want +%v", i, d, want)
			}
		} else if d != want {
			t.Errorf("post %d went out at +%v, want at once", i, d)
		}
	}
	if len(r.refusals) != 1 {
		t.Errorf("%d refusals, want the 28th once: %v", len(r.refusals), r.refusals)
	}
	for _, err := range r.refusals {
		if !strings.Contains(err.Error(), "pacing the account's media uploads (the server has 3 of 30 left until 2026-11-26T22:00:00Z") {
			t.Errorf("refusal %v", err)
		}
	}
	// No image was uploaded to wait for its status.
	if n := srv.Requests("/api/v2/media"); n != 50 {
		t.Errorf("%d upload requests", n)
	}
}

// A server that sends no X-RateLimit headers: the configured limits decide,
// as sliding windows; the 28th upload goes when the first is 30 minutes
// old.
func TestBackfillWithoutTheServersCount(t *testing.T) {
	start := clockStart.Add(10 * time.Minute)
	srv, r := burst(t, 50, start, DefaultSettings().RateLimits, func(s *mastodontest.Server) { s.OmitRateLimitHeaders() })
	t.Logf("a backfill of 50, no X-RateLimit headers: %s", spread(r.sent))
	if n := srv.Throttled(); n != 0 {
		t.Errorf("the fake answered 429 %d times", n)
	}
	if got := spread(r.sent); got != "27 at +0s, 23 at +30m0s" {
		t.Errorf("went out %s", got)
	}
}

// Without pacing, the same backfill trips the media limit: the tests above
// prove something.
func TestBackfillWithoutPacingTrips(t *testing.T) {
	srv, r := burst(t, 50, clockStart, Pacing{}, nil)
	if srv.Throttled() == 0 || len(r.refusals) == 0 {
		t.Fatalf("no 429 without pacing (%d refusals)", len(r.refusals))
	}
	kind, at := syndicate.Classify(r.refusals[0])
	if kind != syndicate.Retryable || !at.Equal(time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("first error %v (%v, retry at %v), want retryable at the end of the 30-minute window", r.refusals[0], kind, at)
	}
}

// What others did with the account counts: the server's count says what
// is left.
func TestPacingFollowsTheServersCount(t *testing.T) {
	img := newSite(t)
	srv := mastodontest.NewServer(t, token)
	clk := &clock{now: clockStart}
	srv.SetClock(clk.Now)
	jpeg := mustGet(t, img.URL+"/kazakhstan-strike.jpg")
	other := newChannel(t, srv.URL(), func(c *Config) { c.Now, c.sleep = clk.Now, clk.Sleep }) // not a peer: its own pacing
	for range 25 {
		if _, err := other.upload(testContext(t), jpeg, ""); err != nil {
			t.Fatal(err)
		}
	}
	ch := newChannel(t, srv.URL(), func(c *Config) { c.Now, c.sleep = clk.Now, clk.Sleep })
	var errs []error
	for i := range 3 {
		a := withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption)
		a.Link = fmt.Sprintf("%s-%d", a.Link, i)
		if _, err := ch.Send(testContext(t), postOf(a, fmt.Sprint("k", i))); err != nil {
			errs = append(errs, err)
		}
	}
	// 30 less 25: the first upload, then one more down to the 3 kept.
	if n := len(srv.Statuses()); n != 2 || len(errs) != 1 {
		t.Fatalf("%d posts, errors %v; want 2 posts, then a refusal", n, errs)
	}
	if kind, at := syndicate.Classify(errs[0]); kind != syndicate.Retryable || !at.Equal(time.Date(2026, 11, 26, 22, 0, 1, 0, time.UTC)) {
		t.Errorf("%v (%v, %v), want retryable at the window's end", errs[0], kind, at)
	}
	if n := srv.Throttled(); n != 0 {
		t.Errorf("%d 429s", n)
	}
}

func TestPacingPastTheBoundIsRetryable(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(*mastodontest.Server)
		pacing   Pacing
		wantAt   time.Time
		wantText string
	}{
		{
			name: "the server's count",
			setup: func(s *mastodontest.Server) {
				s.SetRateLimits(mastodontest.RateLimits{Requests: 300, Media: 30, Statuses: 2})
			},
			pacing:   DefaultSettings().RateLimits,
			wantAt:   time.Date(2026, 11, 27, 0, 0, 1, 0, time.UTC), // the 3-hour window's end
			wantText: "pacing the account's statuses (the server has 1 of 2 left until 2026-11-27T00:00:00Z, kept for other uses of the account)",
		},
		{
			// One status in 3 hours (90% of 2, at least 1): the next one
			// is due then.
			name:     "the configured limit, the server saying nothing",
			setup:    func(s *mastodontest.Server) { s.OmitRateLimitHeaders() },
			pacing:   Pacing{RequestsPer5m: 300, MediaPer30m: 30, StatusesPer3h: 2},
			wantAt:   clockStart.Add(3 * time.Hour),
			wantText: "pacing the account's statuses (at most 2 per 3h)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := newSite(t)
			srv := mastodontest.NewServer(t, token)
			tt.setup(srv)
			clk := &clock{now: clockStart}
			srv.SetClock(clk.Now)
			ch := newChannel(t, srv.URL(), func(c *Config) {
				c.RateLimits, c.Now = tt.pacing, clk.Now
				c.sleep = func(ctx context.Context, d time.Duration) error {
					if d > maxPaceWait {
						t.Errorf("waits %v within a send", d)
					}
					return clk.Sleep(ctx, d)
				}
			})
			post := func(key string) syndicate.Post {
				return postOf(withImage(kazakhstan(), img.URL+"/kazakhstan-strike.jpg", caption), key)
			}
			if _, err := ch.Send(testContext(t), post("k1")); err != nil {
				t.Fatal(err)
			}
			_, err := ch.Send(testContext(t), post("k2"))
			kind, at := syndicate.Classify(err)
			if err == nil || kind != syndicate.Retryable || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("got %v (%v), want a retryable pacing error: %s", err, kind, tt.wantText)
			}
			if !at.Equal(tt.wantAt) {
				t.Errorf("retry at %v, want %v", at, tt.wantAt)
			}
			// Refused before its image was uploaded: none waits unattached.
			if n, m := srv.Requests("/api/v1/statuses"), len(srv.Media()); n != 1 || m != 1 {
				t.Errorf("%d status posts, %d uploads", n, m)
			}
			// Nothing else is held up.
			if _, err := ch.Check(testContext(t)); err != nil {
				t.Errorf("check: %v", err)
			}
		})
	}
}

// A short wait that would leave too little of the send's time is not
// waited either.
func TestPacingPastTheDeadlineIsRetryable(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.FailNext(1, 429, http.Header{"Retry-After": {"3"}}, "")
	ch := newChannel(t, srv.URL(), nil)
	if _, err := ch.Send(testContext(t), postOf(kazakhstan(), "k1")); err == nil {
		t.Fatal("the 429 was not an error")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := ch.Send(ctx, postOf(kazakhstan(), "k1"))
	if kind, at := syndicate.Classify(err); err == nil || kind != syndicate.Retryable || !at.Equal(clockStart.Add(4*time.Second)) {
		t.Fatalf("got %v (%v, %v), want retryable at the 429's time", err, kind, at)
	}
	if n := srv.Requests("/api/v1/statuses"); n != 1 {
		t.Errorf("%d status posts", n)
	}
}

func TestPacingSharedByTheChannelsOfAnAccount(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.SetRateLimits(mastodontest.RateLimits{Requests: 300, Media: 30, Statuses: 2})
	first := newChannel(t, srv.URL(), nil)
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
	if n := srv.Requests("/api/v1/statuses"); n != 1 {
		t.Errorf("%d status posts", n)
	}
}

// A short wait is waited within the send, and ends with its context.
func TestPacingWaitHonoursCancellation(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.FailNext(1, 429, http.Header{"Retry-After": {"3"}}, "")
	sleeping := make(chan struct{}, 1)
	var slept error
	ch := newChannel(t, srv.URL(), func(c *Config) {
		c.Now = time.Now
		c.sleep = func(ctx context.Context, d time.Duration) error {
			sleeping <- struct{}{}
			slept = channels.Sleep(ctx, d) // a real wait, which only the cancellation ends
			return slept
		}
	})
	if _, err := ch.Send(t.Context(), postOf(kazakhstan(), "k1")); err == nil {
		t.Fatal("the 429 was not an error")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() {
		_, err := ch.Send(ctx, postOf(kazakhstan(), "k1"))
		done <- err
	}()
	<-sleeping
	cancel()
	err := <-done
	if kind, _ := syndicate.Classify(err); err == nil || kind != syndicate.Retryable {
		t.Fatalf("got %v (%v), want a retryable error", err, kind)
	}
	if !errors.Is(slept, context.Canceled) {
		t.Errorf("the wait ended with %v, not the cancellation", slept)
	}
	if n := srv.Requests("/api/v1/statuses"); n != 1 {
		t.Errorf("%d status posts", n)
	}
}

func TestFakeRateLimitIs429WithReset(t *testing.T) {
	srv := mastodontest.NewServer(t, token)
	srv.SetRateLimits(mastodontest.RateLimits{Statuses: 1})
	clk := &clock{now: clockStart}
	srv.SetClock(clk.Now)
	ch := newChannel(t, srv.URL(), func(c *Config) {
		c.Now, c.sleep = clk.Now, clk.Sleep
		c.RateLimits = Pacing{} // no pacing
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

// The server's count, once known, decides: a call goes while more than the
// reserve is left, else at the end of the server's window, when a whole
// limit is back; a 429 leaves nothing until the time it names.
func TestBudgetServerCount(t *testing.T) {
	b := newBudget("media uploads", 30, 30*time.Minute)
	now := clockStart.Add(10 * time.Minute) // 21:40
	reset := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)
	b.record(now, now)
	b.answered(&observation{counted: true, limit: 30, remaining: 5, reset: reset}, now)
	for i, want := range []time.Time{now, now, reset.Add(resetMargin), reset.Add(resetMargin)} {
		at := b.next(now)
		if !at.Equal(want) {
			t.Fatalf("call %d: at %v, want %v", i, at, want)
		}
		b.record(at, now)
	}
	// 2 of 30 were left, then 28 in the new window, less the 2 taken.
	if s := b.server.at(reset.Add(resetMargin), b.window); s.remaining != 28 || !s.reset.Equal(reset.Add(30*time.Minute)) {
		t.Errorf("the count after the window %+v", s)
	}
	// A call under way when an answer comes is not in its count yet.
	b = newBudget("statuses", 300, 3*time.Hour)
	b.record(now, now)
	b.record(now, now)
	b.answered(&observation{counted: true, limit: 300, remaining: 100, reset: reset}, now)
	if b.server.remaining != 99 {
		t.Errorf("remaining %d, want 99", b.server.remaining)
	}
	b.answered(&observation{throttled: true, retryAt: now.Add(time.Minute)}, now)
	if at := b.next(now); !at.Equal(now.Add(time.Minute + resetMargin)) {
		t.Errorf("after a 429: at %v", at)
	}
}

func TestParseReset(t *testing.T) {
	now := clockStart
	for v, want := range map[string]time.Time{
		"2026-11-26T21:35:00.000Z": clockStart.Add(5 * time.Minute),
		"2026-11-26T21:35:00Z":     clockStart.Add(5 * time.Minute),
		"1795728900":               time.Unix(1795728900, 0).UTC(),
		"90":                       clockStart.Add(90 * time.Second),
		"":                         {},
		"soon":                     {},
	} {
		if got := parseReset(v, now); !got.Equal(want) {
			t.Errorf("%q: %v, want %v", v, got, want)
		}
	}
}
