// Package sqlite is the default syndicate.Store: one SQLite file, written
// through modernc.org/sqlite (pure Go, so the binary builds with
// CGO_ENABLED=0).
//
// The database runs in WAL mode, so readers never wait for the writer.
// Within one process every write goes through a single connection, so
// writers queue in Go instead of polling SQLite's lock; between processes
// (the daemon and a CLI command) a 10 s busy timeout and BEGIN IMMEDIATE
// transactions keep writers from failing with SQLITE_BUSY.
//
// Times are stored as INTEGER microseconds since the Unix epoch, UTC:
// nanoseconds would overflow for the dates outside 1678–2262 that broken
// feeds produce, and PostgreSQL keeps microseconds too.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"

	sqlitedriver "modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

var _ syndicate.Store = (*Store)(nil)

// Options tunes OpenWith. The zero value is what Open uses.
type Options struct {
	// Now is the store's clock. It sets Article.FirstSeen (unless the
	// caller did), Delivery.CreatedAt and Delivery.UpdatedAt, and the time
	// migrations and routes are recorded. Nil means time.Now.
	Now func() time.Time
}

// Store is a syndicate.Store in one SQLite file. It is safe for concurrent
// use.
type Store struct {
	w   *sql.DB // a single connection: every write
	r   *sql.DB // read-only connections
	now func() time.Time
	// prepared are the writer's statements prepared once, by SQL text,
	// read-only after open: a digest runs its per-message writes
	// thousands of times, and SQLite's parse of a statement was a fifth
	// of their cost.
	prepared map[string]*sql.Stmt
	writes   writeQueue
}

// writerStatements are the statements the writer prepares at open: those
// of a poll (its lease, its feed's state) and of a digest's message begun
// with how the one before it ended.
func writerStatements() []string {
	return []string{leaseQuery, leaseHolderQuery, feedStateQuery, saveFeedStateQuery, releaseLeaseQuery,
		beginQuery(1), recordQuery(1), savepointQuery, rollbackToSavepointQuery, releaseSavepointQuery}
}

// writerTx runs statements in tx, each of the writer's statements with its
// statement prepared at open.
type writerTx struct {
	tx       *sql.Tx
	prepared map[string]*sql.Stmt
}

func (s *Store) writer(tx *sql.Tx) writerTx { return writerTx{tx, s.prepared} }

