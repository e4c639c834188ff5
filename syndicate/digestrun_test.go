package syndicate_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// mailer is a Mailer that keeps what it was asked to mail.
type mailer struct {
	mu       sync.Mutex
	prepared []syndicate.Digest
	articles [][]string         // titles of each digest prepared
	inbox    map[string][]int64 // address → digests received
	sends    int                // messages handed over, in all
	batches  int

	// outcome decides each message; nil: sent.
	outcome func(s syndicate.Subscriber) syndicate.MailResult
	// crashAt, when not zero, makes the process "die" when the message
	// with that number (from 1, over all batches) is about to go out:
	// the messages before it in the batch went out, and nothing after the
	// claim is recorded.
	crashAt int
	// refuse makes every batch fail as a server that cannot be reached.
	refuse error
	// beforeBatch runs before each batch.
	beforeBatch func(batch []syndicate.Subscriber)
}

func newMailer() *mailer { return &mailer{inbox: map[string][]int64{}} }

func (m *mailer) Prepare(ctx context.Context, d syndicate.Digest, articles []syndicate.Article) (syndicate.Mailing, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.prepared = append(m.prepared, d)
	var titles []string
	for _, a := range articles {
		titles = append(titles, a.Title)
	}
	m.articles = append(m.articles, titles)
	return &mailing{m: m, d: d}, nil
}

type mailing struct {
	m      *mailer
	d      syndicate.Digest
	closed bool
}

func (g *mailing) Send(ctx context.Context, batch []syndicate.Subscriber, log syndicate.MessageLog) ([]syndicate.MailResult, error) {
	m := g.m
	if m.beforeBatch != nil {
		m.beforeBatch(batch)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.batches++
	out := make([]syndicate.MailResult, len(batch))
	if m.refuse != nil {
		for i := range out {
			out[i] = syndicate.MailResult{State: syndicate.RecipientDeferred, Err: m.refuse}
		}
		return out, m.refuse
	}
	for i, s := range batch {
		if err := log.Begin(s); err != nil {
			out[i] = syndicate.MailResult{State: syndicate.RecipientDeferred, Err: err}
			continue
		}
		m.sends++
		if m.crashAt != 0 && m.sends == m.crashAt {
			runtime.Goexit() // the process dies here (the deferred unlock runs)
		}
		res := syndicate.MailResult{State: syndicate.RecipientSent}
		if m.outcome != nil {
			res = m.outcome(s)
		}
		if res.State == syndicate.RecipientSent || res.State == syndicate.RecipientUncertain {
			m.inbox[s.Email] = append(m.inbox[s.Email], g.d.ID)
		}
		out[i] = res
		log.Ended(s, res)
	}
	return out, nil
}

func (g *mailing) Close() error { g.closed = true; return nil }

func (m *mailer) received() map[string][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]int64{}
	for k, v := range m.inbox {
		out[k] = slices.Clone(v)
	}
	return out
}

func (m *mailer) preparedCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.prepared)
}

type digestFixture struct {
	t      *testing.T
	clock  *clock
	path   string
	store  *sqlite.Store
	feed   *reader
	mail   *mailer
	engine *syndicate.Engine
}

const digestID = "digest-en"

func mustSchedule(t *testing.T, spec string) cron.Schedule {
	t.Helper()
	s, err := cron.ParseStandard(spec)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newDigestFixture sets up feed "blog" routed to one email channel of
// list "en", sending daily at 08:00 UTC unless spec says otherwise, on a
// clock at Thursday 2026-11-26 10:00 UTC.
func newDigestFixture(t *testing.T, spec string) *digestFixture {
	t.Helper()
	if spec == "" {
		spec = "0 8 * * *"
	}
	clk := &clock{t: time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)}
	f := &digestFixture{t: t, clock: clk, path: filepath.Join(t.TempDir(), "s.db"), feed: &reader{}, mail: newMailer()}
	f.open()
	f.engine = f.newEngine()
	return f
}

func (f *digestFixture) open() {
	s, err := sqlite.OpenWith(context.Background(), f.path, sqlite.Options{Now: f.clock.Now})
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { s.Close() })
	f.store = s
}

