package telegram

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var defaultSpacing = spacing{perMinute: DefaultPerMinute, minGap: DefaultMinInterval}

// fakePacer is a pacer on a fake clock whose sleeps advance the clock and
// are recorded.
func fakePacer(s spacing) (*pacer, *clock, *[]time.Duration) {
	clk := newClock()
	p := newPacer(s, clk.Now)
	var slept []time.Duration
	p.sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		clk.Advance(d)
		return nil
	}
	return p, clk, &slept
}

// paceStep is one thing that happens to a pacer.
type paceStep struct {
	after time.Duration // the clock advances this much first
	do    string        // "post", "take", "block" or "deadline"
	block time.Duration // for "block": how long from now it holds posts back
	wait  time.Duration // for "post": how long the post must wait
}

// posts is n posts, each asked for gap after the one before it went out,
// each waiting wait.
func posts(n int, gap, wait time.Duration) []paceStep {
	s := make([]paceStep, n)
	for i := range s {
		s[i] = paceStep{after: gap, do: "post", wait: wait}
	}
	return s
}

func steps(parts ...[]paceStep) []paceStep {
	var s []paceStep
	for _, p := range parts {
		s = append(s, p...)
	}
	return s
}

func TestPacerWaits(t *testing.T) {
	post := func(after, wait time.Duration) []paceStep { return posts(1, after, wait) }
	block := func(d time.Duration) []paceStep { return []paceStep{{do: "block", block: d}} }
	ms := time.Millisecond
	tests := []struct {
		name    string
		spacing spacing
		steps   []paceStep
	}{
		{"the first post goes at once", defaultSpacing, post(0, 0)},
		{"a post after a quiet spell goes at once", defaultSpacing,
			steps(post(0, 0), post(1500*ms, 0), post(time.Hour, 0))},
		{"a post within min_interval waits the rest of it", defaultSpacing,
			steps(post(0, 0), post(300*ms, 700*ms))},
		{"back to back, min_interval apart", defaultSpacing,
			steps(post(0, 0), posts(5, 0, time.Second))},
		{"the 21st post in a minute waits until the 1st is a minute old", defaultSpacing,
			// At 0 s, 2 s … 38 s; the 21st, asked for at 40 s, goes at 60 s.
			steps(posts(20, 2*time.Second, 0), post(2*time.Second, 20*time.Second))},
		{"the 21st back to back waits for the minute", defaultSpacing,
			// At 0 s … 19 s; the 21st at 60 s, the 22nd a second later.
			steps(post(0, 0), posts(19, 0, time.Second), post(0, 41*time.Second), post(0, time.Second))},
		{"the window slides", defaultSpacing,
			// At 2 s, 4 s … 40 s, then 62 s, when the first is a minute
			// old; the next ones as the minute lets go of the posts at
			// 4 s and 6 s.
			steps(posts(20, 2*time.Second, 0), post(22*time.Second, 0), post(500*ms, 1500*ms), post(0, 2*time.Second))},
		{"a 429 holds the next post back", defaultSpacing,
			steps(post(0, 0), block(7*time.Second), post(0, 7*time.Second))},
		{"the spacing holds after a 429", defaultSpacing,
			steps(block(7*time.Second), post(0, 7*time.Second), post(0, time.Second))},
		{"a short 429 does not shorten the spacing", defaultSpacing,
			steps(post(0, 0), block(200*ms), post(0, time.Second))},
		{"a later 429 holds back longer", defaultSpacing,
			steps(block(3*time.Second), block(9*time.Second), block(time.Second), post(0, 9*time.Second))},
		{"a post taken without waiting counts", defaultSpacing,
			steps(post(0, 0), []paceStep{{after: 2 * time.Second, do: "take"}}, post(400*ms, 600*ms))},
		{"a post past the deadline takes no turn", defaultSpacing,
			steps(post(0, 0), block(time.Hour), []paceStep{{do: "deadline"}, {do: "deadline"}},
				post(0, time.Hour), post(0, time.Second))},
		{"per_minute alone", spacing{perMinute: 2},
			steps(post(0, 0), post(0, 0), post(10*time.Second, 50*time.Second), post(0, 0), post(0, time.Minute))},
		{"min_interval alone", spacing{minGap: 10 * time.Second},
			steps(post(0, 0), posts(30, 0, 10*time.Second), post(4*time.Second, 6*time.Second))},
		{"min_interval longer than a minute", spacing{perMinute: 20, minGap: 5 * time.Minute},
			steps(post(0, 0), post(2*time.Minute, 3*time.Minute))},
		{"no bounds", spacing{}, steps(posts(100, 0, 0), []paceStep{{do: "take"}}, post(0, 0))},
		{"no bounds, a 429 still holds back", spacing{}, steps(post(0, 0), block(5*time.Second), post(0, 5*time.Second), post(0, 0))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, clk, slept := fakePacer(tt.spacing)
			for i, s := range tt.steps {
				clk.Advance(s.after)
				*slept = nil
				switch s.do {
				case "post":
					if err := p.wait(context.Background()); err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					var waited time.Duration
					for _, d := range *slept {
						waited += d
					}
					if waited != s.wait {
						t.Fatalf("step %d: waited %v, want %v", i, waited, s.wait)
					}
				case "take":
					p.take()
				case "block":
					p.block(clk.Now().Add(s.block))
				case "deadline":
					// A deadline a minute away on the real clock, shorter
					// than the hour the pacer would wait.
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					err := p.wait(ctx)
					cancel()
					var soon *tooSoonError
					if want := clk.Now().Add(time.Hour); !errors.As(err, &soon) || !soon.until.Equal(want) {
						t.Fatalf("step %d: %v, want a tooSoonError until %v", i, err, want)
					}
					if len(*slept) > 0 {
						t.Fatalf("step %d: slept %v past the deadline", i, *slept)
					}
				default:
					t.Fatalf("step %d: unknown %q", i, s.do)
				}
			}
		})
	}
}

