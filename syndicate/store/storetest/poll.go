package storetest

import (
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var feedStateTests = []subtest{
	{"UnknownFeed", testFeedStateUnknown},
	{"RoundTrip", testFeedStateRoundTrip},
}

var recordPollTests = []subtest{
	{"NewArticles", testNewArticles},
	{"FirstSeenKept", testFirstSeenKept},
	{"ExtremeDates", testExtremeDates},
	{"KnownKeysPerFeed", testKnownKeysPerFeed},
	{"Aliases", testAliases},
	{"KnownLinks", testKnownLinks},
	{"ManyKeys", testManyKeys},
	{"Related", testRelated},
	{"Updated", testUpdated},
	{"Routes", testRoutes},
	{"Atomic", testRecordPollAtomic},
	{"SameRecordTwice", testRecordPollTwice},
}

func testFeedStateUnknown(t *testing.T, s syndicate.Store) {
	st, err := s.FeedState(t.Context(), "never-polled")
	if err != nil {
		t.Fatalf("FeedState: %v", err)
	}
	checkFeedState(t, st, syndicate.FeedState{FeedID: "never-polled"})
	for _, ts := range []time.Time{st.LastPollAt, st.LastOKAt, st.NextPollAt} {
		if !ts.IsZero() {
			t.Errorf("FeedState of an unknown feed has a time %v", ts)
		}
	}
}

func checkFeedState(t *testing.T, got, want syndicate.FeedState) {
	t.Helper()
	if got.FeedID != want.FeedID || got.ETag != want.ETag || got.LastModified != want.LastModified ||
		got.LastError != want.LastError || got.Failures != want.Failures ||
		got.GoneURL != want.GoneURL || got.MovedFrom != want.MovedFrom || got.MovedTo != want.MovedTo {
		t.Errorf("FeedState = %+v, want %+v", got, want)
	}
	sameTime(t, "LastPollAt", got.LastPollAt, want.LastPollAt)
	sameTime(t, "LastOKAt", got.LastOKAt, want.LastOKAt)
	sameTime(t, "NextPollAt", got.NextPollAt, want.NextPollAt)
}

func feedState(t *testing.T, s syndicate.Store, feed string) syndicate.FeedState {
	t.Helper()
	st, err := s.FeedState(t.Context(), feed)
	if err != nil {
		t.Fatalf("FeedState(%q): %v", feed, err)
	}
	return st
}

func testFeedStateRoundTrip(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	almaty := time.FixedZone("Almaty", 5*3600)
	first := syndicate.FeedState{
		FeedID:       "emancipation-en",
		ETag:         `W/"5f3a-17"`,
		LastModified: "Fri, 14 Mar 2025 09:26:53 GMT",
		LastPollAt:   at(1),
		LastOKAt:     at(0).In(almaty),
		LastError:    "fetch: 503 Service Unavailable — «retry»",
		Failures:     3,
		NextPollAt:   at(2).Add(123 * time.Microsecond),
		GoneURL:      "https://old.example.org/feed?lang=en&x=1",
		MovedFrom:    "http://example.org/feed/",
		MovedTo:      "https://example.org/feed/atom?ñ=1#top",
	}
	if err := s.SaveFeedState(ctx, first); err != nil {
		t.Fatalf("SaveFeedState: %v", err)
	}
	checkFeedState(t, feedState(t, s, first.FeedID), first)

	// Saving again replaces every field, zero values included.
	second := syndicate.FeedState{FeedID: first.FeedID, LastPollAt: at(3), LastOKAt: at(3)}
	if err := s.SaveFeedState(ctx, second); err != nil {
		t.Fatalf("SaveFeedState: %v", err)
	}
	checkFeedState(t, feedState(t, s, first.FeedID), second)

	// The feed went away, then came back at another URL: each field on its own.
	for _, st := range []syndicate.FeedState{
		{FeedID: first.FeedID, GoneURL: "https://example.org/feed"},
		{FeedID: first.FeedID, MovedFrom: "https://example.org/feed", MovedTo: "https://news.example.org/feed"},
		{FeedID: first.FeedID, GoneURL: "https://news.example.org/feed", MovedFrom: "https://example.org/feed", MovedTo: "https://news.example.org/feed"},
	} {
		if err := s.SaveFeedState(ctx, st); err != nil {
			t.Fatalf("SaveFeedState: %v", err)
		}
		checkFeedState(t, feedState(t, s, first.FeedID), st)
	}

	// Other feeds are untouched.
	checkFeedState(t, feedState(t, s, "other"), syndicate.FeedState{FeedID: "other"})
}

func testNewArticles(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	a1, a2 := newArticle("f", "a1", 1), newArticle("f", "a2", 2)
	a2.Categories = nil
	a2.ImageURL, a2.ImageCaption = "", ""
	a2.Related = nil
	rec := poll("f", a1, a2)
	rec.State.LastModified, rec.State.Failures = "Fri, 14 Mar 2025 09:26:53 GMT", 0
	rec.State.MovedFrom, rec.State.MovedTo = "http://example.org/feed", "https://example.org/feed"
	record(t, s, rec)

	m, err := s.KnownKeys(ctx, "f", []string{"a1", "a2", "unknown"})
	if err != nil {
		t.Fatalf("KnownKeys: %v", err)
	}
	if len(m) != 2 {
		t.Fatalf("KnownKeys = %v, want a1 and a2", m)
	}
	if m["a1"].ID == 0 || m["a2"].ID == 0 || m["a1"].ID == m["a2"].ID {
		t.Errorf("article IDs %d and %d: want distinct, non-zero", m["a1"].ID, m["a2"].ID)
	}
	for _, a := range []syndicate.Article{a1, a2} {
		if m[a.Key].Hash != a.Hash {
			t.Errorf("KnownKeys[%q].Hash = %q, want %q", a.Key, m[a.Key].Hash, a.Hash)
		}
		got, err := s.Article(ctx, m[a.Key].ID)
		if err != nil {
			t.Fatalf("Article(%d): %v", m[a.Key].ID, err)
		}
		if got.ID != m[a.Key].ID {
			t.Errorf("Article(%d).ID = %d", m[a.Key].ID, got.ID)
		}
		if got.FirstSeen.IsZero() {
			t.Errorf("article %q: FirstSeen not set", a.Key)
		}
		checkArticle(t, got, a, true)
	}

	if m, err := s.KnownKeys(ctx, "f", nil); err != nil || len(m) != 0 {
		t.Errorf("KnownKeys(no keys) = %v, %v; want empty", m, err)
	}
	// The feed state went in with the articles.
	checkFeedState(t, feedState(t, s, "f"), rec.State)

	// The next poll's state replaces it whole.
	rec = poll("f")
	rec.State.GoneURL = "https://example.org/feed"
	record(t, s, rec)
	checkFeedState(t, feedState(t, s, "f"), rec.State)
}

func testFirstSeenKept(t *testing.T, s syndicate.Store) {
	a := newArticle("f", "a", 1)
	a.FirstSeen = at(-48).Add(7 * time.Microsecond)
	a.Published, a.Updated = time.Time{}, time.Time{}
	record(t, s, poll("f", a))
	got, err := s.Article(t.Context(), known(t, s, "f", "a").ID)
	if err != nil {
		t.Fatalf("Article: %v", err)
	}
	sameTime(t, "FirstSeen", got.FirstSeen, a.FirstSeen)
	sameTime(t, "SortTime()", got.SortTime(), a.FirstSeen)
	if !got.Published.IsZero() || !got.Updated.IsZero() {
		t.Errorf("zero dates came back as %v, %v", got.Published, got.Updated)
	}
}

// Feeds give broken dates; they must survive, not overflow.
func testExtremeDates(t *testing.T, s syndicate.Store) {
	a := newArticle("f", "old", 1)
	a.Published = time.Date(1, 1, 2, 3, 4, 5, 6000, time.UTC)
	a.Updated = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	b := newArticle("f", "epoch", 2)
	b.Published = time.Unix(0, 0)
	b.Updated = time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC)
	record(t, s, poll("f", a, b))
	for _, want := range []syndicate.Article{a, b} {
		got, err := s.Article(t.Context(), known(t, s, "f", want.Key).ID)
		if err != nil {
			t.Fatalf("Article: %v", err)
		}
		checkArticle(t, got, want, true)
	}
}

