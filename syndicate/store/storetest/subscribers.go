package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// What the suite checks of a syndicate.SubscriberStore beyond its
// comments: an address is unique per list on its lower-cased form (Go's
// strings.ToLower, so "Ü" and "ü" are one address); the email and name are
// kept as first given; IDs grow across lists; times keep microseconds.
var subscriberTests = []subtest{
	{"AddAndFind", testSubscriberAddAndFind},
	{"AddStates", testSubscriberAddStates},
	{"UniquePerListIgnoringCase", testSubscriberUnique},
	{"AddNeverRevives", testSubscriberNeverRevives},
	{"AddRefusesBadInput", testSubscriberBadInput},
	{"NotFound", testSubscriberNotFound},
	{"SetStateStamps", testSubscriberSetState},
	{"Paging", testSubscriberPaging},
	{"ConcurrentAdds", testSubscriberConcurrentAdds},
}

func addSubscriber(t *testing.T, s syndicate.SubscriberStore, sub syndicate.Subscriber) (syndicate.Subscriber, bool) {
	t.Helper()
	got, created, err := s.AddSubscriber(t.Context(), sub)
	if err != nil {
		t.Fatalf("AddSubscriber(%q, %q): %v", sub.List, sub.Email, err)
	}
	return got, created
}

func findSubscriber(t *testing.T, s syndicate.SubscriberStore, list, email string) syndicate.Subscriber {
	t.Helper()
	got, err := s.Subscriber(t.Context(), list, email)
	if err != nil {
		t.Fatalf("Subscriber(%q, %q): %v", list, email, err)
	}
	return got
}

func setSubscriberState(t *testing.T, s syndicate.SubscriberStore, list, email string, st syndicate.SubscriberState, at time.Time) syndicate.Subscriber {
	t.Helper()
	got, err := s.SetSubscriberState(t.Context(), list, email, st, at)
	if err != nil {
		t.Fatalf("SetSubscriberState(%q, %q, %s): %v", list, email, st, err)
	}
	return got
}

func pageSubscribers(t *testing.T, s syndicate.SubscriberStore, list string, st syndicate.SubscriberState, after int64, limit int) []syndicate.Subscriber {
	t.Helper()
	got, err := s.Subscribers(t.Context(), list, st, after, limit)
	if err != nil {
		t.Fatalf("Subscribers(%q, %q, %d, %d): %v", list, st, after, limit, err)
	}
	return got
}

