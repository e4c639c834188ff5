package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// What the suite checks of a syndicate.DigestStore beyond its comments:
// the digest clock keeps microseconds; a digest keeps its articles in the
// order given, and the deliveries it takes become sent with RemoteID
// "digest:<id>" and no URL, the others are untouched; records keep every
// field; a subscriber is claimed at most once however many claim at once;
// claims and Unsent read the subscribers' current state.
var digestTests = []subtest{
	{"Clock", testDigestClock},
	{"CreateTakesPendingDeliveries", testDigestCreate},
	{"CreateSamePeriodReturnsExisting", testDigestSamePeriod},
	{"CreateLeavesOutWhatIsNotPending", testDigestNotPending},
	{"CreateRefusesBadInput", testDigestBadInput},
	{"OpenAndFinish", testDigestOpenFinish},
	{"ListNewestFirst", testDigestList},
	{"UnsentPaging", testDigestUnsent},
	{"Claim", testDigestClaim},
	{"ClaimLease", testDigestClaimLease},
	{"EditorDecisions", testDigestEditorDecisions},
	{"ClaimReadsCurrentState", testDigestClaimCurrentState},
	{"ConcurrentClaims", testDigestConcurrentClaims},
	{"RecordAndRead", testDigestRecord},
	{"RecordManyAtOnce", testDigestRecordMany},
	{"SettleInFlight", testDigestSettle},
	{"SettleLeavesRunningOwners", testDigestSettleOwners},
	{"BeginRecordsWhatEnded", testDigestBeginRecordsEnded},
	{"Counts", testDigestCounts},
}

const digestChannel = "digest-en"

// digestFixture records n articles of feed "blog", each with a pending
// delivery to digestChannel and to "other", and returns their IDs, oldest
// first.
func digestFixture(t *testing.T, s syndicate.Store, n int) []int64 {
	t.Helper()
	rec := poll("blog")
	for i := range n {
		key := fmt.Sprintf("d%02d", i)
		rec.Articles = append(rec.Articles, newArticle("blog", key, i))
		rec.Deliveries = append(rec.Deliveries, pending(key, digestChannel, at(i)), pending(key, "other", at(i)))
	}
	record(t, s, rec)
	ids := make([]int64, n)
	for i := range n {
		ids[i] = known(t, s, "blog", fmt.Sprintf("d%02d", i)).ID
	}
	return ids
}

// confirmedSubscribers adds n confirmed addresses to list and returns them
// in ID order.
func confirmedSubscribers(t *testing.T, s syndicate.Store, list string, n int) []syndicate.Subscriber {
	t.Helper()
	ss := s
	out := make([]syndicate.Subscriber, n)
	for i := range n {
		out[i], _ = addSubscriber(t, ss, syndicate.Subscriber{
			List: list, Email: fmt.Sprintf("reader%03d@example.org", i), State: syndicate.SubscriberConfirmed,
		})
	}
	return out
}

func createDigest(t *testing.T, ds syndicate.DigestStore, d syndicate.Digest) (syndicate.Digest, bool) {
	t.Helper()
	got, created, err := ds.CreateDigest(t.Context(), d)
	if err != nil {
		t.Fatalf("CreateDigest(%s, %s): %v", d.ChannelID, d.Period, err)
	}
	return got, created
}

func newDigest(period string, articles ...int64) syndicate.Digest {
	return syndicate.Digest{ChannelID: digestChannel, Period: period, Articles: articles, CreatedAt: at(100).Add(3 * time.Microsecond)}
}

func checkDigest(t *testing.T, got, want syndicate.Digest) {
	t.Helper()
	if got.ID != want.ID || got.ChannelID != want.ChannelID || got.Period != want.Period || !slices.Equal(got.Articles, want.Articles) {
		t.Errorf("digest:\n got %+v\nwant %+v", got, want)
	}
	sameTime(t, "digest CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "digest FinishedAt", got.FinishedAt, want.FinishedAt)
}

func unsent(t *testing.T, ds syndicate.DigestStore, digestID int64, list string, after int64, limit int) []syndicate.Subscriber {
	t.Helper()
	got, err := ds.Unsent(t.Context(), digestID, list, after, limit)
	if err != nil {
		t.Fatalf("Unsent(%d, %q, %d, %d): %v", digestID, list, after, limit, err)
	}
	return got
}

func claim(t *testing.T, ds syndicate.DigestStore, digestID int64, ids []int64, when time.Time) []syndicate.Recipient {
	t.Helper()
	return claimAs(t, ds, ownerA, digestID, ids, when)
}

// Owners of claims: processes that tests stop or keep running.
const (
	ownerA = "host-a/100/aaaa"
	ownerB = "host-b/200/bbbb"
)

// stopped reports owners as stopped.
func stopped(owners ...string) func(string) bool {
	return func(o string) bool { return slices.Contains(owners, o) }
}

func claimAs(t *testing.T, ds syndicate.DigestStore, owner string, digestID int64, ids []int64, when time.Time) []syndicate.Recipient {
	t.Helper()
	got, err := ds.ClaimRecipients(t.Context(), digestID, ids, owner, when)
	if err != nil {
		t.Fatalf("ClaimRecipients(%d, %v): %v", digestID, ids, err)
	}
	return got
}

func recordRecipients(t *testing.T, ds syndicate.DigestStore, rs ...syndicate.Recipient) {
	t.Helper()
	if err := ds.RecordRecipients(t.Context(), rs); err != nil {
		t.Fatalf("RecordRecipients: %v", err)
	}
}

func recipient(t *testing.T, ds syndicate.DigestStore, digestID, subscriberID int64) syndicate.Recipient {
	t.Helper()
	r, err := ds.Recipient(t.Context(), digestID, subscriberID)
	if err != nil {
		t.Fatalf("Recipient(%d, %d): %v", digestID, subscriberID, err)
	}
	return r
}

func checkRecipient(t *testing.T, got, want syndicate.Recipient) {
	t.Helper()
	g, w := got, want
	g.UpdatedAt, w.UpdatedAt = time.Time{}, time.Time{}
	if g != w {
		t.Errorf("recipient:\n got %+v\nwant %+v", got, want)
	}
	sameTime(t, "recipient UpdatedAt", got.UpdatedAt, want.UpdatedAt)
}

func recipientSubscribers(rs []syndicate.Recipient) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.SubscriberID
	}
	return out
}