func testKnownKeysPerFeed(t *testing.T, s syndicate.Store) {
	record(t, s, poll("a", newArticle("a", "same-key", 1)))
	m, err := s.KnownKeys(t.Context(), "b", []string{"same-key"})
	if err != nil {
		t.Fatalf("KnownKeys: %v", err)
	}
	if len(m) != 0 {
		t.Errorf("KnownKeys of feed b found %v, recorded in feed a only", m)
	}
}

func testAliases(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	orig := newArticle("f", "http://old.example.org/?p=1", 1)
	orig.Link = "https://example.org/2025/mass-strike"
	record(t, s, poll("f", orig))
	want := known(t, s, "f", orig.Key)

	// Next poll: the site moved, the GUID changed, the link did not.
	rec := poll("f")
	rec.Aliases = []syndicate.Alias{{Key: "https://example.org/?p=1", Link: orig.Link}}
	record(t, s, rec)
	if got := known(t, s, "f", "https://example.org/?p=1"); got != want {
		t.Errorf("alias leads to %+v, want %+v", got, want)
	}
	// The original key is still known.
	if got := known(t, s, "f", orig.Key); got != want {
		t.Errorf("original key leads to %+v, want %+v", got, want)
	}

	// An alias of an article of the same poll: one fetch with two GUIDs
	// for one link.
	twin := newArticle("f", "twin-1", 2)
	rec = poll("f", twin)
	rec.Aliases = []syndicate.Alias{{Key: "twin-2", Link: twin.Link}}
	record(t, s, rec)
	if got, want := known(t, s, "f", "twin-2"), known(t, s, "f", "twin-1"); got != want {
		t.Errorf("alias of the same poll leads to %+v, want %+v", got, want)
	}

	// An overlapping poll that missed the alias records its key as a new
	// article: the alias stands.
	late := newArticle("f", "twin-2", 2)
	late.Link = twin.Link
	record(t, s, poll("f", late))
	if got, want := known(t, s, "f", "twin-2"), known(t, s, "f", "twin-1"); got != want {
		t.Errorf("alias recorded again as an article leads to %+v, want %+v", got, want)
	}

	m, err := s.KnownKeys(ctx, "other", []string{"twin-2", "https://example.org/?p=1"})
	if err != nil || len(m) != 0 {
		t.Errorf("KnownKeys of another feed = %v, %v; want none", m, err)
	}
}

