package main

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// feedServer serves the site's feeds from testdata/site, with {{BASE_URL}}
// replaced, an ETag and 304s, and items that a test adds between polls.
type feedServer struct {
	*httptest.Server
	mu       sync.Mutex
	extra    map[string][]string // file → items inserted at the top, newest first
	status   map[string]int      // file → forced status
	requests map[string]int
	notMod   map[string]int
	sawETag  map[string]int
	hub      string // advertised in Link headers when set
}

func newFeedServer(t testing.TB) *feedServer {
	t.Helper()
	fs := &feedServer{extra: map[string][]string{}, status: map[string]int{}, requests: map[string]int{}, notMod: map[string]int{}, sawETag: map[string]int{}}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	fs.mu.Lock()
	fs.requests[name]++
	status := fs.status[name]
	extra := append([]string(nil), fs.extra[name]...)
	if r.Header.Get("If-None-Match") != "" {
		fs.sawETag[name]++
	}
	fs.mu.Unlock()
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	raw, err := os.ReadFile(filepath.Join("testdata", "site", filepath.Base(name)))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	body := strings.ReplaceAll(string(raw), "{{BASE_URL}}", fs.URL)
	if len(extra) > 0 {
		i := strings.Index(body, "<item>")
		body = body[:i] + strings.Join(extra, "\n") + "\n  " + body[i:]
	}
	if fs.hub != "" {
		w.Header().Add("Link", fmt.Sprintf(`<%s>; rel="hub"`, fs.hub))
		w.Header().Add("Link", fmt.Sprintf(`<%s%s>; rel="self"`, fs.URL, r.URL.Path))
	}
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(body)))
	w.Header().Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		fs.mu.Lock()
		fs.notMod[name]++
		fs.mu.Unlock()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	switch filepath.Ext(name) {
	case ".xml":
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	case ".json":
		w.Header().Set("Content-Type", "application/feed+json")
	case ".jpg":
		w.Header().Set("Content-Type", "image/jpeg")
	}
	_, _ = w.Write([]byte(body))
}

// publish adds an article at the top of the RSS feed.
func (fs *feedServer) publish(slug, title, date string, categories ...string) {
	var cats strings.Builder
	for _, c := range categories {
		fmt.Fprintf(&cats, "<category>%s</category>", c)
	}
	item := fmt.Sprintf(`<item>
    <title>%s</title>
    <link>https://en.communia.blog/%s</link>
    <guid isPermaLink="true">https://en.communia.blog/%s</guid>
    <pubDate>%s</pubDate>
    %s
    <description><![CDATA[<p>The lead of %s, which says what the article is about &amp; why it matters.</p><p>A second paragraph.</p>]]></description>
  </item>`, title, slug, slug, date, cats.String(), title)
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.extra["en.rss.xml"] = append([]string{item}, fs.extra["en.rss.xml"]...)
}

func (fs *feedServer) count(m map[string]int, name string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return m[name]
}
