package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var newDeliveryTests = []subtest{
	{"Created", testDeliveriesCreated},
	{"ArticleKnownBefore", testDeliveryOfKnownArticle},
	{"ZeroSortTime", testDeliveryZeroSortTime},
	{"SameArticleSkipped", testSameArticleSkipped},
	{"SameLinkSkipped", testSameLinkSkipped},
	{"WithoutLink", testDeliveriesWithoutLink},
	{"BadState", testDeliveryBadState},
}

var dueTests = []subtest{
	{"Due", testDueDeliveries},
	{"NextDue", testNextDue},
}

var updateTests = []subtest{
	{"Lifecycle", testUpdateLifecycle},
	{"Conflict", testUpdateConflict},
	{"NotFound", testUpdateNotFound},
}

var lookupTests = []subtest{
	{"NotFound", testLookupNotFound},
}

var listTests = []subtest{
	{"FiltersAndOrder", testListDeliveries},
	{"ByArticle", testListByArticle},
	{"Count", testCountDeliveries},
}

func testDeliveriesCreated(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	a, b := newArticle("f", "a", 1), newArticle("f", "b", 2)
	rec := poll("f", a, b)
	rec.Deliveries = []syndicate.NewDelivery{
		pending("a", "c1", at(5)),
		{ArticleKey: "b", ChannelID: "c1", State: syndicate.StateHeld, SortTime: b.Published},
	}
	record(t, s, rec)

	for _, c := range []struct {
		key   string
		state syndicate.State
		sort  time.Time
	}{{"a", syndicate.StatePending, at(5)}, {"b", syndicate.StateHeld, b.Published}} {
		id := known(t, s, "f", c.key).ID
		listed := mustDeliveryOf(t, s, id, "c1")
		d, err := s.Delivery(ctx, listed.ID)
		if err != nil {
			t.Fatalf("Delivery(%d): %v", listed.ID, err)
		}
		checkDelivery(t, listed, d)
		if d.ID == 0 || d.ArticleID != id || d.ChannelID != "c1" || d.State != c.state ||
			d.Attempts != 0 || d.LastError != "" || d.RemoteID != "" || d.RemoteURL != "" {
			t.Errorf("new delivery of %q = %+v", c.key, d)
		}
		sameTime(t, "SortTime", d.SortTime, c.sort)
		if !d.NextAttempt.IsZero() || !d.SendingSince.IsZero() {
			t.Errorf("new delivery: NextAttempt %v, SendingSince %v; want zero", d.NextAttempt, d.SendingSince)
		}
		if d.CreatedAt.IsZero() || d.UpdatedAt.IsZero() {
			t.Errorf("new delivery: CreatedAt %v, UpdatedAt %v; want set", d.CreatedAt, d.UpdatedAt)
		}
	}
}

func testDeliveryOfKnownArticle(t *testing.T, s syndicate.Store) {
	a := newArticle("f", "a", 1)
	rec := poll("f", a)
	rec.Aliases = []syndicate.Alias{{Key: "a-alias", Link: a.Link}}
	record(t, s, rec)

	// A later poll establishes two channels for the articles seen before.
	rec = poll("f")
	rec.Deliveries = []syndicate.NewDelivery{pending("a", "c1", a.Published), pending("a-alias", "c2", a.Published)}
	record(t, s, rec)
	id := known(t, s, "f", "a").ID
	mustDeliveryOf(t, s, id, "c1")
	mustDeliveryOf(t, s, id, "c2")
}

func testDeliveryZeroSortTime(t *testing.T, s syndicate.Store) {
	dated := newArticle("f", "dated", 1)
	undated := newArticle("f", "undated", 2)
	undated.Published, undated.Updated = time.Time{}, time.Time{}
	rec := poll("f", dated, undated)
	rec.Deliveries = []syndicate.NewDelivery{pending("dated", "c1", time.Time{}), pending("undated", "c1", time.Time{})}
	record(t, s, rec)

	d := mustDeliveryOf(t, s, known(t, s, "f", "dated").ID, "c1")
	sameTime(t, "SortTime of a dated article", d.SortTime, dated.Published)

	id := known(t, s, "f", "undated").ID
	a, err := s.Article(t.Context(), id)
	if err != nil {
		t.Fatalf("Article: %v", err)
	}
	d = mustDeliveryOf(t, s, id, "c1")
	if d.SortTime.IsZero() {
		t.Error("SortTime of an undated article is zero, want its FirstSeen")
	}
	sameTime(t, "SortTime of an undated article", d.SortTime, a.FirstSeen)
}

