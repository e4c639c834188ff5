package syndicate_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// reader serves a settable list of articles, as a feed would.
type reader struct {
	mu       sync.Mutex
	articles []syndicate.Article
	err      error
	reads    int
}

func (r *reader) set(articles ...syndicate.Article) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.articles = articles
}

func (r *reader) Read(ctx context.Context, src syndicate.FeedSource, v syndicate.Validators) (syndicate.FetchResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reads++
	if r.err != nil {
		return syndicate.FetchResult{}, r.err
	}
	out := slices.Clone(r.articles)
	for i := range out {
		out[i].Position = i
		out[i].FeedID = src.ID
	}
	return syndicate.FetchResult{Articles: out, Validators: syndicate.Validators{ETag: fmt.Sprintf(`"%d"`, len(out))}}, nil
}

// channel records posts and answers with the queued errors, then success.
type channel struct {
	mu     sync.Mutex
	posts  []syndicate.Post
	errs   []error
	found  bool // Resolve's answer, when resolvable
	checks int
}

func (c *channel) Send(ctx context.Context, p syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) > 0 {
		err := c.errs[0]
		c.errs = c.errs[1:]
		return syndicate.Receipt{}, syndicate.Classified(err)
	}
	c.posts = append(c.posts, p)
	return syndicate.Receipt{RemoteID: fmt.Sprint(len(c.posts)), URL: "https://example.test/" + fmt.Sprint(len(c.posts))}, nil
}

func (c *channel) Render(p syndicate.Post) (syndicate.Rendering, error) {
	return syndicate.Rendering{Text: p.Article.Title + "\n" + p.Article.Link, Format: "text", Length: 10, Limit: 500}, nil
}

func (c *channel) titles() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, p := range c.posts {
		out = append(out, p.Article.Title)
	}
	return out
}

type resolvingChannel struct{ *channel }

func (c resolvingChannel) Resolve(ctx context.Context, p syndicate.Post, since time.Time) (syndicate.Receipt, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks++
	return syndicate.Receipt{RemoteID: "found"}, c.found, nil
}

func article(n int, day int) syndicate.Article {
	return syndicate.Article{
		Key:       fmt.Sprintf("guid-%d", n),
		Link:      fmt.Sprintf("https://blog.example/%d", n),
		Title:     fmt.Sprintf("Article %d", n),
		Published: time.Date(2026, 1, day, 12, 0, 0, 0, time.UTC),
		Hash:      fmt.Sprintf("h%d", n),
	}
}

type fixture struct {
	t      *testing.T
	clock  *clock
	store  *sqlite.Store
	feed   *reader
	a, b   *channel
	engine *syndicate.Engine
	out    *bytes.Buffer
}

func newFixture(t *testing.T, feed syndicate.Feed) *fixture {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	store, err := sqlite.OpenWith(context.Background(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	f := &fixture{t: t, clock: clk, store: store, feed: &reader{}, a: &channel{}, b: &channel{}, out: &bytes.Buffer{}}
	if feed.Source.ID == "" {
		feed.Source.ID = "blog"
	}
	if feed.To == nil {
		feed.To = []string{"a", "b"}
	}
	retry := syndicate.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Second, MaxBackoff: time.Minute}
	f.engine = &syndicate.Engine{
		Store:  store,
		Reader: f.feed,
		Feeds:  []syndicate.Feed{feed},
		Targets: map[string]syndicate.Target{
			"a": {ID: "a", Channel: f.a, Retry: retry},
			"b": {ID: "b", Channel: f.b, Retry: retry},
		},
		Now:       clk.Now,
		DryRunOut: f.out,
	}
	return f
}

// once polls and delivers everything due, without waiting for retries.
func (f *fixture) once() syndicate.Report {
	f.t.Helper()
	r, err := f.engine.Once(context.Background(), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) states(channelID string) map[string]syndicate.State {
	f.t.Helper()
	views, err := f.store.ListDeliveries(context.Background(), syndicate.DeliveryFilter{ChannelID: channelID})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]syndicate.State{}
	for _, v := range views {
		out[v.Article.Title] = v.State
	}
	return out
}

func TestFirstSightPostsNothing(t *testing.T) {
	f := newFixture(t, syndicate.Feed{})
	f.feed.set(article(3, 3), article(2, 2), article(1, 1))
	if r := f.once(); !r.OK() {
		t.Fatalf("report: %+v", r)
	}
	if got := f.a.titles(); len(got) != 0 {
		t.Fatalf("first sight posted %v", got)
	}
	// The next new item goes out, once.
	f.feed.set(article(4, 4), article(3, 3), article(2, 2), article(1, 1))
	f.once()
	f.once()
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 4"}) {
		t.Fatalf("a got %v", got)
	}
	if got := f.b.titles(); !slices.Equal(got, []string{"Article 4"}) {
		t.Fatalf("b got %v", got)
	}
}

