package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordHashes rewrites testdata/golden/hashes.json. It is not -update:
// that file says what the reader gave before its content reading grew, and
// is rewritten only when a change of every stored article's hash is meant.
var recordHashes = flag.Bool("record-hashes", false, "rewrite testdata/golden/hashes.json from the current output")

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

// TestHashesAsBefore: every document of testdata/site (the publication's
// feeds) and testdata/feeds that was there before content was read in more
// forms gives the articles it gave then, under the same keys and with the
// same hashes, so that no stored article is taken for an updated one (and
// re-edited on a channel with on_update: edit) after an upgrade.
func TestHashesAsBefore(t *testing.T) {
	path := filepath.Join("testdata", "golden", "hashes.json")
	got := readHashes(t)
	if *recordHashes {
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is missing (go test -run TestHashesAsBefore -record-hashes makes it)", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][]recordedArticle
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		t.Fatal("no documents recorded")
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
		for i, w := range articles {
			if g[i] != w {
				t.Errorf("%s: article %d = %+v, want %+v", doc, i, g[i], w)
			}
		}
	}
}