// newEngine is the engine of a process started anew: nothing in memory.
func (f *digestFixture) newEngine() *syndicate.Engine {
	sched := mustSchedule(f.t, "0 8 * * *")
	if f.engine != nil {
		sched = f.engine.Digests[digestID].Schedule
	}
	return &syndicate.Engine{
		Store:  f.store,
		Reader: f.feed,
		Feeds:  []syndicate.Feed{{Source: syndicate.FeedSource{ID: "blog"}, To: []string{digestID}}},
		Digests: map[string]syndicate.DigestTarget{digestID: {
			ID: digestID, List: "en", Schedule: sched, Location: time.UTC, Mailer: f.mail,
			Retry: syndicate.RetryPolicy{MaxAttempts: 3, MinBackoff: time.Minute, MaxBackoff: time.Hour},
		}},
		Now: f.clock.Now,
	}
}

func (f *digestFixture) setTarget(change func(t *syndicate.DigestTarget)) {
	dt := f.engine.Digests[digestID]
	change(&dt)
	f.engine.Digests[digestID] = dt
}

func (f *digestFixture) once() syndicate.Report {
	f.t.Helper()
	r, err := f.engine.Once(context.Background(), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *digestFixture) check() {
	f.t.Helper()
	if err := f.engine.CheckDigests(context.Background(), false); err != nil {
		f.t.Logf("CheckDigests: %v", err)
	}
}

func (f *digestFixture) subscribe(list, email string, state syndicate.SubscriberState) syndicate.Subscriber {
	f.t.Helper()
	s, _, err := f.store.AddSubscriber(context.Background(), syndicate.Subscriber{List: list, Email: email, State: state})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// subscribeMany adds n confirmed addresses to list in one transaction,
// as an import of a large list would.
func (f *digestFixture) subscribeMany(list string, n int) {
	f.t.Helper()
	db, err := sql.Open("sqlite", f.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		f.t.Fatal(err)
	}
	stmt, err := tx.Prepare(`INSERT INTO subscribers (list, email, email_key, name, state, created_at, confirmed_at, unsubscribed_at)
		VALUES (?, ?, ?, '', 'confirmed', 0, 0, 0)`)
	if err != nil {
		f.t.Fatal(err)
	}
	for i := range n {
		email := fmt.Sprintf("reader%06d@example.org", i)
		if _, err := stmt.Exec(list, email, email); err != nil {
			f.t.Fatal(err)
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		f.t.Fatal(err)
	}
}

// publish makes the feed hold articles 1…n (the newest first).
func (f *digestFixture) publish(n int) {
	var as []syndicate.Article
	for i := n; i >= 1; i-- {
		as = append(as, article(i, i))
	}
	f.feed.set(as...)
}

func (f *digestFixture) recipients(digest int64) map[syndicate.RecipientState]int {
	f.t.Helper()
	c, err := f.store.RecipientCounts(context.Background(), digest)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func (f *digestFixture) deliveries() map[string]syndicate.Delivery {
	f.t.Helper()
	views, err := f.store.ListDeliveries(context.Background(), syndicate.DeliveryFilter{ChannelID: digestID})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]syndicate.Delivery{}
	for _, v := range views {
		out[v.Article.Title] = v.Delivery
	}
	return out
}

func TestDigestFirstPeriodStartsWhenTheChannelAppears(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.publish(3)
	f.once() // first sight: baselined, and the digest clock starts now
	f.publish(5)
	f.once() // two new articles, pending for the digest
	if n := f.mail.preparedCount(); n != 0 {
		t.Fatalf("%d digests before the schedule fired", n)
	}
	// Thursday 08:00 had passed when the channel appeared: the first
	// digest is Friday's.
	f.clock.Add(21*time.Hour + 59*time.Minute) // Fri 07:59
	f.once()
	if n := f.mail.preparedCount(); n != 0 {
		t.Fatalf("%d digests a minute before the schedule fires", n)
	}
	f.clock.Add(time.Minute)
	r := f.once()
	if !r.OK() {
		t.Fatalf("report %+v", r)
	}
	if got := f.mail.articles; len(got) != 1 || !slices.Equal(got[0], []string{"Article 4", "Article 5"}) {
		t.Fatalf("digests %v, want one of articles 4 and 5, oldest first", got)
	}
	if r.Recipients[syndicate.RecipientSent] != 1 {
		t.Errorf("report recipients %v", r.Recipients)
	}
}

func TestDigestGoesToConfirmedSubscribersOnceAndTakesTheArticles(t *testing.T) {
	f := newDigestFixture(t, "")
	for _, s := range []struct {
		list, email string
		state       syndicate.SubscriberState
	}{
		{"en", "ana@example.org", syndicate.SubscriberConfirmed},
		{"en", "bob@example.org", syndicate.SubscriberPending},
		{"en", "cy@example.org", syndicate.SubscriberUnsubscribed},
		{"es", "dolores@example.org", syndicate.SubscriberConfirmed},
		{"en", "eve@example.org", syndicate.SubscriberConfirmed},
	} {
		f.subscribe(s.list, s.email, s.state)
	}
	f.publish(1)
	f.once()
	f.publish(3)
	f.clock.Add(22 * time.Hour) // Fri 08:00
	f.once()
	got := f.mail.received()
	want := map[string][]int64{"ana@example.org": {1}, "eve@example.org": {1}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("inbox %v, want %v", got, want)
	}
	for title, d := range f.deliveries() {
		if title == "Article 1" {
			continue
		}
		if d.State != syndicate.StateSent || d.RemoteID != "digest:1" {
			t.Errorf("delivery of %q: %s %q, want sent digest:1", title, d.State, d.RemoteID)
		}
	}
	if c := f.recipients(1); c[syndicate.RecipientSent] != 2 || len(c) != 1 {
		t.Errorf("records %v", c)
	}
	d, err := f.store.Digest(context.Background(), 1)
	if err != nil || d.FinishedAt.IsZero() || d.Period != "2026-11-27T08:00" {
		t.Errorf("digest %+v, %v: want finished, period 2026-11-27T08:00", d, err)
	}
	// Again, the same day, and the next day with nothing new: nothing.
	f.once()
	f.clock.Add(24 * time.Hour)
	f.once()
	if got := f.mail.received(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("inbox after more runs %v, want %v", got, want)
	}
	if n := f.mail.preparedCount(); n != 1 {
		t.Errorf("%d digests rendered, want 1", n)
	}
}

func TestDigestWithNothingNewSendsNothingButItsPeriodPasses(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.publish(1)
	f.once()
	f.clock.Add(22 * time.Hour) // Fri 08:00: due, nothing new
	f.once()
	if n := f.mail.preparedCount(); n != 0 {
		t.Fatalf("an empty digest was made")
	}
	// An article arriving after Friday's firing waits for Saturday's.
	f.clock.Add(time.Hour)
	f.publish(2)
	f.once()
	if n := f.mail.preparedCount(); n != 0 {
		t.Fatalf("a digest went out before its period")
	}
	f.clock.Add(23 * time.Hour) // Sat 08:00
	f.once()
	if got := f.mail.articles; len(got) != 1 || !slices.Equal(got[0], []string{"Article 2"}) {
		t.Fatalf("digests %v", got)
	}
}

func TestDigestMissedWhileDownGoesOutOnceAtStart(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()
	// Down for five days: five firings missed, one digest at start.
	f.clock.Add(5*24*time.Hour + 3*time.Hour)
	f.engine = f.newEngine()
	f.once()
	f.once()
	if got := f.mail.received()["ana@example.org"]; len(got) != 1 {
		t.Fatalf("ana got %v, want one digest", got)
	}
	if p := f.mail.prepared[0].Period; p != "2026-12-01T08:00" {
		t.Errorf("period %q, want the last firing, 2026-12-01T08:00", p)
	}
}

// At the fall-back, a schedule in the repeated hour fires twice; the
// second firing has the same wall-clock period and makes nothing, even
// with new articles.
func TestDigestScheduleFiringTwiceAtFallBackSendsOnce(t *testing.T) {
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Skipf("no tz database: %v", err)
	}
	f := newDigestFixture(t, "")
	f.setTarget(func(dt *syndicate.DigestTarget) {
		dt.Schedule, dt.Location = mustSchedule(t, "CRON_TZ=Europe/Madrid 30 2 * * *"), madrid
	})
	// Saturday 2026-10-24 12:00 in Madrid; clocks go back on Sunday the
	// 25th at 03:00 CEST → 02:00 CET, so 02:30 happens twice.
	f.clock.t = time.Date(2026, 10, 24, 12, 0, 0, 0, madrid)
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()

	first := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC) // 02:30 CEST
	second := first.Add(time.Hour)                          // 02:30 CET
	sched := f.engine.Digests[digestID].Schedule
	if n := sched.Next(first.Add(-time.Minute)); !n.Equal(first) {
		t.Fatalf("first firing at %v, want %v", n, first)
	}
	if n := sched.Next(first); !n.Equal(second) {
		t.Fatalf("robfig/cron fires next at %v, want the repeated 02:30 at %v", n, second)
	}
	f.clock.t = first.Add(30 * time.Second)
	f.once()
	f.publish(3)
	f.clock.t = second.Add(30 * time.Second)
	f.once()
	f.once()
	if got := f.mail.received()["ana@example.org"]; len(got) != 1 {
		t.Fatalf("ana got %v, want one digest on the fall-back day", got)
	}
	if d := f.deliveries()["Article 3"]; d.State != syndicate.StatePending {
		t.Errorf("article 3 %s, want pending for Monday's digest", d.State)
	}
	f.clock.t = time.Date(2026, 10, 26, 2, 30, 0, 0, madrid)
	f.once()
	if got := f.mail.received()["ana@example.org"]; len(got) != 2 {
		t.Fatalf("ana got %v, want Monday's digest too", got)
	}
	if got := []string{f.mail.prepared[0].Period, f.mail.prepared[1].Period}; !slices.Equal(got, []string{"2026-10-25T02:30", "2026-10-26T02:30"}) {
		t.Errorf("periods %v", got)
	}
}

// A crash after 40,000 of 100,000 messages: the next start sends the other
// 60,000, minus the batch that was in flight (uncertain, not re-sent),
// and nobody gets the digest twice.
func TestDigestResumesAfterACrashAndSendsNobodyTwice(t *testing.T) {
	total, crashAt := 100_000, 40_001
	if testing.Short() || raceEnabled {
		total, crashAt = 10_000, 4_001
	}
	f := newDigestFixture(t, "")
	f.subscribeMany("en", total)
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()
	f.clock.Add(22 * time.Hour)
	f.mail.crashAt = crashAt

	done := make(chan struct{})
	go func() { // the process: it dies in the middle of the list
		defer close(done)
		f.engine.CheckDigests(context.Background(), false)
	}()
	<-done
	before := f.mail.received()
	if len(before) != crashAt-1 {
		t.Fatalf("%d received before the crash, want %d", len(before), crashAt-1)
	}

	// The next start: a new process, the same database.
	f.mail.crashAt = 0
	f.engine = f.newEngine()
	r := f.once()
	got := f.mail.received()
	twice := 0
	for _, ds := range got {
		if len(ds) > 1 {
			twice++
		}
	}
	if twice > 0 {
		t.Fatalf("%d subscribers got the digest twice", twice)
	}
	c := f.recipients(1)
	batch := syndicate.DefaultDigestBatch
	if c[syndicate.RecipientUncertain] == 0 || c[syndicate.RecipientUncertain] > batch {
		t.Errorf("uncertain %d, want the rest of the batch in flight (1…%d)", c[syndicate.RecipientUncertain], batch)
	}
	if c[syndicate.RecipientSent] != len(got) || c[syndicate.RecipientSent]+c[syndicate.RecipientUncertain] != total {
		t.Errorf("records %v for %d received of %d", c, len(got), total)
	}
	if r.Recipients[syndicate.RecipientUncertain] != c[syndicate.RecipientUncertain] || r.OK() {
		t.Errorf("report %+v: want the uncertain reported, and not ok", r)
	}
	if r.Recipients[syndicate.RecipientSent] != total-len(before)-c[syndicate.RecipientUncertain] {
		t.Errorf("this run sent %d, want %d", r.Recipients[syndicate.RecipientSent], total-len(before)-c[syndicate.RecipientUncertain])
	}
	if n := f.mail.preparedCount(); n != 2 {
		t.Errorf("rendered %d times, want once per process", n)
	}
	// Finished: a third process sends nothing.
	f.engine = f.newEngine()
	f.once()
	if n := len(f.mail.received()); n != len(got) {
		t.Errorf("a later run mailed %d more", n-len(got))
	}
}

func TestDigestDeferredAreRetriedInLaterRoundsThenGivenUp(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.subscribe("en", "greylisted@example.org", syndicate.SubscriberConfirmed)
	f.subscribe("en", "full@example.org", syndicate.SubscriberConfirmed)
	f.subscribe("en", "gone@example.org", syndicate.SubscriberConfirmed)
	greylist := 1
	f.mail.outcome = func(s syndicate.Subscriber) syndicate.MailResult {
		switch s.Email {
		case "greylisted@example.org":
			if greylist > 0 {
				greylist--
				return syndicate.MailResult{State: syndicate.RecipientDeferred, Err: errors.New("451 4.7.1 greylisted")}
			}
		case "full@example.org":
			return syndicate.MailResult{State: syndicate.RecipientDeferred, Err: errors.New("452 4.2.2 mailbox full")}
		case "gone@example.org":
			return syndicate.MailResult{State: syndicate.RecipientFailed, Err: errors.New("550 5.1.1 no such user")}
		}
		return syndicate.MailResult{State: syndicate.RecipientSent}
	}
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()
	f.clock.Add(22 * time.Hour)
	f.check()
	if c := f.recipients(1); c[syndicate.RecipientSent] != 1 || c[syndicate.RecipientDeferred] != 2 || c[syndicate.RecipientFailed] != 1 {
		t.Fatalf("after the first round: %v", c)
	}
	// Not before the wait between rounds.
	f.clock.Add(30 * time.Second)
	f.check()
	if n := len(f.mail.received()); n != 1 {
		t.Fatalf("retried before the wait: %d received", n)
	}
	f.clock.Add(time.Minute)
	f.check()
	got := f.mail.received()
	if len(got["greylisted@example.org"]) != 1 || len(got["gone@example.org"]) != 0 || len(got["ana@example.org"]) != 1 {
		t.Fatalf("after the second round: %v", got)
	}
	f.clock.Add(3 * time.Minute)
	f.check() // third attempt of full@: given up
	r, err := f.store.Recipient(context.Background(), 1, f.subscribe("en", "full@example.org", "").ID)
	if err != nil || r.State != syndicate.RecipientFailed || r.Attempts != 3 {
		t.Fatalf("full@: %+v, %v; want failed after 3 attempts", r, err)
	}
	d, _ := f.store.Digest(context.Background(), 1)
	if d.FinishedAt.IsZero() {
		t.Error("digest not finished once every recipient has its final record")
	}
}

// A deferred address that unsubscribes is not waited for: the digest
// finishes without it.
func TestDigestFinishesWhenADeferredAddressLeaves(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.subscribe("en", "full@example.org", syndicate.SubscriberConfirmed)
	f.mail.outcome = func(s syndicate.Subscriber) syndicate.MailResult {
		if s.Email == "full@example.org" {
			return syndicate.MailResult{State: syndicate.RecipientDeferred, Err: errors.New("452 mailbox full")}
		}
		return syndicate.MailResult{State: syndicate.RecipientSent}
	}
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()
	f.clock.Add(22 * time.Hour)
	f.check()
	if _, err := f.store.SetSubscriberState(context.Background(), "en", "full@example.org", syndicate.SubscriberUnsubscribed, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)
	f.check()
	d, _ := f.store.Digest(context.Background(), 1)
	if d.FinishedAt.IsZero() {
		t.Error("digest still open, waiting for an address that left")
	}
	if got := f.mail.received(); len(got) != 1 {
		t.Errorf("inbox %v", got)
	}
}

func TestDigestNeverMailsAnAddressUnsubscribedMeanwhile(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribeMany("en", 250)
	f.publish(1)
	f.once()
	f.publish(2)
	f.clock.Add(22 * time.Hour)
	var unsubscribed bool
	f.mail.beforeBatch = func(batch []syndicate.Subscriber) {
		if !unsubscribed { // while the first batch goes out, someone later in the list leaves
			unsubscribed = true
			if _, err := f.store.SetSubscriberState(context.Background(), "en", "reader000200@example.org",
				syndicate.SubscriberUnsubscribed, f.clock.Now()); err != nil {
				t.Error(err)
			}
		}
	}
	f.once()
	got := f.mail.received()
	if len(got) != 249 || got["reader000200@example.org"] != nil {
		t.Fatalf("%d received; the unsubscribed address got %v", len(got), got["reader000200@example.org"])
	}
}

func TestDigestServerUnreachableKeepsTheDigestForLater(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribeMany("en", 5)
	f.publish(1)
	f.once()
	f.publish(2)
	f.clock.Add(22 * time.Hour)
	f.mail.refuse = errors.New("dial tcp 127.0.0.1:25: connection refused")
	r := f.once()
	if r.OK() || r.DigestErrors[digestID] == nil {
		t.Fatalf("report %+v, want the digest error", r)
	}
	if c := f.recipients(1); c[syndicate.RecipientDeferred] != 5 {
		t.Fatalf("records %v, want all deferred", c)
	}
	if f.mail.batches != 1 {
		t.Errorf("%d batches tried, want the run to stop at the first", f.mail.batches)
	}
	f.mail.refuse = nil
	f.engine = f.newEngine()
	if r := f.once(); !r.OK() {
		t.Fatalf("report %+v", r)
	}
	if n := len(f.mail.received()); n != 5 {
		t.Fatalf("%d received once the server is back", n)
	}
}

func TestDigestNowSendsAtOnceAndTheArticlesCountAsDigested(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.publish(1)
	f.once()
	if _, made, err := f.engine.SendDigestNow(context.Background(), digestID); err != nil || made {
		t.Fatalf("digest --now with nothing new: made %v, %v", made, err)
	}
	f.publish(2)
	f.once()
	next, err := f.engine.NextDigest(context.Background(), digestID)
	if err != nil || len(next) != 1 || next[0].Title != "Article 2" {
		t.Fatalf("NextDigest = %v, %v", next, err)
	}
	run, made, err := f.engine.SendDigestNow(context.Background(), digestID)
	if err != nil || !made || !run.Finished || run.Counts[syndicate.RecipientSent] != 1 {
		t.Fatalf("digest --now: %+v, made %v, %v", run, made, err)
	}
	f.clock.Add(22 * time.Hour)
	f.once()
	if got := f.mail.received()["ana@example.org"]; len(got) != 1 {
		t.Fatalf("ana got %v, want only the digest sent now", got)
	}
	if _, _, err := f.engine.SendDigestNow(context.Background(), "nope"); err == nil {
		t.Error("SendDigestNow of an unknown channel: no error")
	}
}

// The daemon checks its digests as it starts and on a ticker.
func TestRunSendsTheDigestWhenDue(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()
	f.clock.Add(22 * time.Hour)
	f.engine = f.newEngine()
	f.engine.DigestInterval = 10 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.engine.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.mail.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := f.mail.received()["ana@example.org"]; len(got) != 1 {
		t.Fatalf("ana got %v", got)
	}
	// Digest channels have no delivery worker: their deliveries were not
	// sent one by one.
	for title, d := range f.deliveries() {
		if title == "Article 2" && d.RemoteID != "digest:1" {
			t.Errorf("%q: %+v", title, d)
		}
	}
}

func TestPeriodIsTheWallClockOfTheSchedulesZone(t *testing.T) {
	madrid, _ := time.LoadLocation("Europe/Madrid")
	firing := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	s := mustSchedule(t, "30 3 * * *")
	if got := syndicate.PeriodOf(s, madrid, firing); got != "2026-03-29T03:30" {
		t.Errorf("PeriodOf = %q", got)
	}
	tz := mustSchedule(t, "CRON_TZ=America/New_York 30 3 * * *")
	if got := syndicate.PeriodOf(tz, madrid, firing); got != "2026-03-28T21:30" {
		t.Errorf("PeriodOf with CRON_TZ = %q", got)
	}
	// @every counts real time: two firings an hour apart at the fall-back
	// are two periods.
	every := mustSchedule(t, "@every 1h")
	fallBack := time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)
	if a, b := syndicate.PeriodOf(every, madrid, fallBack), syndicate.PeriodOf(every, madrid, fallBack.Add(time.Hour)); a == b || a != "2026-10-25T00:30:00Z" {
		t.Errorf("PeriodOf @every = %q and %q", a, b)
	}
	withSeconds, err := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow).Parse("*/20 * * * * *")
	if err != nil {
		t.Fatal(err)
	}
	if got := syndicate.PeriodOf(withSeconds, time.UTC, firing.Add(20*time.Second)); got != "2026-03-29T01:30:20" {
		t.Errorf("PeriodOf of a spec with seconds = %q", got)
	}
}

