package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres/pgtest"
	"github.com/syndicate-daemon/syndicate/syndicate/store/storetest"
)

// The package's tests share one throwaway cluster, started by TestMain;
// each test gets a schema of its own in one database.
var (
	clusterURL string // the test database, as its owner
	skipReason string // set when no cluster could be started
	schemas    atomic.Int64
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	ctx := context.Background()
	c, err := pgtest.Start(ctx)
	switch {
	case errors.Is(err, pgtest.ErrNotInstalled):
		skipReason = err.Error()
		return m.Run()
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}()
	if clusterURL, err = c.CreateDatabase(ctx, "syndicate_test"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// newSchema creates an empty schema and returns the URL of the test
// database with it as the search_path. The schema is dropped after the
// test.
func newSchema(t *testing.T) string {
	t.Helper()
	if skipReason != "" {
		t.Skip(skipReason)
	}
	name := fmt.Sprintf("t%d", schemas.Add(1))
	admin(t, "CREATE SCHEMA "+name)
	t.Cleanup(func() { admin(t, "DROP SCHEMA "+name+" CASCADE") })
	u, err := url.Parse(clusterURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}

// admin runs statements on the test database outside any store.
func admin(t *testing.T, sql string, args ...any) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, clusterURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func openStore(t *testing.T, url string, opts postgres.Options) *postgres.Store {
	t.Helper()
	s, err := postgres.OpenWith(t.Context(), url, opts)
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	storetest.Run(t, func(t *testing.T) syndicate.Store {
		return openStore(t, newSchema(t), postgres.Options{})
	})
}

// Replicas starting together migrate once: each waits for the migration
// lock, and all but the first find the schema current.
func TestMigrateConcurrently(t *testing.T) {
	u := newSchema(t)
	const replicas = 4
	errs := make(chan error, replicas)
	stores := make(chan *postgres.Store, replicas)
	for range replicas {
		go func() {
			s, err := postgres.Open(t.Context(), u)
			errs <- err
			stores <- s
		}()
	}
	for range replicas {
		if err := <-errs; err != nil {
			t.Errorf("Open: %v", err)
		}
		if s := <-stores; s != nil {
			defer s.Close()
		}
	}
	s := openStore(t, u, postgres.Options{})
	defer s.Close()
	v, err := s.SchemaVersion(t.Context())
	if err != nil || v < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v, err)
	}
	var rows, distinct int
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if err := conn.QueryRow(t.Context(), `SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	if rows != v || distinct != v {
		t.Errorf("schema_migrations: %d rows, %d versions; want each of the %d once", rows, distinct, v)
	}
}

// A database migrated by a newer binary is refused.
func TestSchemaTooNew(t *testing.T) {
	u := newSchema(t)
	s := openStore(t, u, postgres.Options{})
	s.Close()
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	if _, err := conn.Exec(t.Context(), `INSERT INTO schema_migrations VALUES (999, now())`); err != nil {
		t.Fatal(err)
	}
	if _, err := postgres.Open(t.Context(), u); !errors.Is(err, postgres.ErrSchemaTooNew) {
		t.Errorf("Open of a newer schema: %v, want ErrSchemaTooNew", err)
	}
}

// seedDelivery records one article with a pending delivery and returns it.
func seedDelivery(t *testing.T, s syndicate.Store) syndicate.Delivery {
	t.Helper()
	rec := syndicate.PollRecord{
		State:      syndicate.FeedState{FeedID: "f"},
		Articles:   []syndicate.Article{{Key: "a", Link: "https://example.org/a", Title: "A", Published: time.Now()}},
		Deliveries: []syndicate.NewDelivery{{ArticleKey: "a", ChannelID: "c1", State: syndicate.StatePending}},
	}
	if err := s.RecordPoll(t.Context(), rec); err != nil {
		t.Fatalf("RecordPoll: %v", err)
	}
	ds, err := s.DueDeliveries(t.Context(), "c1", time.Now(), 0)
	if err != nil || len(ds) != 1 {
		t.Fatalf("DueDeliveries = %v, %v", ds, err)
	}
	return ds[0]
}

// A row locked by another process past the lock timeout is ErrBusy: the
// pipeline keeps the result and writes it again.
func TestLockTimeoutIsBusy(t *testing.T) {
	u := newSchema(t)
	s := openStore(t, u, postgres.Options{LockTimeout: 100 * time.Millisecond})
	defer s.Close()
	d := seedDelivery(t, s)

	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), `SELECT 1 FROM deliveries WHERE id = $1 FOR UPDATE`, d.ID); err != nil {
		t.Fatal(err)
	}
	sent := d
	sent.State = syndicate.StateSent
	err = s.UpdateDelivery(t.Context(), sent, syndicate.StatePending)
	if !errors.Is(err, syndicate.ErrBusy) {
		t.Fatalf("UpdateDelivery of a locked row: %v, want ErrBusy", err)
	}
	if err := tx.Rollback(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDelivery(t.Context(), sent, syndicate.StatePending); err != nil {
		t.Fatalf("UpdateDelivery once the lock is gone: %v", err)
	}
}

// A statement past the statement timeout is ErrBusy too; one cancelled by
// its context is not.
func TestStatementTimeoutIsBusy(t *testing.T) {
	u := newSchema(t)
	s := openStore(t, u, postgres.Options{StatementTimeout: 100 * time.Millisecond})
	defer s.Close()
	seedDelivery(t, s)
	// Hold the table so that even a read would wait: an ACCESS EXCLUSIVE
	// lock, with lock_timeout left at its default (longer).
	conn, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tx, err := conn.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), `LOCK TABLE deliveries IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	_, err = s.CountDeliveries(t.Context())
	if !errors.Is(err, syndicate.ErrBusy) {
		t.Errorf("CountDeliveries past the statement timeout: %v, want ErrBusy", err)
	}

	s2 := openStore(t, u, postgres.Options{StatementTimeout: -1})
	defer s2.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = s2.CountDeliveries(ctx)
	if err == nil || errors.Is(err, syndicate.ErrBusy) {
		t.Errorf("CountDeliveries cancelled by its context: %v, want an error that is not ErrBusy", err)
	}
}

func TestOptions(t *testing.T) {
	u := newSchema(t)
	s := openStore(t, u, postgres.Options{MaxConns: 3, StatementTimeout: 1500 * time.Millisecond})
	defer s.Close()
	if got := s.Stat().MaxConns(); got != 3 {
		t.Errorf("MaxConns = %d, want 3", got)
	}
	var timeout, lock string
	if err := s.QueryRowForTest(t.Context(), `SELECT current_setting('statement_timeout'), current_setting('lock_timeout')`, &timeout, &lock); err != nil {
		t.Fatal(err)
	}
	if timeout != "1500ms" || lock != "10s" {
		t.Errorf("statement_timeout %q, lock_timeout %q; want 1500ms and the default 10s", timeout, lock)
	}
	// The URL's settings stand when the options leave them.
	s2 := openStore(t, u+"&pool_max_conns=2&statement_timeout=7000", postgres.Options{})
	defer s2.Close()
	if got := s2.Stat().MaxConns(); got != 2 {
		t.Errorf("MaxConns from the URL = %d, want 2", got)
	}
	if err := s2.QueryRowForTest(t.Context(), `SELECT current_setting('statement_timeout')`, &timeout); err != nil {
		t.Fatal(err)
	}
	if timeout != "7s" {
		t.Errorf("statement_timeout from the URL = %q, want 7s", timeout)
	}
	s3 := openStore(t, u, postgres.Options{})
	defer s3.Close()
	if got := s3.Stat().MaxConns(); got != postgres.DefaultMaxConns {
		t.Errorf("default MaxConns = %d, want %d", got, postgres.DefaultMaxConns)
	}
}

// A wrong password is not repeated in the error.
func TestOpenErrorHidesPassword(t *testing.T) {
	if skipReason != "" {
		t.Skip(skipReason)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := postgres.Open(ctx, "postgres://user:s3cr3t-pw@127.0.0.1:1/db?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port: no error")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t-pw") {
		t.Errorf("error shows the password: %s", msg)
	}
	_, err = postgres.Open(ctx, "postgres://user:s3cr3t-pw@[bad")
	if err == nil || strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("Open of a bad URL: %v", err)
	}
}