// checkSubscriber compares every field.
func checkSubscriber(t *testing.T, got, want syndicate.Subscriber) {
	t.Helper()
	g, w := got, want
	for _, p := range []*syndicate.Subscriber{&g, &w} {
		p.CreatedAt, p.ConfirmedAt, p.UnsubscribedAt = time.Time{}, time.Time{}, time.Time{}
	}
	if g != w {
		t.Errorf("subscriber %q:\n got %+v\nwant %+v", want.Email, got, want)
	}
	sameTime(t, want.Email+" CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, want.Email+" ConfirmedAt", got.ConfirmedAt, want.ConfirmedAt)
	sameTime(t, want.Email+" UnsubscribedAt", got.UnsubscribedAt, want.UnsubscribedAt)
}

func subscriberIDs(subs []syndicate.Subscriber) []int64 {
	out := make([]int64, len(subs))
	for i, s := range subs {
		out[i] = s.ID
	}
	return out
}

func testSubscriberAddAndFind(t *testing.T, st syndicate.Store) {
	s := st
	almaty := time.FixedZone("Almaty", 5*3600)
	in := syndicate.Subscriber{
		ID: 999, List: "es", Email: "María.Pérez@example.org", Name: "María “Mari” Pérez",
		CreatedAt: at(0).Add(7 * time.Microsecond).In(almaty),
	}
	got, created := addSubscriber(t, s, in)
	if !created {
		t.Error("AddSubscriber of a new address: created = false")
	}
	if got.ID <= 0 {
		t.Errorf("ID = %d, want one the store chose", got.ID)
	}
	want := in
	want.ID, want.State = got.ID, syndicate.SubscriberPending
	checkSubscriber(t, got, want)
	for _, email := range []string{"María.Pérez@example.org", "maría.pérez@EXAMPLE.ORG", "MARÍA.PÉREZ@example.org"} {
		checkSubscriber(t, findSubscriber(t, s, "es", email), want)
	}

	// A zero CreatedAt takes the store's clock.
	b, _ := addSubscriber(t, s, syndicate.Subscriber{List: "es", Email: "b@example.org"})
	if b.CreatedAt.IsZero() {
		t.Error("CreatedAt of an address added without one is zero, want the store's clock")
	}
	if b.ID <= got.ID {
		t.Errorf("IDs %d then %d, want growing", got.ID, b.ID)
	}
	checkSubscriber(t, findSubscriber(t, s, "es", "b@example.org"), b)
}

func testSubscriberAddStates(t *testing.T, st syndicate.Store) {
	s := st
	tests := []struct {
		in, want syndicate.Subscriber
	}{
		{ // a confirmed address without ConfirmedAt is confirmed when created
			syndicate.Subscriber{List: "en", Email: "c@example.org", State: syndicate.SubscriberConfirmed, CreatedAt: at(1)},
			syndicate.Subscriber{List: "en", Email: "c@example.org", State: syndicate.SubscriberConfirmed, CreatedAt: at(1), ConfirmedAt: at(1)},
		},
		{
			syndicate.Subscriber{List: "en", Email: "d@example.org", State: syndicate.SubscriberConfirmed, CreatedAt: at(1), ConfirmedAt: at(2)},
			syndicate.Subscriber{List: "en", Email: "d@example.org", State: syndicate.SubscriberConfirmed, CreatedAt: at(1), ConfirmedAt: at(2)},
		},
		{ // an opt-out carried over from another system
			syndicate.Subscriber{List: "en", Email: "u@example.org", State: syndicate.SubscriberUnsubscribed, CreatedAt: at(3)},
			syndicate.Subscriber{List: "en", Email: "u@example.org", State: syndicate.SubscriberUnsubscribed, CreatedAt: at(3), UnsubscribedAt: at(3)},
		},
		{
			syndicate.Subscriber{List: "en", Email: "p@example.org", State: syndicate.SubscriberPending, CreatedAt: at(4)},
			syndicate.Subscriber{List: "en", Email: "p@example.org", State: syndicate.SubscriberPending, CreatedAt: at(4)},
		},
	}
	for _, tt := range tests {
		got, created := addSubscriber(t, s, tt.in)
		if !created {
			t.Errorf("%s: created = false", tt.in.Email)
		}
		tt.want.ID = got.ID
		checkSubscriber(t, got, tt.want)
		checkSubscriber(t, findSubscriber(t, s, "en", tt.in.Email), tt.want)
	}
}

func testSubscriberUnique(t *testing.T, st syndicate.Store) {
	s := st
	first, _ := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "Jane.Doe@example.org", Name: "Jane", CreatedAt: at(0)})
	for _, email := range []string{"Jane.Doe@example.org", "jane.doe@example.org", "JANE.DOE@EXAMPLE.ORG"} {
		got, created := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: email, Name: "Other name",
			State: syndicate.SubscriberConfirmed, CreatedAt: at(5)})
		if created {
			t.Errorf("AddSubscriber(%q) of an address already on the list: created = true", email)
		}
		checkSubscriber(t, got, first) // email, name, state and times as first given
	}
	// Unicode letters fold too.
	u, _ := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "Ünal@example.org"})
	if got, created := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "ünal@example.org"}); created || got.ID != u.ID {
		t.Errorf("ünal after Ünal: created %v, ID %d, want the same address (ID %d)", created, got.ID, u.ID)
	}
	// Another list has its own.
	other, created := addSubscriber(t, s, syndicate.Subscriber{List: "es", Email: "jane.doe@example.org", CreatedAt: at(1)})
	if !created || other.ID == first.ID || other.Email != "jane.doe@example.org" {
		t.Errorf("same address on another list: %+v, created %v", other, created)
	}
	checkSubscriber(t, findSubscriber(t, s, "en", "jane.doe@example.org"), first)
	// The other addresses of a domain are other addresses.
	if _, created := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "jane.doe+news@example.org"}); !created {
		t.Error("jane.doe+news@example.org: created = false")
	}
}