func (w writerTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st, ok := w.prepared[query]; ok {
		return w.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return w.tx.ExecContext(ctx, query, args...)
}

func (w writerTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := w.prepared[query]; ok {
		return w.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return w.tx.QueryContext(ctx, query, args...)
}

func (w writerTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st, ok := w.prepared[query]; ok {
		return w.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return w.tx.QueryRowContext(ctx, query, args...)
}

// Open opens the database at path, creating the file and its parent
// directory when missing, and applies the pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, path string, opts Options) (*Store, error) {
	s, err := open(ctx, path, opts)
	if err != nil {
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	return s, nil
}

func open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if err := createFile(abs); err != nil {
		return nil, err
	}
	s := &Store{now: opts.Now}
	if s.now == nil {
		s.now = time.Now
	}

	s.w, err = sql.Open("sqlite", dsn(abs, false))
	if err != nil {
		return nil, err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	if err := s.migrate(ctx); err != nil {
		s.w.Close()
		return nil, err
	}
	// Prepared on the writer's only connection, outside any transaction
	// (inside one, preparing on s.w would wait for that connection).
	s.prepared = make(map[string]*sql.Stmt)
	for _, q := range writerStatements() {
		st, err := s.w.PrepareContext(ctx, q)
		if err != nil {
			s.w.Close()
			return nil, fmt.Errorf("prepare: %w", err)
		}
		s.prepared[q] = st
	}

	s.r, err = sql.Open("sqlite", dsn(abs, true))
	if err != nil {
		s.w.Close()
		return nil, err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(n)
	s.r.SetMaxIdleConns(n)
	if err := s.r.PingContext(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// createFile makes the parent directory and an empty database file, so that
// the file (which will hold secrets) is created private: SQLite would make
// it 0644, and gives its -wal and -shm files the mode of the database.
func createFile(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// dsn builds a SQLite URI for path (absolute). The driver reads the
// underscore parameters; SQLite ignores them.
func dsn(path string, readOnly bool) string {
	escaped := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(path))
	if !strings.HasPrefix(escaped, "/") {
		escaped = "/" + escaped // Windows: file:/C:/...
	}
	q := "_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	if readOnly {
		q += "&_query_only=1"
	} else {
		// temp_store(MEMORY) keeps the statement journal, which each
		// savepoint of a group commit writes, out of a temporary file: on
		// disk it was a write(2) for every page a poll's inserts touched.
		q += "&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=temp_store(MEMORY)&_txlock=immediate"
	}
	return "file:" + escaped + "?" + q
}

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
	for _, st := range s.prepared {
		errs = append(errs, st.Close())
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	errs = append(errs, s.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close sqlite store: %w", err)
	}
	return nil
}

// Meta returns the value kept under key; ok is false when there is none.
func (s *Store) Meta(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read meta %q: %w", key, err)
	}
	return value, true, nil
}

// SetMeta keeps value under key, replacing any previous value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.w.ExecContext(ctx, `
		INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write meta %q: %w", key, err)
	}
	return nil
}

// EnsureMeta keeps value under key unless a value is already there, and
// returns the value kept: the first writer wins, even when other processes
// write the same key at the same time (the write transaction is BEGIN
// IMMEDIATE, so the insert and the read see the same row).
func (s *Store) EnsureMeta(ctx context.Context, key, value string) (string, error) {
	var kept string
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&kept)
	})
	if err != nil {
		return "", fmt.Errorf("ensure meta %q: %w", key, err)
	}
	return kept, nil
}

// writeTx runs fn in a write transaction (BEGIN IMMEDIATE) and commits it.
//
// Writes asked for while one is being made are made together, each fn in a
// savepoint of one transaction, so that one commit serves them all: SQLite
// has a single writer, and a transaction's BEGIN and COMMIT (file locks, a
// WAL frame) cost more than a poll's or a message's small write. A fn that
// fails rolls back its own savepoint only; a failed commit fails them all.
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	w := &write{ctx: ctx, fn: fn, done: make(chan error, 1), lead: make(chan struct{}, 1)}
	s.writes.mu.Lock()
	s.writes.pending = append(s.writes.pending, w)
	if !s.writes.leading {
		s.writes.leading = true
		w.lead <- struct{}{}
	}
	s.writes.mu.Unlock()
	for {
		select {
		case err := <-w.done:
			return err
		case <-w.lead:
			s.commitPending()
		}
	}
}

// write is one writeTx waiting for its transaction; lead says it is its
// turn to commit the writes pending (its own among them).
type write struct {
	ctx  context.Context
	fn   func(tx *sql.Tx) error
	done chan error
	lead chan struct{}
}

// writeQueue holds the writes asked for while one transaction runs.
type writeQueue struct {
	mu      sync.Mutex
	pending []*write
	leading bool // a write is committing pending ones
}

// maxGroupedWrites bounds the writes one transaction makes together.
const maxGroupedWrites = 64

// commitPending commits the writes pending in one transaction, then hands
// the lead to a write asked for meanwhile, if any.
func (s *Store) commitPending() {
	q := &s.writes
	q.mu.Lock()
	n := min(len(q.pending), maxGroupedWrites)
	group := slices.Clone(q.pending[:n])
	q.pending = slices.Delete(q.pending, 0, n)
	q.mu.Unlock()

	if len(group) == 1 {
		group[0].done <- s.oneWrite(group[0].ctx, group[0].fn)
	} else {
		s.groupWrite(group)
	}

	q.mu.Lock()
	if len(q.pending) > 0 {
		q.pending[0].lead <- struct{}{}
	} else {
		q.leading = false
	}
	q.mu.Unlock()
}

