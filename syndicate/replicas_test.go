package syndicate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Owners as other processes name themselves: on other hosts, so only their
// leases tell whether they still run.
const (
	replicaA = "replica-a/1/aaaa"
	replicaB = "replica-b/1/bbbb"
)

// deadLocalOwner names a process of this host that is not running.
func deadLocalOwner(t *testing.T) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for pid := 4_000_000; pid > 1; pid-- {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return fmt.Sprintf("%s/%d/dead", host, pid)
		}
	}
	t.Fatal("no free process id")
	return ""
}

// replica returns a second engine on f's store and feed, with channels
// of its own, as another process would be.
func (f *fixture) replica(owner string) (*syndicate.Engine, *channel) {
	ch := &channel{}
	e := &syndicate.Engine{Store: f.engine.Store, Reader: f.engine.Reader, Feeds: f.engine.Feeds,
		Targets: map[string]syndicate.Target{}, Now: f.engine.Now, Owner: owner}
	for id, t := range f.engine.Targets {
		t.Channel = ch
		e.Targets[id] = t
	}
	return e, ch
}

// TestRecoverLeavesAProcessItsSends: a send left "sending" by a process
// that may still run (another replica) is settled only when its lease
// ends; one left by a process of this host that is gone, at once.
func TestRecoverLeavesAProcessItsSends(t *testing.T) {
	for _, tc := range []struct {
		name      string
		owner     string
		wait      time.Duration
		wantState syndicate.State
	}{
		{"another replica, within its lease", replicaB, 2 * time.Minute, syndicate.StateSending},
		{"another replica, past its lease", replicaB, 3*time.Minute + time.Second, syndicate.StateUncertain},
		{"a process of this host that is gone", "", 0, syndicate.StateUncertain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, syndicate.Feed{To: []string{"a"}})
			f.feed.set()
			f.once()
			f.feed.set(article(1, 1))
			if _, err := f.engine.Poll(context.Background(), "blog"); err != nil {
				t.Fatal(err)
			}
			owner := tc.owner
			if owner == "" {
				owner = deadLocalOwner(t)
			}
			d := f.onlyDelivery("a")
			d.State, d.Attempts, d.SendingSince, d.Owner = syndicate.StateSending, 1, f.clock.Now(), owner
			if err := f.store.UpdateDelivery(context.Background(), d, syndicate.StatePending); err != nil {
				t.Fatal(err)
			}
			f.clock.Add(tc.wait)
			if err := f.engine.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := f.onlyDelivery("a"); got.State != tc.wantState {
				t.Errorf("after Recover: %s (%s), want %s", got.State, got.LastError, tc.wantState)
			}
			if len(f.a.posts) != 0 {
				t.Errorf("posted %d times; a send another process began is never repeated here", len(f.a.posts))
			}
		})
	}
}

// TestOneProcessDeliversAChannel: of two processes on one store, the one
// that holds a channel's queue delivers it; the other sends nothing until
// the holder releases the queue or its lease ends.
func TestOneProcessDeliversAChannel(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.engine.Owner = replicaA
	other, otherCh := f.replica(replicaB)
	ctx := context.Background()
	f.feed.set()
	f.once()

	// A holds the queue (its Deliver keeps the lease); B finds it held.
	f.feed.set(article(1, 1))
	if _, err := f.engine.Poll(ctx, "blog"); err != nil {
		t.Fatal(err)
	}
	if res, err := f.engine.Deliver(ctx, "a"); err != nil || res.Attempted != 1 || res.Elsewhere {
		t.Fatalf("A's Deliver = %+v, %v; want one send", res, err)
	}
	f.feed.set(article(1, 1), article(2, 2))
	if _, err := other.Poll(ctx, "blog"); err != nil {
		t.Fatal(err)
	}
	if res, err := other.Deliver(ctx, "a"); err != nil || !res.Elsewhere || res.Attempted != 0 {
		t.Fatalf("B's Deliver while A holds the queue = %+v, %v; want it left to A", res, err)
	}
	if res, err := f.engine.Deliver(ctx, "a"); err != nil || res.Attempted != 1 {
		t.Fatalf("A's Deliver of what B planned = %+v, %v", res, err)
	}

	// A stops without a word: B takes over once A's lease ended.
	f.feed.set(article(1, 1), article(2, 2), article(3, 3))
	if _, err := other.Poll(ctx, "blog"); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Minute)
	if res, _ := other.Deliver(ctx, "a"); !res.Elsewhere {
		t.Fatalf("B took the queue within A's lease: %+v", res)
	}
	f.clock.Add(time.Minute + 5*time.Second)
	if res, err := other.Deliver(ctx, "a"); err != nil || res.Attempted != 1 {
		t.Fatalf("B's Deliver after A's lease = %+v, %v; want one send", res, err)
	}

	// B's Once releases the queue as it ends: A may deliver at once.
	f.feed.set(article(1, 1), article(2, 2), article(3, 3), article(4, 4))
	if _, err := other.Once(ctx, 0); err != nil {
		t.Fatal(err)
	}
	f.feed.set(article(1, 1), article(2, 2), article(3, 3), article(4, 4), article(5, 5))
	if _, err := f.engine.Poll(ctx, "blog"); err != nil {
		t.Fatal(err)
	}
	if res, err := f.engine.Deliver(ctx, "a"); err != nil || res.Attempted != 1 {
		t.Fatalf("A's Deliver after B released the queue = %+v, %v", res, err)
	}

	if got, want := len(f.a.posts)+len(otherCh.posts), 5; got != want {
		t.Errorf("%d posts in all (A %v, B %v), want %d, each article once", got, f.a.titles(), otherCh.titles(), want)
	}
	seen := map[string]bool{}
	for _, title := range append(f.a.titles(), otherCh.titles()...) {
		if seen[title] {
			t.Errorf("%s posted twice", title)
		}
		seen[title] = true
	}
}

// TestScheduledFiringPollsOnce: every replica's scheduler fires; the
// first poll of a firing serves them all, and a later firing polls again.
func TestScheduledFiringPollsOnce(t *testing.T) {
	f := newFixture(t, syndicate.Feed{To: []string{"a"}})
	f.engine.Owner = replicaA
	other, _ := f.replica(replicaB)
	ctx := context.Background()
	f.feed.set(article(1, 1))
	since := f.clock.Now().Add(-30 * time.Second) // half of an @every 1m
	if _, err := f.engine.PollFiring(ctx, "blog", since); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(2 * time.Second) // the other replica fires a moment later
	_, err := other.PollFiring(ctx, "blog", f.clock.Now().Add(-30*time.Second))
	if !errors.Is(err, syndicate.ErrPollDeferred) {
		t.Errorf("the second replica's poll of the same firing: %v, want it deferred", err)
	}
	if f.feed.reads != 1 {
		t.Errorf("the feed was read %d times for one firing, want 1", f.feed.reads)
	}
	f.clock.Add(time.Minute)
	if _, err := other.PollFiring(ctx, "blog", f.clock.Now().Add(-30*time.Second)); err != nil {
		t.Fatalf("the next firing: %v", err)
	}
	if f.feed.reads != 2 {
		t.Errorf("the feed was read %d times over two firings, want 2", f.feed.reads)
	}
}
