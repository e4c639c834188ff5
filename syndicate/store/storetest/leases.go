package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var leaseTests = []subtest{
	{"OneHolder", testLeaseOneHolder},
	{"EndsAndReleases", testLeaseEnds},
	{"FromAStoppedHolder", testLeaseReplacing},
	{"ConcurrentTakers", testLeaseConcurrent},
	{"DeliveryOwner", testDeliveryOwner},
	{"PollStartsAndEndsWithItsLease", testPollLease},
}

func takeLease(t *testing.T, s syndicate.Store, name, owner string, now time.Time, replacing string) string {
	t.Helper()
	holder, err := s.TakeLease(t.Context(), name, owner, now, now.Add(time.Minute), replacing)
	if err != nil {
		t.Fatalf("TakeLease(%q, %q): %v", name, owner, err)
	}
	return holder
}

func testLeaseOneHolder(t *testing.T, s syndicate.Store) {
	if h := takeLease(t, s, "channel:a", ownerA, at(1), ""); h != ownerA {
		t.Fatalf("a lease never taken went to %q, want %q", h, ownerA)
	}
	if h := takeLease(t, s, "channel:a", ownerB, at(1).Add(59*time.Second), ""); h != ownerA {
		t.Errorf("a lease held went to %q; want it kept by %q", h, ownerA)
	}
	if h := takeLease(t, s, "channel:b", ownerB, at(1), ""); h != ownerB {
		t.Errorf("another lease went to %q, want %q", h, ownerB)
	}
	// Renewed by its holder: it lasts a minute from the renewal.
	if h := takeLease(t, s, "channel:a", ownerA, at(1).Add(30*time.Second), ""); h != ownerA {
		t.Fatalf("a renewal went to %q", h)
	}
	if h := takeLease(t, s, "channel:a", ownerB, at(1).Add(80*time.Second), ""); h != ownerA {
		t.Errorf("a renewed lease went to %q before its new end", h)
	}
}

func testLeaseEnds(t *testing.T, s syndicate.Store) {
	takeLease(t, s, "feed:x", ownerA, at(1), "")
	if h := takeLease(t, s, "feed:x", ownerB, at(1).Add(time.Minute), ""); h != ownerB {
		t.Errorf("a lease past its end went to %q, want %q", h, ownerB)
	}
	if err := s.ReleaseLease(t.Context(), "feed:x", ownerA); err != nil {
		t.Fatal(err)
	}
	if h := takeLease(t, s, "feed:x", ownerA, at(1).Add(time.Minute), ""); h != ownerB {
		t.Errorf("a release by a process that no longer held it took the lease from %q: holder %q", ownerB, h)
	}
	if err := s.ReleaseLease(t.Context(), "feed:x", ownerB); err != nil {
		t.Fatal(err)
	}
	if h := takeLease(t, s, "feed:x", ownerA, at(1).Add(time.Minute), ""); h != ownerA {
		t.Errorf("a released lease went to %q, want %q", h, ownerA)
	}
}

func testLeaseReplacing(t *testing.T, s syndicate.Store) {
	takeLease(t, s, "channel:a", ownerA, at(1), "")
	if h := takeLease(t, s, "channel:a", ownerB, at(1), "host-c/1/cccc"); h != ownerA {
		t.Errorf("replacing a holder that is not the holder gave the lease to %q", h)
	}
	if h := takeLease(t, s, "channel:a", ownerB, at(1), ownerA); h != ownerB {
		t.Errorf("replacing the stopped holder: holder %q, want %q", h, ownerB)
	}
}

