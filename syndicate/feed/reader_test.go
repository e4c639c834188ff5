package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var update = flag.Bool("update", false, "rewrite testdata/golden from the current output")

func TestReadFixturesMatchGolden(t *testing.T) {
	srv := newFixtureServer(t)
	r := newTestReader(srv.Server, Limits{})
	for _, tc := range []struct{ file, feedID, golden string }{
		{"en.rss.xml", "emancipation-en", "en.rss.json"},
		{"es.atom.xml", "communia-es", "es.atom.json"},
		{"statements.json", "statements", "statements.json"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			src := syndicate.FeedSource{ID: tc.feedID, URL: srv.URL + "/" + tc.file, Language: "xx"}
			res, err := r.Read(context.Background(), src, syndicate.Validators{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Validators.ETag == "" || res.Validators.LastModified == "" {
				t.Errorf("validators = %+v, want the ETag and Last-Modified the server sent", res.Validators)
			}
			compareGolden(t, filepath.Join("testdata", "golden", tc.golden), marshalArticles(t, withoutServerURL(t, res.Articles, srv.URL)))
		})
	}
}

// withoutServerURL replaces the test server's URL, which changes from run to
// run, by {{BASE_URL}}, and recomputes the hash of the articles it changes.
func withoutServerURL(t *testing.T, articles []syndicate.Article, serverURL string) []syndicate.Article {
	t.Helper()
	out := make([]syndicate.Article, len(articles))
	for i, a := range articles {
		if want := contentHash(a.Title, a.Summary, a.ContentHTML, a.ImageURL); a.Hash != want {
			t.Errorf("article %d: Hash %s, want %s", i, a.Hash, want)
		}
		for _, field := range []*string{&a.Link, &a.ContentHTML, &a.ImageURL, &a.Key} {
			*field = strings.ReplaceAll(*field, serverURL, "{{BASE_URL}}")
		}
		a.Hash = contentHash(a.Title, a.Summary, a.ContentHTML, a.ImageURL)
		out[i] = a
	}
	return out
}

func marshalArticles(t *testing.T, articles []syndicate.Article) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(articles); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func compareGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		g, w := line(gotLines, i), line(wantLines, i)
		if g != w {
			t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(run go test -update if the change is intended)", path, i+1, g, w)
		}
	}
}

func line(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "<end of file>"
}

