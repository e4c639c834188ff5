// Package postgres is the syndicate.Store for more than one machine: a
// PostgreSQL database, reached through a pgx connection pool, which any
// number of replicas of the daemon (and the command line) share.
//
// It keeps what the SQLite store keeps, with the same meaning, and passes
// the same conformance suite (syndicate/store/storetest). What differs:
//
//   - Migrations are embedded and numbered like SQLite's, but applied in
//     one transaction under an advisory lock (pg_advisory_xact_lock, keyed
//     by the schema), so replicas starting together migrate once: the
//     others wait, then find the schema current.
//   - Writes that another process must see — a poll recorded, a delivery
//     moved, a channel paused, a digest made — send a NOTIFY on the channel
//     syndicate_changes in their own transaction, so it is seen exactly
//     when the write commits; Changes LISTENs for them.
//   - Transactions run at READ COMMITTED; those that lose a deadlock or a
//     serialization race are run again (a few times); a lock waited on past
//     the lock timeout, a statement past the statement timeout, or a race
//     lost every time is reported wrapped in syndicate.ErrBusy.
//
// Times are timestamptz (microseconds, like the SQLite store).
package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var (
	_ syndicate.Store           = (*Store)(nil)
	_ syndicate.DigestStore     = (*Store)(nil)
	_ syndicate.SubscriberStore = (*Store)(nil)
	_ syndicate.EditorStore     = (*Store)(nil)
	_ syndicate.ChangeWatcher   = (*Store)(nil)
)

// Defaults of Options.
const (
	// DefaultMaxConns is the pool size when neither Options.MaxConns nor
	// the URL's pool_max_conns sets one. Changes holds one more
	// connection of its own, outside the pool.
	DefaultMaxConns = 10
	// DefaultStatementTimeout bounds every statement (PostgreSQL's
	// statement_timeout) unless the URL or Options set another.
	DefaultStatementTimeout = 30 * time.Second
	// DefaultLockTimeout bounds the wait for a row or table lock
	// (lock_timeout), like the SQLite store's busy timeout.
	DefaultLockTimeout = 10 * time.Second
)

// NotifyChannel is the LISTEN/NOTIFY channel of the store's writes.
const NotifyChannel = "syndicate_changes"

// Options tunes OpenWith. The zero value is what Open uses.
type Options struct {
	// Now is the store's clock (FirstSeen, CreatedAt, UpdatedAt…). Nil
	// means time.Now.
	Now func() time.Time
	// MaxConns is the pool size; 0 takes the URL's pool_max_conns, else
	// DefaultMaxConns.
	MaxConns int32
	// StatementTimeout bounds each statement; 0 takes the URL's
	// statement_timeout, else DefaultStatementTimeout; negative: none.
	StatementTimeout time.Duration
	// LockTimeout bounds each wait for a lock; 0 takes the URL's
	// lock_timeout, else DefaultLockTimeout; negative: none.
	LockTimeout time.Duration
	// Logger tells of the Changes listener losing its connection and
	// reconnecting. Nil discards.
	Logger *slog.Logger
}

// Store is a syndicate.Store in a PostgreSQL database. It is safe for
// concurrent use, by several processes too.
type Store struct {
	pool *pgxpool.Pool
	now  func() time.Time
	log  *slog.Logger
	// instance names this Store in the payload of its notifications, so
	// that Changes reports the writes of others only.
	instance string
	// listenCheck is listenCheck but in tests.
	listenCheck time.Duration
}

// Open connects to the database at url (postgres://user@host:port/db?…,
// or any form pgx accepts) and applies the pending migrations.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenWith(ctx, url, Options{})
}

// OpenWith is Open with options.
func OpenWith(ctx context.Context, url string, opts Options) (*Store, error) {
	s, err := open(ctx, url, opts)
	if err != nil {
		return nil, fmt.Errorf("open postgres store %s: %w", redact(url), err)
	}
	return s, nil
}

