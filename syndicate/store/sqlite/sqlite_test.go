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
		State: syndicate.FeedState{FeedID: "f", ETag: `"e"`, LastPollAt: published, Failures: 2,
			GoneURL: "https://example.org/gone", MovedFrom: "http://example.org/f", MovedTo: "https://example.org/f"},
		Articles: []syndicate.Article{{
			Key: "a", Link: "https://example.org/a", Title: "A", Categories: []string{"x", "y"},
			Related: []syndicate.Link{{Title: "B", URL: "https://example.org/b"}}, Published: published, Hash: "h",
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
	sub := syndicate.Subscription{FeedID: "f", Hub: "https://hub.example.org/", Topic: "https://example.org/f",
		Secret: "hs", State: "active", LeaseUntil: published.Add(time.Hour), UpdatedAt: published}
	if err := s.SaveSubscription(ctx, sub); err != nil {
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
	if err != nil || st.ETag != `"e"` || st.Failures != 2 || !st.LastPollAt.Equal(published) ||
		st.GoneURL != rec.State.GoneURL || st.MovedFrom != rec.State.MovedFrom || st.MovedTo != rec.State.MovedTo {
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
	if err != nil || a.Title != "A" || !a.Published.Equal(published) || len(a.Categories) != 2 ||
		fmt.Sprint(a.Related) != fmt.Sprint(rec.Articles[0].Related) {
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
	if got, err := s.Subscription(ctx, "f"); err != nil || got.Hub != sub.Hub || got.Secret != sub.Secret ||
		!got.LeaseUntil.Equal(sub.LeaseUntil) || !got.UpdatedAt.Equal(sub.UpdatedAt) {
		t.Errorf("Subscription after reopen = %+v, %v; want %+v", got, err, sub)
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

// A database left by a syndicate that knew migration 0001 only opens,
// moves to the current schema, and keeps every row; what 0002 adds then
// works on it.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v1.db")
	if err := sqlite.MigrateTo(ctx, path, 1); err != nil {
		t.Fatalf("MigrateTo(1): %v", err)
	}
	v1 := schemaVersions(t, path)
	if len(v1) != 1 || v1[1] == 0 {
		t.Fatalf("schema_migrations of a version 1 database = %v", v1)
	}

	// The rows, as the version 1 store wrote them.
	published := time.Date(2025, 3, 14, 9, 26, 53, 123456000, time.UTC)
	seen, sent := published.Add(time.Hour), published.Add(2*time.Hour)
	zero := time.Time{}.UnixMicro()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT related FROM articles`); err == nil {
		t.Fatal("a version 1 database already has articles.related")
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO meta (key, value) VALUES ('secret', 's3cr3t')`, nil},
		{`INSERT INTO feeds (feed_id, etag, last_modified, last_poll_at, last_ok_at, last_error, failures, next_poll_at)
			VALUES ('f', '"e1"', 'Fri, 14 Mar 2025 09:26:53 GMT', ?, ?, 'boom', 2, ?)`,
			[]any{seen.UnixMicro(), seen.UnixMicro(), zero}},
		{`INSERT INTO articles (id, feed_id, key, link, dedupe_link, title, summary, content_html,
			image_url, image_caption, categories, language, author, published, updated, position,
			hash, first_seen, sort_time)
			VALUES (7, 'f', 'guid-1', 'https://example.org/a', 'https://example.org/a', 'Huelga', 'Lead',
			'<p>Body</p>', 'https://example.org/a.jpg', 'Caption', '["Kazakhstan","Kazajistán"]', 'es',
			'E', ?, ?, 3, 'h1', ?, ?)`,
			[]any{published.UnixMicro(), zero, seen.UnixMicro(), published.UnixMicro()}},
		{`INSERT INTO article_aliases (feed_id, key, article_id, link, created_at)
			VALUES ('f', 'guid-1-old', 7, 'https://example.org/a', ?)`, []any{seen.UnixMicro()}},
		{`INSERT INTO routes (feed_id, channel_id, established_at) VALUES ('f', 'c', ?)`, []any{seen.UnixMicro()}},
		{`INSERT INTO deliveries (id, article_id, channel_id, dedupe_link, state, attempts, next_attempt,
			last_error, remote_id, remote_url, sort_time, sending_since, created_at, updated_at)
			VALUES (11, 7, 'c', 'https://example.org/a', 'sent', 1, ?, '', '42', 'https://example.org/s/42',
			?, ?, ?, ?)`,
			[]any{zero, published.UnixMicro(), sent.UnixMicro(), seen.UnixMicro(), sent.UnixMicro()}},
	} {
		if _, err := db.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("version 1 row: %v\n%s", err, q.sql)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := open(t, path, newClock().Now)
	defer closeStore(t, s)
	got := schemaVersions(t, path)
	if len(got) < 2 || got[1] != v1[1] || got[2] == 0 {
		t.Errorf("schema_migrations after opening = %v, want version 1 as it was and 2 applied", got)
	}

	st, err := s.FeedState(ctx, "f")
	if err != nil {
		t.Fatal(err)
	}
	if want := (syndicate.FeedState{FeedID: "f", ETag: `"e1"`, LastModified: "Fri, 14 Mar 2025 09:26:53 GMT",
		LastPollAt: seen, LastOKAt: seen, LastError: "boom", Failures: 2}); st != want {
		t.Errorf("FeedState after migrating = %+v, want %+v", st, want)
	}
	a, err := s.Article(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.Key != "guid-1" || a.Link != "https://example.org/a" || a.Title != "Huelga" || a.ContentHTML != "<p>Body</p>" ||
		a.ImageCaption != "Caption" || fmt.Sprint(a.Categories) != "[Kazakhstan Kazajistán]" || a.Position != 3 ||
		a.Hash != "h1" || !a.Published.Equal(published) || !a.FirstSeen.Equal(seen) || a.Related != nil {
		t.Errorf("Article after migrating = %+v", a)
	}
	m, err := s.KnownKeys(ctx, "f", []string{"guid-1", "guid-1-old"})
	if err != nil || m["guid-1"].ID != 7 || m["guid-1-old"].ID != 7 {
		t.Errorf("KnownKeys after migrating = %v, %v", m, err)
	}
	if r, err := s.Routes(ctx, "f"); err != nil || !r["c"] {
		t.Errorf("Routes after migrating = %v, %v", r, err)
	}
	views, err := s.ListDeliveries(ctx, syndicate.DeliveryFilter{ArticleID: 7, States: []syndicate.State{syndicate.StateSent}})
	if err != nil || len(views) != 1 {
		t.Fatalf("ListDeliveries after migrating = %v, %v", views, err)
	}
	if d := views[0].Delivery; d.ID != 11 || d.RemoteID != "42" || d.RemoteURL != "https://example.org/s/42" ||
		!d.SendingSince.Equal(sent) || !d.CreatedAt.Equal(seen) || !d.UpdatedAt.Equal(sent) || views[0].Article.Related != nil {
		t.Errorf("delivery after migrating = %+v", views[0])
	}
	if v, err := s.EnsureMeta(ctx, "secret", "new"); err != nil || v != "s3cr3t" {
		t.Errorf("EnsureMeta of a version 1 value = %q, %v; want s3cr3t", v, err)
	}
	if _, err := s.Subscription(ctx, "f"); !errors.Is(err, syndicate.ErrNotFound) {
		t.Errorf("Subscription after migrating: %v, want ErrNotFound", err)
	}

	// What 0002 added works on the migrated rows.
	related := []syndicate.Link{{Title: "Read also", URL: "https://example.org/b"}}
	a.Related, a.Hash = related, "h2"
	st.MovedFrom, st.MovedTo = "http://example.org/feed", "https://example.org/feed"
	if err := s.RecordPoll(ctx, syndicate.PollRecord{State: st, Updated: []syndicate.Article{a}}); err != nil {
		t.Fatalf("RecordPoll: %v", err)
	}
	sub := syndicate.Subscription{FeedID: "f", Hub: "https://hub.example.org/", Topic: "https://example.org/feed",
		State: "active", LeaseUntil: sent, UpdatedAt: seen}
	if err := s.SaveSubscription(ctx, sub); err != nil {
		t.Fatalf("SaveSubscription: %v", err)
	}
	if a, err := s.Article(ctx, 7); err != nil || fmt.Sprint(a.Related) != fmt.Sprint(related) || a.Hash != "h2" {
		t.Errorf("Article after an update = %+v, %v", a, err)
	}
	if got, err := s.FeedState(ctx, "f"); err != nil || got != st {
		t.Errorf("FeedState = %+v, %v; want %+v", got, err, st)
	}
	if got, err := s.Subscription(ctx, "f"); err != nil || got != sub {
		t.Errorf("Subscription = %+v, %v; want %+v", got, err, sub)
	}
}

// Several processes starting at once on an old database: one applies each
// migration, none fails.
func TestMigrateConcurrently(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	if err := sqlite.MigrateTo(t.Context(), path, 1); err != nil {
		t.Fatalf("MigrateTo(1): %v", err)
	}
	const n = 4
	stores := make([]*sqlite.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = sqlite.Open(t.Context(), path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		closeStore(t, stores[i])
	}
	if got := schemaVersions(t, path); len(got) < 2 {
		t.Errorf("schema_migrations = %v, want version 2 applied", got)
	}
}

// EnsureMeta and the plain Meta/SetMeta see one another.
func TestEnsureMetaAndSetMeta(t *testing.T) {
	ctx := t.Context()
	s := open(t, filepath.Join(t.TempDir(), "s.db"), nil)
	defer closeStore(t, s)
	if v, err := s.EnsureMeta(ctx, "a", "ensured"); err != nil || v != "ensured" {
		t.Fatalf("EnsureMeta = %q, %v", v, err)
	}
	if v, ok, err := s.Meta(ctx, "a"); err != nil || !ok || v != "ensured" {
		t.Errorf("Meta after EnsureMeta = %q, %v, %v", v, ok, err)
	}
	// SetMeta replaces; EnsureMeta then hands out the replacement.
	if err := s.SetMeta(ctx, "a", "set"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.EnsureMeta(ctx, "a", "ensured again"); err != nil || v != "set" {
		t.Errorf("EnsureMeta after SetMeta = %q, %v; want set", v, err)
	}
	if err := s.SetMeta(ctx, "b", "set first"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.EnsureMeta(ctx, "b", "ensured"); err != nil || v != "set first" {
		t.Errorf("EnsureMeta of a key SetMeta wrote = %q, %v", v, err)
	}
}

// The daemon and a CLI command start at once on a new database and both
// generate the signing secret: both end up with the same one.
func TestEnsureMetaTwoStores(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "s.db")
	stores := []*sqlite.Store{open(t, path, nil), open(t, path, nil)}
	defer func() {
		for _, s := range stores {
			closeStore(t, s)
		}
	}()
	const workers, keys = 16, 5
	got := make([][]string, workers)
	errs := make([]error, workers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		s := stores[w%len(stores)]
		wg.Go(func() {
			<-start
			for k := range keys {
				v, err := s.EnsureMeta(ctx, fmt.Sprintf("secret-%d", k), fmt.Sprintf("from worker %d", w))
				if err != nil {
					errs[w] = err
					return
				}
				got[w] = append(got[w], v)
			}
		})
	}
	close(start)
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", w, err)
		}
	}
	for k := range keys {
		key := fmt.Sprintf("secret-%d", k)
		won := got[0][k]
		if !strings.HasPrefix(won, "from worker ") {
			t.Errorf("%s = %q, which no worker offered", key, won)
		}
		for w := range workers {
			if got[w][k] != won {
				t.Errorf("%s: worker %d was handed %q, worker 0 %q", key, w, got[w][k], won)
			}
		}
		for i, s := range stores {
			if v, ok, err := s.Meta(ctx, key); err != nil || !ok || v != won {
				t.Errorf("store %d: Meta(%s) = %q, %v, %v; want %q", i, key, v, ok, err, won)
			}
		}
	}
}
