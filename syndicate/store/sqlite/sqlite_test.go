package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
	"github.com/syndicate-daemon/syndicate/syndicate/store/storetest"
)

// clock is a test clock that moves one millisecond per reading.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

func open(t *testing.T, path string, now func() time.Time) *sqlite.Store {
	t.Helper()
	s, err := sqlite.OpenWith(t.Context(), path, sqlite.Options{Now: now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func closeStore(t *testing.T, s *sqlite.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) syndicate.Store {
		return open(t, filepath.Join(t.TempDir(), "syndicate.db"), newClock().Now)
	})
}

func TestConformanceRealClock(t *testing.T) {
	storetest.Run(t, func(t *testing.T) syndicate.Store {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "syndicate.db"))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s
	})
}

func TestOpenCreatesPrivateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "lib", "syndicate", "syndicate.db")
	s := open(t, path, nil)
	defer closeStore(t, s)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("database file: %v", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Errorf("database file mode %v, want private", perm)
	}
}

// Paths are passed to SQLite as URIs: characters special there must not
// change the file opened.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?with #odd %41 chars")
	path := filepath.Join(dir, "my db?.sqlite")
	s := open(t, path, nil)
	if err := s.SetMeta(t.Context(), "k", "v"); err != nil {
		t.Fatalf("SetMeta: %v", err)
	}
	closeStore(t, s)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if len(names) != 1 || names[0] != "my db?.sqlite" {
		t.Errorf("files in %q: %q, want only the database", dir, names)
	}
	s = open(t, path, nil)
	defer closeStore(t, s)
	if v, ok, err := s.Meta(t.Context(), "k"); err != nil || !ok || v != "v" {
		t.Errorf("Meta after reopen = %q, %v, %v", v, ok, err)
	}
}

func TestOpenNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database\n", 500)), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a text file: no error")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestMeta(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "s.db"), nil)
	defer closeStore(t, s)
	if v, ok, err := s.Meta(ctx, "secret"); err != nil || ok || v != "" {
		t.Errorf("Meta of a missing key = %q, %v, %v", v, ok, err)
	}
	for _, v := range []string{"first", "", "second ✓"} {
		if err := s.SetMeta(ctx, "secret", v); err != nil {
			t.Fatalf("SetMeta: %v", err)
		}
		if got, ok, err := s.Meta(ctx, "secret"); err != nil || !ok || got != v {
			t.Errorf("Meta = %q, %v, %v; want %q, true", got, ok, err, v)
		}
	}
}

// The store's clock sets FirstSeen, CreatedAt and UpdatedAt.
func TestClock(t *testing.T) {
	ctx := t.Context()
	now := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
	s := open(t, filepath.Join(t.TempDir(), "s.db"), func() time.Time { return now })
	defer closeStore(t, s)

	rec := syndicate.PollRecord{
		State:      syndicate.FeedState{FeedID: "f"},
		Articles:   []syndicate.Article{{Key: "a", Title: "A"}},
		Deliveries: []syndicate.NewDelivery{{ArticleKey: "a", ChannelID: "c", State: syndicate.StatePending}},
	}
	if err := s.RecordPoll(ctx, rec); err != nil {
		t.Fatal(err)
	}
	due, err := s.DueDeliveries(ctx, "c", now, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("DueDeliveries = %v, %v", due, err)
	}
	d := due[0]
	a, err := s.Article(ctx, d.ArticleID)
	if err != nil {
		t.Fatal(err)
	}
	if a.FeedID != "f" {
		t.Errorf("FeedID = %q, want the poll's", a.FeedID)
	}
	for name, got := range map[string]time.Time{
		"FirstSeen": a.FirstSeen, "SortTime": d.SortTime, "CreatedAt": d.CreatedAt, "UpdatedAt": d.UpdatedAt,
	} {
		if !got.Equal(now) {
			t.Errorf("%s = %v, want the clock's %v", name, got, now)
		}
	}

	now = now.Add(time.Hour)
	d.State = syndicate.StateSending
	if err := s.UpdateDelivery(ctx, d, syndicate.StatePending); err != nil {
		t.Fatal(err)
	}
	if d, err = s.Delivery(ctx, d.ID); err != nil || !d.UpdatedAt.Equal(now) {
		t.Errorf("UpdatedAt = %v (%v), want %v", d.UpdatedAt, err, now)
	}
}