func testKnownLinks(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	a := newArticle("a", "a1", 1)
	noLink := newArticle("a", "a2", 2)
	noLink.Link = ""
	record(t, s, poll("a", a, noLink))
	b := newArticle("b", "b1", 1)
	record(t, s, poll("b", b))

	m, err := s.KnownLinks(ctx, "a", []string{a.Link, b.Link, "https://example.org/unknown", ""})
	if err != nil {
		t.Fatalf("KnownLinks: %v", err)
	}
	if len(m) != 1 {
		t.Fatalf("KnownLinks = %v, want only %q", m, a.Link)
	}
	if got, want := m[a.Link], known(t, s, "a", a.Key); got != want {
		t.Errorf("KnownLinks[%q] = %+v, want %+v", a.Link, got, want)
	}
	// A's link seen from feed B: not known there.
	if m, err := s.KnownLinks(ctx, "b", []string{a.Link}); err != nil || len(m) != 0 {
		t.Errorf("KnownLinks of feed b = %v, %v; want none", m, err)
	}
}

// A feed of a thousand items asks about a thousand keys and links at once.
func testManyKeys(t *testing.T, s syndicate.Store) {
	const n = 1200
	rec := poll("f")
	var keys, links []string
	for i := range n {
		a := newArticle("f", fmt.Sprintf("item-%04d", i), i%24)
		rec.Articles = append(rec.Articles, a)
		keys, links = append(keys, a.Key), append(links, a.Link)
	}
	record(t, s, rec)
	keys, links = append(keys, "unknown"), append(links, "https://example.org/unknown")
	mk, err := s.KnownKeys(t.Context(), "f", keys)
	if err != nil || len(mk) != n {
		t.Errorf("KnownKeys of %d keys: %d known, %v; want %d", len(keys), len(mk), err, n)
	}
	ml, err := s.KnownLinks(t.Context(), "f", links)
	if err != nil || len(ml) != n {
		t.Errorf("KnownLinks of %d links: %d known, %v; want %d", len(links), len(ml), err, n)
	}
	for i, a := range rec.Articles {
		if mk[a.Key] != ml[a.Link] || mk[a.Key].ID == 0 {
			t.Fatalf("item %d: by key %+v, by link %+v", i, mk[a.Key], ml[a.Link])
		}
	}
}