func testDigestClock(t *testing.T, st syndicate.Store) {
	ds := st
	ctx := t.Context()
	if _, _, ok, err := ds.DigestClock(ctx, digestChannel); err != nil || ok {
		t.Fatalf("DigestClock of a channel never seen: ok %v, err %v; want false, nil", ok, err)
	}
	madrid := time.FixedZone("CET", 3600)
	for _, c := range []struct {
		last   time.Time
		period string
	}{
		{at(0).Add(11 * time.Microsecond).In(madrid), ""},
		{at(24), "2025-03-15T09:00"},
		{at(48), "now:2025-03-16T09:26:53.123456Z"},
	} {
		if err := ds.SetDigestClock(ctx, digestChannel, c.last, c.period); err != nil {
			t.Fatalf("SetDigestClock: %v", err)
		}
		last, period, ok, err := ds.DigestClock(ctx, digestChannel)
		if err != nil || !ok {
			t.Fatalf("DigestClock: ok %v, err %v", ok, err)
		}
		sameTime(t, "clock", last, c.last)
		if period != c.period {
			t.Errorf("period = %q, want %q", period, c.period)
		}
	}
	// Channels are independent.
	if _, _, ok, _ := ds.DigestClock(ctx, "digest-es"); ok {
		t.Error("DigestClock of another channel: ok after setting digest-en's")
	}
}

func testDigestCreate(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 4)
	// Articles are kept in the order given (the run gives them oldest first).
	d, created := createDigest(t, ds, newDigest("2025-03-17T08:00", ids[2], ids[0], ids[1]))
	if !created || d.ID <= 0 {
		t.Fatalf("CreateDigest: created %v, id %d", created, d.ID)
	}
	want := newDigest("2025-03-17T08:00", ids[2], ids[0], ids[1])
	want.ID = d.ID
	checkDigest(t, d, want)
	got, err := ds.Digest(t.Context(), d.ID)
	if err != nil {
		t.Fatalf("Digest(%d): %v", d.ID, err)
	}
	checkDigest(t, got, want)

	for i, id := range ids {
		dl := mustDeliveryOf(t, st, id, digestChannel)
		if i == 3 {
			if dl.State != syndicate.StatePending {
				t.Errorf("delivery of an article left out: %s, want pending", dl.State)
			}
			continue
		}
		if dl.State != syndicate.StateSent || dl.RemoteID != fmt.Sprintf("digest:%d", d.ID) || dl.RemoteURL != "" {
			t.Errorf("delivery of article %d: %s %q %q, want sent \"digest:%d\"", id, dl.State, dl.RemoteID, dl.RemoteURL, d.ID)
		}
		if other := mustDeliveryOf(t, st, id, "other"); other.State != syndicate.StatePending {
			t.Errorf("delivery of article %d to another channel: %s, want pending", id, other.State)
		}
	}

	// A zero CreatedAt takes the store's clock.
	d2, _ := createDigest(t, ds, syndicate.Digest{ChannelID: digestChannel, Period: "2025-03-24T08:00", Articles: ids[3:]})
	if d2.CreatedAt.IsZero() || d2.ID <= d.ID {
		t.Errorf("second digest: %+v", d2)
	}
	if _, err := ds.Digest(t.Context(), d2.ID+100); !errors.Is(err, syndicate.ErrNotFound) {
		t.Errorf("Digest of an unknown id: %v, want ErrNotFound", err)
	}
}

// The same period again (the schedule firing twice at the fall-back, or
// two processes) returns the digest made, and changes nothing.
func testDigestSamePeriod(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 3)
	first, _ := createDigest(t, ds, newDigest("2025-10-26T02:30", ids[0]))
	again, created := createDigest(t, ds, newDigest("2025-10-26T02:30", ids[1], ids[2]))
	if created {
		t.Error("CreateDigest of a period already made: created = true")
	}
	checkDigest(t, again, first)
	for _, id := range ids[1:] {
		if dl := mustDeliveryOf(t, st, id, digestChannel); dl.State != syndicate.StatePending {
			t.Errorf("article %d: %s after a second digest of the same period, want pending", id, dl.State)
		}
	}
	// The same period of another channel is another digest.
	rec := poll("blog2", newArticle("blog2", "x", 1))
	rec.Deliveries = []syndicate.NewDelivery{pending("x", "digest-es", at(1))}
	record(t, st, rec)
	other := newDigest("2025-10-26T02:30", known(t, st, "blog2", "x").ID)
	other.ChannelID = "digest-es"
	if d, created := createDigest(t, ds, other); !created || d.ID == first.ID {
		t.Errorf("same period, other channel: created %v, id %d (first %d)", created, d.ID, first.ID)
	}
}

