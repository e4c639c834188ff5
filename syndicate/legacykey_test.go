package syndicate_test

import (
	"slices"
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// rekeyed is a with the key the reader now gives it, its earlier key as
// LegacyKey.
func rekeyed(a syndicate.Article, key string) syndicate.Article {
	a.LegacyKey, a.Key = a.Key, key
	return a
}

// TestLegacyKeyFindsTheStoredArticle: an article stored under the key an
// earlier reader gave it is found by its LegacyKey, with or without a
// link, and is neither posted again nor duplicated; an edit reaches the
// stored article.
func TestLegacyKeyFindsTheStoredArticle(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Backfill: 10, To: []string{"a"}})
	linkless := article(1, 1)
	linkless.Key, linkless.Link = "Correct%20Value", ""
	linked := article(2, 2)
	f.feed.set(linked, linkless)
	f.once()
	if got := f.a.titles(); len(got) != 2 {
		t.Fatalf("first poll posted %v", got)
	}

	edited := rekeyed(linkless, "Correct Value")
	edited.Title, edited.Hash = "Article 1, corrected", "h1-edited"
	f.feed.set(rekeyed(linked, "GUID-2"), edited)
	f.once()
	f.once()
	if got := f.a.titles(); len(got) != 2 {
		t.Fatalf("after the re-keying, posted %v", got)
	}
	views, err := f.store.ListDeliveries(t.Context(), syndicate.DeliveryFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, v := range views {
		stored = append(stored, v.Article.Key+" "+v.Article.Title)
	}
	slices.Sort(stored)
	if want := []string{"Correct%20Value Article 1, corrected", "guid-2 Article 2"}; !slices.Equal(stored, want) {
		t.Errorf("stored %q, want %q", stored, want)
	}
}

// TestLegacyKeyClaimsItsArticle: two ids the earlier reader made one
// ("HTTP://x" and "http://x", stored as "http://x" and "http://x|link")
// each find their own stored article, even though the new key of one is
// the stored key of the other; an item the earlier reader left out whose
// key is another's stored one stays out, as it was.
func TestLegacyKeyClaimsItsArticle(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Backfill: 10, To: []string{"a"}})
	upper, lower, kept := article(1, 1), article(2, 2), article(3, 3)
	upper.Key, lower.Key, kept.Key = "http://x", "http://x|"+lower.Link, "http://y"
	f.feed.set(kept, lower, upper)
	f.once()
	stored := func() []string {
		t.Helper()
		views, err := f.store.ListDeliveries(t.Context(), syndicate.DeliveryFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range views {
			out = append(out, v.Article.Key+" "+v.Article.Title+" "+string(v.State))
		}
		slices.Sort(out)
		return out
	}
	before := stored()

	left := article(4, 4)
	left.Key = "http://y" // the earlier reader took it for kept: "http://y#"
	for poll := range 3 {
		f.feed.set(rekeyed(kept, "http://y#"), rekeyed(lower, "http://x"), rekeyed(upper, "HTTP://x"), left)
		f.once()
		if got := f.a.titles(); !slices.Equal(got, []string{"Article 1", "Article 2", "Article 3"}) {
			t.Fatalf("poll %d after the re-keying: a got %v", poll, got)
		}
		if after := stored(); !slices.Equal(after, before) {
			t.Fatalf("poll %d after the re-keying: stored %q, want %q", poll, after, before)
		}
	}
}

// TestNewKeysStayDistinctInAFreshStore: a store that only ever saw the new
// keys keeps both articles apart, whatever their legacy keys say.
func TestNewKeysStayDistinctInAFreshStore(t *testing.T) {
	f := newFixture(t, syndicate.Feed{Backfill: 10, To: []string{"a"}})
	upper, lower := article(1, 1), article(2, 2)
	upper.Key, upper.LegacyKey = "HTTP://x", "http://x"
	lower.Key, lower.LegacyKey = "http://x", "http://x|"+lower.Link
	f.feed.set(lower, upper)
	f.once()
	f.once()
	if got := f.a.titles(); !slices.Equal(got, []string{"Article 1", "Article 2"}) {
		t.Fatalf("a got %v", got)
	}
}