func testSameArticleSkipped(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	a := newArticle("f", "a", 1)
	rec := poll("f", a)
	rec.Deliveries = []syndicate.NewDelivery{
		{ArticleKey: "a", ChannelID: "c1", State: syndicate.StateHeld, SortTime: a.Published},
		pending("a", "c1", a.Published), // same poll: skipped
	}
	record(t, s, rec)
	rec = poll("f")
	rec.Deliveries = []syndicate.NewDelivery{pending("a", "c1", at(9))} // later poll: skipped
	if err := s.RecordPoll(ctx, rec); err != nil {
		t.Fatalf("RecordPoll with a delivery already made: %v", err)
	}

	d := mustDeliveryOf(t, s, known(t, s, "f", "a").ID, "c1")
	if d.State != syndicate.StateHeld {
		t.Errorf("state = %s, want the first delivery's held", d.State)
	}
	sameTime(t, "SortTime", d.SortTime, a.Published)
	if c := counts(t, s); !maps.Equal(c["c1"], map[syndicate.State]int{syndicate.StateHeld: 1}) {
		t.Errorf("CountDeliveries = %v, want one held on c1", c)
	}
}

func testSameLinkSkipped(t *testing.T, s syndicate.Store) {
	shared := "https://example.org/2025/one-story"
	a := newArticle("feed-a", "a", 1)
	a.Link = shared
	rec := poll("feed-a", a)
	rec.Deliveries = []syndicate.NewDelivery{pending("a", "c1", a.Published)}
	record(t, s, rec)

	// Another feed carries the same story under its own key.
	b := newArticle("feed-b", "b", 1)
	b.Link = shared
	rec = poll("feed-b", b)
	rec.Deliveries = []syndicate.NewDelivery{pending("b", "c1", b.Published), pending("b", "c2", b.Published)}
	record(t, s, rec)
	// And the first feed, again, under a second key (not aliased).
	a2 := newArticle("feed-a", "a-again", 2)
	a2.Link = shared
	rec = poll("feed-a", a2)
	rec.Deliveries = []syndicate.NewDelivery{pending("a-again", "c1", a2.Published)}
	record(t, s, rec)

	aID, bID := known(t, s, "feed-a", "a").ID, known(t, s, "feed-b", "b").ID
	mustDeliveryOf(t, s, aID, "c1")
	if d, ok := deliveryOf(t, s, bID, "c1"); ok {
		t.Errorf("link already delivered on c1 from another feed, yet %+v", d)
	}
	if d, ok := deliveryOf(t, s, known(t, s, "feed-a", "a-again").ID, "c1"); ok {
		t.Errorf("link already delivered on c1 from the same feed, yet %+v", d)
	}
	mustDeliveryOf(t, s, bID, "c2")
	want := map[string]map[syndicate.State]int{
		"c1": {syndicate.StatePending: 1},
		"c2": {syndicate.StatePending: 1},
	}
	if c := counts(t, s); !countsEqual(c, want) {
		t.Errorf("CountDeliveries = %v, want %v", c, want)
	}
}

func countsEqual(a, b map[string]map[syndicate.State]int) bool {
	return maps.EqualFunc(a, b, func(x, y map[syndicate.State]int) bool { return maps.Equal(x, y) })
}

// An article without a link is deduplicated by its feed and key only.
func testDeliveriesWithoutLink(t *testing.T, s syndicate.Store) {
	var all []int64
	for _, feed := range []string{"feed-a", "feed-b"} {
		x, y := newArticle(feed, "x", 1), newArticle(feed, "y", 2)
		x.Link, y.Link = "", ""
		rec := poll(feed, x, y)
		rec.Deliveries = []syndicate.NewDelivery{pending("x", "c1", x.Published), pending("y", "c1", y.Published)}
		record(t, s, rec)
		all = append(all, known(t, s, feed, "x").ID, known(t, s, feed, "y").ID)
	}
	for _, id := range all {
		mustDeliveryOf(t, s, id, "c1")
	}
}