// A wait that ends with its context gives its turn back.
func TestPacerCancelledWaitGivesItsTurnBack(t *testing.T) {
	p, clk, _ := fakePacer(defaultSpacing)
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.sleep = func(ctx context.Context, d time.Duration) error { return context.Canceled }
	if err := p.wait(context.Background()); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the sleep's error", err)
	}
	var slept []time.Duration
	p.sleep = func(_ context.Context, d time.Duration) error {
		slept = append(slept, d)
		clk.Advance(d)
		return nil
	}
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second after the first post, not two.
	if len(slept) != 1 || slept[0] != time.Second {
		t.Errorf("slept %v, want [1s]", slept)
	}
}

// A 429 that comes in while a post waits its turn holds that post back too,
// and the turn it had waited for no longer counts.
func TestPacerBlockDuringTheWait(t *testing.T) {
	p, clk, _ := fakePacer(spacing{perMinute: 2, minGap: time.Second})
	start := clk.Now()
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	var slept []time.Duration
	p.sleep = func(_ context.Context, d time.Duration) error {
		if len(slept) == 0 {
			p.block(clk.Now().Add(5 * time.Second))
		}
		slept = append(slept, d)
		clk.Advance(d)
		return nil
	}
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second for the spacing, then the rest of the block.
	if want := []time.Duration{time.Second, 4 * time.Second}; !slices.Equal(slept, want) {
		t.Errorf("slept %v, want %v", slept, want)
	}
	// Two went, at 0 s and 5 s: the third goes when the first is a minute
	// old.
	if err := p.wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if at := clk.Now().Sub(start); at != time.Minute {
		t.Errorf("the third post went at %v, want 1m0s", at)
	}
}

// checkBounds fails unless the times keep the spacing: never two closer than
// minGap, never more than perMinute in any minute.
func checkBounds(t *testing.T, s spacing, sent []time.Time) {
	t.Helper()
	for i := 1; i < len(sent); i++ {
		if gap := sent[i].Sub(sent[i-1]); gap < s.minGap {
			t.Fatalf("posts %d and %d %v apart, want at least %v", i-1, i, gap, s.minGap)
		}
	}
	for i := s.perMinute; i < len(sent); i++ {
		// The minute that ends with post i must not hold post i-perMinute.
		if d := sent[i].Sub(sent[i-s.perMinute]); d < time.Minute {
			t.Fatalf("posts %d to %d within %v: more than %d in a minute", i-s.perMinute, i, d, s.perMinute)
		}
	}
}

// A burst never exceeds the chat's limits, however the posts come, and is
// not held back more than they require.
func TestPacerBurstStaysWithinTheLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 20))
	for _, tc := range []struct {
		name string
		gap  func() time.Duration // before each post is asked for
	}{
		{"back to back", func() time.Duration { return 0 }},
		{"every half second", func() time.Duration { return 500 * time.Millisecond }},
		{"every 2.9 s", func() time.Duration { return 2900 * time.Millisecond }},
		{"at random", func() time.Duration { return time.Duration(rng.Int64N(int64(5 * time.Second))) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, clk, _ := fakePacer(defaultSpacing)
			var sent []time.Time
			for range 50 {
				clk.Advance(tc.gap())
				if err := p.wait(context.Background()); err != nil {
					t.Fatal(err)
				}
				sent = append(sent, clk.Now())
			}
			checkBounds(t, defaultSpacing, sent)
		})
	}

	// Back to back, 50 posts take two minutes and nine seconds: 20 a
	// second apart, the next 20 a minute after them, then 10.
	p, clk, _ := fakePacer(defaultSpacing)
	start := clk.Now()
	for range 50 {
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if took, want := clk.Now().Sub(start), 129*time.Second; took != want {
		t.Errorf("50 posts back to back went out over %v, want %v", took, want)
	}
}