// An unsubscribed address is never revived by adding it again, whatever
// state is asked for; confirming it (after a new opt-in) does.
func testSubscriberNeverRevives(t *testing.T, st syndicate.Store) {
	s := st
	addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "gone@example.org", State: syndicate.SubscriberConfirmed, CreatedAt: at(0)})
	gone := setSubscriberState(t, s, "en", "gone@example.org", syndicate.SubscriberUnsubscribed, at(1))
	for _, state := range []syndicate.SubscriberState{"", syndicate.SubscriberPending, syndicate.SubscriberConfirmed} {
		got, created := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "GONE@example.org", State: state, CreatedAt: at(2)})
		if created {
			t.Errorf("AddSubscriber(%s) of an unsubscribed address: created = true", state)
		}
		checkSubscriber(t, got, gone)
	}
	checkSubscriber(t, findSubscriber(t, s, "en", "gone@example.org"), gone)
	if n := len(pageSubscribers(t, s, "en", syndicate.SubscriberConfirmed, 0, 0)); n != 0 {
		t.Errorf("%d confirmed subscribers, want none", n)
	}
	back := setSubscriberState(t, s, "en", "gone@example.org", syndicate.SubscriberConfirmed, at(3))
	if back.State != syndicate.SubscriberConfirmed || !back.ConfirmedAt.Equal(at(3)) || !back.UnsubscribedAt.Equal(at(1)) {
		t.Errorf("confirmed anew: %+v", back)
	}
}

func testSubscriberBadInput(t *testing.T, st syndicate.Store) {
	s := st
	for name, sub := range map[string]syndicate.Subscriber{
		"no list":       {Email: "a@example.org"},
		"no email":      {List: "en"},
		"unknown state": {List: "en", Email: "a@example.org", State: "bouncing"},
	} {
		if _, _, err := s.AddSubscriber(t.Context(), sub); err == nil {
			t.Errorf("AddSubscriber with %s: no error", name)
		}
	}
	if n := len(pageSubscribers(t, s, "en", "", 0, 0)); n != 0 {
		t.Errorf("%d subscribers after refused adds", n)
	}
	addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "a@example.org", CreatedAt: at(0)})
	if _, err := s.SetSubscriberState(t.Context(), "en", "a@example.org", "bouncing", at(1)); err == nil {
		t.Error("SetSubscriberState to an unknown state: no error")
	}
	if got := findSubscriber(t, s, "en", "a@example.org"); got.State != syndicate.SubscriberPending {
		t.Errorf("state after a refused change = %s, want pending", got.State)
	}
}

func testSubscriberNotFound(t *testing.T, st syndicate.Store) {
	s := st
	ctx := t.Context()
	addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "a@example.org"})
	for _, c := range []struct{ list, email string }{
		{"en", "b@example.org"}, {"es", "a@example.org"}, {"", "a@example.org"}, {"en", ""}, {"en", "a@example.org "},
	} {
		_, err := s.Subscriber(ctx, c.list, c.email)
		wantErr(t, fmt.Sprintf("Subscriber(%q, %q)", c.list, c.email), err, syndicate.ErrNotFound)
		_, err = s.SetSubscriberState(ctx, c.list, c.email, syndicate.SubscriberUnsubscribed, at(1))
		wantErr(t, fmt.Sprintf("SetSubscriberState(%q, %q)", c.list, c.email), err, syndicate.ErrNotFound)
	}
	if n := len(pageSubscribers(t, s, "es", "", 0, 0)); n != 0 {
		t.Errorf("SetSubscriberState of an unknown address created %d subscribers", n)
	}
}

func testSubscriberSetState(t *testing.T, st syndicate.Store) {
	s := st
	created, _ := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "Jane@example.org", Name: "Jane", CreatedAt: at(0)})
	other, _ := addSubscriber(t, s, syndicate.Subscriber{List: "en", Email: "other@example.org", CreatedAt: at(0)})

	want := created
	steps := []struct {
		state syndicate.SubscriberState
		at    time.Time
		apply func(w *syndicate.Subscriber)
	}{
		{syndicate.SubscriberConfirmed, at(1), func(w *syndicate.Subscriber) { w.ConfirmedAt = at(1) }},
		{syndicate.SubscriberUnsubscribed, at(2).Add(time.Microsecond), func(w *syndicate.Subscriber) { w.UnsubscribedAt = at(2).Add(time.Microsecond) }},
		{syndicate.SubscriberConfirmed, at(3), func(w *syndicate.Subscriber) { w.ConfirmedAt = at(3) }},
		{syndicate.SubscriberConfirmed, at(4), func(w *syndicate.Subscriber) { w.ConfirmedAt = at(4) }},
		{syndicate.SubscriberPending, at(5), func(*syndicate.Subscriber) {}},
	}
	for _, step := range steps {
		step.apply(&want)
		want.State = step.state
		got := setSubscriberState(t, s, "en", "JANE@EXAMPLE.ORG", step.state, step.at)
		checkSubscriber(t, got, want)
		checkSubscriber(t, findSubscriber(t, s, "en", "jane@example.org"), want)
	}
	checkSubscriber(t, findSubscriber(t, s, "en", "other@example.org"), other)

	// A zero time takes the store's clock.
	got := setSubscriberState(t, s, "en", "other@example.org", syndicate.SubscriberUnsubscribed, time.Time{})
	if got.UnsubscribedAt.IsZero() || got.State != syndicate.SubscriberUnsubscribed {
		t.Errorf("unsubscribed at a zero time: %+v, want the store's clock", got)
	}
}