// testLeaseConcurrent: of many processes asking at once, exactly one
// holds the lease.
func testLeaseConcurrent(t *testing.T, s syndicate.Store) {
	var (
		mu      sync.Mutex
		holders = map[string]int{}
		wg      sync.WaitGroup
	)
	for i := range 8 {
		wg.Go(func() {
			owner := "host/" + string(rune('1'+i)) + "/x"
			h, err := s.TakeLease(t.Context(), "channel:hot", owner, at(1), at(2), "")
			if err != nil {
				t.Errorf("TakeLease: %v", err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if h == owner {
				holders[h]++
			}
		})
	}
	wg.Wait()
	if len(holders) != 1 {
		t.Errorf("%d processes got the lease, want 1: %v", len(holders), holders)
	}
}

// testDeliveryOwner: a delivery keeps the owner of its last attempt.
func testDeliveryOwner(t *testing.T, s syndicate.Store) {
	d := seed(t, s, []syndicate.NewDelivery{pending("a", "c1", at(1))})[0]
	d.State, d.SendingSince, d.Owner = syndicate.StateSending, at(2), ownerA
	if err := s.UpdateDelivery(t.Context(), d, syndicate.StatePending); err != nil {
		t.Fatal(err)
	}
	got, err := s.Delivery(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Owner != ownerA || got.State != syndicate.StateSending {
		t.Errorf("delivery read back %s by %q, want sending by %q", got.State, got.Owner, ownerA)
	}
	views, err := s.ListDeliveries(t.Context(), syndicate.DeliveryFilter{States: []syndicate.State{syndicate.StateSending}})
	if err != nil || len(views) != 1 || views[0].Owner != ownerA {
		t.Errorf("ListDeliveries(sending) = %+v, %v; want the delivery with its owner", views, err)
	}
}

// testPollLease: StartPoll takes the feed's lease and reads its state in
// one call; a poll's record releases the lease it names, and only that.
func testPollLease(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	saved := syndicate.FeedState{FeedID: "f", ETag: `"v1"`, LastPollAt: at(1)}
	if err := s.SaveFeedState(ctx, saved); err != nil {
		t.Fatal(err)
	}
	claim := func(owner string) syndicate.LeaseClaim {
		return syndicate.LeaseClaim{Name: "feed:f", Owner: owner, Now: at(2), Until: at(3)}
	}
	st, holder, err := s.StartPoll(ctx, "f", claim(ownerA))
	if err != nil {
		t.Fatalf("StartPoll: %v", err)
	}
	if holder != ownerA || st.ETag != saved.ETag || !st.LastPollAt.Equal(saved.LastPollAt) {
		t.Fatalf("StartPoll = %+v, %q; want the saved state and the lease for %q", st, holder, ownerA)
	}
	if _, holder, err := s.StartPoll(ctx, "f", claim(ownerB)); err != nil || holder != ownerA {
		t.Fatalf("a second poller's StartPoll = %q, %v; want the lease kept by %q", holder, err, ownerA)
	}
	if st, holder, err := s.StartPoll(ctx, "new", syndicate.LeaseClaim{Name: "feed:new", Owner: ownerB, Now: at(2), Until: at(3)}); err != nil ||
		holder != ownerB || st.FeedID != "new" || st.ETag != "" {
		t.Fatalf("StartPoll of a feed never polled = %+v, %q, %v; want a zero state with its id", st, holder, err)
	}

	// A record released by someone who does not hold the lease leaves it.
	rec := syndicate.PollRecord{State: syndicate.FeedState{FeedID: "f", ETag: `"v2"`, LastPollAt: at(2)}}
	rec.Release = syndicate.HeldLease{Name: "feed:f", Owner: ownerB}
	if err := s.RecordPoll(ctx, rec); err != nil {
		t.Fatalf("RecordPoll: %v", err)
	}
	if h := takeLease(t, s, "feed:f", ownerB, at(2), ""); h != ownerA {
		t.Fatalf("a record naming another owner released the lease of %q: holder %q", ownerA, h)
	}
	rec.Release.Owner = ownerA
	if err := s.RecordPoll(ctx, rec); err != nil {
		t.Fatalf("RecordPoll: %v", err)
	}
	if h := takeLease(t, s, "feed:f", ownerB, at(2), ""); h != ownerB {
		t.Errorf("after the poll's record the lease is still %q's; want it released", h)
	}
	if got, err := s.FeedState(ctx, "f"); err != nil || got.ETag != `"v2"` {
		t.Errorf("state after the record = %+v, %v; want its ETag %q", got, err, `"v2"`)
	}
}
