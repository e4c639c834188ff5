package feed

import (
	"os"
	"path/filepath"
	"testing"
	"unicode/utf8"
)

// FuzzNormalise runs bytes through what Read does after the fetch: decode,
// refuse pages, parse, normalise. It must never panic, and every article it
// yields must have a key, a unique one, and valid UTF-8 text.
func FuzzNormalise(f *testing.F) {
	for _, name := range []string{"en.rss.xml", "es.atom.xml", "statements.json"} {
		seed, err := os.ReadFile(filepath.Join("testdata", "site", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed, "")
	}
	f.Add([]byte(rssDoc(`<item><guid>g</guid><link>/a</link></item>`, `<item><guid>g</guid><link>/b</link></item>`, `<item><title>x</title></item>`)), "")
	f.Add(windows1252(`<?xml version="1.0" encoding="ISO-8859-1"?><rss><channel><item><title>é</title></item></channel></rss>`), "")
	f.Add(utf16LE("\ufeff<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>&#8217;</title></entry></feed>"), "application/atom+xml")
	f.Add([]byte(`{"version":"https://jsonfeed.org/version/1.1","items":[{"content_html":"<p>a</p>"}]}`), "application/feed+json; charset=latin1")
	f.Add([]byte("<!doctype html><link rel=alternate type=application/rss+xml href=/f>"), "text/html")

	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		parsed, err := Parse(body, contentType, testFeedURL)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, a := range Normalise("fuzz", parsed, testFeedURL, "en", testNow()) {
			if a.Key == "" {
				t.Fatalf("article at %d has no key", a.Position)
			}
			if seen[a.Key] {
				t.Fatalf("key %q given twice", a.Key)
			}
			seen[a.Key] = true
			for field, s := range map[string]string{"Title": a.Title, "Summary": a.Summary, "Key": a.Key, "ImageCaption": a.ImageCaption} {
				if !utf8.ValidString(s) {
					t.Fatalf("%s is not valid UTF-8: %q", field, s)
				}
			}
		}
	})
}