func testSubscriberPaging(t *testing.T, st syndicate.Store) {
	s := st
	states := []syndicate.SubscriberState{syndicate.SubscriberConfirmed, syndicate.SubscriberPending, syndicate.SubscriberUnsubscribed}
	byList := map[string][]syndicate.Subscriber{}
	for i := range 30 {
		list := []string{"en", "es", "en-weekly"}[i%3]
		sub, _ := addSubscriber(t, s, syndicate.Subscriber{
			List: list, Email: fmt.Sprintf("reader%02d@example.org", i), State: states[(i/3)%3], CreatedAt: at(i),
		})
		byList[list] = append(byList[list], sub)
	}
	var all []int64
	for _, subs := range byList {
		all = append(all, subscriberIDs(subs)...)
	}
	slices.Sort(all)
	if len(slices.Compact(all)) != 30 {
		t.Fatalf("IDs %v are not unique across lists", all)
	}

	for list, subs := range byList {
		got := pageSubscribers(t, s, list, "", 0, 0)
		if !slices.Equal(subscriberIDs(got), subscriberIDs(subs)) {
			t.Errorf("Subscribers(%q) = %v, want %v", list, subscriberIDs(got), subscriberIDs(subs))
		}
		for i := range got {
			checkSubscriber(t, got[i], subs[i])
		}
		if got := pageSubscribers(t, s, list, "", 0, -1); len(got) != len(subs) {
			t.Errorf("Subscribers(%q) with a negative limit: %d, want all %d", list, len(got), len(subs))
		}
		// Pages of 3, each after the last ID of the one before.
		var paged []int64
		after := int64(0)
		for range 20 {
			page := pageSubscribers(t, s, list, "", after, 3)
			if len(page) == 0 {
				break
			}
			if len(page) > 3 {
				t.Fatalf("page of %d, limit 3", len(page))
			}
			paged = append(paged, subscriberIDs(page)...)
			after = page[len(page)-1].ID
		}
		if !slices.Equal(paged, subscriberIDs(subs)) {
			t.Errorf("Subscribers(%q) in pages = %v, want %v", list, paged, subscriberIDs(subs))
		}
		for _, state := range states {
			var want []int64
			for _, sub := range subs {
				if sub.State == state {
					want = append(want, sub.ID)
				}
			}
			got := subscriberIDs(pageSubscribers(t, s, list, state, 0, 0))
			if !slices.Equal(got, want) {
				t.Errorf("Subscribers(%q, %s) = %v, want %v", list, state, got, want)
			}
			if len(want) > 1 {
				got := subscriberIDs(pageSubscribers(t, s, list, state, want[0], 1))
				if !slices.Equal(got, want[1:2]) {
					t.Errorf("Subscribers(%q, %s, after %d, 1) = %v, want %v", list, state, want[0], got, want[1:2])
				}
			}
		}
	}
	if got := pageSubscribers(t, s, "fr", "", 0, 0); len(got) != 0 {
		t.Errorf("Subscribers of an unknown list = %v", subscriberIDs(got))
	}
	last := byList["en"][len(byList["en"])-1].ID
	if got := pageSubscribers(t, s, "en", "", last, 10); len(got) != 0 {
		t.Errorf("Subscribers after the last ID = %v", subscriberIDs(got))
	}
}

// Two processes adding the same address at once (the daemon's form and an
// import): one creates it, every other gets it.
func testSubscriberConcurrentAdds(t *testing.T, st syndicate.Store) {
	s := st
	const workers = 8
	var wg sync.WaitGroup
	ids := make([]int64, workers)
	created := make([]bool, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Go(func() {
			email := []string{"Same@example.org", "same@EXAMPLE.org"}[w%2]
			sub, c, err := s.AddSubscriber(t.Context(), syndicate.Subscriber{List: "en", Email: email})
			ids[w], created[w], errs[w] = sub.ID, c, err
		})
	}
	wg.Wait()
	n := 0
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("worker %d: %v", w, errs[w])
		}
		if created[w] {
			n++
		}
		if ids[w] != ids[0] {
			t.Errorf("worker %d got ID %d, worker 0 %d", w, ids[w], ids[0])
		}
	}
	if n != 1 {
		t.Errorf("%d workers created the address, want 1", n)
	}
}