func testDeliveryBadState(t *testing.T, s syndicate.Store) {
	for _, st := range []syndicate.State{syndicate.StateSent, syndicate.StateSending, "", "bogus"} {
		rec := poll("f", newArticle("f", "a", 1))
		rec.Deliveries = []syndicate.NewDelivery{{ArticleKey: "a", ChannelID: "c1", State: st, SortTime: at(1)}}
		if err := s.RecordPoll(t.Context(), rec); err == nil {
			t.Errorf("RecordPoll of a new delivery in state %q: no error", st)
		}
	}
	if c := counts(t, s); len(c) != 0 {
		t.Errorf("CountDeliveries = %v, want none", c)
	}
}

// seed records one poll of feed "f" with an article per delivery wanted
// and returns the deliveries, in the order of want.
func seed(t *testing.T, s syndicate.Store, want []syndicate.NewDelivery) []syndicate.Delivery {
	t.Helper()
	rec := poll("f")
	seen := map[string]bool{}
	for i, nd := range want {
		if !seen[nd.ArticleKey] {
			seen[nd.ArticleKey] = true
			rec.Articles = append(rec.Articles, newArticle("f", nd.ArticleKey, i))
		}
	}
	rec.Deliveries = want
	record(t, s, rec)
	out := make([]syndicate.Delivery, len(want))
	for i, nd := range want {
		out[i] = mustDeliveryOf(t, s, known(t, s, "f", nd.ArticleKey).ID, nd.ChannelID)
	}
	return out
}

// move sets d's state (and next attempt) through UpdateDelivery.
func move(t *testing.T, s syndicate.Store, d syndicate.Delivery, to syndicate.State, next time.Time) syndicate.Delivery {
	t.Helper()
	from := d.State
	d.State, d.NextAttempt = to, next
	if err := s.UpdateDelivery(t.Context(), d, from); err != nil {
		t.Fatalf("UpdateDelivery(%d, %s → %s): %v", d.ID, from, to, err)
	}
	return d
}

func due(t *testing.T, s syndicate.Store, channel string, now time.Time, limit int) []syndicate.Delivery {
	t.Helper()
	ds, err := s.DueDeliveries(t.Context(), channel, now, limit)
	if err != nil {
		t.Fatalf("DueDeliveries: %v", err)
	}
	return ds
}

func testDueDeliveries(t *testing.T, s syndicate.Store) {
	now := at(100)
	ds := seed(t, s, []syndicate.NewDelivery{
		pending("late", "c1", at(3)),
		pending("early-1", "c1", at(1)),
		pending("early-2", "c1", at(1)), // same SortTime: by ID
		pending("exactly-now", "c1", at(2)),
		pending("later", "c1", at(0)),
		{ArticleKey: "held", ChannelID: "c1", State: syndicate.StateHeld, SortTime: at(0)},
		pending("sent", "c1", at(0)),
		pending("other-channel", "c2", at(0)),
	})
	ds[3] = move(t, s, ds[3], syndicate.StatePending, now)
	ds[4] = move(t, s, ds[4], syndicate.StatePending, now.Add(time.Microsecond))
	move(t, s, ds[6], syndicate.StateSent, time.Time{})

	want := sendingOrder([]syndicate.Delivery{ds[0], ds[1], ds[2], ds[3]})
	got := due(t, s, "c1", now, 100)
	if !slices.Equal(ids(got), ids(want)) {
		t.Fatalf("DueDeliveries(c1, now) = %v, want %v", ids(got), ids(want))
	}
	for i := range got {
		d, err := s.Delivery(t.Context(), got[i].ID)
		if err != nil {
			t.Fatalf("Delivery: %v", err)
		}
		checkDelivery(t, got[i], d)
	}
	if got := due(t, s, "c1", now, 0); !slices.Equal(ids(got), ids(want)) {
		t.Errorf("DueDeliveries(limit 0) = %v, want %v", ids(got), ids(want))
	}
	if got := due(t, s, "c1", now, 2); !slices.Equal(ids(got), ids(want[:2])) {
		t.Errorf("DueDeliveries(limit 2) = %v, want %v", ids(got), ids(want[:2]))
	}
	// A microsecond later the postponed one is due too, and goes first.
	want = sendingOrder([]syndicate.Delivery{ds[0], ds[1], ds[2], ds[3], ds[4]})
	if got := due(t, s, "c1", now.Add(time.Microsecond), 100); !slices.Equal(ids(got), ids(want)) {
		t.Errorf("DueDeliveries(c1, now+1µs) = %v, want %v", ids(got), ids(want))
	}
	if got := due(t, s, "c2", now, 100); !slices.Equal(ids(got), []int64{ds[7].ID}) {
		t.Errorf("DueDeliveries(c2) = %v, want %v", ids(got), ds[7].ID)
	}
	if got := due(t, s, "c3", now, 100); len(got) != 0 {
		t.Errorf("DueDeliveries of a channel without deliveries = %v", ids(got))
	}
}