// digestObserver records what the digest runs tell an Observer that
// observes digests too.
type digestObserver struct {
	mu       sync.Mutex
	messages map[syndicate.RecipientState]int
	results  []syndicate.DigestResult
}

func newDigestObserver() *digestObserver {
	return &digestObserver{messages: map[syndicate.RecipientState]int{}}
}

func (o *digestObserver) Polled(string, string, time.Duration)             {}
func (o *digestObserver) Attempted(string, syndicate.State, time.Duration) {}

func (o *digestObserver) DigestMessages(channelID string, st syndicate.RecipientState, n int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if channelID != digestID {
		panic("messages of channel " + channelID)
	}
	o.messages[st] += n
}

func (o *digestObserver) Digested(channelID string, r syndicate.DigestResult) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if channelID != digestID {
		panic("digest of channel " + channelID)
	}
	o.results = append(o.results, r)
}

func (o *digestObserver) check(t *testing.T, when string, messages map[syndicate.RecipientState]int, results ...syndicate.DigestResult) {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if fmt.Sprint(o.messages) != fmt.Sprint(messages) || !slices.Equal(o.results, results) {
		t.Errorf("%s: observed messages %v and digests %v, want %v and %v", when, o.messages, o.results, messages, results)
	}
}

func TestDigestObserverCountsMessagesAndDigests(t *testing.T) {
	f := newDigestFixture(t, "")
	obs := newDigestObserver()
	f.engine.Observer = obs
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.subscribe("en", "greylisted@example.org", syndicate.SubscriberConfirmed)
	f.subscribe("en", "gone@example.org", syndicate.SubscriberConfirmed)
	greylist := 1
	f.mail.outcome = func(s syndicate.Subscriber) syndicate.MailResult {
		switch s.Email {
		case "greylisted@example.org":
			if greylist > 0 {
				greylist--
				return syndicate.MailResult{State: syndicate.RecipientDeferred, Err: errors.New("451 4.7.1 greylisted")}
			}
		case "gone@example.org":
			return syndicate.MailResult{State: syndicate.RecipientFailed, Err: errors.New("550 5.1.1 no such user")}
		}
		return syndicate.MailResult{State: syndicate.RecipientSent}
	}
	type counts = map[syndicate.RecipientState]int
	const (
		sent, deferred, failed = syndicate.RecipientSent, syndicate.RecipientDeferred, syndicate.RecipientFailed
	)
	f.publish(1)
	f.once() // first sight
	obs.check(t, "first sight", counts{})
	f.clock.Add(22 * time.Hour) // Fri 08:00: due, nothing new
	f.once()
	obs.check(t, "a digest due with nothing new", counts{}, syndicate.DigestEmpty)

	f.publish(2)
	f.once()
	f.clock.Add(24 * time.Hour) // Sat 08:00
	f.check()
	obs.check(t, "the first round", counts{sent: 1, deferred: 1, failed: 1}, syndicate.DigestEmpty)
	f.clock.Add(2 * time.Minute)
	f.check() // the greylisted address goes through: the digest is finished
	obs.check(t, "the second round", counts{sent: 2, deferred: 1, failed: 1}, syndicate.DigestEmpty, syndicate.DigestSent)

	// The server cannot be reached: the whole batch is deferred, the pass
	// fails; the next run finishes the digest.
	f.publish(3)
	f.once()
	f.clock.Add(24 * time.Hour) // Sun 08:00
	f.mail.refuse = errors.New("dial tcp 127.0.0.1:25: connection refused")
	f.check()
	obs.check(t, "a refused round", counts{sent: 2, deferred: 4, failed: 1},
		syndicate.DigestEmpty, syndicate.DigestSent, syndicate.DigestError)
	f.mail.refuse = nil
	f.once()
	obs.check(t, "the round after", counts{sent: 4, deferred: 4, failed: 2},
		syndicate.DigestEmpty, syndicate.DigestSent, syndicate.DigestError, syndicate.DigestSent)

	// digest --now with nothing new, and with something.
	if _, made, err := f.engine.SendDigestNow(context.Background(), digestID); made || err != nil {
		t.Fatalf("SendDigestNow: made %v, %v", made, err)
	}
	f.publish(4)
	f.once()
	if _, made, err := f.engine.SendDigestNow(context.Background(), digestID); !made || err != nil {
		t.Fatalf("SendDigestNow: made %v, %v", made, err)
	}
	obs.check(t, "digest --now", counts{sent: 6, deferred: 4, failed: 3},
		syndicate.DigestEmpty, syndicate.DigestSent, syndicate.DigestError, syndicate.DigestSent,
		syndicate.DigestEmpty, syndicate.DigestSent)
}

