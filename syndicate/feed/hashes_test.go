package feed

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The files of testdata/golden named by beforeContentForms hold what the
// reader gave before it read content in the forms gofeed does not
// (xhtml:body, <body>, <fullitem>, Atom xhtml with a prefix, base64, MathML,
// the fallback of frames and objects): the key and hash of every article
// of every fixture. hashes.json was recorded from the fixtures of then;
// hashes-content-forms.json from the content-form fixtures, read by that
// same earlier reader. They are records, never rewritten.
var beforeContentForms = []string{"hashes.json", "hashes-content-forms.json"}

// readDifferently are the articles (by document, then key) whose content
// uses those forms and so now reads otherwise: their hash changes, once,
// and a channel that edits on update edits their post once; their key
// does not change, so nothing is posted again. Every other article reads
// byte for byte as before, under the same key with the same hash.
var readDifferently = map[string][]string{
	"feeds/sanitise.rss.xml":         {"https://example.org/posts/hostile"}, // an iframe's fallback, MathML
	"feeds/content-rss-body.rss.xml": {"body-prefixed", "body-default-ns", "body-plain", "body-base", "fullitem", "fullitem-cdata"},
	"feeds/content-atom.atom.xml": {
		"tag:example.org,2024:xhtml-prefixed",
		"tag:example.org,2024:mathml", "tag:example.org,2024:fallbacks",
	},
	"feeds/content-base64.atom.xml": {"tag:example.org,2024:base64-html", "tag:example.org,2024:base64-text"},
}

// recordedArticle is what decides whether a stored article is the same
// one, and whether it changed: its key, its legacy key and its hash.
type recordedArticle struct {
	Key       string `json:"key"`
	LegacyKey string `json:"legacy_key,omitempty"`
	Hash      string `json:"hash"`
}

func readHashes(t *testing.T) map[string][]recordedArticle {
	t.Helper()
	types := map[string]string{}
	for _, tc := range fixtureCases {
		types[tc.file] = tc.contentType
	}
	out := map[string][]recordedArticle{}
	for _, path := range fixtureFiles(t) {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.ToSlash(strings.TrimPrefix(path, "testdata"+string(filepath.Separator)))
		contentType := firstNonEmpty(types[filepath.Base(path)], contentTypeOf(path))
		d, err := Parse(bytes.ReplaceAll(raw, []byte("{{BASE_URL}}"), []byte("https://example.org")), contentType, testFeedURL)
		if err != nil {
			continue // refused documents have no articles to keep
		}
		articles := []recordedArticle{}
		for _, a := range NormaliseDocument("test", d, "en", testNow()).Articles {
			articles = append(articles, recordedArticle{Key: a.Key, LegacyKey: a.LegacyKey, Hash: a.Hash})
		}
		out[name] = articles
	}
	return out
}

// TestHashesAsBefore: every article of the fixtures, the publication's
// own feeds (testdata/site) among them, has the key and the hash the
// earlier reader gave it, but those of readDifferently, whose key alone is
// the same: no stored article is taken for a new one, and none but those
// for an updated one (which a channel with on_update: edit would edit).
func TestHashesAsBefore(t *testing.T) {
	got := readHashes(t)
	want := map[string][]recordedArticle{}
	for _, name := range beforeContentForms {
		raw, err := os.ReadFile(filepath.Join("testdata", "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		var recorded map[string][]recordedArticle
		if err := json.Unmarshal(raw, &recorded); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for doc, articles := range recorded {
			want[doc] = articles
		}
	}
	if len(want) < 3 {
		t.Fatalf("only %d documents recorded", len(want))
	}
	for _, doc := range []string{"site/en.rss.xml", "site/es.atom.xml", "site/statements.json"} {
		if len(want[doc]) == 0 {
			t.Errorf("%s: not recorded", doc)
		}
	}
	for doc, articles := range want {
		g, ok := got[doc]
		if !ok {
			t.Errorf("%s: no longer read", doc)
			continue
		}
		if len(g) != len(articles) {
			t.Errorf("%s: %d articles, want %d", doc, len(g), len(articles))
			continue
		}
		differs := map[string]bool{}
		for _, key := range readDifferently[doc] {
			differs[key] = true
		}
		for i, w := range articles {
			switch {
			case g[i].Key != w.Key || g[i].LegacyKey != w.LegacyKey:
				t.Errorf("%s: article %d is keyed %q (legacy %q), was %q (legacy %q)", doc, i, g[i].Key, g[i].LegacyKey, w.Key, w.LegacyKey)
			case differs[w.Key] && g[i].Hash == w.Hash:
				t.Errorf("%s: %q reads as before, though its content uses a form read otherwise now", doc, w.Key)
			case !differs[w.Key] && g[i].Hash != w.Hash:
				t.Errorf("%s: %q no longer has the hash it had (%s, was %s)", doc, w.Key, g[i].Hash, w.Hash)
			}
		}
	}
}