func TestRecordPollRefusesForeignArticle(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), nil)
	defer closeStore(t, s)
	rec := syndicate.PollRecord{
		State:    syndicate.FeedState{FeedID: "f"},
		Articles: []syndicate.Article{{FeedID: "g", Key: "a"}},
	}
	if err := s.RecordPoll(t.Context(), rec); err == nil || !strings.Contains(err.Error(), `"f"`) {
		t.Errorf("RecordPoll of another feed's article: %v, want an error naming the feed", err)
	}
	if err := s.RecordPoll(t.Context(), syndicate.PollRecord{}); err == nil {
		t.Error("RecordPoll without a feed id: no error")
	}
}

func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "s.db")
	s := open(t, path, nil)
	published := time.Date(2025, 3, 14, 9, 26, 53, 123456000, time.UTC)
	rec := syndicate.PollRecord{
		State: syndicate.FeedState{FeedID: "f", ETag: `"e"`, LastPollAt: published, Failures: 2},
		Articles: []syndicate.Article{{
			Key: "a", Link: "https://example.org/a", Title: "A", Categories: []string{"x", "y"},
			Published: published, Hash: "h",
		}},
		Aliases:    []syndicate.Alias{{Key: "a2", Link: "https://example.org/a"}},
		Routes:     []string{"c"},
		Deliveries: []syndicate.NewDelivery{{ArticleKey: "a", ChannelID: "c", State: syndicate.StatePending}},
	}
	if err := s.RecordPoll(ctx, rec); err != nil {
		t.Fatal(err)
	}
	views, err := s.ListDeliveries(ctx, syndicate.DeliveryFilter{})
	if err != nil || len(views) != 1 {
		t.Fatalf("ListDeliveries = %v, %v", views, err)
	}
	d := views[0].Delivery
	d.State, d.RemoteID, d.RemoteURL = syndicate.StateSent, "42", "https://example.org/s/42"
	if err := s.UpdateDelivery(ctx, d, syndicate.StatePending); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(ctx, "secret", "s3cr3t"); err != nil {
		t.Fatal(err)
	}
	before, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	closeStore(t, s)

	s = open(t, path, nil)
	defer closeStore(t, s)
	st, err := s.FeedState(ctx, "f")
	if err != nil || st.ETag != `"e"` || st.Failures != 2 || !st.LastPollAt.Equal(published) {
		t.Errorf("FeedState after reopen = %+v, %v", st, err)
	}
	m, err := s.KnownKeys(ctx, "f", []string{"a", "a2"})
	if err != nil || len(m) != 2 || m["a"] != m["a2"] || m["a"].ID != d.ArticleID {
		t.Errorf("KnownKeys after reopen = %v, %v", m, err)
	}
	if r, err := s.Routes(ctx, "f"); err != nil || !r["c"] {
		t.Errorf("Routes after reopen = %v, %v", r, err)
	}
	a, err := s.Article(ctx, d.ArticleID)
	if err != nil || a.Title != "A" || !a.Published.Equal(published) || len(a.Categories) != 2 {
		t.Errorf("Article after reopen = %+v, %v", a, err)
	}
	after, err := s.Delivery(ctx, d.ID)
	if err != nil || after.State != syndicate.StateSent || after.RemoteID != "42" ||
		!after.UpdatedAt.Equal(before.UpdatedAt) || !after.CreatedAt.Equal(before.CreatedAt) {
		t.Errorf("Delivery after reopen = %+v, %v; want %+v", after, err, before)
	}
	if v, ok, err := s.Meta(ctx, "secret"); err != nil || !ok || v != "s3cr3t" {
		t.Errorf("Meta after reopen = %q, %v, %v", v, ok, err)
	}
}