func (s *Store) oneWrite(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return busy(err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return busy(err)
	}
	return busy(tx.Commit())
}

// groupWrite makes the writes of group in one transaction, each in a
// savepoint, and tells each its outcome.
func (s *Store) groupWrite(group []*write) {
	errs := make([]error, len(group))
	finish := func(err error) {
		for i, w := range group {
			if errs[i] == nil {
				errs[i] = err
			}
			w.done <- errs[i]
		}
	}
	// Not one caller's context: its end would roll back the others' writes.
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		finish(busy(err))
		return
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	wtx := s.writer(tx)
	for i, w := range group {
		if err := w.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if _, err := wtx.ExecContext(w.ctx, savepointQuery); err != nil {
			errs[i] = busy(err)
			continue
		}
		if err := w.fn(tx); err != nil {
			errs[i] = busy(err)
			if _, err := wtx.ExecContext(context.Background(), rollbackToSavepointQuery); err != nil {
				// SQLite ended the whole transaction (a full disk, an I/O
				// error): nothing of the group is written.
				finish(fmt.Errorf("a write made with this one failed and the transaction with it: %w", busy(err)))
				return
			}
		}
		if _, err := wtx.ExecContext(context.Background(), releaseSavepointQuery); err != nil {
			finish(fmt.Errorf("release savepoint: %w", busy(err)))
			return
		}
	}
	finish(busy(tx.Commit()))
}

// A group's savepoint, taken for each of its writes in turn.
const (
	savepointQuery           = `SAVEPOINT grouped_write`
	rollbackToSavepointQuery = `ROLLBACK TO grouped_write`
	releaseSavepointQuery    = `RELEASE grouped_write`
)

// busy marks an error of a database locked past the busy timeout as
// syndicate.ErrBusy, so the caller knows to write again later.
func busy(err error) error {
	var se *sqlitedriver.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("%w: %w", syndicate.ErrBusy, err)
		}
	}
	return err
}

// TakeLease gives the lease to owner when it is free, ended, owner's or
// held by replacing, and returns its holder.
func (s *Store) TakeLease(ctx context.Context, name, owner string, now, until time.Time, replacing string) (string, error) {
	var holder string
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		var err error
		holder, err = takeLease(ctx, s.writer(tx), syndicate.LeaseClaim{Name: name, Owner: owner, Now: now, Until: until, Replacing: replacing})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("take lease %q: %w", name, err)
	}
	return holder, nil
}

const (
	leaseQuery = `INSERT INTO leases (name, owner, until) VALUES (?1, ?2, ?3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE leases.owner IN ('', ?2, ?4) OR leases.until <= ?5
		RETURNING owner`
	leaseHolderQuery  = `SELECT owner FROM leases WHERE name = ?`
	releaseLeaseQuery = `UPDATE leases SET owner = '', until = 0 WHERE name = ? AND owner = ?`
)

func takeLease(ctx context.Context, tx rowQuerier, c syndicate.LeaseClaim) (string, error) {
	var holder string
	err := tx.QueryRowContext(ctx, leaseQuery, c.Name, c.Owner, dbTime(c.Until), c.Replacing, dbTime(c.Now)).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) { // held by another: the upsert changed nothing
		err = tx.QueryRowContext(ctx, leaseHolderQuery, c.Name).Scan(&holder)
	}
	return holder, err
}

// ReleaseLease ends the lease if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := releaseLease(ctx, s.w, syndicate.HeldLease{Name: name, Owner: owner}); err != nil {
		return fmt.Errorf("release lease %q: %w", name, busy(err))
	}
	return nil
}

func releaseLease(ctx context.Context, db execer, l syndicate.HeldLease) error {
	_, err := db.ExecContext(ctx, releaseLeaseQuery, l.Name, l.Owner)
	return err
}
