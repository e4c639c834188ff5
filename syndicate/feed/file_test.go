package feed

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

const fileFeed = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Site</title><link>https://example.org/</link>
<item><title>%s</title><link>https://example.org/%s</link><guid>https://example.org/%s</guid></item>
</channel></rss>`

// FileURL returns the file: URL of path, taken from dir when relative.
func FileURL(path, dir string) string {
	if !filepath.IsAbs(path) {
		path = filepath.Join(dir, path)
	}
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Clean(path))}).String()
}

func writeFeed(t *testing.T, path, slug string, mtime time.Time) {
	t.Helper()
	body := strings.ReplaceAll(fileFeed, "%s", slug)
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// TestFileFeedChangeDetection: a local feed file is read like a web feed,
// its modification time standing for Last-Modified and the hash of its
// content for the ETag.
func TestFileFeedChangeDetection(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "feed.xml")
	src := syndicate.FeedSource{ID: "local", URL: FileURL("feed.xml", dir)}
	r := New(Options{})
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

	writeFeed(t, path, "first", t0)
	res, err := r.Read(ctx, src, syndicate.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if res.NotModified || len(res.Articles) != 1 || res.Articles[0].Title != "first" {
		t.Fatalf("first read: %+v", res)
	}
	if res.Validators.ETag == "" || res.Validators.LastModified == "" {
		t.Fatalf("no validators: %+v", res.Validators)
	}
	v := res.Validators

	// Same time and size: not even read. (Other bytes of the same length
	// written with the old time prove it.)
	writeFeed(t, path, "frist", t0)
	if res, err = r.Read(ctx, src, v); err != nil || !res.NotModified {
		t.Fatalf("unchanged stamp: %+v, %v; want not modified", res, err)
	}

	// Touched, same bytes: read, but the hash says not modified.
	writeFeed(t, path, "first", t0.Add(time.Minute))
	res, err = r.Read(ctx, src, v)
	if err != nil || !res.NotModified || res.Validators.ETag != v.ETag || res.Validators.LastModified == v.LastModified {
		t.Fatalf("touched: %+v, %v; want not modified with the new stamp", res, err)
	}
	v = res.Validators

	// Rewritten: a new article.
	writeFeed(t, path, "second", t0.Add(2*time.Minute))
	res, err = r.Read(ctx, src, v)
	if err != nil || res.NotModified || len(res.Articles) != 1 || res.Articles[0].Link != "https://example.org/second" {
		t.Fatalf("rewritten: %+v, %v", res, err)
	}
}

func TestFileFeedErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.xml")
	if err := os.WriteFile(big, make([]byte, 2048), 0o644); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "page.xml")
	if err := os.WriteFile(html, []byte("<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := New(Options{MaxBytes: 1024})
	for _, tc := range []struct {
		name, url, want string
		is              func(error) bool
	}{
		{"missing", FileURL("nope.xml", dir), "read feed file " + filepath.Join(dir, "nope.xml") + ": no such file or directory", nil},
		{"directory", FileURL(".", dir), "not a regular file", nil},
		{"too large", FileURL("big.xml", dir), "larger than", func(err error) bool { var tl *TooLargeError; return errors.As(err, &tl) }},
		{"html page", FileURL("page.xml", dir), "page.xml", func(err error) bool { var nf *NotFeedError; return errors.As(err, &nf) }},
		{"remote host", "file://example.org/etc/feed.xml", "not a local file URL", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := r.Read(context.Background(), syndicate.FeedSource{ID: "f", URL: tc.url}, syndicate.Validators{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !tc.is(err)) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}