func open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("invalid connection URL") // pgx's message may quote the password
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	} else if !hasParam(url, "pool_max_conns") {
		cfg.MaxConns = DefaultMaxConns
	}
	setTimeout(cfg.ConnConfig.RuntimeParams, "statement_timeout", opts.StatementTimeout, DefaultStatementTimeout)
	setTimeout(cfg.ConnConfig.RuntimeParams, "lock_timeout", opts.LockTimeout, DefaultLockTimeout)
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "syndicate"
	}

	s := &Store{now: opts.Now, log: opts.Logger, listenCheck: listenCheck}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	s.instance = hex.EncodeToString(id[:])

	if s.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return nil, err
	}
	if err := s.pool.Ping(ctx); err != nil {
		s.pool.Close()
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, err
	}
	return s, nil
}

// setTimeout sets a timeout run-time parameter from the option, else
// keeps the URL's, else sets the default.
func setTimeout(params map[string]string, name string, opt, def time.Duration) {
	switch {
	case opt < 0:
		params[name] = "0"
	case opt > 0:
		params[name] = strconv.FormatInt(opt.Milliseconds(), 10)
	default:
		if _, ok := params[name]; !ok {
			params[name] = strconv.FormatInt(def.Milliseconds(), 10)
		}
	}
}

// Ping checks that the database answers (check --online, /readyz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping postgres store: %w", err)
	}
	return nil
}

// Stat returns the pool's statistics (connections in use, idle, waits).
func (s *Store) Stat() *pgxpool.Stat { return s.pool.Stat() }

// Close closes the pool, waiting for the connections in use.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Meta returns the value kept under key; ok is false when there is none.
func (s *Store) Meta(ctx context.Context, key string) (value string, ok bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read meta %q: %w", key, s.busy(ctx, err))
	}
	return value, true, nil
}

// SetMeta keeps value under key, replacing any previous value.
func (s *Store) SetMeta(ctx context.Context, key, value string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO meta (key, value) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	if err != nil {
		return fmt.Errorf("write meta %q: %w", key, s.busy(ctx, err))
	}
	return nil
}

// EnsureMeta keeps value under key unless a value is already there, and
// returns the value kept: the first writer wins, across processes too.
// The insert waits for a concurrent insert of the key to commit and then
// does nothing; the read that follows, a statement of its own, sees the
// winner's row.
func (s *Store) EnsureMeta(ctx context.Context, key, value string) (string, error) {
	var kept string
	err := s.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO meta (key, value) VALUES ($1, $2)
			ON CONFLICT (key) DO NOTHING`, key, value); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM meta WHERE key = $1`, key).Scan(&kept)
	})
	if err != nil {
		return "", fmt.Errorf("ensure meta %q: %w", key, err)
	}
	return kept, nil
}

// TakeLease gives the lease to owner when it is free, ended, owner's or
// held by replacing, and returns its holder. The upsert takes the row's
// lock: of two replicas asking at once, the second sees the first's.
func (s *Store) TakeLease(ctx context.Context, name, owner string, now, until time.Time, replacing string) (string, error) {
	var holder string
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		holder, err = takeLease(ctx, tx, syndicate.LeaseClaim{Name: name, Owner: owner, Now: now, Until: until, Replacing: replacing})
		return err
	})
	if err != nil {
		return "", fmt.Errorf("take lease %q: %w", name, err)
	}
	return holder, nil
}

func takeLease(ctx context.Context, tx pgx.Tx, c syndicate.LeaseClaim) (string, error) {
	var holder string
	err := tx.QueryRow(ctx, claimLeaseQuery+` RETURNING owner`, leaseClaimArgs(c)...).Scan(&holder)
	if errors.Is(err, pgx.ErrNoRows) { // held by another: the upsert changed nothing
		err = tx.QueryRow(ctx, leaseHolderQuery, c.Name).Scan(&holder)
	}
	return holder, err
}

// claimLeaseQuery takes a lease that is free, expired, the claimant's own
// or its Replacing's; it changes nothing when another holds it.
const claimLeaseQuery = `
		INSERT INTO leases AS l (name, owner, until) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
		WHERE l.owner IN ('', $2, $4) OR l.until <= $5`

const leaseHolderQuery = `SELECT owner FROM leases WHERE name = $1`