func TestBackfillSendsNewestOldestFirst(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Backfill: 2})
	// Not sorted: the feed lists 2 before 3.
	f.feed.set(article(2, 2), article(3, 3), article(1, 1))
	f.once()
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 2", "Article 3"}) {
		t.Fatalf("a got %v, want the two newest, oldest first", got)
	}
}

func TestBackfillOrdersUndatedByPosition(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Backfill: 2})
	a1, a2, a3 := article(1, 1), article(2, 2), article(3, 3)
	a1.Published, a2.Published, a3.Published = time.Time{}, time.Time{}, time.Time{}
	f.feed.set(a3, a2, a1) // newest first, as feeds list them
	f.once()
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 2", "Article 3"}) {
		t.Fatalf("a got %v", got)
	}
}

func TestNewRouteIsBaselined(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.feed.set(article(1, 1))
	f.once()
	f.feed.set(article(2, 2), article(1, 1))
	f.once()
	// Channel b is routed later: it gets neither the back catalogue nor
	// what a already had, only what is new from now on.
	f.engine.Feeds[0].To = []string{"a", "b"}
	f.once()
	if got := f.b.titles(); len(got) != 0 {
		t.Fatalf("newly routed channel got %v", got)
	}
	f.feed.set(article(3, 3), article(2, 2), article(1, 1))
	f.once()
	if got := f.b.titles(); !slices.Equal(got, []string{"Article 3"}) {
		t.Fatalf("b got %v", got)
	}
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 2", "Article 3"}) {
		t.Fatalf("a got %v", got)
	}
}

func TestFloodIsHeldAndRetryReleasesIt(t *testing.T) {
	f := newFixture(t, syndicate.Feed{FloodLimit: 2, To: []string{"a"}})
	f.feed.set(article(1, 1))
	f.once()
	f.feed.set(article(4, 4), article(3, 3), article(2, 2), article(1, 1))
	r := f.once()
	if !r.OK() || r.Held != 3 {
		t.Fatalf("report %+v, want ok with 3 held", r)
	}
	if got := f.a.titles(); len(got) != 0 {
		t.Fatalf("flood went out: %v", got)
	}
	views, _ := f.store.ListDeliveries(context.Background(), syndicate.DeliveryFilter{States: []syndicate.State{syndicate.StateHeld}})
	for _, v := range views {
		if _, err := syndicate.Decide(context.Background(), f.store, v.ID, syndicate.DecideRetry, f.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	f.once()
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 2", "Article 3", "Article 4"}) {
		t.Fatalf("released: %v", got)
	}
}

func TestAliasesAndDuplicateLinksAreNotNew(t *testing.T) {
	f := newFixture(t, syndicate.Feed{})
	f.feed.set(article(1, 1))
	f.once()
	moved := article(1, 1)
	moved.Key = "new-guid-after-migration"
	twin := article(2, 2)
	twin2 := article(2, 2)
	twin2.Key = "guid-2-again"
	f.feed.set(twin, twin2, moved)
	f.once()
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 2"}) {
		t.Fatalf("a got %v", got)
	}
	// An item that drops out and comes back is not new.
	f.feed.set(article(1, 1))
	f.once()
	if got := f.a.titles(); len(got) != 1 {
		t.Fatalf("a got %v", got)
	}
}

func TestFilter(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}, Filter: syndicate.Filter{ExcludeCategories: []string{"statements"}}})
	f.feed.set()
	f.once()
	s, p := article(1, 1), article(2, 2)
	s.Categories = []string{"Statements"}
	f.feed.set(p, s)
	f.once()
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 2"}) {
		t.Fatalf("a got %v", got)
	}
}

