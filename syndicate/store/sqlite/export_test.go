package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"time"
)

// MigrateTo creates the database at path, or brings it, to the given schema
// version and no further: what an older syndicate left behind.
func MigrateTo(ctx context.Context, path string, version int) error {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	if version < 1 || version > len(ms) {
		return fmt.Errorf("no schema version %d: the migrations go from 1 to %d", version, len(ms))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	if err := createFile(abs); err != nil {
		return err
	}
	s := &Store{now: time.Now}
	if s.w, err = sql.Open("sqlite", dsn(abs, false)); err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	if err := s.applyAll(ctx, ms[:version]); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}