func nextDue(t *testing.T, s syndicate.Store, channel string) (time.Time, bool) {
	t.Helper()
	next, ok, err := s.NextDue(t.Context(), channel)
	if err != nil {
		t.Fatalf("NextDue(%q): %v", channel, err)
	}
	return next, ok
}

func testNextDue(t *testing.T, s syndicate.Store) {
	if _, ok := nextDue(t, s, "c1"); ok {
		t.Error("NextDue of an empty ledger: ok")
	}
	ds := seed(t, s, []syndicate.NewDelivery{
		pending("a", "c1", at(1)),
		pending("b", "c1", at(2)),
		pending("c", "c1", at(3)),
		{ArticleKey: "held", ChannelID: "c1", State: syndicate.StateHeld, SortTime: at(0)},
		pending("d", "c2", at(0)),
	})
	if next, ok := nextDue(t, s, "c1"); !ok || !next.IsZero() {
		t.Errorf("NextDue with a delivery due at once = %v, %v; want zero time, true", next, ok)
	}
	move(t, s, ds[0], syndicate.StatePending, at(7).Add(5*time.Microsecond))
	move(t, s, ds[1], syndicate.StatePending, at(9))
	move(t, s, ds[2], syndicate.StateSent, time.Time{})
	if next, ok := nextDue(t, s, "c1"); !ok || !next.Equal(at(7).Add(5*time.Microsecond)) {
		t.Errorf("NextDue(c1) = %v, %v; want %v, true", next, ok, at(7).Add(5*time.Microsecond))
	}
	// Only held and sent deliveries left: nothing due.
	move(t, s, ds[4], syndicate.StateSkipped, time.Time{})
	if next, ok := nextDue(t, s, "c2"); ok {
		t.Errorf("NextDue without pending deliveries = %v, true", next)
	}
}

func testUpdateLifecycle(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	d := seed(t, s, []syndicate.NewDelivery{pending("a", "c1", at(1))})[0]
	orig := d

	// pending → sending
	d.State, d.Attempts, d.SendingSince = syndicate.StateSending, 1, at(20).Add(3*time.Microsecond)
	d.NextAttempt, d.LastError = at(21), "503 from the server — try again"
	// Identity and creation are the store's: changing them is ignored.
	d.ArticleID, d.ChannelID, d.SortTime, d.CreatedAt = d.ArticleID+1000, "elsewhere", at(50), at(50)
	if err := s.UpdateDelivery(ctx, d, syndicate.StatePending); err != nil {
		t.Fatalf("UpdateDelivery pending → sending: %v", err)
	}
	got, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatalf("Delivery: %v", err)
	}
	want := d
	want.ArticleID, want.ChannelID, want.SortTime, want.CreatedAt = orig.ArticleID, orig.ChannelID, orig.SortTime, orig.CreatedAt
	want.UpdatedAt = got.UpdatedAt
	checkDelivery(t, got, want)
	if got.UpdatedAt.IsZero() || got.UpdatedAt.Before(orig.UpdatedAt) {
		t.Errorf("UpdatedAt = %v after %v", got.UpdatedAt, orig.UpdatedAt)
	}

	// sending → sent
	d = got
	d.State, d.RemoteID, d.RemoteURL, d.LastError = syndicate.StateSent, "113998", "https://mastodon.social/@e/113998", ""
	d.NextAttempt = time.Time{}
	if err := s.UpdateDelivery(ctx, d, syndicate.StateSending); err != nil {
		t.Fatalf("UpdateDelivery sending → sent: %v", err)
	}
	got, err = s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatalf("Delivery: %v", err)
	}
	want = d
	want.UpdatedAt = got.UpdatedAt
	checkDelivery(t, got, want)
	if got.UpdatedAt.Before(d.UpdatedAt) {
		t.Errorf("UpdatedAt went back from %v to %v", d.UpdatedAt, got.UpdatedAt)
	}
}