// An article whose delivery an editor skipped, or that another digest
// took, is left out; with none left, nothing is made.
func testDigestNotPending(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 4)
	skipped := mustDeliveryOf(t, st, ids[1], digestChannel)
	skipped.State = syndicate.StateSkipped
	if err := st.UpdateDelivery(t.Context(), skipped, syndicate.StatePending); err != nil {
		t.Fatal(err)
	}
	first, _ := createDigest(t, ds, newDigest("p1", ids[0]))
	d, created := createDigest(t, ds, newDigest("p2", ids[0], ids[1], ids[2], ids[2], ids[2]+1000))
	if !created || !slices.Equal(d.Articles, []int64{ids[2]}) {
		t.Errorf("digest of one pending, one skipped, one digested, one repeated, one unknown article: created %v, articles %v, want [%d]",
			created, d.Articles, ids[2])
	}
	if dl := mustDeliveryOf(t, st, ids[1], digestChannel); dl.State != syndicate.StateSkipped {
		t.Errorf("skipped delivery: %s", dl.State)
	}
	if dl := mustDeliveryOf(t, st, ids[0], digestChannel); dl.RemoteID != fmt.Sprintf("digest:%d", first.ID) {
		t.Errorf("article of the first digest now %q", dl.RemoteID)
	}

	_, _, err := ds.CreateDigest(t.Context(), newDigest("p3", ids[0], ids[1]))
	wantErr(t, "CreateDigest with nothing pending", err, syndicate.ErrConflict)
	_, _, err = ds.CreateDigest(t.Context(), newDigest("p4"))
	wantErr(t, "CreateDigest of no articles", err, syndicate.ErrConflict)
	open, err := ds.OpenDigests(t.Context(), digestChannel)
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != 2 {
		t.Errorf("%d open digests after two refused, want 2", len(open))
	}
	if dl := mustDeliveryOf(t, st, ids[3], digestChannel); dl.State != syndicate.StatePending {
		t.Errorf("untouched article: %s", dl.State)
	}
}

func testDigestBadInput(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 1)
	for _, d := range []syndicate.Digest{
		{ChannelID: "", Period: "p", Articles: ids},
		{ChannelID: digestChannel, Period: "", Articles: ids},
	} {
		if _, _, err := ds.CreateDigest(t.Context(), d); err == nil {
			t.Errorf("CreateDigest(%+v): no error", d)
		}
	}
	if dl := mustDeliveryOf(t, st, ids[0], digestChannel); dl.State != syndicate.StatePending {
		t.Errorf("delivery after refused digests: %s", dl.State)
	}
	if err := ds.RecordRecipients(t.Context(), []syndicate.Recipient{{DigestID: 1, SubscriberID: 1, State: "lost"}}); err == nil {
		t.Error("RecordRecipients of an unknown state: no error")
	}
}

