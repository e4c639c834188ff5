package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres"
)

func waitSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: the changes channel closed", what)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s: no change reported", what)
	}
}

func noSignal(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
		t.Errorf("%s: a change was reported", what)
	case <-time.After(300 * time.Millisecond):
	}
}

// drain empties the channel of a signal already waiting.
func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// The writes of another process are reported, as soon as they commit;
// those of the store itself, and the bookkeeping that follows a send, are
// not.
func TestChangesAcrossProcesses(t *testing.T) {
	u := newSchema(t)
	a := openStore(t, u, postgres.Options{})
	defer a.Close()
	b := openStore(t, u, postgres.Options{})
	defer b.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	changes := a.Changes(ctx)

	d := seedDelivery(t, b)
	waitSignal(t, changes, "a poll recorded by another process")
	noSignal(t, changes, "after the poll")

	if err := b.SetPaused(t.Context(), "c1", true); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, changes, "a pause by another process")

	if err := a.SetPaused(t.Context(), "c1", false); err != nil {
		t.Fatal(err)
	}
	noSignal(t, changes, "a resume by the store itself")

	skip := d
	skip.State = syndicate.StateSkipped
	if err := b.UpdateDelivery(t.Context(), skip, syndicate.StatePending); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, changes, "an editor's decision in another process")

	// A write that fails changes nothing, and tells nobody.
	if err := b.UpdateDelivery(t.Context(), skip, syndicate.StatePending); err == nil {
		t.Fatal("UpdateDelivery from a stale state: no error")
	}
	if err := b.RecordAttempt(t.Context(), syndicate.Attempt{DeliveryID: d.ID, At: time.Now(), State: syndicate.StateSkipped}); err != nil {
		t.Fatal(err)
	}
	noSignal(t, changes, "a refused update and an attempt")

	// A burst is one signal while nobody reads.
	for i := range 20 {
		if err := b.SetPaused(t.Context(), "c2", i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	waitSignal(t, changes, "a burst")
	noSignal(t, changes, "after the burst was read")

	cancel()
	select {
	case _, ok := <-changes:
		if ok {
			for range changes {
			}
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the changes channel stayed open after its context ended")
	}
}

// A listener whose connection is cut reconnects, says it may have missed
// something, and hears the writes after; long silences are checked
// without losing the connection.
func TestChangesReconnect(t *testing.T) {
	u := newSchema(t)
	a := openStore(t, u, postgres.Options{})
	defer a.Close()
	postgres.SetListenCheck(a, 150*time.Millisecond)
	b := openStore(t, u, postgres.Options{})
	defer b.Close()
	changes := a.Changes(t.Context())

	time.Sleep(500 * time.Millisecond) // a few silent checks
	noSignal(t, changes, "silence")
	if err := b.SetPaused(t.Context(), "c1", true); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, changes, "a pause after a silence")

	admin(t, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'syndicate listener'`)
	waitSignal(t, changes, "the reconnection")
	drain(changes)
	if err := b.SetPaused(t.Context(), "c1", false); err != nil {
		t.Fatal(err)
	}
	waitSignal(t, changes, "a resume after the reconnection")
}