func TestRetryableErrorsBackOffThenSucceed(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.feed.set()
	f.once()
	retryAt := f.clock.Now().Add(time.Hour)
	f.a.errs = []error{
		&syndicate.SendError{Kind: syndicate.Retryable, Err: errors.New("500")},
		&syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: retryAt, Err: errors.New("429")},
	}
	f.feed.set(article(1, 1))
	f.once()
	d := f.onlyDelivery("a")
	if d.State != syndicate.StatePending || d.Attempts != 1 || !d.NextAttempt.Equal(f.clock.Now().Add(time.Second)) {
		t.Fatalf("after a 500: %+v", d)
	}
	f.clock.Add(time.Second)
	f.once()
	d = f.onlyDelivery("a")
	if d.State != syndicate.StatePending || !d.NextAttempt.Equal(retryAt) {
		t.Fatalf("after a 429 the retry must wait for Retry-After: %+v", d)
	}
	f.clock.Add(59 * time.Minute)
	f.once()
	if d := f.onlyDelivery("a"); d.State != syndicate.StatePending {
		t.Fatalf("sent before Retry-After: %+v", d)
	}
	f.clock.Add(time.Minute)
	f.once()
	if d := f.onlyDelivery("a"); d.State != syndicate.StateSent || d.RemoteID != "1" || d.Attempts != 3 {
		t.Fatalf("after success: %+v", d)
	}
}

// TestRefusalHoldsTheWholeQueue: after a platform refuses a send for now
// (429 with Retry-After), the deliveries behind it wait too, however often
// the queue is woken (each poll with news wakes it), so the platform is
// not asked again before it said, and the queue keeps its order.
func TestRefusalHoldsTheWholeQueue(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.feed.set()
	f.once()
	retryAt := f.clock.Now().Add(5 * time.Minute)
	f.a.errs = []error{&syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: retryAt, Err: errors.New("429")}}
	f.feed.set(article(1, 1), article(2, 2), article(3, 3))
	if _, err := f.engine.Poll(context.Background(), "blog"); err != nil {
		t.Fatal(err)
	}
	for range 3 { // woken three times
		res, err := f.engine.Deliver(context.Background(), "a")
		if err != nil || !res.Waiting || !res.NextAttempt.Equal(retryAt) {
			t.Fatalf("Deliver = %+v, %v; want the queue waiting until %s", res, err, retryAt)
		}
	}
	if len(f.a.errs) != 0 || len(f.a.posts) != 0 {
		t.Fatalf("the platform was asked again within its wait: %d posts", len(f.a.posts))
	}
	f.clock.Add(5 * time.Minute)
	if res, err := f.engine.Deliver(context.Background(), "a"); err != nil || res.Attempted != 3 {
		t.Fatalf("after the wait: %+v, %v; want the three sent", res, err)
	}
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 1", "Article 2", "Article 3"}) {
		t.Errorf("sent %v, want oldest first", got)
	}
}

func TestRetryBudgetEndsFailed(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.feed.set()
	f.once()
	for range 3 {
		f.a.errs = append(f.a.errs, &syndicate.SendError{Kind: syndicate.Retryable, Err: errors.New("503 unavailable")})
	}
	f.feed.set(article(1, 1))
	var r syndicate.Report
	for range 3 {
		r = f.once()
		f.clock.Add(time.Hour)
	}
	d := f.onlyDelivery("a")
	if d.State != syndicate.StateFailed || !strings.Contains(d.LastError, "gave up after 3 attempts: 503 unavailable") {
		t.Fatalf("%+v", d)
	}
	if r.OK() || r.Failed != 1 {
		t.Fatalf("report %+v", r)
	}
}

func TestPermanentFailureDoesNotBlockOthers(t *testing.T) {
	f := newFixture(t, syndicate.Feed{})
	f.feed.set()
	f.once()
	f.a.errs = []error{&syndicate.SendError{Kind: syndicate.Permanent, Err: errors.New("401 bad token")}}
	f.feed.set(article(2, 2), article(1, 1))
	r := f.once()
	if r.OK() {
		t.Fatal("a failed delivery must fail the run")
	}
	if got := f.states("a"); got["Article 1"] != syndicate.StateFailed || got["Article 2"] != syndicate.StateSent {
		t.Fatalf("a: %v", got)
	}
	if got := f.b.titles(); !slices.Equal(got, []string{"Article 1", "Article 2"}) {
		t.Fatalf("b: %v", got)
	}
}