func testDigestOpenFinish(t *testing.T, st syndicate.Store) {
	ds := st
	ctx := t.Context()
	ids := digestFixture(t, st, 3)
	a, _ := createDigest(t, ds, newDigest("a", ids[0]))
	b, _ := createDigest(t, ds, newDigest("b", ids[1]))
	c, _ := createDigest(t, ds, newDigest("c", ids[2]))
	open := func() []int64 {
		t.Helper()
		ds, err := ds.OpenDigests(ctx, digestChannel)
		if err != nil {
			t.Fatalf("OpenDigests: %v", err)
		}
		var out []int64
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	if got := open(); !slices.Equal(got, []int64{a.ID, b.ID, c.ID}) {
		t.Errorf("open digests = %v, want %v oldest first", got, []int64{a.ID, b.ID, c.ID})
	}
	finished := at(200).Add(9 * time.Microsecond)
	if err := ds.FinishDigest(ctx, b.ID, finished); err != nil {
		t.Fatalf("FinishDigest: %v", err)
	}
	if got := open(); !slices.Equal(got, []int64{a.ID, c.ID}) {
		t.Errorf("open digests after finishing %d = %v", b.ID, got)
	}
	got, err := ds.Digest(ctx, b.ID)
	if err != nil {
		t.Fatal(err)
	}
	b.FinishedAt = finished
	checkDigest(t, got, b)
	if err := ds.FinishDigest(ctx, c.ID+100, finished); !errors.Is(err, syndicate.ErrNotFound) {
		t.Errorf("FinishDigest of an unknown digest: %v, want ErrNotFound", err)
	}
	if ds, err := ds.OpenDigests(ctx, "digest-es"); err != nil || len(ds) != 0 {
		t.Errorf("OpenDigests of another channel: %v, %v", ds, err)
	}
}

func testDigestList(t *testing.T, st syndicate.Store) {
	ds := st
	ctx := t.Context()
	list := func(channel string, limit int) []syndicate.Digest {
		t.Helper()
		got, err := ds.Digests(ctx, channel, limit)
		if err != nil {
			t.Fatalf("Digests(%q, %d): %v", channel, limit, err)
		}
		return got
	}
	digestIDs := func(ds []syndicate.Digest) []int64 {
		out := make([]int64, len(ds))
		for i, d := range ds {
			out[i] = d.ID
		}
		return out
	}
	if got := list(digestChannel, 0); len(got) != 0 {
		t.Errorf("Digests of a channel without any: %v", got)
	}
	ids := digestFixture(t, st, 4)
	a, _ := createDigest(t, ds, newDigest("a", ids[0]))
	b, _ := createDigest(t, ds, newDigest("b", ids[1], ids[2]))
	other := newDigest("a", ids[0], ids[1])
	other.ChannelID = "other"
	o, _ := createDigest(t, ds, other)
	c, _ := createDigest(t, ds, newDigest("c", ids[3]))
	finished := at(300).Add(7 * time.Microsecond)
	if err := ds.FinishDigest(ctx, b.ID, finished); err != nil {
		t.Fatal(err)
	}
	b.FinishedAt = finished

	// Finished or not, newest first, every field as stored.
	got := list(digestChannel, 0)
	want := []syndicate.Digest{c, b, a}
	if !slices.Equal(digestIDs(got), digestIDs(want)) {
		t.Fatalf("Digests = %v, want %v newest first", digestIDs(got), digestIDs(want))
	}
	for i := range want {
		checkDigest(t, got[i], want[i])
	}
	for _, tc := range []struct {
		limit int
		want  []int64
	}{
		{1, []int64{c.ID}},
		{2, []int64{c.ID, b.ID}},
		{3, []int64{c.ID, b.ID, a.ID}},
		{10, []int64{c.ID, b.ID, a.ID}},
		{-1, []int64{c.ID, b.ID, a.ID}},
	} {
		if got := digestIDs(list(digestChannel, tc.limit)); !slices.Equal(got, tc.want) {
			t.Errorf("Digests(limit %d) = %v, want %v", tc.limit, got, tc.want)
		}
	}
	// Channels are apart.
	if got := list("other", 0); len(got) != 1 {
		t.Errorf("Digests of the other channel = %v, want [%d]", digestIDs(got), o.ID)
	} else {
		checkDigest(t, got[0], o)
	}
	if got := list("digest-es", 0); len(got) != 0 {
		t.Errorf("Digests of a channel without any: %v", digestIDs(got))
	}
}

func testDigestUnsent(t *testing.T, st syndicate.Store) {
	ds := st
	ss := st
	ids := digestFixture(t, st, 2)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	other, _ := createDigest(t, ds, newDigest("q", ids[1]))
	subs := confirmedSubscribers(t, st, "en", 10)
	confirmedSubscribers(t, st, "es", 3)
	addSubscriber(t, ss, syndicate.Subscriber{List: "en", Email: "pending@example.org"})
	gone, _ := addSubscriber(t, ss, syndicate.Subscriber{List: "en", Email: "gone@example.org", State: syndicate.SubscriberUnsubscribed})

	if got := subscriberIDs(unsent(t, ds, d.ID, "en", 0, 0)); !slices.Equal(got, subscriberIDs(subs)) {
		t.Errorf("Unsent of a new digest = %v, want the confirmed of the list %v", got, subscriberIDs(subs))
	}
	// Paging.
	var paged []int64
	for after := int64(0); ; {
		page := unsent(t, ds, d.ID, "en", after, 3)
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
		t.Errorf("paged Unsent = %v, want %v", paged, subscriberIDs(subs))
	}

	// Records: only none and deferred remain to be mailed.
	states := []syndicate.RecipientState{syndicate.RecipientSending, syndicate.RecipientSent, syndicate.RecipientDeferred,
		syndicate.RecipientFailed, syndicate.RecipientUncertain}
	for i, state := range states {
		recordRecipients(t, ds, syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[i].ID, State: state, Attempts: 1})
	}
	want := []int64{subs[2].ID}
	want = append(want, subscriberIDs(subs[5:])...)
	if got := subscriberIDs(unsent(t, ds, d.ID, "en", 0, 0)); !slices.Equal(got, want) {
		t.Errorf("Unsent with records %v = %v, want %v", states, got, want)
	}
	// Another digest's records do not count.
	if got := unsent(t, ds, other.ID, "en", 0, 0); len(got) != len(subs) {
		t.Errorf("Unsent of another digest: %d, want %d", len(got), len(subs))
	}
	// The current state is read: an address unsubscribed now is left out,
	// one confirmed now is in.
	setSubscriberState(t, ss, "en", subs[7].Email, syndicate.SubscriberUnsubscribed, at(300))
	setSubscriberState(t, ss, "en", gone.Email, syndicate.SubscriberConfirmed, at(300))
	want = []int64{subs[2].ID, subs[5].ID, subs[6].ID, subs[8].ID, subs[9].ID, gone.ID}
	if got := subscriberIDs(unsent(t, ds, d.ID, "en", 0, 0)); !slices.Equal(got, want) {
		t.Errorf("Unsent after an unsubscription and a confirmation = %v, want %v", got, want)
	}
	if got := unsent(t, ds, d.ID, "fr", 0, 0); len(got) != 0 {
		t.Errorf("Unsent of a list nobody is on: %v", got)
	}
}