func TestConditionalGet(t *testing.T) {
	srv := newFixtureServer(t)
	r := newTestReader(srv.Server, Limits{})
	src := source(srv.URL + "/en.rss.xml")

	first, err := r.Read(context.Background(), src, syndicate.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	req, status := srv.last(t)
	if status != http.StatusOK || len(first.Articles) != 4 || first.NotModified {
		t.Fatalf("first read: status %d, %d articles, NotModified %v; want 200, 4, false", status, len(first.Articles), first.NotModified)
	}
	if got := req.Header.Get("User-Agent"); got != testUserAgent {
		t.Errorf("User-Agent = %q, want %q", got, testUserAgent)
	}
	if got := req.Header.Get("Accept"); !strings.HasPrefix(got, "application/rss+xml, application/atom+xml, application/feed+json") {
		t.Errorf("Accept = %q", got)
	}
	if req.Header.Get("If-None-Match") != "" || req.Header.Get("If-Modified-Since") != "" {
		t.Errorf("first read sent conditional headers: %v", req.Header)
	}
	if first.Validators.LastModified != "Fri, 13 Jan 2023 08:30:00 GMT" {
		t.Errorf("LastModified = %q", first.Validators.LastModified)
	}

	second, err := r.Read(context.Background(), src, first.Validators)
	if err != nil {
		t.Fatal(err)
	}
	req, status = srv.last(t)
	if got := req.Header.Get("If-None-Match"); got != first.Validators.ETag {
		t.Errorf("If-None-Match = %q, want %q", got, first.Validators.ETag)
	}
	if got := req.Header.Get("If-Modified-Since"); got != first.Validators.LastModified {
		t.Errorf("If-Modified-Since = %q, want %q", got, first.Validators.LastModified)
	}
	if status != http.StatusNotModified || !second.NotModified || second.Articles != nil {
		t.Errorf("second read: status %d, NotModified %v, %d articles; want 304, true, none", status, second.NotModified, len(second.Articles))
	}
	if second.Validators != first.Validators {
		t.Errorf("validators after 304 = %+v, want %+v", second.Validators, first.Validators)
	}
}

func TestNotModifiedTakesNewValidators(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"v2"`)
		w.WriteHeader(http.StatusNotModified)
	})
	sent := syndicate.Validators{ETag: `"v1"`, LastModified: "Fri, 13 Jan 2023 08:30:00 GMT"}
	res, err := newTestReader(srv, Limits{}).Read(context.Background(), source(srv.URL), sent)
	if err != nil {
		t.Fatal(err)
	}
	want := syndicate.Validators{ETag: `"v2"`, LastModified: sent.LastModified}
	if !res.NotModified || res.Validators != want {
		t.Errorf("got NotModified %v, %+v; want true, %+v", res.NotModified, res.Validators, want)
	}
}

func TestSizeCap(t *testing.T) {
	const limit = 1024
	big := minimalRSS(strings.Repeat("long title ", 300))
	tests := []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"announced Content-Length over the cap", func(w http.ResponseWriter, r *http.Request) {
			// Only the first bytes ever come: refusing on the header is
			// the only way to answer before the deadline.
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(big[:100]))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
		}},
		{"chunked body over the cap", func(w http.ResponseWriter, r *http.Request) {
			for chunk := range chunks(big, 256) {
				_, _ = w.Write([]byte(chunk))
				w.(http.Flusher).Flush()
			}
		}},
		{"gzip body inflating past the cap", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped(t, big))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, tc.handler)
			_, err := newTestReader(srv, Limits{MaxBytes: limit}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
			var tooLarge *TooLargeError
			if !errors.As(err, &tooLarge) {
				t.Fatalf("err = %v, want a TooLargeError", err)
			}
			if want := "fetch " + srv.URL + ": feed is larger than the 1 KiB limit"; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
		})
	}
	t.Run("gzip body under the cap", func(t *testing.T) {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Encoding", "gzip")
			_, _ = w.Write(gzipped(t, minimalRSS("small")))
		})
		res, err := newTestReader(srv, Limits{MaxBytes: limit}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
		if err != nil || len(res.Articles) != 1 || res.Articles[0].Title != "small" {
			t.Fatalf("got %+v, %v; want the one article", res.Articles, err)
		}
	})
}

func TestDefaultLimitMessage(t *testing.T) {
	if got := (&TooLargeError{Limit: DefaultMaxBytes}).Error(); got != "feed is larger than the 10 MiB limit" {
		t.Errorf("got %q", got)
	}
}

func chunks(s string, size int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for len(s) > 0 {
			n := min(size, len(s))
			if !yield(s[:n]) {
				return
			}
			s = s[n:]
		}
	}
}

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestHTMLPageIsNotAFeed(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		wantAdvertised          string // "{{BASE_URL}}" stands for the server
	}{
		{
			name:        "page advertising a feed",
			contentType: "text/html; charset=utf-8",
			body: `<!DOCTYPE html><html><head><title>Blog</title>
				<link rel="alternate" type="application/json+oembed" href="/oembed">
				<link rel="alternate" type="application/rss+xml" title="Feed" href="/feed.xml">
				</head><body>Hello</body></html>`,
			wantAdvertised: "{{BASE_URL}}/feed.xml",
		},
		{
			name:        "page advertising nothing",
			contentType: "text/html",
			body:        "<html><body><h1>Maintenance</h1></body></html>",
		},
		{
			name:           "page served as XML",
			contentType:    "application/xml",
			body:           "\ufeff\n  <!doctype HTML><html><head><link rel=alternate type=application/atom+xml href=https://other.example/atom.xml></head></html>",
			wantAdvertised: "https://other.example/atom.xml",
		},
		{
			name:        "XHTML page",
			contentType: "application/xhtml+xml",
			body: `<?xml version="1.0" encoding="utf-8"?>
				<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
				<html xmlns="http://www.w3.org/1999/xhtml"><head><link rel="alternate" type="application/atom+xml" href="atom"/></head></html>`,
			wantAdvertised: "{{BASE_URL}}/blog/atom",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				_, _ = w.Write([]byte(tc.body))
			})
			_, err := newTestReader(srv, Limits{}).Read(context.Background(), source(srv.URL+"/blog/"), syndicate.Validators{})
			var notFeed *NotFeedError
			if !errors.As(err, &notFeed) {
				t.Fatalf("err = %v, want a NotFeedError", err)
			}
			want := strings.ReplaceAll(tc.wantAdvertised, "{{BASE_URL}}", srv.URL)
			if notFeed.Advertised != want {
				t.Errorf("Advertised = %q, want %q", notFeed.Advertised, want)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "fetch "+srv.URL+"/blog/: not a feed: the server answered with an HTML page") || !strings.Contains(msg, want) {
				t.Errorf("err = %q", msg)
			}
		})
	}
}

func TestFeedServedAsHTMLIsRead(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(minimalRSS("mislabelled")))
	})
	res, err := newTestReader(srv, Limits{}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
	if err != nil || len(res.Articles) != 1 {
		t.Fatalf("got %d articles, %v; want the feed read despite its Content-Type", len(res.Articles), err)
	}
}

func TestErrorStatuses(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		retryAfter string
		wantMsg    string
		wantRetry  time.Time
	}{
		{"not found", http.StatusNotFound, "", "server answered 404 Not Found", time.Time{}},
		{"gone", http.StatusGone, "", "feed is gone (410)", time.Time{}},
		{"rate limited for seconds", http.StatusTooManyRequests, "120", "server answered 429 Too Many Requests; retry after 2024-06-01T12:02:00Z", testNow().Add(2 * time.Minute)},
		{"rate limited until a date", http.StatusTooManyRequests, "Wed, 21 Oct 2026 07:28:00 GMT", "retry after 2026-10-21T07:28:00Z", time.Date(2026, 10, 21, 7, 28, 0, 0, time.UTC)},
		{"unavailable with seconds", http.StatusServiceUnavailable, "30", "server answered 503 Service Unavailable", testNow().Add(30 * time.Second)},
		{"unavailable without Retry-After", http.StatusServiceUnavailable, "", "server answered 503 Service Unavailable", time.Time{}},
		{"unreadable Retry-After", http.StatusTooManyRequests, "soon", "server answered 429 Too Many Requests", time.Time{}},
		{"server error", http.StatusInternalServerError, "", "server answered 500 Internal Server Error", time.Time{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				http.Error(w, "nope", tc.status)
			})
			_, err := newTestReader(srv, Limits{}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
			var fe *syndicate.FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("err = %v, want a *syndicate.FetchError", err)
			}
			if fe.Status != tc.status || !fe.RetryAfter.Equal(tc.wantRetry) {
				t.Errorf("Status %d, RetryAfter %v; want %d, %v", fe.Status, fe.RetryAfter, tc.status, tc.wantRetry)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "fetch "+srv.URL+": ") || !strings.Contains(msg, tc.wantMsg) {
				t.Errorf("err = %q, want it to name the URL and say %q", msg, tc.wantMsg)
			}
		})
	}
}

func TestSlowServerIsCutByTheTotalTimeout(t *testing.T) {
	body := minimalRSS("slow")
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(http.StatusOK)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := range len(body) {
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
			_, _ = w.Write([]byte{body[i]})
			w.(http.Flusher).Flush()
		}
	})
	_, err := newTestReader(srv, Limits{Timeout: 500 * time.Millisecond}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if want := "fetch " + srv.URL + ": no complete answer within 500ms"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %q, want it to start with %q", err, want)
	}
}

func TestPerReadLimitsOverrideTheReader(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(minimalRSS(strings.Repeat("x", 600))))
	})
	r := newTestReader(srv, Limits{MaxBytes: 100})
	if _, err := r.ReadWith(context.Background(), source(srv.URL), syndicate.Validators{}, Limits{MaxBytes: 4096}); err != nil {
		t.Errorf("with a 4 KiB limit: %v", err)
	}
	if _, err := r.Read(context.Background(), source(srv.URL), syndicate.Validators{}); err == nil {
		t.Error("with the reader's 100-byte limit: no error")
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	feedURL := "http://" + ln.Addr().String() + "/feed.xml"
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = New(Options{UserAgent: testUserAgent, Timeout: 5 * time.Second}).Read(context.Background(), source(feedURL), syndicate.Validators{})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("err = %v, want connection refused", err)
	}
	if !strings.HasPrefix(err.Error(), "fetch "+feedURL+": ") {
		t.Errorf("err = %q, want it to name the feed", err)
	}
}

func TestCancelledContext(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(minimalRSS("never")))
	})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := newTestReader(srv, Limits{}).Read(ctx, source(srv.URL), syndicate.Validators{})
	if !errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "no complete answer") {
		t.Errorf("err = %v, want a plain cancellation", err)
	}
}

func TestRedirects(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		if n > 0 {
			http.Redirect(w, r, "/chain/"+strconv.Itoa(n-1), http.StatusFound)
			return
		}
		_, _ = w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>` +
			`<item><title>moved</title><link>post</link></item></channel></rss>`))
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
	})
	srv := serve(t, mux.ServeHTTP)
	r := newTestReader(srv, Limits{})

	res, err := r.Read(context.Background(), source(srv.URL+"/chain/5"), syndicate.Validators{})
	if err != nil {
		t.Fatalf("five redirects: %v", err)
	}
	if want := srv.URL + "/chain/post"; len(res.Articles) != 1 || res.Articles[0].Link != want {
		t.Errorf("articles = %+v, want one linking to %s (resolved against the final URL)", res.Articles, want)
	}

	for _, path := range []string{"/chain/6", "/loop"} {
		_, err := r.Read(context.Background(), source(srv.URL+path), syndicate.Validators{})
		if err == nil || !strings.Contains(err.Error(), "stopped after 5 redirects") || !strings.HasPrefix(err.Error(), "fetch "+srv.URL+path) {
			t.Errorf("%s: err = %v, want the redirect limit", path, err)
		}
	}
}

