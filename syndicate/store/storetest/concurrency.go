package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var concurrencyTests = []subtest{
	{"RecordPollManyFeeds", testConcurrentPolls},
	{"SamePollOverlapping", testOverlappingPolls},
	{"UpdateRace", testUpdateRace},
	{"EnsureMetaRace", testEnsureMetaRace},
	{"SubscriptionsManyFeeds", testConcurrentSubscriptions},
}

// run calls fn(0) … fn(n-1) at once and returns their errors.
func run(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// Several feeds polled at once, each carrying one story that every feed
// shares: all articles are kept, the shared link is delivered once per
// channel.
func testConcurrentPolls(t *testing.T, s syndicate.Store) {
	const feeds, polls, perPoll = 8, 3, 10
	shared := "https://example.org/shared-story"
	errs := run(feeds, func(i int) error {
		feed := fmt.Sprintf("feed-%d", i)
		for p := range polls {
			rec := poll(feed)
			rec.State.LastPollAt = at(p)
			rec.Routes = []string{"c1", "c2"}
			for k := range perPoll {
				key := fmt.Sprintf("%s-%d-%d", feed, p, k)
				rec.Articles = append(rec.Articles, newArticle(feed, key, k))
				rec.Deliveries = append(rec.Deliveries, pending(key, "c1", at(k)), pending(key, "c2", at(k)))
			}
			if p == 0 {
				a := newArticle(feed, feed+"-shared", 0)
				a.Link = shared
				rec.Articles = append(rec.Articles, a)
				rec.Deliveries = append(rec.Deliveries, pending(a.Key, "c1", at(0)), pending(a.Key, "c2", at(0)))
			}
			if err := s.RecordPoll(t.Context(), rec); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("feed-%d: %v", i, err)
		}
	}

	for i := range feeds {
		feed := fmt.Sprintf("feed-%d", i)
		var keys []string
		for p := range polls {
			for k := range perPoll {
				keys = append(keys, fmt.Sprintf("%s-%d-%d", feed, p, k))
			}
		}
		m, err := s.KnownKeys(t.Context(), feed, append(keys, feed+"-shared"))
		if err != nil {
			t.Fatalf("KnownKeys: %v", err)
		}
		if len(m) != len(keys)+1 {
			t.Errorf("%s: %d keys known, want %d", feed, len(m), len(keys)+1)
		}
		if st := feedState(t, s, feed); !st.LastPollAt.Equal(at(polls - 1)) {
			t.Errorf("%s: LastPollAt = %v, want the last poll's %v", feed, st.LastPollAt, at(polls-1))
		}
	}
	want := map[string]map[syndicate.State]int{
		"c1": {syndicate.StatePending: feeds*polls*perPoll + 1},
		"c2": {syndicate.StatePending: feeds*polls*perPoll + 1},
	}
	if c := counts(t, s); !countsEqual(c, want) {
		t.Errorf("CountDeliveries = %v, want %v", c, want)
	}
}

// A ping and the schedule poll one feed at the same moment and record the
// same outcome: both succeed, and the outcome is there once.
func testOverlappingPolls(t *testing.T, s syndicate.Store) {
	rec := poll("f")
	for k := range 20 {
		key := fmt.Sprintf("a%d", k)
		rec.Articles = append(rec.Articles, newArticle("f", key, k))
		rec.Deliveries = append(rec.Deliveries, pending(key, "c1", at(k)))
	}
	rec.Aliases = []syndicate.Alias{{Key: "a0-alias", Link: rec.Articles[0].Link}}
	rec.Routes = []string{"c1"}
	for i, err := range run(4, func(int) error { return s.RecordPoll(t.Context(), rec) }) {
		if err != nil {
			t.Errorf("RecordPoll %d: %v", i, err)
		}
	}
	if c := counts(t, s); !countsEqual(c, map[string]map[syndicate.State]int{"c1": {syndicate.StatePending: 20}}) {
		t.Errorf("CountDeliveries = %v, want 20 pending on c1", c)
	}
	if got, want := known(t, s, "f", "a0-alias"), known(t, s, "f", "a0"); got != want {
		t.Errorf("alias leads to %+v, want %+v", got, want)
	}
}

// Many workers claim one delivery: exactly one wins.
func testUpdateRace(t *testing.T, s syndicate.Store) {
	d := seed(t, s, []syndicate.NewDelivery{pending("a", "c1", at(1))})[0]
	const workers = 16
	errs := run(workers, func(i int) error {
		claim := d
		claim.State, claim.Attempts = syndicate.StateSending, 1
		claim.SendingSince = at(10).Add(time.Duration(i) * time.Microsecond)
		claim.LastError = fmt.Sprintf("worker %d", i)
		return s.UpdateDelivery(t.Context(), claim, syndicate.StatePending)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("workers %d and %d both claimed the delivery", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, syndicate.ErrConflict):
			t.Errorf("worker %d: %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no worker claimed the delivery")
	}
	got, err := s.Delivery(t.Context(), d.ID)
	if err != nil {
		t.Fatalf("Delivery: %v", err)
	}
	if got.State != syndicate.StateSending || got.LastError != fmt.Sprintf("worker %d", winner) ||
		!got.SendingSince.Equal(at(10).Add(time.Duration(winner)*time.Microsecond)) {
		t.Errorf("stored %+v, want worker %d's claim", got, winner)
	}
}

// Many workers generate a secret at once: one value wins, and every worker
// is handed that one.
func testEnsureMetaRace(t *testing.T, s syndicate.Store) {
	const workers, keys = 16, 3
	got := make([][]string, workers)
	errs := run(workers, func(i int) error {
		for k := range keys {
			v, err := s.EnsureMeta(t.Context(), fmt.Sprintf("key-%d", k), fmt.Sprintf("worker %d", i))
			if err != nil {
				return err
			}
			got[i] = append(got[i], v)
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	for k := range keys {
		won := got[0][k]
		var offered bool
		for i := range workers {
			if got[i][k] != won {
				t.Errorf("key-%d: worker %d was handed %q, worker 0 %q", k, i, got[i][k], won)
			}
			offered = offered || won == fmt.Sprintf("worker %d", i)
		}
		if !offered {
			t.Errorf("key-%d: kept %q, which no worker offered", k, won)
		}
		if again, err := s.EnsureMeta(t.Context(), fmt.Sprintf("key-%d", k), "late"); err != nil || again != won {
			t.Errorf("key-%d: EnsureMeta after the race = %q, %v; want %q", k, again, err, won)
		}
	}
}

// Subscriptions of many feeds saved at once, each several times: every
// feed keeps its own last one.
func testConcurrentSubscriptions(t *testing.T, s syndicate.Store) {
	const feeds, saves = 12, 5
	errs := run(feeds, func(i int) error {
		for n := range saves {
			sub := newSubscription(fmt.Sprintf("feed-%d", i))
			sub.State, sub.UpdatedAt = fmt.Sprintf("save %d", n), at(n)
			if err := s.SaveSubscription(t.Context(), sub); err != nil {
				return err
			}
		}
		return nil
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("feed-%d: %v", i, err)
		}
	}
	for i := range feeds {
		want := newSubscription(fmt.Sprintf("feed-%d", i))
		want.State, want.UpdatedAt = fmt.Sprintf("save %d", saves-1), at(saves-1)
		checkSubscription(t, subscription(t, s, want.FeedID), want)
	}
}
