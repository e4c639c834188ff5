package feed

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzNormalise runs bytes through what Read does after the fetch: decode,
// refuse pages, expand entities, repair a cut document, parse, normalise.
// It must never panic, and every article it yields must have a key, a
// unique one, valid UTF-8 text, sanitised content and usable dates.
func FuzzNormalise(f *testing.F) {
	types := map[string]string{}
	for _, tc := range fixtureCases {
		types[tc.file] = tc.contentType
	}
	for _, path := range fixtureFiles(f) {
		seed, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed, types[filepath.Base(path)])
	}
	f.Add([]byte(rssDoc(`<item><guid>g</guid><link>/a</link></item>`, `<item><guid>g</guid><link>/b</link></item>`, `<item><title>x</title></item>`)), "")
	f.Add(windows1252(`<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item><title>é</title></item></channel></rss>`), "")
	f.Add(utf16LE("\ufeff<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>&#8217;</title></entry></feed>"), "application/atom+xml")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"content_html":"<p>a</p>"}]}`), "application/feed+json; charset=latin1")
	f.Add([]byte("<!doctype html><link rel=alternate type=application/rss+xml href=/f>"), "text/html")
	f.Add([]byte(`<!DOCTYPE rss [<!ENTITY a "<item><title>x</title></item>">]><rss><channel>&a;&a;</channel></rss>`), "")
	f.Add([]byte(`<rss><channel><item><title>a</title></item><item><description><![CDATA[<p>Read also: <a href="/x">x</a></p>`), "")
	f.Add([]byte("<rss><channel><item><title>a&#0;\x00&#xFFFE;</title></item><item><title>1 < 2</title></item><item/></channel></rss>"), "")

	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		doc, err := Parse(body, contentType, testFeedURL)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, a := range Normalise("fuzz", doc, "en", testNow()) {
			if a.Key == "" {
				t.Fatalf("article at %d has no key", a.Position)
			}
			if seen[a.Key] {
				t.Fatalf("key %q given twice", a.Key)
			}
			seen[a.Key] = true
			fields := map[string]string{"Title": a.Title, "Summary": a.Summary, "Key": a.Key, "ImageCaption": a.ImageCaption, "ContentHTML": a.ContentHTML}
			for _, l := range a.Related {
				fields["Related title"] = l.Title
				if resolveURL(l.URL, "") != l.URL {
					t.Fatalf("related link %q is not an absolute web address", l.URL)
				}
			}
			for field, s := range fields {
				if !utf8.ValidString(s) {
					t.Fatalf("%s is not valid UTF-8: %q", field, s)
				}
			}
			if strings.Contains(strings.ToLower(a.ContentHTML), "<script") {
				t.Fatalf("ContentHTML has a script: %q", a.ContentHTML)
			}
			for _, d := range []struct {
				name string
				year int
				zero bool
			}{{"Published", a.Published.Year(), a.Published.IsZero()}, {"Updated", a.Updated.Year(), a.Updated.IsZero()}} {
				if !d.zero && d.year < earliestYear {
					t.Fatalf("%s in year %d", d.name, d.year)
				}
			}
		}
	})
}

// FuzzMaxItems reads bytes with a small MaxItems: it must never panic,
// read more items than allowed, or place them out of the document's
// order.
func FuzzMaxItems(f *testing.F) {
	for _, path := range fixtureFiles(f) {
		seed, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed, uint8(2))
	}
	f.Add([]byte(rssDoc(datedItems(7, false)...)), uint8(3))
	f.Add([]byte(rssDoc(datedItems(7, true)...)), uint8(1))
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"a","date_published":"2024-01-02T00:00:00Z"},{"id":"b","date_published":"2024-01-03T00:00:00Z"},{"id":"c"}]}`), uint8(1))

	f.Fuzz(func(t *testing.T, body []byte, max uint8) {
		limit := int(max%8) + 1
		d, err := ParseContext(context.Background(), body, "", testFeedURL, ParseOptions{MaxItems: limit})
		if err != nil {
			return
		}
		if n := len(d.Feed.Items); n > limit {
			t.Fatalf("%d items read, limit %d", n, limit)
		}
		last := -1
		for _, a := range Normalise("fuzz", d, "en", testNow()) {
			if a.Position <= last {
				t.Fatalf("article at %d after one at %d", a.Position, last)
			}
			last = a.Position
		}
	})
}