func testUpdated(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	byID, byKey, byAlias := newArticle("f", "by-id", 1), newArticle("f", "by-key", 2), newArticle("f", "by-alias", 3)
	rec := poll("f", byID, byKey, byAlias)
	rec.Aliases = []syndicate.Alias{{Key: "alias", Link: byAlias.Link}}
	record(t, s, rec)
	before := map[string]syndicate.Article{}
	for _, a := range rec.Articles {
		got, err := s.Article(ctx, known(t, s, "f", a.Key).ID)
		if err != nil {
			t.Fatalf("Article: %v", err)
		}
		before[a.Key] = got
	}

	change := func(a syndicate.Article) syndicate.Article {
		a.Title += " (corrected)"
		a.Summary = "A new lead."
		a.ContentHTML = "<p>New content</p>"
		a.ImageURL, a.ImageCaption = "https://example.org/new.jpg", "New caption"
		a.Categories = []string{"Statements"}
		a.Related = append([]syndicate.Link{{Title: "Added first", URL: "https://example.org/added"}}, a.Related[1:]...)
		a.Language, a.Author = "en", "Editors"
		a.Published, a.Updated = a.Published.Add(-time.Hour), at(10)
		a.Position = 7
		a.Hash = a.Hash + "-v2"
		return a
	}
	u1 := change(byID)
	u1.ID, u1.Key = before["by-id"].ID, "" // the ID alone names it
	u2 := change(byKey)
	u3 := change(byAlias)
	u3.Key = "alias"
	rec = poll("f")
	rec.Updated = []syndicate.Article{u1, u2, u3}
	record(t, s, rec)

	for _, c := range []struct {
		u    syndicate.Article
		orig syndicate.Article
	}{{u1, before["by-id"]}, {u2, before["by-key"]}, {u3, before["by-alias"]}} {
		got, err := s.Article(ctx, c.orig.ID)
		if err != nil {
			t.Fatalf("Article: %v", err)
		}
		want := c.u
		want.Key, want.Link = c.orig.Key, c.orig.Link
		checkArticle(t, got, want, true)
		sameTime(t, "FirstSeen after update", got.FirstSeen, c.orig.FirstSeen)
		if ka := known(t, s, "f", c.orig.Key); ka.ID != c.orig.ID || ka.Hash != c.u.Hash {
			t.Errorf("KnownKeys[%q] = %+v, want ID %d and hash %q", c.orig.Key, ka, c.orig.ID, c.u.Hash)
		}
	}

	// An update of an undated article keeps its place, which its
	// FirstSeen gives.
	x, y := newArticle("f", "undated-x", 0), newArticle("f", "undated-y", 0)
	x.Published, x.Updated, x.FirstSeen = time.Time{}, time.Time{}, at(-2)
	y.Published, y.Updated, y.FirstSeen = time.Time{}, time.Time{}, at(-1)
	rec = poll("f", x, y)
	rec.Deliveries = []syndicate.NewDelivery{pending(x.Key, "c1", x.FirstSeen), pending(y.Key, "c1", y.FirstSeen)}
	record(t, s, rec)
	y2 := change(y)
	y2.Published, y2.Updated, y2.FirstSeen = time.Time{}, time.Time{}, time.Time{}
	rec = poll("f")
	rec.Updated = []syndicate.Article{y2}
	record(t, s, rec)
	var order []string
	for _, v := range list(t, s, syndicate.DeliveryFilter{ChannelID: "c1"}) {
		order = append(order, v.Article.Key)
	}
	if !slices.Equal(order, []string{x.Key, y.Key}) {
		t.Errorf("deliveries of undated articles listed as %q after an update, want %q", order, []string{x.Key, y.Key})
	}

	// An update of an article that is not there fails the poll.
	rec = poll("f")
	rec.Updated = []syndicate.Article{change(newArticle("f", "never-seen", 4))}
	if err := s.RecordPoll(ctx, rec); err == nil {
		t.Error("RecordPoll updating an unknown article: no error")
	}
}

