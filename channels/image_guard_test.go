package channels

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate/netguard"
)

// TestImageOutsideTheOriginsIsRefused: with a guard, an image on the
// feed's origin is fetched even on loopback; one on another loopback
// server, on the cloud metadata address through a proxy (a local server
// standing in for it), or behind a redirect from the allowed origin is
// refused with a lasting *ImageError that says why, and no request
// reaches where it points.
func TestImageOutsideTheOriginsIsRefused(t *testing.T) {
	var insideHits atomic.Int32
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		insideHits.Add(1)
		w.Write(jpegData)
	}))
	defer inside.Close()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away.jpg" {
			http.Redirect(w, r, inside.URL+"/a.jpg", http.StatusFound)
			return
		}
		w.Write(jpegData)
	}))
	defer site.Close()
	proxyURL, _ := url.Parse(inside.URL) // counts what goes through it too
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = func(r *http.Request) (*url.URL, error) {
		if r.URL.Hostname() == "169.254.169.254" {
			return proxyURL, nil
		}
		return nil, nil
	}
	guard := netguard.New(netguard.Options{Origins: []string{site.URL + "/feed.xml"}})
	f := ImageFetcher{Client: &http.Client{Transport: guard.Transport(base, nil), Timeout: 5 * time.Second}}
	ctx := context.Background()

	if img, err := f.Fetch(ctx, site.URL+"/beside.jpg", 1<<20); err != nil || img.ContentType != "image/jpeg" {
		t.Fatalf("the image beside the feed: %v", err)
	}
	for _, raw := range []string{inside.URL + "/a.jpg", "http://169.254.169.254/latest/meta-data/a.jpg", site.URL + "/away.jpg"} {
		_, err := f.Fetch(ctx, raw, 1<<20)
		var ie *ImageError
		if !errors.As(err, &ie) || !ie.Lasting || ie.URL != raw {
			t.Fatalf("%s: err = %#v, want a lasting ImageError", raw, err)
		}
		note := WithoutImage(raw, err)
		for _, want := range []string{"posted without its image " + raw + ": not fetched: ", "resolves to a private address", "allow_private_networks: false"} {
			if !strings.Contains(note, want) {
				t.Errorf("%s: the note %q does not say %q", raw, note, want)
			}
		}
	}
	if n := insideHits.Load(); n != 0 {
		t.Fatalf("the server inside received %d requests", n)
	}
}
