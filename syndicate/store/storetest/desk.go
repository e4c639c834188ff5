package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var deskTests = []subtest{
	{"ReviewAndOverride", testReviewAndOverride},
	{"ListArticles", testListArticles},
	{"Attempts", testAttempts},
	{"Pause", testPause},
}

// testReviewAndOverride: a delivery may be created in review, is not due
// while there, and keeps the editor's text through every update.
func testReviewAndOverride(t *testing.T, s syndicate.Store) {
	nd := pending("a", "c1", at(1))
	nd.State = syndicate.StateReview
	d := seed(t, s, []syndicate.NewDelivery{nd})[0]
	if d.State != syndicate.StateReview || d.Override != "" {
		t.Fatalf("new delivery: %+v", d)
	}
	if ds := due(t, s, "c1", at(100), 0); len(ds) != 0 {
		t.Fatalf("a delivery in review is due: %+v", ds)
	}
	d.Override = "Rewritten ✊ <b>text</b> & more"
	d = move(t, s, d, syndicate.StatePending, time.Time{})
	got, err := s.Delivery(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != syndicate.StatePending || got.Override != d.Override {
		t.Fatalf("after approval: %+v", got)
	}
	// A later update that carries the override keeps it; one that clears
	// it clears it.
	got = move(t, s, got, syndicate.StateSending, time.Time{})
	if v := list(t, s, syndicate.DeliveryFilter{ChannelID: "c1"}); len(v) != 1 || v[0].Override != d.Override {
		t.Fatalf("ListDeliveries lost the override: %+v", v)
	}
	got.Override = ""
	move(t, s, got, syndicate.StateSent, time.Time{})
	if after, _ := s.Delivery(t.Context(), d.ID); after.Override != "" {
		t.Fatalf("override not cleared: %q", after.Override)
	}
}

func listArticles(t *testing.T, es syndicate.EditorStore, f syndicate.ArticleFilter) ([]syndicate.ArticleView, int) {
	t.Helper()
	v, n, err := es.ListArticles(t.Context(), f)
	if err != nil {
		t.Fatalf("ListArticles(%+v): %v", f, err)
	}
	return v, n
}

func articleKeys(v []syndicate.ArticleView) []string {
	var keys []string
	for _, a := range v {
		keys = append(keys, a.Article.Key)
	}
	return keys
}

func testListArticles(t *testing.T, s syndicate.Store) {
	es := s
	rec := poll("f")
	for i := range 5 {
		a := newArticle("f", fmt.Sprintf("a%d", i), i)
		a.Title = fmt.Sprintf("Article %d", i)
		if i == 3 {
			a.Title = "The Mass Strike"
		}
		rec.Articles = append(rec.Articles, a)
		rec.Deliveries = append(rec.Deliveries, pending(a.Key, "c1", time.Time{}))
		if i%2 == 0 {
			rec.Deliveries = append(rec.Deliveries, pending(a.Key, "c2", time.Time{}))
		}
	}
	record(t, s, rec)
	record(t, s, poll("g", newArticle("g", "other", 10)))
	d := mustDeliveryOf(t, s, known(t, s, "f", "a1").ID, "c1")
	move(t, s, d, syndicate.StateFailed, time.Time{})

	views, total := listArticles(t, es, syndicate.ArticleFilter{})
	if total != 6 || fmt.Sprint(articleKeys(views)) != "[other a4 a3 a2 a1 a0]" {
		t.Fatalf("all: %d %v, want 6, newest first", total, articleKeys(views))
	}
	if views[0].Article.ContentHTML != "" || len(views[0].Deliveries) != 0 {
		t.Fatalf("an article without deliveries: %+v", views[0])
	}
	if n := len(views[1].Deliveries); n != 2 || views[1].Deliveries[0].ChannelID != "c1" || views[1].Deliveries[1].ChannelID != "c2" {
		t.Fatalf("deliveries of a4: %+v", views[1].Deliveries)
	}
	for _, tc := range []struct {
		f     syndicate.ArticleFilter
		total int
		keys  string
	}{
		{syndicate.ArticleFilter{Limit: 2}, 6, "[other a4]"},
		{syndicate.ArticleFilter{Limit: 2, Offset: 2}, 6, "[a3 a2]"},
		{syndicate.ArticleFilter{Limit: 2, Offset: 6}, 6, "[]"},
		{syndicate.ArticleFilter{FeedID: "f", Limit: 10}, 5, "[a4 a3 a2 a1 a0]"},
		{syndicate.ArticleFilter{ChannelID: "c2"}, 3, "[a4 a2 a0]"},
		{syndicate.ArticleFilter{States: []syndicate.State{syndicate.StateFailed}}, 1, "[a1]"},
		{syndicate.ArticleFilter{ChannelID: "c2", States: []syndicate.State{syndicate.StateFailed}}, 0, "[]"},
		{syndicate.ArticleFilter{Query: "mass strike"}, 1, "[a3]"},
		{syndicate.ArticleFilter{Query: "ARTICLE", FeedID: "f"}, 4, "[a4 a2 a1 a0]"},
		{syndicate.ArticleFilter{Query: "100%_"}, 0, "[]"},
	} {
		v, n := listArticles(t, es, tc.f)
		if n != tc.total || fmt.Sprint(articleKeys(v)) != tc.keys && !(tc.keys == "[]" && len(v) == 0) {
			t.Errorf("%+v: %d %v, want %d %s", tc.f, n, articleKeys(v), tc.total, tc.keys)
		}
	}
	// Every delivery of a matching article comes with it, not only those
	// that matched the filter.
	v, _ := listArticles(t, es, syndicate.ArticleFilter{States: []syndicate.State{syndicate.StateFailed}})
	if len(v) != 1 || len(v[0].Deliveries) != 1 || v[0].Deliveries[0].State != syndicate.StateFailed {
		t.Fatalf("a1's deliveries: %+v", v)
	}
}

func testAttempts(t *testing.T, s syndicate.Store) {
	es := s
	d := seed(t, s, []syndicate.NewDelivery{pending("a", "c1", at(1))})[0]
	if got, err := es.Attempts(t.Context(), d.ID); err != nil || len(got) != 0 {
		t.Fatalf("no attempts yet: %v, %v", got, err)
	}
	want := []syndicate.Attempt{
		{DeliveryID: d.ID, At: at(2), Took: 1500 * time.Millisecond, State: syndicate.StatePending, Error: "503 Service Unavailable"},
		{DeliveryID: d.ID, At: at(3), Took: 20 * time.Millisecond, State: syndicate.StateSent},
	}
	for _, a := range want {
		if err := es.RecordAttempt(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := es.Attempts(t.Context(), d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("attempts: %+v", got)
	}
	for i := range want {
		if !got[i].At.Equal(want[i].At) || got[i].Took != want[i].Took || got[i].State != want[i].State || got[i].Error != want[i].Error {
			t.Errorf("attempt %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testPause(t *testing.T, s syndicate.Store) {
	es := s
	paused := func() map[string]time.Time {
		t.Helper()
		p, err := es.PausedChannels(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := paused(); len(p) != 0 {
		t.Fatalf("paused at start: %v", p)
	}
	if err := es.SetPaused(t.Context(), "c1", true); err != nil {
		t.Fatal(err)
	}
	first := paused()["c1"]
	if first.IsZero() {
		t.Fatalf("c1 not paused: %v", paused())
	}
	if err := es.SetPaused(t.Context(), "c1", true); err != nil {
		t.Fatal(err)
	}
	if again := paused()["c1"]; !again.Equal(first) {
		t.Fatalf("a second pause moved the time: %v → %v", first, again)
	}
	if err := es.SetPaused(t.Context(), "c1", false); err != nil {
		t.Fatal(err)
	}
	if err := es.SetPaused(t.Context(), "c2", false); err != nil {
		t.Fatalf("resuming a channel never paused: %v", err)
	}
	if p := paused(); len(p) != 0 {
		t.Fatalf("after resume: %v", p)
	}
}