// The messages a crash left in flight are counted uncertain by the
// process that settles them.
func TestDigestObserverCountsMessagesSettledAfterACrash(t *testing.T) {
	f := newDigestFixture(t, "")
	f.setTarget(func(dt *syndicate.DigestTarget) { dt.BatchSize = 2 })
	for _, name := range []string{"ana", "bob", "cy", "dolores", "eve"} {
		f.subscribe("en", name+"@example.org", syndicate.SubscriberConfirmed)
	}
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()
	f.clock.Add(22 * time.Hour)
	before := newDigestObserver()
	f.engine.Observer = before
	f.mail.crashAt = 4 // dies as the second message of the second batch goes out
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.engine.CheckDigests(context.Background(), false)
	}()
	<-done
	before.check(t, "before the crash", map[syndicate.RecipientState]int{syndicate.RecipientSent: 2})

	f.mail.crashAt = 0
	f.engine = f.newEngine()
	after := newDigestObserver()
	f.engine.Observer = after
	f.once()
	// The third message's outcome was written with the fourth's start, so
	// only the fourth, in flight, is uncertain.
	after.check(t, "after the crash",
		map[syndicate.RecipientState]int{syndicate.RecipientUncertain: 1, syndicate.RecipientSent: 1}, syndicate.DigestSent)
}