func testDigestClaim(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := confirmedSubscribers(t, st, "en", 6)
	recordRecipients(t, ds,
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[1].ID, State: syndicate.RecipientDeferred, Attempts: 2, LastError: "451 try later"},
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[2].ID, State: syndicate.RecipientSent, Attempts: 1},
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[3].ID, State: syndicate.RecipientFailed, Attempts: 1},
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[4].ID, State: syndicate.RecipientUncertain, Attempts: 1},
	)
	when := at(400).Add(5 * time.Microsecond)
	// Asked in any order, given back in subscriber order.
	got := claim(t, ds, d.ID, []int64{subs[5].ID, subs[4].ID, subs[3].ID, subs[2].ID, subs[1].ID, subs[0].ID}, when)
	want := []syndicate.Recipient{
		{DigestID: d.ID, SubscriberID: subs[0].ID, State: syndicate.RecipientClaimed, Attempts: 1, UpdatedAt: when},
		{DigestID: d.ID, SubscriberID: subs[1].ID, State: syndicate.RecipientClaimed, Attempts: 3, LastError: "451 try later", UpdatedAt: when},
		{DigestID: d.ID, SubscriberID: subs[5].ID, State: syndicate.RecipientClaimed, Attempts: 1, UpdatedAt: when},
	}
	if len(got) != len(want) {
		t.Fatalf("claimed %v, want subscribers %v", recipientSubscribers(got), recipientSubscribers(want))
	}
	for i := range want {
		checkRecipient(t, got[i], want[i])
		checkRecipient(t, recipient(t, ds, d.ID, want[i].SubscriberID), want[i])
	}
	// Claimed once: a second claim gets nothing.
	if again := claim(t, ds, d.ID, subscriberIDs(subs), when); len(again) != 0 {
		t.Errorf("second claim got %v", recipientSubscribers(again))
	}
	// Unknown subscribers and an empty batch claim nothing.
	if got := claim(t, ds, d.ID, []int64{subs[5].ID + 100}, when); len(got) != 0 {
		t.Errorf("claim of an unknown subscriber: %v", got)
	}
	if got := claim(t, ds, d.ID, nil, when); len(got) != 0 {
		t.Errorf("claim of nobody: %v", got)
	}
	if _, err := ds.Recipient(t.Context(), d.ID, subs[5].ID+100); !errors.Is(err, syndicate.ErrNotFound) {
		t.Errorf("Recipient of no record: %v, want ErrNotFound", err)
	}
}

func testDigestClaimCurrentState(t *testing.T, st syndicate.Store) {
	ds := st
	ss := st
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := confirmedSubscribers(t, st, "en", 3)
	pend, _ := addSubscriber(t, ss, syndicate.Subscriber{List: "en", Email: "pending@example.org"})
	// Unsubscribed between Unsent and the claim.
	setSubscriberState(t, ss, "en", subs[1].Email, syndicate.SubscriberUnsubscribed, at(1))
	got := claim(t, ds, d.ID, append(subscriberIDs(subs), pend.ID), at(2))
	if ids := recipientSubscribers(got); !slices.Equal(ids, []int64{subs[0].ID, subs[2].ID}) {
		t.Errorf("claimed %v, want only the confirmed %v", ids, []int64{subs[0].ID, subs[2].ID})
	}
}

