package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// legacyNormalise is Normalise as it was before ids were read as written
// and authors told id-less items apart: the same articles, keyed by
// legacyKeyAssigner, the items it saw as repeats left out.
func legacyNormalise(feedID string, d *Document, fallbackLanguage string, now time.Time) []syndicate.Article {
	f := d.Feed
	base := feedBase(f, withoutUserinfo(d.URL))
	language := firstNonEmpty(strings.TrimSpace(f.Language), strings.TrimSpace(fallbackLanguage))
	keys := newLegacyKeyAssigner()
	sanitiser := newSanitiser()
	var articles []syndicate.Article
	for position, item := range f.Items {
		if item == nil {
			continue
		}
		var scanned itemScan
		if position < len(d.items) {
			scanned = d.items[position]
		}
		bases := itemBases{
			feed:    firstNonEmpty(scanned.Base, base),
			content: firstNonEmpty(scanned.ContentBase, scanned.Base),
		}
		a, _ := normaliseItem(item, f.FeedType, scanned, bases, sanitiser, now)
		a.FeedID, a.Position = feedID, position
		a.Language = firstNonEmpty(itemLanguage(item), language)
		if f.FeedType == "atom" {
			a.Author = firstNonEmpty(a.Author, firstAuthor(f.Authors))
		}
		key, ok := keys.assign(item, keyedAs(a, item, bases.feed))
		if !ok {
			continue
		}
		a.Key = key
		articles = append(articles, a)
	}
	return articles
}

// legacyKeys are the keys the reader gave before ids were read as written
// (recorded by running it on these documents), by document and position.
var legacyKeys = map[string][]struct {
	position int
	key      string
}{
	"ids.atom.xml": {
		{0, "http://www.example.org/thing"},
		{1, "http://www.example.org/thing|https://example.org/lower"},
		{2, "Correct%20Value"},
		{3, "http://example.com/"},
		{5, "http://example.org/base/123"},
		{6, "tag:example.org,2003:categories"},
	},
	"authors.rss.xml": {
		{0, "sha256:0d7792d869bc37e3d71045a63dff611c80cb98c48f00a5cc4f26ef5c40b19ac3"},
	},
}

func readDocument(t *testing.T, path string) *Document {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("{{BASE_URL}}"), []byte("https://example.org"))
	d, err := Parse(raw, contentTypeOf(path), testFeedURL)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLegacyKeysAreTheEarlierReaders: legacyNormalise gives the keys the
// earlier reader gave, and Normalise names each as LegacyKey where its own
// key differs.
func TestLegacyKeysAreTheEarlierReaders(t *testing.T) {
	for file, want := range legacyKeys {
		d := readDocument(t, filepath.Join("testdata", "feeds", file))
		got := legacyNormalise("test", d, "en", testNow())
		if len(got) != len(want) {
			t.Fatalf("%s: %d legacy articles, want %d", file, len(got), len(want))
		}
		for i, w := range want {
			if got[i].Position != w.position || got[i].Key != w.key {
				t.Errorf("%s: legacy article %d = %d %q, want %d %q", file, i, got[i].Position, got[i].Key, w.position, w.key)
			}
		}
		legacyAt := map[int]string{}
		for _, w := range want {
			legacyAt[w.position] = w.key
		}
		for _, a := range Normalise("test", d, "en", testNow()) {
			wantLegacy := legacyAt[a.Position]
			if wantLegacy == a.Key {
				wantLegacy = ""
			}
			if a.LegacyKey != wantLegacy {
				t.Errorf("%s: article %d (%q): LegacyKey %q, want %q", file, a.Position, a.Key, a.LegacyKey, wantLegacy)
			}
		}
	}
}

// documentReader serves one parsed document, normalised by the reader of
// the moment.
type documentReader struct {
	mu        sync.Mutex
	doc       *Document
	normalise func(feedID string, d *Document, fallbackLanguage string, now time.Time) []syndicate.Article
}

func (r *documentReader) Read(_ context.Context, src syndicate.FeedSource, _ syndicate.Validators) (syndicate.FetchResult, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return syndicate.FetchResult{Articles: r.normalise(src.ID, r.doc, src.Language, testNow())}, nil
}