func (f *fixture) onlyDelivery(channelID string) syndicate.Delivery {
	f.t.Helper()
	views, err := f.store.ListDeliveries(context.Background(), syndicate.DeliveryFilter{ChannelID: channelID})
	if err != nil || len(views) != 1 {
		f.t.Fatalf("deliveries of %s: %v, %v", channelID, views, err)
	}
	return views[0].Delivery
}

func TestUncertainWaitsForAnEditor(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.feed.set()
	f.once()
	f.a.errs = []error{&syndicate.SendError{Kind: syndicate.Uncertain, Err: errors.New("connection reset after the request was sent")}}
	f.feed.set(article(1, 1))
	if r := f.once(); r.OK() || r.Uncertain != 1 {
		t.Fatalf("report %+v", r)
	}
	f.clock.Add(24 * time.Hour)
	f.once()
	d := f.onlyDelivery("a")
	if d.State != syndicate.StateUncertain || len(f.a.titles()) != 0 {
		t.Fatalf("an uncertain delivery was re-sent: %+v", d)
	}
	if _, err := syndicate.Decide(context.Background(), f.store, d.ID, syndicate.DecideMarkSent, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := syndicate.Decide(context.Background(), f.store, d.ID, syndicate.DecideRetry, f.clock.Now()); err == nil ||
		!strings.Contains(err.Error(), "is sent: retry applies only to pending, failed, held or uncertain deliveries") {
		t.Fatalf("retry of a sent delivery: %v", err)
	}
}

func TestRecoverInterruptedSends(t *testing.T) {
	tests := []struct {
		name       string
		resolver   bool
		found      bool
		resendable bool
		age        time.Duration
		wantState  syndicate.State
	}{
		{"no way to check", false, false, false, time.Minute, syndicate.StateUncertain},
		{"found on the channel", true, true, false, time.Minute, syndicate.StateSent},
		{"not found, within the idempotency hour", true, false, false, time.Minute, syndicate.StateSent}, // re-sent
		{"not found, too old to re-send", true, false, false, 2 * time.Hour, syndicate.StateUncertain},
		// A channel whose sends are safe to repeat is sent again, however late.
		{"resendable, a day later", false, false, true, 24 * time.Hour, syndicate.StateSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, syndicate.Feed{To: []string{"a"}})
			if tt.resolver {
				f.a.found = tt.found
				tgt := f.engine.Targets["a"]
				tgt.Channel = resolvingChannel{f.a}
				tgt.Resolver = resolvingChannel{f.a}
				f.engine.Targets["a"] = tgt
			}
			if tt.resendable {
				tgt := f.engine.Targets["a"]
				tgt.Resendable = true
				f.engine.Targets["a"] = tgt
			}
			f.feed.set()
			f.once()
			f.feed.set(article(1, 1))
			if _, err := f.engine.Poll(context.Background(), "blog"); err != nil {
				t.Fatal(err)
			}
			// A crash left the delivery in sending.
			d := f.onlyDelivery("a")
			sending := d
			sending.State, sending.Attempts, sending.SendingSince = syndicate.StateSending, 1, f.clock.Now()
			if err := f.store.UpdateDelivery(context.Background(), sending, syndicate.StatePending); err != nil {
				t.Fatal(err)
			}
			f.clock.Add(tt.age)
			f.once()
			if got := f.onlyDelivery("a"); got.State != tt.wantState {
				t.Fatalf("state %s (%s), want %s", got.State, got.LastError, tt.wantState)
			}
		})
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Backfill: 1})
	f.engine.DryRun = true
	f.feed.set(article(2, 2), article(1, 1))
	f.once()
	if len(f.a.titles()) != 0 || len(f.b.titles()) != 0 {
		t.Fatal("dry run sent")
	}
	if !strings.Contains(f.out.String(), "[dry-run] a would send") || !strings.Contains(f.out.String(), "Article 2") {
		t.Fatalf("dry run printed %q", f.out.String())
	}
	if views, _ := f.store.ListDeliveries(context.Background(), syndicate.DeliveryFilter{}); len(views) != 0 {
		t.Fatalf("dry run wrote %d deliveries", len(views))
	}
	if st, _ := f.store.FeedState(context.Background(), "blog"); !st.LastPollAt.IsZero() || st.ETag != "" {
		t.Fatalf("dry run wrote feed state %+v", st)
	}
}