func TestCharsets(t *testing.T) {
	const title = "¿Quién teme a Kazajistán? – café"
	rss := func(decl string) string {
		return decl + `<rss version="2.0"><channel><title>T</title><item><title>` + title + `</title><guid>g</guid></item></channel></rss>`
	}
	tests := []struct {
		name, contentType string
		body              []byte
	}{
		{"UTF-16 LE with BOM", "application/rss+xml",
			utf16LE("\ufeff" + rss(`<?xml version="1.0" encoding="UTF-16"?>`))},
		{"UTF-16 BE with BOM, no declaration", "application/rss+xml",
			utf16BE("\ufeff" + rss(""))},
		{"ISO-8859-1 in the XML declaration", "application/rss+xml",
			windows1252(rss(`<?xml version="1.0" encoding="ISO-8859-1"?>`))},
		{"charset only in the HTTP header", "application/rss+xml; charset=iso-8859-1",
			windows1252(rss(`<?xml version="1.0"?>`))},
		{"HTTP charset wins over the declaration", "text/xml; charset=UTF-8",
			[]byte(rss(`<?xml version="1.0" encoding="windows-1252"?>`))},
		{"UTF-8 BOM", "application/rss+xml",
			[]byte("\ufeff" + rss(`<?xml version="1.0" encoding="utf-8"?>`))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				_, _ = w.Write(tc.body)
			})
			res, err := newTestReader(srv, Limits{}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Articles) != 1 || res.Articles[0].Title != title {
				t.Errorf("articles = %+v, want one titled %q", res.Articles, title)
			}
		})
	}
}