// The reply that completes a photo's post goes at once; every post that
// waits counts it: it goes at least min_interval after it, and only when
// fewer than per_minute messages, replies included, went in the minute
// before.
func TestPacerCountsTheRepliesTaken(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 21))
	p, clk, _ := fakePacer(defaultSpacing)
	type message struct {
		at    time.Time
		taken bool
	}
	var sent []message
	for range 50 {
		clk.Advance(time.Duration(rng.Int64N(int64(5 * time.Second))))
		if err := p.wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, message{at: clk.Now()})
		if rng.IntN(3) == 0 {
			p.take()
			sent = append(sent, message{at: clk.Now(), taken: true})
		}
	}
	for i, m := range sent {
		if m.taken || i == 0 {
			continue
		}
		if gap := m.at.Sub(sent[i-1].at); gap < defaultSpacing.minGap {
			t.Fatalf("message %d %v after the one before", i, gap)
		}
		n := 0
		for _, before := range sent[:i] {
			if m.at.Sub(before.at) < time.Minute {
				n++
			}
		}
		if n >= defaultSpacing.perMinute {
			t.Fatalf("message %d went with %d in the minute before it", i, n)
		}
	}
}

// Posts that wait at the same time each take their own turn.
func TestPacerConcurrentPostsTakeTheirOwnTurns(t *testing.T) {
	clk := newClock()
	p := newPacer(defaultSpacing, clk.Now)
	var (
		mu    sync.Mutex
		start = clk.Now()
		sent  = []time.Time{start} // the one that does not wait
	)
	// The clock stands still: each post goes out at the end of its sleep.
	p.sleep = func(_ context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		sent = append(sent, start.Add(d))
		return nil
	}
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if err := p.wait(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(sent) != 50 {
		t.Fatalf("%d posts", len(sent))
	}
	slices.SortFunc(sent, time.Time.Compare)
	checkBounds(t, defaultSpacing, sent)
	if last := sent[len(sent)-1].Sub(start); last != 129*time.Second {
		t.Errorf("the last post at %v, want 2m9s", last)
	}
}

// burst sends n articles, all ready at once, one after the other through a
// channel with the default pacing, and returns when each message went out
// (a photo's reply is a message of its own), from the first.
func burst(t *testing.T, n int, a syndicate.Article, configure func(*Config)) []time.Duration {
	t.Helper()
	srv := newServer(t)
	clk := newClock()
	start := clk.Now()
	var (
		mu   sync.Mutex
		sent []time.Duration
	)
	c := newChannel(t, srv, func(cfg *Config) {
		cfg.Pacing = DefaultSettings().Pacing
		cfg.Now = clk.Now
		cfg.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			sent = append(sent, clk.Now().Sub(start))
			mu.Unlock()
			return http.DefaultTransport.RoundTrip(r)
		})
		if configure != nil {
			configure(cfg)
		}
	})
	c.pacer.sleep = func(_ context.Context, d time.Duration) error {
		clk.Advance(d)
		return nil
	}
	for range n {
		if _, err := c.Send(context.Background(), post(a)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(srv.Messages()); got != len(sent) {
		t.Fatalf("%d requests for %d messages", len(sent), got)
	}
	return sent
}

func seconds(s ...float64) []time.Duration {
	out := make([]time.Duration, len(s))
	for i, x := range s {
		out[i] = time.Duration(x * float64(time.Second))
	}
	return out
}

func upTo(n int, each func(i int) []float64) []time.Duration {
	var s []float64
	for i := range n {
		s = append(s, each(i)...)
	}
	return seconds(s...)
}

// With the defaults (per_minute 20, min_interval 1s), a burst of articles
// published together goes out a second apart, the first at once, as long
// as the minute's budget lasts; a photo's reply goes with its photo and
// counts against the budget.
func TestBurstPacing(t *testing.T) {
	s := newSite(t)
	photo := photoArticle(s)
	photo.Summary = strings.Repeat("word ", 400) // too long for a caption: a photo and a reply
	tests := []struct {
		name string
		n    int
		a    syndicate.Article
		want []time.Duration
	}{
		{"5 messages", 5, article(), seconds(0, 1, 2, 3, 4)},
		{"20 messages", 20, article(), upTo(20, func(i int) []float64 { return []float64{float64(i)} })},
		{"21 messages", 21, article(), append(upTo(20, func(i int) []float64 { return []float64{float64(i)} }), seconds(60)...)},
		{"5 photos with a reply", 5, photo, upTo(5, func(i int) []float64 { return []float64{float64(i), float64(i)} })},
		// 10 posts fill the minute's 20 messages; the 11th waits for the
		// first to be a minute old, then each the next minute's turn.
		{"20 photos with a reply", 20, photo, append(
			upTo(10, func(i int) []float64 { return []float64{float64(i), float64(i)} }),
			upTo(10, func(i int) []float64 { return []float64{float64(60 + i), float64(60 + i)} })...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := burst(t, tt.n, tt.a, nil)
			if !slices.Equal(got, tt.want) {
				t.Errorf("messages at %v\nwant %v", got, tt.want)
			}
			t.Logf("%s: the last message at %v, the messages at %v", tt.name, got[len(got)-1], got)
		})
	}
}