func (r *documentReader) use(normalise func(string, *Document, string, time.Time) []syndicate.Article) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.normalise = normalise
}

// postCounter is a channel that counts what it is asked to post.
type postCounter struct {
	mu    sync.Mutex
	posts []string // "key title"
}

func (c *postCounter) Send(_ context.Context, p syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts = append(c.posts, p.Article.Key+" "+p.Article.Title)
	return syndicate.Receipt{RemoteID: fmt.Sprint(len(c.posts))}, nil
}

func (c *postCounter) Render(p syndicate.Post) (syndicate.Rendering, error) {
	return syndicate.Rendering{Text: p.Article.Title, Format: "text"}, nil
}

func (c *postCounter) sent() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.posts)
}

// TestUpgradeRepostsNothing: a store written by the earlier reader (every
// item of each document posted) is polled by this one: nothing posted is
// posted again, whatever key it now has; only the items the earlier reader
// lost as repeats of others are new; a further poll changes nothing.
func TestUpgradeRepostsNothing(t *testing.T) {
	cases := []struct {
		path string
		new  []string // "key title" of the items the earlier reader lost
	}{
		{path: filepath.Join("testdata", "feeds", "ids.atom.xml")},
		{path: filepath.Join("testdata", "feeds", "keys.rss.xml")},
		{path: filepath.Join("testdata", "feeds", "xml-base.atom.xml")},
		{path: filepath.Join("testdata", "site", "en.rss.xml")},
		{path: filepath.Join("testdata", "site", "es.atom.xml")},
		{path: filepath.Join("testdata", "site", "statements.json")},
		{path: filepath.Join("testdata", "feeds", "authors.rss.xml"), new: []string{
			// Undated: oldest first is last in the document first.
			"sha256:0d7792d869bc37e3d71045a63dff611c80cb98c48f00a5cc4f26ef5c40b19ac3| Weekly thread",
			"sha256:0d7792d869bc37e3d71045a63dff611c80cb98c48f00a5cc4f26ef5c40b19ac3|Bob Weekly thread",
		}},
	}
	for _, tc := range cases {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			ctx := context.Background()
			now := func() time.Time { return testNow() }
			store, err := sqlite.OpenWith(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			reader := &documentReader{doc: readDocument(t, tc.path), normalise: legacyNormalise}
			channel := &postCounter{}
			engine := &syndicate.Engine{
				Store:   store,
				Reader:  reader,
				Feeds:   []syndicate.Feed{{Source: syndicate.FeedSource{ID: "f", URL: testFeedURL}, Backfill: 1000, To: []string{"c"}}},
				Targets: map[string]syndicate.Target{"c": {ID: "c", Channel: channel, Retry: syndicate.RetryPolicy{MaxAttempts: 1, MinBackoff: time.Second, MaxBackoff: time.Second}}},
				Now:     now,
			}
			once := func() {
				t.Helper()
				r, err := engine.Once(ctx, 0)
				if err != nil || !r.OK() {
					t.Fatalf("once: %+v, %v", r, err)
				}
			}
			// What the store holds: each delivered article's key and title.
			stored := func() []string {
				t.Helper()
				views, err := store.ListDeliveries(ctx, syndicate.DeliveryFilter{})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, v := range views {
					out = append(out, v.Article.Key+" "+v.Article.Title)
				}
				slices.Sort(out)
				return out
			}
			once()
			before := channel.sent()
			if len(before) == 0 {
				t.Fatal("the earlier reader posted nothing")
			}
			storedBefore := stored()

			reader.use(Normalise)
			once()
			after := channel.sent()
			if got := after[len(before):]; !slices.Equal(got, tc.new) {
				t.Errorf("after the upgrade, posted %q; want %q", got, tc.new)
			}
			// No stored article was taken for another (its title rewritten).
			wantStored := slices.Sorted(slices.Values(append(slices.Clone(storedBefore), tc.new...)))
			if got := stored(); !slices.Equal(got, wantStored) {
				t.Errorf("stored after the upgrade:\n%q\nwant:\n%q", got, wantStored)
			}
			once()
			if again := channel.sent(); len(again) != len(after) {
				t.Errorf("a further poll posted %q", again[len(after):])
			}
			if got := stored(); !slices.Equal(got, wantStored) {
				t.Errorf("stored after a further poll:\n%q\nwant:\n%q", got, wantStored)
			}
		})
	}
}