// Claims racing for the same subscribers (two processes resuming the same
// digest) never claim one twice.
func testDigestConcurrentClaims(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := subscriberIDs(confirmedSubscribers(t, st, "en", 60))
	var (
		mu      sync.Mutex
		claimed = map[int64]int{}
		wg      sync.WaitGroup
	)
	for w := range 6 {
		wg.Go(func() {
			order := slices.Clone(subs)
			if w%2 == 1 {
				slices.Reverse(order)
			}
			for i := 0; i < len(order); i += 7 {
				got, err := ds.ClaimRecipients(t.Context(), d.ID, order[i:min(i+7, len(order))], fmt.Sprintf("host/%d/x", w), at(1))
				if err != nil {
					t.Errorf("ClaimRecipients: %v", err)
					return
				}
				mu.Lock()
				for _, r := range got {
					claimed[r.SubscriberID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, id := range subs {
		if claimed[id] != 1 {
			t.Errorf("subscriber %d claimed %d times", id, claimed[id])
		}
	}
}

func testDigestRecord(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 2)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	e, _ := createDigest(t, ds, newDigest("q", ids[1]))
	subs := confirmedSubscribers(t, st, "en", 2)
	almaty := time.FixedZone("Almaty", 5*3600)
	rs := []syndicate.Recipient{
		{DigestID: d.ID, SubscriberID: subs[0].ID, State: syndicate.RecipientSent, Attempts: 1, UpdatedAt: at(5).Add(time.Microsecond).In(almaty)},
		{DigestID: d.ID, SubscriberID: subs[1].ID, State: syndicate.RecipientFailed, Attempts: 2,
			LastError: "550 5.1.1 <reader001@example.org>: “mailbox” unavailable", UpdatedAt: at(6)},
		{DigestID: e.ID, SubscriberID: subs[0].ID, State: syndicate.RecipientDeferred, Attempts: 1, LastError: "421 closing", UpdatedAt: at(7)},
	}
	recordRecipients(t, ds, rs...)
	for _, r := range rs {
		checkRecipient(t, recipient(t, ds, r.DigestID, r.SubscriberID), r)
	}
	// Upsert: a record is replaced whole.
	r := rs[2]
	r.State, r.Attempts, r.LastError, r.UpdatedAt = syndicate.RecipientSent, 2, "", at(8)
	recordRecipients(t, ds, r)
	checkRecipient(t, recipient(t, ds, e.ID, subs[0].ID), r)
	checkRecipient(t, recipient(t, ds, d.ID, subs[0].ID), rs[0])
	// A zero UpdatedAt takes the store's clock; nothing is an empty batch.
	recordRecipients(t, ds, syndicate.Recipient{DigestID: e.ID, SubscriberID: subs[1].ID, State: syndicate.RecipientSent, Attempts: 1})
	if got := recipient(t, ds, e.ID, subs[1].ID); got.UpdatedAt.IsZero() {
		t.Error("UpdatedAt of a record written without one is zero, want the store's clock")
	}
	recordRecipients(t, ds)
}

// A call records a batch larger than a store is likely to write in one
// statement, all or nothing; a record named twice ends as the last names
// it.
func testDigestRecordMany(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := confirmedSubscribers(t, st, "en", 450)
	rs := make([]syndicate.Recipient, 0, len(subs)+1)
	for i, s := range subs {
		rs = append(rs, syndicate.Recipient{DigestID: d.ID, SubscriberID: s.ID, State: syndicate.RecipientSent,
			Attempts: 1 + i%3, LastError: fmt.Sprintf("note %d", i), UpdatedAt: at(i)})
	}
	bad := append(slices.Clone(rs), syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[0].ID, State: "lost"})
	if err := ds.RecordRecipients(t.Context(), bad); err == nil {
		t.Error("RecordRecipients with an unknown state last: no error")
	}
	if _, err := ds.Recipient(t.Context(), d.ID, subs[1].ID); !errors.Is(err, syndicate.ErrNotFound) {
		t.Errorf("a refused batch left a record (err %v), want none", err)
	}
	again := rs[300]
	again.State, again.Attempts, again.LastError, again.UpdatedAt = syndicate.RecipientDeferred, 2, "451 later", at(999)
	recordRecipients(t, ds, append(rs, again)...)
	for i, r := range rs {
		if i == 300 {
			r = again
		}
		checkRecipient(t, recipient(t, ds, d.ID, r.SubscriberID), r)
	}
	counts, err := ds.RecipientCounts(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[syndicate.RecipientState]int{syndicate.RecipientSent: 449, syndicate.RecipientDeferred: 1}; !mapsEqual(counts, want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
}

func testDigestSettle(t *testing.T, st syndicate.Store) {
	ds := st
	ctx := t.Context()
	ids := digestFixture(t, st, 2)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	e, _ := createDigest(t, ds, newDigest("q", ids[1]))
	subs := confirmedSubscribers(t, st, "en", 6)
	recordRecipients(t, ds, syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[5].ID, State: syndicate.RecipientDeferred, Attempts: 2, LastError: "451 later"})
	claim(t, ds, d.ID, subscriberIDs(append(subs[:4:4], subs[5])), at(1))
	claim(t, ds, e.ID, subscriberIDs(subs), at(1))
	recordRecipients(t, ds, syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[0].ID, State: syndicate.RecipientSent, Attempts: 1})
	// subs[1] and subs[2] began (their transactions); subs[0] is sent and
	// subs[4] never claimed, so they cannot begin; subs[3] and subs[5]
	// stay only claimed.
	begun, err := ds.BeginRecipients(ctx, d.ID, ownerA, nil, subscriberIDs([]syndicate.Subscriber{subs[0], subs[1], subs[2], subs[4]}))
	if err != nil {
		t.Fatalf("BeginRecipients: %v", err)
	}
	slices.Sort(begun)
	if !slices.Equal(begun, []int64{subs[1].ID, subs[2].ID}) {
		t.Errorf("BeginRecipients began %v, want only the claimed %v", begun, []int64{subs[1].ID, subs[2].ID})
	}

	n, err := ds.SettleInFlight(ctx, d.ID, at(1), stopped(ownerA))
	if err != nil || n != 2 {
		t.Fatalf("SettleInFlight = %d, %v; want 2", n, err)
	}
	// The claims not begun are back as they were: no record, or deferred
	// with the attempt the claim counted taken back.
	if _, err := ds.Recipient(ctx, d.ID, subs[3].ID); !errors.Is(err, syndicate.ErrNotFound) {
		t.Errorf("a claim never begun kept a record: %v", err)
	}
	if r := recipient(t, ds, d.ID, subs[5].ID); r.State != syndicate.RecipientDeferred || r.Attempts != 2 {
		t.Errorf("a deferred message claimed and given back: %+v, want deferred after 2 attempts", r)
	}
	for i, want := range []syndicate.RecipientState{syndicate.RecipientSent, syndicate.RecipientUncertain, syndicate.RecipientUncertain} {
		r := recipient(t, ds, d.ID, subs[i].ID)
		if r.State != want || r.Attempts != 1 {
			t.Errorf("subscriber %d: %s after %d attempts, want %s after 1", i, r.State, r.Attempts, want)
		}
		if want == syndicate.RecipientUncertain && r.LastError == "" {
			t.Errorf("subscriber %d: uncertain without a reason", i)
		}
	}
	if got := unsent(t, ds, d.ID, "en", 0, 0); !slices.Equal(subscriberIDs(got), []int64{subs[3].ID, subs[4].ID, subs[5].ID}) {
		t.Errorf("Unsent after settling = %v, want the ones never begun", subscriberIDs(got))
	}
	if got := recipient(t, ds, e.ID, subs[1].ID); got.State != syndicate.RecipientClaimed {
		t.Errorf("another digest's record: %s, want claimed", got.State)
	}
	if n, err := ds.SettleInFlight(ctx, d.ID, at(1), stopped(ownerA)); err != nil || n != 0 {
		t.Errorf("second SettleInFlight = %d, %v; want 0", n, err)
	}
}

func testDigestCounts(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 2)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	e, _ := createDigest(t, ds, newDigest("q", ids[1]))
	subs := confirmedSubscribers(t, st, "en", 6)
	counts := func(id int64) map[syndicate.RecipientState]int {
		t.Helper()
		c, err := ds.RecipientCounts(t.Context(), id)
		if err != nil {
			t.Fatalf("RecipientCounts: %v", err)
		}
		return c
	}
	if c := counts(d.ID); len(c) != 0 {
		t.Errorf("counts of a digest without records: %v", c)
	}
	states := []syndicate.RecipientState{syndicate.RecipientSent, syndicate.RecipientSent, syndicate.RecipientSent,
		syndicate.RecipientDeferred, syndicate.RecipientFailed, syndicate.RecipientUncertain}
	for i, s := range states {
		recordRecipients(t, ds, syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[i].ID, State: s, Attempts: 1})
	}
	claim(t, ds, e.ID, subscriberIDs(subs[:2]), at(1))
	want := map[syndicate.RecipientState]int{syndicate.RecipientSent: 3, syndicate.RecipientDeferred: 1,
		syndicate.RecipientFailed: 1, syndicate.RecipientUncertain: 1}
	if c := counts(d.ID); !mapsEqual(c, want) {
		t.Errorf("counts = %v, want %v", c, want)
	}
	if c := counts(e.ID); !mapsEqual(c, map[syndicate.RecipientState]int{syndicate.RecipientClaimed: 2}) {
		t.Errorf("counts of the other digest = %v", c)
	}
}

func mapsEqual[K comparable](a, b map[K]int) bool {
	for k, v := range a {
		if v != 0 && b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if v != 0 && a[k] != v {
			return false
		}
	}
	return true
}

// testDigestClaimLease: a claim not begun holds for RecipientClaimLease;
// past it, another process may claim the message (its first claimer
// died), and that claim counts one more attempt.
func testDigestClaimLease(t *testing.T, st syndicate.Store) {
	ds := st
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := confirmedSubscribers(t, st, "en", 2)
	claim(t, ds, d.ID, subscriberIDs(subs), at(1))
	if begun, err := ds.BeginRecipients(t.Context(), d.ID, ownerA, nil, []int64{subs[1].ID}); err != nil || len(begun) != 1 {
		t.Fatalf("BeginRecipients: %v, %v", begun, err)
	}
	if got := claim(t, ds, d.ID, subscriberIDs(subs), at(1).Add(syndicate.RecipientClaimLease-time.Microsecond)); len(got) != 0 {
		t.Fatalf("claimed within the lease: %v", recipientSubscribers(got))
	}
	got := claim(t, ds, d.ID, subscriberIDs(subs), at(1).Add(syndicate.RecipientClaimLease))
	if len(got) != 1 || got[0].SubscriberID != subs[0].ID || got[0].Attempts != 2 || got[0].State != syndicate.RecipientClaimed {
		t.Fatalf("after the lease: %+v, want subscriber %d claimed again (2 attempts); a begun message is never reclaimed", got, subs[0].ID)
	}
}

// testDigestEditorDecisions: an editor lists a digest's messages by state
// with their addresses, sends uncertain or failed ones again (the digest
// reopens, and they are mailed) or records them sent.
func testDigestEditorDecisions(t *testing.T, st syndicate.Store) {
	ds := st
	ctx := t.Context()
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := confirmedSubscribers(t, st, "en", 4)
	recordRecipients(t, ds,
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[0].ID, State: syndicate.RecipientSent, Attempts: 1},
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[1].ID, State: syndicate.RecipientUncertain, Attempts: 1, LastError: "interrupted"},
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[2].ID, State: syndicate.RecipientUncertain, Attempts: 1, LastError: "interrupted"},
		syndicate.Recipient{DigestID: d.ID, SubscriberID: subs[3].ID, State: syndicate.RecipientFailed, Attempts: 1, LastError: "550 no such user"},
	)
	if err := ds.FinishDigest(ctx, d.ID, at(2)); err != nil {
		t.Fatal(err)
	}
	msgs, err := ds.DigestMessages(ctx, d.ID, []syndicate.RecipientState{syndicate.RecipientUncertain})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Email != subs[1].Email || msgs[1].Email != subs[2].Email || msgs[0].LastError != "interrupted" {
		t.Fatalf("uncertain messages: %+v", msgs)
	}
	if all, err := ds.DigestMessages(ctx, d.ID, nil); err != nil || len(all) != 4 {
		t.Fatalf("all messages: %d, %v", len(all), err)
	}
	uncertain := []syndicate.RecipientState{syndicate.RecipientUncertain}
	// Resend one uncertain and (not in the states) the sent one: only the
	// uncertain moves; the digest reopens for it.
	changed, err := ds.SetRecipients(ctx, d.ID, []int64{subs[0].ID, subs[1].ID}, uncertain, syndicate.RecipientDeferred, "sent again by an editor")
	if err != nil || !slices.Equal(changed, []int64{subs[1].ID}) {
		t.Fatalf("resend: %v, %v; want only subscriber %d", changed, err, subs[1].ID)
	}
	if got, _ := ds.Digest(ctx, d.ID); !got.FinishedAt.IsZero() {
		t.Errorf("a digest with a message to resend is still finished")
	}
	if got := subscriberIDs(unsent(t, ds, d.ID, "en", 0, 0)); !slices.Equal(got, []int64{subs[1].ID}) {
		t.Errorf("Unsent after resend = %v, want %d", got, subs[1].ID)
	}
	changed, err = ds.SetRecipients(ctx, d.ID, []int64{subs[2].ID, subs[3].ID}, []syndicate.RecipientState{syndicate.RecipientUncertain, syndicate.RecipientFailed},
		syndicate.RecipientSent, "marked sent by an editor")
	if err != nil || len(changed) != 2 {
		t.Fatalf("mark sent: %v, %v", changed, err)
	}
	if r := recipient(t, ds, d.ID, subs[3].ID); r.State != syndicate.RecipientSent || r.LastError != "marked sent by an editor" {
		t.Errorf("marked sent: %+v", r)
	}
	if _, err := ds.SetRecipients(ctx, d.ID, []int64{subs[0].ID}, uncertain, syndicate.RecipientFailed, ""); err == nil {
		t.Errorf("an editor moved a message to failed")
	}
}