func TestDeclarationRewrittenToUTF8(t *testing.T) {
	got, err := toUTF8(windows1252(`<?xml version='1.0' encoding='ISO-8859-1' standalone='yes'?><rss>é</rss>`), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := `<?xml version='1.0' encoding='utf-8' standalone='yes'?><rss>é</rss>`; string(got) != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func utf16LE(s string) []byte {
	var b []byte
	for _, u := range utf16Units(s) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func utf16BE(s string) []byte {
	var b []byte
	for _, u := range utf16Units(s) {
		b = append(b, byte(u>>8), byte(u))
	}
	return b
}

func utf16Units(s string) []uint16 {
	return utf16.Encode([]rune(s))
}

// windows1252 encodes s, whose runes must be Latin-1 or the en dash.
func windows1252(s string) []byte {
	var b []byte
	for _, r := range s {
		switch {
		case r == '–':
			b = append(b, 0x96)
		case r < 0x100:
			b = append(b, byte(r))
		default:
			panic("not in windows-1252: " + string(r))
		}
	}
	return b
}

func TestAdvertisedFeeds(t *testing.T) {
	page := []byte(`<html><head>
		<base href="https://www.example.org/blog/">
		<link rel="stylesheet" href="style.css">
		<link rel="alternate" type="application/rss+xml" href="feed/">
		<link rel="Alternate feed" type="application/atom+xml; charset=utf-8" href="/atom.xml">
		<link rel="alternate" type="application/feed+json" href="https://www.example.org/feed.json">
		<link rel="alternate" type="application/rss+xml" href="feed/">
		<link rel="alternate" hreflang="es" href="/es/">
		<link rel="alternate" type="application/json+oembed" href="/oembed">
		</head><body></body></html>`)
	got := AdvertisedFeeds(page, "https://example.org/")
	want := []string{"https://www.example.org/blog/feed/", "https://www.example.org/atom.xml", "https://www.example.org/feed.json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("got %q, want %q", got, want)
	}
}