func testUpdateConflict(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	d := seed(t, s, []syndicate.NewDelivery{pending("a", "c1", at(1))})[0]
	sending := move(t, s, d, syndicate.StateSending, time.Time{})
	stored, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatalf("Delivery: %v", err)
	}

	// Another process read it while pending and tries to claim it too.
	d.State, d.Attempts, d.LastError = syndicate.StateSent, 9, "should not be written"
	wantErr(t, "UpdateDelivery from a stale state", s.UpdateDelivery(ctx, d, syndicate.StatePending), syndicate.ErrConflict)
	after, err := s.Delivery(ctx, d.ID)
	if err != nil {
		t.Fatalf("Delivery: %v", err)
	}
	checkDelivery(t, after, stored)
	if after.State != sending.State {
		t.Errorf("state = %s, want %s", after.State, sending.State)
	}
}

func testUpdateNotFound(t *testing.T, s syndicate.Store) {
	seed(t, s, []syndicate.NewDelivery{pending("a", "c1", at(1))})
	d := syndicate.Delivery{ID: 987654321, State: syndicate.StateSent}
	wantErr(t, "UpdateDelivery of an unknown id", s.UpdateDelivery(t.Context(), d, syndicate.StatePending), syndicate.ErrNotFound)
}

func testLookupNotFound(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	d := seed(t, s, []syndicate.NewDelivery{pending("a", "c1", at(1))})[0]
	if _, err := s.Article(ctx, d.ArticleID); err != nil {
		t.Errorf("Article(%d): %v", d.ArticleID, err)
	}
	_, err := s.Article(ctx, 987654321)
	wantErr(t, "Article of an unknown id", err, syndicate.ErrNotFound)
	_, err = s.Delivery(ctx, 987654321)
	wantErr(t, "Delivery of an unknown id", err, syndicate.ErrNotFound)
}

func testListDeliveries(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	if v := list(t, s, syndicate.DeliveryFilter{}); len(v) != 0 {
		t.Errorf("ListDeliveries of an empty ledger = %v", viewIDs(v))
	}
	// Feed a: a1 (t1), a3 (t3); feed b: b2 (t2). The delivery SortTimes
	// differ from the articles' on purpose: the list follows the article.
	a1, a3, b2 := newArticle("a", "a1", 1), newArticle("a", "a3", 3), newArticle("b", "b2", 2)
	rec := poll("a", a3, a1)
	rec.Deliveries = []syndicate.NewDelivery{
		pending("a3", "c1", at(0)), pending("a3", "c2", at(0)), pending("a1", "c1", at(9)),
	}
	record(t, s, rec)
	rec = poll("b", b2)
	rec.Deliveries = []syndicate.NewDelivery{pending("b2", "c1", at(0)), pending("b2", "c2", at(0))}
	record(t, s, rec)

	articles := map[int64]syndicate.Article{}
	for feed, as := range map[string][]syndicate.Article{"a": {a1, a3}, "b": {b2}} {
		for _, a := range as {
			articles[known(t, s, feed, a.Key).ID] = a
		}
	}
	all := list(t, s, syndicate.DeliveryFilter{})
	if len(all) != 5 {
		t.Fatalf("ListDeliveries = %d deliveries, want 5", len(all))
	}
	byID := map[int64]syndicate.Delivery{}
	for i, v := range all {
		a, ok := articles[v.ArticleID]
		if !ok {
			t.Fatalf("delivery %d of unknown article %d", v.ID, v.ArticleID)
		}
		if v.Article.ID != v.ArticleID {
			t.Errorf("delivery %d: Article.ID = %d, want %d", v.ID, v.Article.ID, v.ArticleID)
		}
		checkArticle(t, v.Article, a, false)
		d, err := s.Delivery(ctx, v.ID)
		if err != nil {
			t.Fatalf("Delivery: %v", err)
		}
		checkDelivery(t, v.Delivery, d)
		byID[v.ID] = d
		if i > 0 {
			prev := all[i-1]
			ps, vs := articles[prev.ArticleID].SortTime(), a.SortTime()
			if vs.Before(ps) || (vs.Equal(ps) && v.ID < prev.ID) {
				t.Errorf("delivery %d (article at %v) listed after %d (article at %v)", v.ID, vs, prev.ID, ps)
			}
		}
	}

	pick := func(feed, key, channel string) int64 {
		return mustDeliveryOf(t, s, known(t, s, feed, key).ID, channel).ID
	}
	a1c1, a3c1, a3c2, b2c1, b2c2 := pick("a", "a1", "c1"), pick("a", "a3", "c1"), pick("a", "a3", "c2"), pick("b", "b2", "c1"), pick("b", "b2", "c2")
	move(t, s, byID[a3c2], syndicate.StateSent, time.Time{})
	move(t, s, byID[b2c1], syndicate.StateFailed, time.Time{})

	for _, c := range []struct {
		f    syndicate.DeliveryFilter
		want []int64
	}{
		{syndicate.DeliveryFilter{}, slices.Concat([]int64{a1c1}, inIDOrder(b2c1, b2c2), inIDOrder(a3c1, a3c2))},
		{syndicate.DeliveryFilter{FeedID: "a"}, append([]int64{a1c1}, inIDOrder(a3c1, a3c2)...)},
		{syndicate.DeliveryFilter{FeedID: "b"}, inIDOrder(b2c1, b2c2)},
		{syndicate.DeliveryFilter{ChannelID: "c2"}, []int64{b2c2, a3c2}},
		{syndicate.DeliveryFilter{FeedID: "a", ChannelID: "c1"}, []int64{a1c1, a3c1}},
		{syndicate.DeliveryFilter{States: []syndicate.State{syndicate.StateSent, syndicate.StateFailed}}, []int64{b2c1, a3c2}},
		{syndicate.DeliveryFilter{States: []syndicate.State{syndicate.StatePending}, ChannelID: "c1"}, []int64{a1c1, a3c1}},
		{syndicate.DeliveryFilter{ChannelID: "c1", Limit: 2}, []int64{b2c1, a3c1}},
		{syndicate.DeliveryFilter{Limit: 1}, []int64{max(a3c1, a3c2)}},
		{syndicate.DeliveryFilter{FeedID: "nope"}, nil},
		{syndicate.DeliveryFilter{States: []syndicate.State{syndicate.StateUncertain}}, nil},
	} {
		if got := viewIDs(list(t, s, c.f)); !slices.Equal(got, c.want) {
			t.Errorf("ListDeliveries(%+v) = %v, want %v", c.f, got, c.want)
		}
	}
}