func TestFeedErrorIsReported(t *testing.T) {
	f := newFixture(t, syndicate.Feed{})
	f.feed.err = &syndicate.FetchError{Status: 503, RetryAfter: f.clock.Now().Add(10 * time.Minute), Err: errors.New("503 Service Unavailable")}
	r := f.once()
	if r.OK() || r.FeedErrors["blog"] == nil {
		t.Fatalf("report %+v", r)
	}
	st, _ := f.store.FeedState(context.Background(), "blog")
	if st.Failures != 1 || st.LastError == "" || !st.NextPollAt.Equal(f.clock.Now().Add(10*time.Minute)) {
		t.Fatalf("state %+v", st)
	}
	// Retry-After is obeyed: no request before then.
	f.feed.err = nil
	reads := f.feed.reads
	f.once()
	if f.feed.reads != reads {
		t.Fatal("polled before Retry-After")
	}
	f.clock.Add(10 * time.Minute)
	if r := f.once(); !r.OK() {
		t.Fatalf("report %+v", r)
	}
}

func TestBackoff(t *testing.T) {
	p := syndicate.RetryPolicy{MinBackoff: 10 * time.Second, MaxBackoff: time.Minute}
	for attempts, want := range map[int]time.Duration{1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second, 4: time.Minute, 30: time.Minute} {
		if got := p.Backoff(attempts, 0); got != want {
			t.Errorf("attempt %d: %v, want %v", attempts, got, want)
		}
	}
	if got := p.Backoff(2, 0.5); got != 15*time.Second {
		t.Errorf("jitter: %v", got)
	}
}

func TestGoneFeedIsNotPolledUntilItsURLChanges(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Source: syndicate.FeedSource{ID: "blog", URL: "https://blog.example/feed"}})
	f.feed.err = &syndicate.FetchError{Status: 410, Err: errors.New("feed is gone (410)")}
	f.once()
	f.feed.err = nil
	reads := f.feed.reads
	r := f.once()
	if f.feed.reads != reads || !errors.Is(r.FeedErrors["blog"], syndicate.ErrFeedGone) {
		t.Fatalf("a gone feed was polled again (reads %d → %d), report %v", reads, f.feed.reads, r.FeedErrors)
	}
	f.engine.Feeds[0].Source.URL = "https://blog.example/new-feed"
	if r := f.once(); !r.OK() || f.feed.reads != reads+1 {
		t.Fatalf("after the url changed: %+v", r)
	}
}

// movedReader answers with a permanent redirect and records the URLs read.
type movedReader struct {
	reader
	urls []string
}

func (m *movedReader) Read(ctx context.Context, src syndicate.FeedSource, v syndicate.Validators) (syndicate.FetchResult, error) {
	m.urls = append(m.urls, src.URL)
	res, err := m.reader.Read(ctx, src, v)
	res.PermanentURL = "https://new.example/feed"
	return res, err
}

func TestPermanentRedirectIsRemembered(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Source: syndicate.FeedSource{ID: "blog", URL: "https://old.example/feed"}})
	m := &movedReader{}
	f.engine.Reader = m
	f.once()
	f.once()
	if len(m.urls) != 2 || m.urls[0] != "https://old.example/feed" || m.urls[1] != "https://new.example/feed" {
		t.Fatalf("read %v", m.urls)
	}
}

func TestScheduledPollsBackOffAfterFailures(t *testing.T) {
	if got := syndicate.FeedBackoff(1); got != time.Minute {
		t.Fatalf("after one failure: %v", got)
	}
	if got := syndicate.FeedBackoff(3); got != 4*time.Minute {
		t.Fatalf("after three failures: %v", got)
	}
	if got := syndicate.FeedBackoff(50); got != time.Hour {
		t.Fatalf("after fifty failures: %v", got)
	}
}

// warningChannel accepts posts with a warning, and edits them.
type warningChannel struct {
	*channel
	edits []syndicate.Receipt
}

func (w *warningChannel) Send(ctx context.Context, p syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	r, err := w.channel.Send(ctx, p)
	r.Warning = "posted without its image: 404"
	return r, err
}