// Related links are kept in order, on insert and on update, and come back
// from Article and from ListDeliveries.
func testRelated(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	many := newArticle("f", "many", 1)
	many.Related = nil
	for i := range 12 {
		many.Related = append(many.Related, syndicate.Link{
			Title: fmt.Sprintf("Link %d: \"quoted\", <b>not bold</b> & ✊", i),
			URL:   fmt.Sprintf("https://example.org/%d?q=a%%20b&r=%d", 12-i, i),
		})
	}
	none, empty := newArticle("f", "none", 2), newArticle("f", "empty", 3)
	none.Related, empty.Related = nil, []syndicate.Link{}
	rec := poll("f", many, none, empty)
	for _, a := range rec.Articles {
		rec.Deliveries = append(rec.Deliveries, pending(a.Key, "c1", a.Published))
	}
	record(t, s, rec)

	article := func(key string) syndicate.Article {
		t.Helper()
		a, err := s.Article(ctx, known(t, s, "f", key).ID)
		if err != nil {
			t.Fatalf("Article(%q): %v", key, err)
		}
		return a
	}
	listed := func(key string) syndicate.Article {
		t.Helper()
		id := known(t, s, "f", key).ID
		for _, v := range list(t, s, syndicate.DeliveryFilter{ChannelID: "c1"}) {
			if v.ArticleID == id {
				return v.Article
			}
		}
		t.Fatalf("no delivery of %q listed", key)
		return syndicate.Article{}
	}
	for _, a := range []syndicate.Article{many, none, empty} {
		checkArticle(t, article(a.Key), a, true)
		checkArticle(t, listed(a.Key), a, false)
	}

	// An update replaces the links: more, fewer, none.
	for _, related := range [][]syndicate.Link{
		{{Title: "Only one", URL: "https://example.org/one"}},
		nil,
		slices.Concat(many.Related, many.Related),
	} {
		u := many
		u.Related, u.Hash = related, u.Hash+"+"
		rec := poll("f")
		rec.Updated = []syndicate.Article{u}
		record(t, s, rec)
		checkArticle(t, article(u.Key), u, true)
		checkArticle(t, listed(u.Key), u, false)
		many = u
	}
	// The other articles are untouched.
	checkArticle(t, article(none.Key), none, true)
}

func routes(t *testing.T, s syndicate.Store, feed string) map[string]bool {
	t.Helper()
	r, err := s.Routes(t.Context(), feed)
	if err != nil {
		t.Fatalf("Routes(%q): %v", feed, err)
	}
	return r
}