// testDigestSettleOwners: the messages a process still running has in
// flight are its own: another may neither begin them nor settle them
// until its lease ends; then they settle like a stopped process's.
func testDigestSettleOwners(t *testing.T, st syndicate.Store) {
	ds := st
	ctx := t.Context()
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := confirmedSubscribers(t, st, "en", 4)
	claimAs(t, ds, ownerA, d.ID, subscriberIDs(subs[:2]), at(1))
	claimAs(t, ds, ownerB, d.ID, subscriberIDs(subs[2:]), at(1))
	if begun, err := ds.BeginRecipients(ctx, d.ID, ownerA, nil, subscriberIDs(subs)); err != nil || !slices.Equal(begun, subscriberIDs(subs[:2])) {
		t.Fatalf("A began %v, %v; want only its own claims %v", begun, err, subscriberIDs(subs[:2]))
	}
	if begun, err := ds.BeginRecipients(ctx, d.ID, ownerB, nil, subscriberIDs(subs[2:3])); err != nil || len(begun) != 1 {
		t.Fatalf("B began %v, %v", begun, err)
	}

	// A stopped; B runs: only A's message in flight settles.
	if n, err := ds.SettleInFlight(ctx, d.ID, at(1), stopped(ownerA)); err != nil || n != 2 {
		t.Fatalf("SettleInFlight with A stopped = %d, %v; want A's 2", n, err)
	}
	for i, want := range []syndicate.RecipientState{syndicate.RecipientUncertain, syndicate.RecipientUncertain,
		syndicate.RecipientSending, syndicate.RecipientClaimed} {
		if r := recipient(t, ds, d.ID, subs[i].ID); r.State != want {
			t.Errorf("subscriber %d: %s, want %s", i, r.State, want)
		}
	}

	// B's lease ends (it began subs[2] at the store's clock, which may be
	// later than at(1): a day later is past any lease).
	later := time.Now().Add(24 * time.Hour)
	if n, err := ds.SettleInFlight(ctx, d.ID, later, stopped()); err != nil || n != 1 {
		t.Fatalf("SettleInFlight after B's lease = %d, %v; want 1", n, err)
	}
	if r := recipient(t, ds, d.ID, subs[2].ID); r.State != syndicate.RecipientUncertain {
		t.Errorf("B's message in flight after its lease: %s, want uncertain", r.State)
	}
	if _, err := ds.Recipient(ctx, d.ID, subs[3].ID); !errors.Is(err, syndicate.ErrNotFound) {
		t.Errorf("B's claim never begun, after its lease: %v; want no record", err)
	}
}