func leaseClaimArgs(c syndicate.LeaseClaim) []any {
	return []any{c.Name, c.Owner, c.Until, c.Replacing, c.Now}
}

// releaseLeaseQuery ends the lease $1 if $2 holds it.
const releaseLeaseQuery = `UPDATE leases SET owner = '', until = $3 WHERE name = $1 AND owner = $2`

// ReleaseLease ends the lease if owner holds it, and tells the other
// replicas, which may take it over at once.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, releaseLeaseQuery, name, owner, time.Time{})
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return s.notify(ctx, tx, changedLease)
	})
	if err != nil {
		return fmt.Errorf("release lease %q: %w", name, err)
	}
	return nil
}

// What a notification says was written.
const (
	changedPoll         = "poll"
	changedFeed         = "feed"
	changedDelivery     = "delivery"
	changedPause        = "pause"
	changedDigest       = "digest"
	changedSubscription = "subscription"
	changedLease        = "lease"
)

// maxTries is how many times a transaction that lost a deadlock or a
// serialization race is run in all.
const maxTries = 4

// tx runs fn in a transaction and commits it; with a change, it also
// notifies NotifyChannel in that transaction. fn may be run again (a lost
// deadlock), so it must reset what it reports at its start. Errors come
// back through busy.
func (s *Store) tx(ctx context.Context, fn func(tx pgx.Tx) error, changed ...string) error {
	return s.retry(ctx, func() error { return s.tryTx(ctx, fn, changed) })
}

// retry runs attempt again after a lost deadlock or serialization race,
// a few times, and marks what still fails busy (see Store.busy).
func (s *Store) retry(ctx context.Context, attempt func() error) error {
	var err error
	for try := 1; ; try++ {
		err = attempt()
		if err == nil || !retryable(err) || try == maxTries || ctx.Err() != nil {
			break
		}
		select {
		case <-time.After(time.Duration(try*try) * 10 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	return s.busy(ctx, err)
}

func (s *Store) tryTx(ctx context.Context, fn func(tx pgx.Tx) error, changed []string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	for _, what := range changed {
		if err := s.notify(ctx, tx, what); err != nil {
			return fmt.Errorf("notify %s: %w", NotifyChannel, err)
		}
	}
	return tx.Commit(ctx)
}

// exec runs one statement that changes something other processes must
// see, with its notification, in one transaction; it returns the rows
// the statement affected.
func (s *Store) exec(ctx context.Context, changed, query string, args ...any) (int64, error) {
	var n int64
	err := s.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, query, args...)
		n = tag.RowsAffected()
		return err
	}, changed)
	return n, err
}

// notify sends a notification of a write, sent when tx commits. Its
// payload is "<instance> <what>"; PostgreSQL folds identical ones of a
// transaction into one.
func (s *Store) notify(ctx context.Context, tx pgx.Tx, what string) error {
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, s.instance+" "+what)
	return err
}

// SQLSTATEs the store treats apart.
const (
	codeSerialization = "40001" // serialization_failure
	codeDeadlock      = "40P01" // deadlock_detected
	codeLockTimeout   = "55P03" // lock_not_available (lock_timeout)
	codeCanceled      = "57014" // query_canceled (statement_timeout, or a cancel)
)

func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == codeSerialization || pe.Code == codeDeadlock)
}

// busy marks as syndicate.ErrBusy the errors of a store too busy to take
// the write now — a lock held past the lock timeout, a statement past the
// statement timeout, a race lost on every try — so the caller knows to
// write again later. A statement cancelled because ctx ended is not busy.
func (s *Store) busy(ctx context.Context, err error) error {
	var pe *pgconn.PgError
	if err == nil || !errors.As(err, &pe) {
		return err
	}
	switch pe.Code {
	case codeSerialization, codeDeadlock, codeLockTimeout:
		return fmt.Errorf("%w: %w", syndicate.ErrBusy, err)
	case codeCanceled:
		if ctx.Err() == nil {
			return fmt.Errorf("%w: %w", syndicate.ErrBusy, err)
		}
	}
	return err
}

// notFound turns pgx's ErrNoRows into syndicate.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return syndicate.ErrNotFound
	}
	return err
}
