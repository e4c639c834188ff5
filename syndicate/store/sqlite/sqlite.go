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
	"strings"
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
		q += "&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	}
	return "file:" + escaped + "?" + q
}

// Close closes the database.
func (s *Store) Close() error {
	var errs []error
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
func (s *Store) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
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
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO leases (name, owner, until) VALUES (?1, ?2, ?3)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
			WHERE leases.owner IN ('', ?2, ?4) OR leases.until <= ?5`,
			name, owner, dbTime(until), replacing, dbTime(now)); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT owner FROM leases WHERE name = ?`, name).Scan(&holder)
	})
	if err != nil {
		return "", fmt.Errorf("take lease %q: %w", name, err)
	}
	return holder, nil
}

// ReleaseLease ends the lease if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE leases SET owner = '', until = 0 WHERE name = ? AND owner = ?`,
		name, owner); err != nil {
		return fmt.Errorf("release lease %q: %w", name, busy(err))
	}
	return nil
}
