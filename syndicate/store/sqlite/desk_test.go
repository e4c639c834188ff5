package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// TestChangesSeesOtherProcesses: a write through another handle on the
// same file (as the command line makes beside a running daemon) is
// signalled; quiet, nothing is.
func TestChangesSeesOtherProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "syndicate.db")
	daemon := open(t, path, nil)
	defer daemon.Close()
	cli := open(t, path, nil)
	defer cli.Close()

	ctx, cancel := context.WithCancel(t.Context())
	changes := daemon.Changes(ctx)
	select {
	case <-changes:
		t.Fatal("a change signalled before any write")
	case <-time.After(3 * sqlite.ChangeInterval):
	}
	if err := cli.SetPaused(t.Context(), "mastodon-en", true); err != nil {
		t.Fatal(err)
	}
	select {
	case <-changes:
	case <-time.After(10 * time.Second):
		t.Fatal("a write by another handle was not signalled")
	}
	cancel()
	for range changes { // closes when ctx ends
	}
}