func testRoutes(t *testing.T, s syndicate.Store) {
	if r := routes(t, s, "f"); len(r) != 0 {
		t.Errorf("Routes of a new feed = %v, want none", r)
	}
	rec := poll("f")
	rec.Routes = []string{"mastodon-en", "telegram-en"}
	record(t, s, rec)
	rec.Routes = []string{"telegram-en", "digest-en"}
	record(t, s, rec)
	other := poll("g")
	other.Routes = []string{"digest-es"}
	record(t, s, other)

	want := map[string]bool{"mastodon-en": true, "telegram-en": true, "digest-en": true}
	if got := routes(t, s, "f"); !maps.Equal(got, want) {
		t.Errorf("Routes(f) = %v, want %v", got, want)
	}
	if got := routes(t, s, "g"); !maps.Equal(got, map[string]bool{"digest-es": true}) {
		t.Errorf("Routes(g) = %v, want digest-es", got)
	}
}

func testRecordPollAtomic(t *testing.T, s syndicate.Store) {
	ctx := t.Context()
	a := newArticle("f", "a", 1)
	rec := poll("f", a, newArticle("f", "b", 2))
	rec.Aliases = []syndicate.Alias{{Key: "a-alias", Link: a.Link}}
	rec.Routes = []string{"c1"}
	rec.Deliveries = []syndicate.NewDelivery{
		pending("a", "c1", a.Published),
		pending("no-such-article", "c1", a.Published), // fails the whole poll
	}
	if err := s.RecordPoll(ctx, rec); err == nil {
		t.Fatal("RecordPoll with a delivery of an unknown article: no error")
	}

	checkFeedState(t, feedState(t, s, "f"), syndicate.FeedState{FeedID: "f"})
	if m, err := s.KnownKeys(ctx, "f", []string{"a", "b", "a-alias"}); err != nil || len(m) != 0 {
		t.Errorf("KnownKeys after a failed poll = %v, %v; want none", m, err)
	}
	if m, err := s.KnownLinks(ctx, "f", []string{a.Link}); err != nil || len(m) != 0 {
		t.Errorf("KnownLinks after a failed poll = %v, %v; want none", m, err)
	}
	if r := routes(t, s, "f"); len(r) != 0 {
		t.Errorf("Routes after a failed poll = %v, want none", r)
	}
	if c := counts(t, s); len(c) != 0 {
		t.Errorf("CountDeliveries after a failed poll = %v, want none", c)
	}

	// The same poll without the bad delivery goes in whole.
	rec.Deliveries = rec.Deliveries[:1]
	record(t, s, rec)
	if c := counts(t, s); c["c1"][syndicate.StatePending] != 1 {
		t.Errorf("CountDeliveries = %v, want one pending on c1", c)
	}
}

func testRecordPollTwice(t *testing.T, s syndicate.Store) {
	a, b := newArticle("f", "a", 1), newArticle("f", "b", 2)
	rec := poll("f", a, b)
	rec.Aliases = []syndicate.Alias{{Key: "a-alias", Link: a.Link}}
	rec.Routes = []string{"c1", "c2"}
	rec.Deliveries = []syndicate.NewDelivery{
		pending("a", "c1", a.Published), pending("b", "c1", b.Published), pending("a", "c2", a.Published),
	}
	record(t, s, rec)
	first := map[string]syndicate.KnownArticle{"a": known(t, s, "f", "a"), "b": known(t, s, "f", "b")}
	listed := list(t, s, syndicate.DeliveryFilter{})

	record(t, s, rec)
	for k, want := range first {
		if got := known(t, s, "f", k); got != want {
			t.Errorf("after the second record, %q leads to %+v, want %+v", k, got, want)
		}
	}
	if got := known(t, s, "f", "a-alias"); got != first["a"] {
		t.Errorf("alias leads to %+v, want %+v", got, first["a"])
	}
	if got := list(t, s, syndicate.DeliveryFilter{}); !slices.Equal(viewIDs(got), viewIDs(listed)) {
		t.Errorf("deliveries after the second record: %v, want %v", viewIDs(got), viewIDs(listed))
	}
}
