package feed

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// TestFeedPasswordStaysPrivate: a private feed read with basic auth in its
// URL never shows the password in an error, nor passes the credentials on
// to the links of its articles, which are posted publicly.
func TestFeedPasswordStaysPrivate(t *testing.T) {
	const password = "s3cret-feed-pass"
	relative := `<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>` +
		`<item><title>A</title><link>/posts/a</link><guid>a</guid></item></channel></rss>`
	mux := http.NewServeMux()
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "reader" || p != password {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte(relative))
	})
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write([]byte("<html>not a feed</html>"))
	})
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "gone", http.StatusGone)
	})
	srv := serve(t, mux.ServeHTTP)
	withAuth := strings.Replace(srv.URL, "http://", "http://reader:"+password+"@", 1)
	r := newTestReader(srv, Limits{})

	res, err := r.Read(context.Background(), source(withAuth+"/feed"), syndicate.Validators{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Articles) != 1 {
		t.Fatalf("got %d articles, want 1", len(res.Articles))
	}
	if got, want := res.Articles[0].Link, srv.URL+"/posts/a"; got != want {
		t.Errorf("Link = %q, want %q: the feed's credentials must not reach a public link", got, want)
	}
	doc, err := Parse([]byte(relative), "application/rss+xml", withAuth+"/feed")
	if err != nil {
		t.Fatal(err)
	}
	if a := Normalise("test", doc, "en", testNow()); len(a) != 1 || a[0].Link != srv.URL+"/posts/a" {
		t.Errorf("Normalise: got %+v, want one article linking to %s/posts/a", a, srv.URL)
	}

	for _, path := range []string{"/broken", "/gone"} {
		_, err := r.Read(context.Background(), source(withAuth+path), syndicate.Validators{})
		if err == nil {
			t.Fatalf("%s: no error", path)
		}
		if strings.Contains(err.Error(), password) {
			t.Errorf("%s: the error shows the password: %v", path, err)
		}
		if !strings.Contains(err.Error(), "reader:***@") {
			t.Errorf("%s: err = %v, want it to name the URL with the password redacted", path, err)
		}
	}

	// A server that does not answer: the network error names the URL too.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = newTestReader(nil, Limits{Timeout: 2 * time.Second}).Read(context.Background(),
		source("http://reader:"+password+"@"+addr+"/feed"), syndicate.Validators{})
	if err == nil || strings.Contains(err.Error(), password) || strings.Contains(err.Error(), "redirected") {
		t.Errorf("connection refused: err = %v, want the URL redacted and no redirect mentioned", err)
	}
}