// schemaVersions reads schema_migrations with a plain connection.
func schemaVersions(t *testing.T, path string) map[int]int64 {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[int]int64{}
	for rows.Next() {
		var v int
		var at int64
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatal(err)
		}
		got[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMigrationsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	closeStore(t, open(t, path, nil))
	first := schemaVersions(t, path)
	if len(first) == 0 || first[1] == 0 {
		t.Fatalf("schema_migrations after the first open = %v", first)
	}
	for range 2 {
		closeStore(t, open(t, path, nil))
	}
	if again := schemaVersions(t, path); fmt.Sprint(again) != fmt.Sprint(first) {
		t.Errorf("schema_migrations after reopening = %v, want %v", again, first)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	closeStore(t, open(t, path, nil))
	latest := len(schemaVersions(t, path))
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, latest+1); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := sqlite.Open(t.Context(), path)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database from a newer binary: no error")
	}
	if !errors.Is(err, sqlite.ErrSchemaTooNew) {
		t.Errorf("error %v, want ErrSchemaTooNew", err)
	}
	if want := fmt.Sprintf("version %d", latest+1); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}

// Two stores on one file, as the daemon and a CLI command are: writers
// wait for each other instead of failing with SQLITE_BUSY.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	stores := []*sqlite.Store{open(t, path, nil), open(t, path, nil), open(t, path, nil)}
	defer func() {
		for _, s := range stores {
			closeStore(t, s)
		}
	}()
	ctx := t.Context()
	const workers, rounds = 12, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			for r := range rounds {
				errs <- write(ctx, s, w, r)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	n, err := stores[0].CountDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := n["c"][syndicate.StateSending]; got != workers*rounds {
		t.Errorf("%d deliveries sending, want %d", got, workers*rounds)
	}
}

// write records a poll with one article, claims its delivery and sets a
// meta value: three write transactions.
func write(ctx context.Context, s *sqlite.Store, w, r int) error {
	feed, key := fmt.Sprintf("feed-%d", w), fmt.Sprintf("a-%d", r)
	rec := syndicate.PollRecord{
		State:      syndicate.FeedState{FeedID: feed, Failures: r},
		Articles:   []syndicate.Article{{Key: key, Link: "https://example.org/" + feed + "/" + key}},
		Deliveries: []syndicate.NewDelivery{{ArticleKey: key, ChannelID: "c", State: syndicate.StatePending}},
	}
	if err := s.RecordPoll(ctx, rec); err != nil {
		return err
	}
	views, err := s.ListDeliveries(ctx, syndicate.DeliveryFilter{FeedID: feed, States: []syndicate.State{syndicate.StatePending}})
	if err != nil {
		return err
	}
	for _, v := range views {
		v.State = syndicate.StateSending
		if err := s.UpdateDelivery(ctx, v.Delivery, syndicate.StatePending); err != nil {
			return err
		}
	}
	return s.SetMeta(ctx, feed, key)
}

// A poll the planner got wrong is refused whole, with a reason.
func TestRecordPollRefusesInconsistentRecords(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "s.db"), nil)
	defer closeStore(t, s)
	state := syndicate.FeedState{FeedID: "f", ETag: `"x"`}
	for name, c := range map[string]struct {
		rec  syndicate.PollRecord
		want string
	}{
		"alias of an unknown link": {syndicate.PollRecord{State: state,
			Aliases: []syndicate.Alias{{Key: "k", Link: "https://example.org/nowhere"}}}, "no article"},
		"article without key": {syndicate.PollRecord{State: state,
			Articles: []syndicate.Article{{Title: "no key"}}}, "empty key"},
		"route without channel": {syndicate.PollRecord{State: state, Routes: []string{""}}, "empty channel"},
		"delivery without channel": {syndicate.PollRecord{State: state,
			Articles:   []syndicate.Article{{Key: "a"}},
			Deliveries: []syndicate.NewDelivery{{ArticleKey: "a", State: syndicate.StatePending}}}, "empty channel"},
		"update of another feed's article": {syndicate.PollRecord{State: state,
			Updated: []syndicate.Article{{FeedID: "g", Key: "a"}}}, `"g"`},
	} {
		err := s.RecordPoll(t.Context(), c.rec)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: RecordPoll error %v, want one saying %q", name, err, c.want)
		}
	}
	if st, err := s.FeedState(t.Context(), "f"); err != nil || !st.LastPollAt.IsZero() || st.ETag != "" {
		t.Errorf("FeedState after refused polls = %+v, %v", st, err)
	}
}
