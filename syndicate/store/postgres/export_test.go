package postgres

import (
	"context"
	"time"
)

// SetListenCheck shortens the silence after which Changes checks its
// connection.
func SetListenCheck(s *Store, d time.Duration) { s.listenCheck = d }

// QueryRowForTest reads one row through the store's pool.
func (s *Store) QueryRowForTest(ctx context.Context, sql string, dest ...any) error {
	return s.pool.QueryRow(ctx, sql).Scan(dest...)
}