// editCounter is a postCounter that edits too, counting the edits.
type editCounter struct {
	postCounter
	edits []string // keys
}

func (c *editCounter) Edit(_ context.Context, p syndicate.Post, sent syndicate.Receipt) (syndicate.Receipt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.edits = append(c.edits, p.Article.Key)
	return sent, nil
}

func (c *editCounter) edited() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.edits)
}

// TestUpgradeContentForms: a store written by the reader that did not read
// content in the forms of readDifferently (its articles carry the hashes
// it recorded: testdata/golden) is polled by this one, on a channel that
// edits its posts when an article changes. Nothing is posted again; the
// articles whose content now reads otherwise are edited once, and no
// other; a further poll does nothing.
func TestUpgradeContentForms(t *testing.T) {
	recorded := map[string][]recordedArticle{}
	for _, name := range beforeContentForms {
		raw, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		var r map[string][]recordedArticle
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		maps.Copy(recorded, r)
	}
	for _, doc := range []string{
		"feeds/content-rss-body.rss.xml", "feeds/content-atom.atom.xml", "feeds/content-base64.atom.xml",
		"feeds/sanitise.rss.xml", "site/en.rss.xml", "site/es.atom.xml",
	} {
		t.Run(filepath.Base(doc), func(t *testing.T) {
			ctx := context.Background()
			now := func() time.Time { return testNow() }
			store, err := sqlite.OpenWith(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			// The earlier reader's articles: the same keys (see
			// TestHashesAsBefore), with the hashes it gave them.
			earlier := func(feedID string, d *Document, fallbackLanguage string, now time.Time) []syndicate.Article {
				articles := Normalise(feedID, d, fallbackLanguage, now)
				for i := range articles {
					articles[i].Hash = recorded[doc][i].Hash
				}
				return articles
			}
			reader := &documentReader{doc: readDocument(t, filepath.Join("testdata", filepath.FromSlash(doc))), normalise: earlier}
			channel := &editCounter{}
			engine := &syndicate.Engine{
				Store:  store,
				Reader: reader,
				Feeds:  []syndicate.Feed{{Source: syndicate.FeedSource{ID: "f", URL: testFeedURL}, Backfill: 1000, To: []string{"c"}}},
				Targets: map[string]syndicate.Target{"c": {ID: "c", Channel: channel, EditOnUpdate: true,
					Capabilities: syndicate.Capabilities{Editor: channel},
					Retry:        syndicate.RetryPolicy{MaxAttempts: 1, MinBackoff: time.Second, MaxBackoff: time.Second}}},
				Now: now,
			}
			once := func() {
				t.Helper()
				r, err := engine.Once(ctx, 0)
				if err != nil || !r.OK() {
					t.Fatalf("once: %+v, %v", r, err)
				}
			}
			once()
			posted := channel.sent()
			if len(posted) != len(recorded[doc]) {
				t.Fatalf("the earlier reader posted %d articles, want %d", len(posted), len(recorded[doc]))
			}
			reader.use(Normalise)
			once()
			if again := channel.sent(); len(again) != len(posted) {
				t.Errorf("after the upgrade, posted %q", again[len(posted):])
			}
			edited := slices.Sorted(slices.Values(channel.edited()))
			if want := slices.Sorted(slices.Values(readDifferently[doc])); !slices.Equal(edited, want) {
				t.Errorf("after the upgrade, edited %q; want %q", edited, want)
			}
			once()
			if again := channel.sent(); len(again) != len(posted) {
				t.Errorf("a further poll posted %q", again[len(posted):])
			}
			if again := channel.edited(); len(again) != len(edited) {
				t.Errorf("a further poll edited %q", again[len(edited):])
			}
		})
	}
}
