// Package storetest is the conformance suite every syndicate.Store passes.
//
// A store's own tests call Run with a function that opens a new, empty
// store; each subtest gets its own. What the suite checks beyond the
// comments of syndicate.Store, so that every store behaves alike:
//
//   - times keep at least microsecond precision and are compared with Equal;
//   - RecordPoll may be given the same outcome twice (overlapping polls of
//     one feed): the second changes nothing the first did not;
//   - a new article keeps a FirstSeen set by the caller;
//   - an updated article is found by ID, else by key or alias key, and keeps
//     its key, link and FirstSeen;
//   - PollRecord.Routes adds routes, it never removes one;
//   - a NewDelivery names its article by key or alias key; a zero SortTime
//     takes the article's SortTime; a state other than pending or held, or
//     an unknown key, fails the whole poll;
//   - DueDeliveries with a limit of zero or less has no limit;
//   - UpdateDelivery sets UpdatedAt itself and never changes a delivery's
//     article, channel, SortTime or CreatedAt;
//   - ListDeliveries with a limit returns the newest deliveries, still
//     newest last; its articles may come without ContentHTML, but with
//     their Related links;
//   - Article.Related and Categories come back in order; nil and empty
//     both come back empty;
//   - RecordPoll.State replaces the saved state whole, as SaveFeedState
//     does (GoneURL and MovedFrom/MovedTo included);
//   - SaveSubscription replaces every field; a zero UpdatedAt takes the
//     store's clock, any other is kept;
//   - EnsureMeta treats an empty value as a value: it is kept, and wins;
//   - a store that is a syndicate.EditorStore passes the Desk group: an
//     override is kept by UpdateDelivery, ListArticles pages newest first
//     and counts every match, attempts come back in order, a pause keeps
//     the time of the first one.
package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

type subtest struct {
	name string
	fn   func(t *testing.T, s syndicate.Store)
}

// Run runs the suite. open must return a new, empty store; Run closes it
// when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) syndicate.Store) {
	groups := []struct {
		name  string
		tests []subtest
	}{
		{"FeedState", feedStateTests},
		{"RecordPoll", recordPollTests},
		{"NewDelivery", newDeliveryTests},
		{"DueDeliveries", dueTests},
		{"UpdateDelivery", updateTests},
		{"Lookup", lookupTests},
		{"ListDeliveries", listTests},
		{"Subscription", subscriptionTests},
		{"EnsureMeta", metaTests},
		{"Subscribers", subscriberTests},
		{"Digests", digestTests},
		{"Desk", deskTests},
		{"Concurrency", concurrencyTests},
		{"Leases", leaseTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, st := range g.tests {
				t.Run(st.name, func(t *testing.T) {
					s := open(t)
					t.Cleanup(func() {
						if err := s.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					st.fn(t, s)
				})
			}
		})
	}
}

// at returns a fixed instant, with microseconds, plus h hours.
func at(h int) time.Time {
	return time.Date(2025, 3, 14, 9, 26, 53, 123456000, time.UTC).Add(time.Duration(h) * time.Hour)
}

func linkOf(key string) string { return "https://example.org/articles/" + key }

// newArticle returns an article of feed with every field set, published at
// at(hour).
func newArticle(feed, key string, hour int) syndicate.Article {
	return syndicate.Article{
		FeedID:       feed,
		Key:          key,
		Link:         linkOf(key),
		Title:        "Huelga de masas en Kazajistán: " + key,
		Summary:      "Lead of " + key + " — “quoted” ✊",
		ContentHTML:  "<p>Content of <b>" + key + "</b> &amp; more</p>",
		ImageURL:     "https://example.org/img/" + key + ".jpg",
		ImageCaption: "Caption of " + key,
		Categories:   []string{"Kazakhstan", "mass-strike", "Kazajistán"},
		// Labels as Atom gives them: the second category has one.
		CategoryLabels: []string{"", "Mass strike", ""},
		Language:       "es",
		Author:         "Emancipación",
		Published:      at(hour),
		Updated:        at(hour).Add(90 * time.Minute),
		Position:       hour,
		Hash:           "hash-" + key,
		Related: []syndicate.Link{
			{Title: "Read also: " + key + " — “the strike goes on”", URL: "https://example.org/related/" + key + "?a=1&b=<2>"},
			{Title: "", URL: "https://example.org/related/untitled#part-2"},
		},
	}
}

// poll returns a PollRecord of feed with a plausible state and articles.
func poll(feed string, articles ...syndicate.Article) syndicate.PollRecord {
	return syndicate.PollRecord{
		State:    syndicate.FeedState{FeedID: feed, ETag: `"v1"`, LastPollAt: at(0), LastOKAt: at(0)},
		Articles: articles,
	}
}

func pending(key, channel string, sortTime time.Time) syndicate.NewDelivery {
	return syndicate.NewDelivery{ArticleKey: key, ChannelID: channel, State: syndicate.StatePending, SortTime: sortTime}
}

func record(t *testing.T, s syndicate.Store, rec syndicate.PollRecord) {
	t.Helper()
	if err := s.RecordPoll(t.Context(), rec); err != nil {
		t.Fatalf("RecordPoll: %v", err)
	}
}

