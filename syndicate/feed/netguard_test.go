package feed

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/netguard"
)

// TestRedirectAwayFromTheOriginIsGuarded: the configured feed is read
// from its origin on loopback, and so is a redirect within that origin;
// a redirect from it to another server inside the network is refused
// before a request reaches it.
func TestRedirectAwayFromTheOriginIsGuarded(t *testing.T) {
	var insideHits atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		insideHits.Add(1)
		w.Write([]byte(minimalRSS("Inside")))
	}))
	defer inside.Close()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/feed.xml":
			w.Header().Set("Content-Type", "application/rss+xml")
			w.Write([]byte(minimalRSS("Outside")))
		case "/same":
			http.Redirect(w, r, "/feed.xml", http.StatusFound)
		case "/away":
			http.Redirect(w, r, inside.URL+"/feed.xml", http.StatusMovedPermanently)
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()
	guard := netguard.New(netguard.Options{Origins: []string{site.URL + "/feed.xml"}})
	r := New(Options{UserAgent: testUserAgent, Timeout: 5 * time.Second, Now: testNow, Guard: guard})
	ctx := context.Background()

	for _, path := range []string{"/feed.xml", "/same"} {
		res, err := r.Read(ctx, source(site.URL+path), syndicate.Validators{})
		if err != nil || len(res.Articles) != 1 || res.Articles[0].Title != "Outside" {
			t.Fatalf("%s: %v, %+v", path, err, res.Articles)
		}
	}
	_, err := r.Read(ctx, source(site.URL+"/away"), syndicate.Validators{})
	var refused *netguard.RefusedError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "redirected to "+inside.URL) ||
		!strings.Contains(err.Error(), "resolves to a private address") {
		t.Fatalf("err = %v, want a refusal naming the redirect", err)
	}
	if n := insideHits.Load(); n != 0 {
		t.Fatalf("the server inside received %d requests", n)
	}
}
