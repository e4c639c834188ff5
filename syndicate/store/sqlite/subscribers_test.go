package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// A database of version 2 (before subscribers) opens, gains the
// subscribers table, and keeps its generated link secret.
func TestMigrateFromVersion2AddsSubscribers(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v2.db")
	if err := sqlite.MigrateTo(ctx, path, 2); err != nil {
		t.Fatalf("MigrateTo(2): %v", err)
	}
	s := open(t, path, newClock().Now)
	defer closeStore(t, s)
	if v, err := s.EnsureMeta(ctx, "link_secret", "generated"); err != nil || v != "generated" {
		t.Fatalf("EnsureMeta = %q, %v", v, err)
	}
	sub, created, err := s.AddSubscriber(ctx, syndicate.Subscriber{List: "en", Email: "Reader@example.org"})
	if err != nil || !created || sub.State != syndicate.SubscriberPending {
		t.Fatalf("AddSubscriber on a migrated database = %+v, %v, %v", sub, created, err)
	}
	if got := schemaVersions(t, path); got[3] == 0 {
		t.Errorf("schema_migrations = %v, want version 3 applied", got)
	}
}
