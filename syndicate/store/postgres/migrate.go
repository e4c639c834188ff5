package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// ErrSchemaTooNew is returned (wrapped) by Open when the database was
// migrated by a newer syndicate than this one.
var ErrSchemaTooNew = errors.New("database schema is newer than this binary")

// MigrationLock is the first key of the advisory lock taken while
// migrating ("sy" "nd"); the second is hashtext(current_schema()), so
// stores in other schemas of the same database do not wait for each other.
const MigrationLock int32 = 0x73796e64

type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the files NNNN_name.sql of dir, which must be
// numbered 1, 2, 3… without gaps.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must be NNNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %q: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	return s.applyAll(ctx, ms)
}

// applyAll brings the schema to the last version of ms, which must be the
// migrations 1…len(ms), in one transaction under the migration lock: of
// replicas starting together, one migrates and the others, once it has
// committed, find nothing to do. PostgreSQL's DDL is transactional, so a
// migration that fails leaves the schema as it was.
func (s *Store) applyAll(ctx context.Context, ms []migration) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // a no-op after Commit
	// Waiting for another replica's migration, or running a long one, is
	// bounded by ctx, not by the timeouts meant for ordinary statements.
	for _, q := range []string{`SET LOCAL statement_timeout = 0`, `SET LOCAL lock_timeout = 0`} {
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, MigrationLock); err != nil {
		return fmt.Errorf("migrate: take the migration lock: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL
		)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("%w: database at version %d, this binary knows up to %d; upgrade syndicate",
			ErrSchemaTooNew, current, len(ms))
	}
	if current == len(ms) {
		return nil
	}
	for _, m := range ms[current:] {
		if err := applyOne(ctx, tx, m, s); err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migrate: commit: %w", err)
	}
	return nil
}

func applyOne(ctx context.Context, tx pgx.Tx, m migration, s *Store) error {
	// The simple protocol runs a file of several statements at once.
	if _, err := tx.Exec(ctx, m.sql, pgx.QueryExecModeSimpleProtocol); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.version, s.now())
	return err
}

// SchemaVersion returns the number of the last migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.pool.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// Probe connects to the database at url without changing anything, and
// returns the server's version and the schema version found there (0 for
// a database never migrated): `check --online`.
func Probe(ctx context.Context, url string) (server string, schema int, err error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return "", 0, fmt.Errorf("postgres store %s: invalid connection URL", redact(url))
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", 0, fmt.Errorf("connect to postgres store %s: %w", redact(url), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, `SHOW server_version`).Scan(&server); err != nil {
		return "", 0, fmt.Errorf("postgres store %s: %w", redact(url), err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return "", 0, fmt.Errorf("postgres store %s: %w", redact(url), err)
	}
	if exists {
		if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&schema); err != nil {
			return "", 0, fmt.Errorf("postgres store %s: schema version: %w", redact(url), err)
		}
	}
	return server, schema, nil
}

// SchemaVersion is the schema version this binary migrates to.
func SchemaVersion() int {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return 0
	}
	return len(ms)
}