// unrecordingStore fails to record a batch's outcomes, as a disk that
// fills up between the send and its record would.
type unrecordingStore struct{ *sqlite.Store }

func (unrecordingStore) RecordRecipients(context.Context, []syndicate.Recipient) error {
	return errors.New("disk full")
}

// A batch mailed whose last outcomes cannot be recorded leaves those
// sending: the next run settles them as uncertain and mails nobody in it
// again. The outcome written with the next start (ana's) is kept.
func TestDigestBatchNotRecordedIsUncertainNeverResent(t *testing.T) {
	f := newDigestFixture(t, "")
	f.subscribe("en", "ana@example.org", syndicate.SubscriberConfirmed)
	f.subscribe("en", "bob@example.org", syndicate.SubscriberConfirmed)
	f.publish(1)
	f.once()
	f.publish(2)
	f.once()
	f.clock.Add(22 * time.Hour)

	f.engine.Store = unrecordingStore{f.store}
	if err := f.engine.CheckDigests(context.Background(), false); err == nil {
		t.Fatal("a failed record went unreported")
	}
	if n := len(f.mail.received()); n != 2 {
		t.Fatalf("%d mailed before the record failed, want 2", n)
	}

	f.engine = f.newEngine()
	r := f.once()
	c := f.recipients(1)
	if c[syndicate.RecipientUncertain] != 1 || c[syndicate.RecipientSent] != 1 {
		t.Fatalf("records %v, want ana sent (recorded with bob's start) and bob uncertain", c)
	}
	for who, ds := range f.mail.received() {
		if len(ds) != 1 {
			t.Errorf("%s got %d digests", who, len(ds))
		}
	}
	if r.OK() {
		t.Error("uncertain messages must fail the run")
	}
}