// ListDeliveries by article: how the pipeline finds the posts to edit
// when an article changes.
func testListByArticle(t *testing.T, s syndicate.Store) {
	// Article x of feed a goes to three channels, y of feed a to one; z of
	// feed b carries the same story as x (same link) and goes to c4 only.
	x, y, z := newArticle("a", "x", 1), newArticle("a", "y", 2), newArticle("b", "z", 3)
	z.Link = x.Link
	quiet := newArticle("a", "quiet", 4) // never delivered
	rec := poll("a", x, y, quiet)
	rec.Deliveries = []syndicate.NewDelivery{
		pending("x", "c1", at(1)), pending("x", "c2", at(1)), pending("x", "c3", at(1)), pending("y", "c1", at(2)),
	}
	record(t, s, rec)
	rec = poll("b", z)
	rec.Deliveries = []syndicate.NewDelivery{pending("z", "c4", at(3))}
	record(t, s, rec)

	xID, yID, zID, quietID := known(t, s, "a", "x").ID, known(t, s, "a", "y").ID, known(t, s, "b", "z").ID, known(t, s, "a", "quiet").ID
	xc1, xc2, xc3 := mustDeliveryOf(t, s, xID, "c1"), mustDeliveryOf(t, s, xID, "c2"), mustDeliveryOf(t, s, xID, "c3")
	yc1, zc4 := mustDeliveryOf(t, s, yID, "c1"), mustDeliveryOf(t, s, zID, "c4")
	for _, d := range []syndicate.Delivery{xc1, xc3, yc1, zc4} {
		d.State, d.Attempts, d.RemoteID = syndicate.StateSent, 1, fmt.Sprintf("post-%d", d.ID)
		d.RemoteURL = "https://social.example.org/@e/" + d.RemoteID
		if err := s.UpdateDelivery(t.Context(), d, syndicate.StatePending); err != nil {
			t.Fatalf("UpdateDelivery(%d → sent): %v", d.ID, err)
		}
	}
	sent := []syndicate.State{syndicate.StateSent}

	xAll := inIDOrder(xc1.ID, xc2.ID, xc3.ID)
	for _, c := range []struct {
		f    syndicate.DeliveryFilter
		want []int64
	}{
		{syndicate.DeliveryFilter{ArticleID: xID}, xAll},
		{syndicate.DeliveryFilter{ArticleID: yID}, []int64{yc1.ID}},
		{syndicate.DeliveryFilter{ArticleID: zID}, []int64{zc4.ID}},
		{syndicate.DeliveryFilter{ArticleID: xID, States: sent}, inIDOrder(xc1.ID, xc3.ID)},
		{syndicate.DeliveryFilter{ArticleID: xID, States: []syndicate.State{syndicate.StatePending, syndicate.StateFailed}}, []int64{xc2.ID}},
		{syndicate.DeliveryFilter{ArticleID: xID, States: []syndicate.State{syndicate.StateHeld}}, nil},
		{syndicate.DeliveryFilter{ArticleID: xID, ChannelID: "c3"}, []int64{xc3.ID}},
		{syndicate.DeliveryFilter{ArticleID: xID, ChannelID: "c2", States: sent}, nil},
		{syndicate.DeliveryFilter{ArticleID: xID, ChannelID: "c4"}, nil}, // c4 has the story, from z
		{syndicate.DeliveryFilter{ArticleID: xID, FeedID: "a"}, xAll},
		{syndicate.DeliveryFilter{ArticleID: xID, FeedID: "b"}, nil},
		{syndicate.DeliveryFilter{ArticleID: xID, FeedID: "a", ChannelID: "c1", States: sent}, []int64{xc1.ID}},
		{syndicate.DeliveryFilter{ArticleID: xID, Limit: 2}, xAll[1:]},
		{syndicate.DeliveryFilter{ArticleID: xID, States: sent, Limit: 1}, []int64{max(xc1.ID, xc3.ID)}},
		{syndicate.DeliveryFilter{ArticleID: quietID}, nil},
		{syndicate.DeliveryFilter{ArticleID: 987654321}, nil},
		// Without an article, every article's.
		{syndicate.DeliveryFilter{States: sent, ChannelID: "c1"}, []int64{xc1.ID, yc1.ID}},
	} {
		got := list(t, s, c.f)
		if ids := viewIDs(got); !slices.Equal(ids, c.want) {
			t.Errorf("ListDeliveries(%+v) = %v, want %v", c.f, ids, c.want)
		}
		for _, v := range got {
			if c.f.ArticleID != 0 && (v.ArticleID != c.f.ArticleID || v.Article.ID != c.f.ArticleID) {
				t.Errorf("ListDeliveries(%+v): delivery %d of article %d (view of %d)", c.f, v.ID, v.ArticleID, v.Article.ID)
			}
		}
	}

	// The views carry what an edit needs: the remote post and the article.
	for _, v := range list(t, s, syndicate.DeliveryFilter{ArticleID: xID, States: sent}) {
		d, err := s.Delivery(t.Context(), v.ID)
		if err != nil {
			t.Fatalf("Delivery: %v", err)
		}
		checkDelivery(t, v.Delivery, d)
		if want := fmt.Sprintf("post-%d", v.ID); v.RemoteID != want {
			t.Errorf("delivery %d: RemoteID = %q, want %q", v.ID, v.RemoteID, want)
		}
		checkArticle(t, v.Article, x, false)
	}
}

// inIDOrder returns the ids of deliveries of one article: the list orders
// them by ID.
func inIDOrder(ids ...int64) []int64 {
	return slices.Sorted(slices.Values(ids))
}

func testCountDeliveries(t *testing.T, s syndicate.Store) {
	if c := counts(t, s); len(c) != 0 {
		t.Errorf("CountDeliveries of an empty ledger = %v", c)
	}
	ds := seed(t, s, []syndicate.NewDelivery{
		pending("a", "c1", at(1)), pending("b", "c1", at(2)), pending("c", "c1", at(3)),
		{ArticleKey: "d", ChannelID: "c1", State: syndicate.StateHeld},
		pending("a", "c2", at(1)),
	})
	move(t, s, ds[0], syndicate.StateSent, time.Time{})
	move(t, s, ds[4], syndicate.StateUncertain, time.Time{})
	want := map[string]map[syndicate.State]int{
		"c1": {syndicate.StateSent: 1, syndicate.StatePending: 2, syndicate.StateHeld: 1},
		"c2": {syndicate.StateUncertain: 1},
	}
	if c := counts(t, s); !countsEqual(c, want) {
		t.Errorf("CountDeliveries = %v, want %v", c, want)
	}
}