func (w *warningChannel) Edit(ctx context.Context, p syndicate.Post, sent syndicate.Receipt) (syndicate.Receipt, error) {
	w.edits = append(w.edits, sent)
	return syndicate.Receipt{RemoteID: sent.RemoteID, URL: sent.URL}, nil
}

func TestReceiptWarningAndEditOnUpdate(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a", "b"}})
	wa := &warningChannel{channel: f.a}
	wb := &warningChannel{channel: f.b}
	ta, tb := f.engine.Targets["a"], f.engine.Targets["b"]
	ta.Channel, ta.Editor, ta.EditOnUpdate = wa, wa, true
	tb.Channel, tb.Editor = wb, wb // edits stay off
	f.engine.Targets["a"], f.engine.Targets["b"] = ta, tb
	f.feed.set()
	f.once()
	f.feed.set(article(1, 1))
	f.once()
	if d := f.onlyDelivery("a"); d.State != syndicate.StateSent || d.LastError != "posted without its image: 404" {
		t.Fatalf("warning not kept: %+v", d)
	}
	edited := article(1, 1)
	edited.Title, edited.Hash = "Article 1, corrected", "h1-v2"
	f.feed.set(edited)
	f.once()
	if len(wa.edits) != 1 || wa.edits[0].RemoteID != "1" {
		t.Fatalf("edits on a: %+v", wa.edits)
	}
	if len(wb.edits) != 0 {
		t.Fatalf("b edits with on_update: ignore: %+v", wb.edits)
	}
	f.once() // unchanged since: no second edit
	if len(wa.edits) != 1 || len(f.a.titles()) != 1 {
		t.Fatalf("edits %d, posts %d", len(wa.edits), len(f.a.titles()))
	}
}

// A retry more than an hour after the last attempt first looks for the
// post: the platform no longer knows the idempotency key.
func TestLateRetryLooksForThePostFirst(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.a.found = true
	tgt := f.engine.Targets["a"]
	tgt.Channel, tgt.Resolver = resolvingChannel{f.a}, resolvingChannel{f.a}
	f.engine.Targets["a"] = tgt
	f.feed.set()
	f.once()
	f.a.errs = []error{&syndicate.SendError{Kind: syndicate.Retryable, RetryAfter: f.clock.Now().Add(2 * time.Hour), Err: errors.New("lost answer")}}
	f.feed.set(article(1, 1))
	f.once()
	f.clock.Add(2 * time.Hour)
	f.once()
	d := f.onlyDelivery("a")
	if d.State != syndicate.StateSent || d.RemoteID != "found" || f.a.checks != 1 || len(f.a.posts) != 0 {
		t.Fatalf("delivery %+v, checks %d, posts %d", d, f.a.checks, len(f.a.posts))
	}
}

// The password of a feed URL with credentials stays out of errors.
func TestFeedPasswordStaysOutOfErrors(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Source: syndicate.FeedSource{ID: "blog", URL: "https://editor:s3cret-pass@blog.example/feed"}})
	f.feed.err = &syndicate.FetchError{Status: 410, Err: errors.New("feed is gone (410)")}
	f.once()
	f.feed.err = nil
	r := f.once()
	if err := r.FeedErrors["blog"]; err == nil || strings.Contains(err.Error(), "s3cret-pass") || !strings.Contains(err.Error(), "editor:xxxxx@blog.example") {
		t.Fatalf("error: %v", err)
	}
}

// TestUnclassifiedErrorIsUncertain: a channel error that does not say
// whether the request left may mean the post went out: it is never
// retried as if nothing had been sent.
func TestUnclassifiedErrorIsUncertain(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.feed.set()
	f.once()
	f.a.errs = []error{errors.New("the channel's own error, unclassified")}
	f.feed.set(article(1, 1))
	if r := f.once(); r.OK() || r.Uncertain != 1 {
		t.Fatalf("report %+v, want one uncertain", r)
	}
	f.clock.Add(24 * time.Hour)
	f.once()
	if d := f.onlyDelivery("a"); d.State != syndicate.StateUncertain || len(f.a.titles()) != 0 {
		t.Fatalf("an unclassified failure was retried: %+v, sent %v", d, f.a.titles())
	}
}