// testDigestBeginRecordsEnded: a start carries the outcomes known since
// the last one, written with it; a settle then finds only the message
// begun last in flight.
func testDigestBeginRecordsEnded(t *testing.T, st syndicate.Store) {
	ds := st
	ctx := t.Context()
	ids := digestFixture(t, st, 1)
	d, _ := createDigest(t, ds, newDigest("p", ids[0]))
	subs := confirmedSubscribers(t, st, "en", 3)
	claimed := claimAs(t, ds, ownerA, d.ID, subscriberIDs(subs), at(1))
	if begun, err := ds.BeginRecipients(ctx, d.ID, ownerA, nil, subscriberIDs(subs[:1])); err != nil || len(begun) != 1 {
		t.Fatalf("BeginRecipients: %v, %v", begun, err)
	}
	sent := claimed[0]
	sent.State, sent.LastError = syndicate.RecipientSent, ""
	failed := claimed[1]
	failed.State, failed.LastError = syndicate.RecipientFailed, "550 no such user"
	begun, err := ds.BeginRecipients(ctx, d.ID, ownerA, []syndicate.Recipient{sent, failed}, subscriberIDs(subs[2:]))
	if err != nil || !slices.Equal(begun, subscriberIDs(subs[2:])) {
		t.Fatalf("BeginRecipients with what ended: %v, %v", begun, err)
	}
	for i, want := range []syndicate.RecipientState{syndicate.RecipientSent, syndicate.RecipientFailed, syndicate.RecipientSending} {
		if r := recipient(t, ds, d.ID, subs[i].ID); r.State != want {
			t.Errorf("subscriber %d: %s, want %s", i, r.State, want)
		}
	}
	if n, err := ds.SettleInFlight(ctx, d.ID, at(1), stopped(ownerA)); err != nil || n != 1 {
		t.Errorf("SettleInFlight = %d, %v; want only the message begun last", n, err)
	}
	if _, err := ds.BeginRecipients(ctx, d.ID, ownerA, []syndicate.Recipient{{DigestID: d.ID, SubscriberID: subs[0].ID, State: "lost"}}, nil); err == nil {
		t.Error("BeginRecipients recorded an unknown state")
	}
}
