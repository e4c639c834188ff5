package feed

import (
	"bytes"
	"os"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// BenchmarkReadDocument is the reader's work on one changed feed of the
// poll benchmark's shape (testdata/bench-site-50.xml: RSS, 50 items of
// about 1 KB of HTML each, an image and categories), from its bytes to
// its articles, against gofeed's parse of the same bytes, which is all a
// bare client does:
//
//	go test -run '^$' -bench ReadDocument -count 6 ./syndicate/feed/ | benchstat -col /step -
func BenchmarkReadDocument(b *testing.B) {
	doc, err := os.ReadFile("testdata/bench-site-50.xml")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("step=gofeed", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		p := gofeed.NewParser()
		for b.Loop() {
			if _, err := p.Parse(bytes.NewReader(doc)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("step=syndicate", func(b *testing.B) {
		b.SetBytes(int64(len(doc)))
		now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
		r := New(Options{Now: func() time.Time { return now }})
		src := syndicate.FeedSource{ID: "site7", URL: "https://site7.example/feed.xml", Language: "en"}
		for b.Loop() {
			n, _, err := r.parse(b.Context(), doc, "application/rss+xml", src.URL, src, r.limits)
			if err != nil || len(n.Articles) != 50 {
				b.Fatalf("parse = %d articles, %v; want 50", len(n.Articles), err)
			}
		}
	})
}
