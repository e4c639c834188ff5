package storetest

import (
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var subscriptionTests = []subtest{
	{"NotFound", testSubscriptionNotFound},
	{"RoundTrip", testSubscriptionRoundTrip},
	{"Replace", testSubscriptionReplace},
	{"UpdatedAtFromClock", testSubscriptionClock},
	{"Delete", testSubscriptionDelete},
	{"EmptyFeedID", testSubscriptionEmptyFeed},
}

func newSubscription(feed string) syndicate.Subscription {
	return syndicate.Subscription{
		FeedID:     feed,
		Hub:        "https://pubsubhubbub.appspot.com/",
		Topic:      "https://example.org/" + feed + "/feed?lang=es&ñ=1",
		Secret:     "hub-secret/" + feed + "+Zm9v=&ü",
		State:      "pending",
		LeaseUntil: at(24 * 10).Add(17 * time.Microsecond),
		UpdatedAt:  at(0).Add(3 * time.Microsecond),
	}
}

func checkSubscription(t *testing.T, got, want syndicate.Subscription) {
	t.Helper()
	g, w := got, want
	g.LeaseUntil, g.UpdatedAt, w.LeaseUntil, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if g != w {
		t.Errorf("subscription of %q:\n got %+v\nwant %+v", want.FeedID, got, want)
	}
	sameTime(t, "LeaseUntil", got.LeaseUntil, want.LeaseUntil)
	sameTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func subscription(t *testing.T, s syndicate.Store, feed string) syndicate.Subscription {
	t.Helper()
	sub, err := s.Subscription(t.Context(), feed)
	if err != nil {
		t.Fatalf("Subscription(%q): %v", feed, err)
	}
	return sub
}

func saveSubscription(t *testing.T, s syndicate.Store, sub syndicate.Subscription) {
	t.Helper()
	if err := s.SaveSubscription(t.Context(), sub); err != nil {
		t.Fatalf("SaveSubscription(%q): %v", sub.FeedID, err)
	}
}

func testSubscriptionNotFound(t *testing.T, s syndicate.Store) {
	_, err := s.Subscription(t.Context(), "never-subscribed")
	wantErr(t, "Subscription of a feed never subscribed", err, syndicate.ErrNotFound)

	// A feed polled, but not subscribed, has none either.
	if err := s.SaveFeedState(t.Context(), syndicate.FeedState{FeedID: "polled", LastPollAt: at(1)}); err != nil {
		t.Fatalf("SaveFeedState: %v", err)
	}
	_, err = s.Subscription(t.Context(), "polled")
	wantErr(t, "Subscription of a feed only polled", err, syndicate.ErrNotFound)
}

func testSubscriptionRoundTrip(t *testing.T, s syndicate.Store) {
	almaty := time.FixedZone("Almaty", 5*3600)
	a, b := newSubscription("a"), newSubscription("b")
	b.Hub, b.State, b.Secret = "https://hub.example.net/websub", "active", ""
	b.LeaseUntil = at(48).In(almaty)
	saveSubscription(t, s, a)
	saveSubscription(t, s, b)
	checkSubscription(t, subscription(t, s, "a"), a)
	checkSubscription(t, subscription(t, s, "b"), b)
}

// Saving again replaces every field, zero values included, of that feed
// only: the verification moves it from pending to active, a renewal
// extends the lease, a new hub takes over.
func testSubscriptionReplace(t *testing.T, s syndicate.Store) {
	a, other := newSubscription("a"), newSubscription("other")
	saveSubscription(t, s, a)
	saveSubscription(t, s, other)

	active := a
	active.State, active.LeaseUntil, active.UpdatedAt = "active", at(24*20), at(1)
	renewed := active
	renewed.LeaseUntil, renewed.UpdatedAt = at(24*30), at(24*19)
	moved := syndicate.Subscription{
		FeedID: "a", Hub: "https://new-hub.example.org/", Topic: "https://example.org/new-feed",
		State: "pending", UpdatedAt: at(24 * 25),
	}
	for _, sub := range []syndicate.Subscription{active, renewed, moved} {
		saveSubscription(t, s, sub)
		checkSubscription(t, subscription(t, s, "a"), sub)
	}
	checkSubscription(t, subscription(t, s, "other"), other)
}

// A zero UpdatedAt takes the store's clock.
func testSubscriptionClock(t *testing.T, s syndicate.Store) {
	sub := newSubscription("a")
	sub.UpdatedAt = time.Time{}
	saveSubscription(t, s, sub)
	got := subscription(t, s, "a")
	if got.UpdatedAt.IsZero() {
		t.Error("UpdatedAt of a subscription saved without one is zero, want the store's clock")
	}
	sub.UpdatedAt = got.UpdatedAt
	checkSubscription(t, got, sub)
}

func testSubscriptionDelete(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	a, b := newSubscription("a"), newSubscription("b")
	saveSubscription(t, s, a)
	saveSubscription(t, s, b)

	if err := s.DeleteSubscription(ctx, "a"); err != nil {
		t.Fatalf("DeleteSubscription: %v", err)
	}
	_, err := s.Subscription(ctx, "a")
	wantErr(t, "Subscription after DeleteSubscription", err, syndicate.ErrNotFound)
	checkSubscription(t, subscription(t, s, "b"), b)

	// Deleting what is not there is no error.
	for _, feed := range []string{"a", "never-subscribed", ""} {
		if err := s.DeleteSubscription(ctx, feed); err != nil {
			t.Errorf("DeleteSubscription(%q) of no subscription: %v", feed, err)
		}
	}
	checkSubscription(t, subscription(t, s, "b"), b)

	// A feed can subscribe again.
	a.State, a.UpdatedAt = "active", at(5)
	saveSubscription(t, s, a)
	checkSubscription(t, subscription(t, s, "a"), a)
}

func testSubscriptionEmptyFeed(t *testing.T, s syndicate.Store) {
	if err := s.SaveSubscription(t.Context(), syndicate.Subscription{Hub: "https://hub.example.org/"}); err == nil {
		t.Error("SaveSubscription without a feed id: no error")
	}
	_, err := s.Subscription(t.Context(), "")
	wantErr(t, "Subscription of an empty feed id", err, syndicate.ErrNotFound)
}