// known returns the article key leads to in feed.
func known(t *testing.T, s syndicate.Store, feed, key string) syndicate.KnownArticle {
	t.Helper()
	m, err := s.KnownKeys(t.Context(), feed, []string{key})
	if err != nil {
		t.Fatalf("KnownKeys: %v", err)
	}
	ka, ok := m[key]
	if !ok {
		t.Fatalf("KnownKeys(%q, %q): not known", feed, key)
	}
	return ka
}

func list(t *testing.T, s syndicate.Store, f syndicate.DeliveryFilter) []syndicate.DeliveryView {
	t.Helper()
	v, err := s.ListDeliveries(t.Context(), f)
	if err != nil {
		t.Fatalf("ListDeliveries(%+v): %v", f, err)
	}
	return v
}

// deliveryOf returns the delivery of the article to channel, if any.
func deliveryOf(t *testing.T, s syndicate.Store, articleID int64, channel string) (syndicate.Delivery, bool) {
	t.Helper()
	var found []syndicate.Delivery
	for _, v := range list(t, s, syndicate.DeliveryFilter{ChannelID: channel}) {
		if v.ArticleID == articleID {
			found = append(found, v.Delivery)
		}
	}
	if len(found) > 1 {
		t.Fatalf("%d deliveries of article %d to %q", len(found), articleID, channel)
	}
	if len(found) == 0 {
		return syndicate.Delivery{}, false
	}
	return found[0], true
}

func mustDeliveryOf(t *testing.T, s syndicate.Store, articleID int64, channel string) syndicate.Delivery {
	t.Helper()
	d, ok := deliveryOf(t, s, articleID, channel)
	if !ok {
		t.Fatalf("no delivery of article %d to %q", articleID, channel)
	}
	return d
}

func counts(t *testing.T, s syndicate.Store) map[string]map[syndicate.State]int {
	t.Helper()
	c, err := s.CountDeliveries(t.Context())
	if err != nil {
		t.Fatalf("CountDeliveries: %v", err)
	}
	return c
}

func sameTime(t *testing.T, what string, got, want time.Time) {
	t.Helper()
	if !got.Equal(want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// checkArticle compares what the store keeps of an article; not the ID and
// FirstSeen, which the store sets.
func checkArticle(t *testing.T, got, want syndicate.Article, withContent bool) {
	t.Helper()
	eq := func(field string, g, w any) {
		t.Helper()
		if g != w {
			t.Errorf("article %q: %s = %q, want %q", want.Key, field, g, w)
		}
	}
	eq("FeedID", got.FeedID, want.FeedID)
	eq("Key", got.Key, want.Key)
	eq("Link", got.Link, want.Link)
	eq("Title", got.Title, want.Title)
	eq("Summary", got.Summary, want.Summary)
	if withContent {
		eq("ContentHTML", got.ContentHTML, want.ContentHTML)
	}
	eq("ImageURL", got.ImageURL, want.ImageURL)
	eq("ImageCaption", got.ImageCaption, want.ImageCaption)
	eq("Language", got.Language, want.Language)
	eq("Author", got.Author, want.Author)
	eq("Hash", got.Hash, want.Hash)
	eq("Position", fmt.Sprint(got.Position), fmt.Sprint(want.Position))
	if !slices.Equal(got.Categories, want.Categories) {
		t.Errorf("article %q: Categories = %q, want %q", want.Key, got.Categories, want.Categories)
	}
	if !slices.Equal(got.CategoryLabels, want.CategoryLabels) {
		t.Errorf("article %q: CategoryLabels = %q, want %q", want.Key, got.CategoryLabels, want.CategoryLabels)
	}
	if !slices.Equal(got.Related, want.Related) {
		t.Errorf("article %q: Related = %q, want %q", want.Key, got.Related, want.Related)
	}
	sameTime(t, "article "+want.Key+" Published", got.Published, want.Published)
	sameTime(t, "article "+want.Key+" Updated", got.Updated, want.Updated)
}

// checkDelivery compares every field.
func checkDelivery(t *testing.T, got, want syndicate.Delivery) {
	t.Helper()
	g, w := got, want
	for _, p := range []*syndicate.Delivery{&g, &w} {
		p.NextAttempt, p.SortTime, p.CreatedAt, p.UpdatedAt, p.SendingSince = time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}
	}
	if g != w {
		t.Errorf("delivery %d:\n got %+v\nwant %+v", want.ID, g, w)
	}
	sameTime(t, "NextAttempt", got.NextAttempt, want.NextAttempt)
	sameTime(t, "SortTime", got.SortTime, want.SortTime)
	sameTime(t, "CreatedAt", got.CreatedAt, want.CreatedAt)
	sameTime(t, "UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	sameTime(t, "SendingSince", got.SendingSince, want.SendingSince)
}

// ids returns the IDs of ds.
func ids(ds []syndicate.Delivery) []int64 {
	out := make([]int64, len(ds))
	for i, d := range ds {
		out[i] = d.ID
	}
	return out
}

func viewIDs(vs []syndicate.DeliveryView) []int64 {
	out := make([]int64, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// sendingOrder sorts ds by SortTime, then ID.
func sendingOrder(ds []syndicate.Delivery) []syndicate.Delivery {
	out := slices.Clone(ds)
	sort.Slice(out, func(i, j int) bool {
		if !out[i].SortTime.Equal(out[j].SortTime) {
			return out[i].SortTime.Before(out[j].SortTime)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: error %v, want %v", what, err, target)
	}
}
