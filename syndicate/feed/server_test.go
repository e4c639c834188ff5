package feed

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// testNow is the clock of every test: after every fixture's dates.
func testNow() time.Time { return time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC) }

const testUserAgent = "syndicate/test (+https://example.org/syndicate)"

// fixtureServer serves testdata/site with {{BASE_URL}} replaced by its own
// URL, answering conditional GETs with 304, and records the requests.
type fixtureServer struct {
	*httptest.Server
	modified time.Time

	mu       sync.Mutex
	requests []*http.Request
	statuses []int
}

func newFixtureServer(t *testing.T) *fixtureServer {
	t.Helper()
	s := &fixtureServer{modified: time.Date(2023, 1, 13, 8, 30, 0, 0, time.UTC)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *fixtureServer) serve(w http.ResponseWriter, r *http.Request) {
	name := filepath.Base(r.URL.Path)
	raw, err := os.ReadFile(filepath.Join("testdata", "site", name))
	if err != nil {
		s.record(r, http.StatusNotFound)
		http.NotFound(w, r)
		return
	}
	body := bytes.ReplaceAll(raw, []byte("{{BASE_URL}}"), []byte(s.URL))
	sum := sha256.Sum256(body)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	w.Header().Set("Content-Type", fixtureType(name))
	rec := &recordingWriter{ResponseWriter: w, record: func(status int) { s.record(r, status) }}
	http.ServeContent(rec, r, name, s.modified, bytes.NewReader(body))
}

func (s *fixtureServer) record(r *http.Request, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	s.statuses = append(s.statuses, status)
}

// last returns the last request the server saw and its answer's status.
func (s *fixtureServer) last(t *testing.T) (*http.Request, int) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		t.Fatal("the server saw no request")
	}
	return s.requests[len(s.requests)-1], s.statuses[len(s.statuses)-1]
}

func fixtureType(name string) string {
	switch {
	case strings.HasSuffix(name, ".rss.xml"):
		return "application/rss+xml"
	case strings.HasSuffix(name, ".atom.xml"):
		return "application/atom+xml"
	case strings.HasSuffix(name, ".json"):
		return "application/feed+json"
	case strings.HasSuffix(name, ".jpg"):
		return "image/jpeg"
	}
	return "application/octet-stream"
}

// recordingWriter records the status before it is sent, so that a client
// that has its answer finds the request recorded.
type recordingWriter struct {
	http.ResponseWriter
	record   func(status int)
	recorded bool
}

func (w *recordingWriter) WriteHeader(status int) {
	if !w.recorded {
		w.recorded = true
		w.record(status)
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	if !w.recorded {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// serve starts a loopback server with handler, closed when the test ends.
func serve(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

// newTestReader returns a Reader for srv with short limits.
func newTestReader(srv *httptest.Server, lim Limits) *Reader {
	opt := Options{UserAgent: testUserAgent, Timeout: 5 * time.Second, MaxBytes: lim.MaxBytes, Now: testNow}
	if lim.Timeout > 0 {
		opt.Timeout = lim.Timeout
	}
	if srv != nil {
		opt.Client = srv.Client()
	}
	return New(opt)
}

func source(url string) syndicate.FeedSource {
	return syndicate.FeedSource{ID: "test", URL: url, Language: "en"}
}

// minimalRSS is a valid one-item RSS document around title.
func minimalRSS(title string) string {
	return `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title><link>https://example.org/</link>` +
		`<item><title>` + title + `</title><link>https://example.org/a</link><guid>a</guid></item></channel></rss>`
}
