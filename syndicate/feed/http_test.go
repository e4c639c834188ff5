package feed

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

func TestPermanentRedirects(t *testing.T) {
	mux := http.NewServeMux()
	hop := func(from, to string, status int) {
		mux.HandleFunc(from, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, status) })
	}
	hop("/old", "/older", http.StatusMovedPermanently)
	hop("/older", "/feed", http.StatusPermanentRedirect)
	hop("/mixed", "/mixed-2", http.StatusMovedPermanently)
	hop("/mixed-2", "/feed", http.StatusFound)
	hop("/temporary", "/feed", http.StatusTemporaryRedirect)
	hop("/old-304", "/feed-304", http.StatusMovedPermanently)
	mux.HandleFunc("/feed", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(minimalRSS("moved")))
	})
	mux.HandleFunc("/feed-304", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotModified)
	})
	srv := serve(t, mux.ServeHTTP)
	r := newTestReader(srv, Limits{})
	for _, tc := range []struct{ path, want string }{
		{"/old", srv.URL + "/feed"},
		{"/mixed", ""},
		{"/temporary", ""},
		{"/feed", ""},
		{"/old-304", srv.URL + "/feed-304"},
	} {
		v := syndicate.Validators{}
		if tc.path == "/old-304" {
			v.ETag = `"x"`
		}
		res, err := r.Read(context.Background(), source(srv.URL+tc.path), v)
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if res.PermanentURL != tc.want {
			t.Errorf("%s: PermanentURL = %q, want %q", tc.path, res.PermanentURL, tc.want)
		}
	}
}

// countingBody writes size bytes of a feed-looking document in chunks until
// the client stops reading, and reports how many the client took.
func countingBody(w http.ResponseWriter, size int, written *atomic.Int64) {
	chunk := bytes.Repeat([]byte("<item><title>filler</title></item>\n"), 1024)
	_, _ = w.Write([]byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>Huge</title>`))
	for sent := 0; sent < size; sent += len(chunk) {
		n, err := w.Write(chunk)
		written.Add(int64(n))
		if err != nil {
			return
		}
	}
}

// TestHugeFeedIsRefusedAtTheCap: a 40 MB feed, announced or not, is refused
// at the default 10 MiB cap, and the server is not made to send it all.
func TestHugeFeedIsRefusedAtTheCap(t *testing.T) {
	const size = 40 << 20
	for _, announced := range []bool{false, true} {
		t.Run("Content-Length announced "+strconv.FormatBool(announced), func(t *testing.T) {
			var written atomic.Int64
			done := make(chan struct{})
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				defer close(done)
				w.Header().Set("Content-Type", "application/rss+xml")
				if announced {
					w.Header().Set("Content-Length", strconv.Itoa(size+100))
				}
				countingBody(w, size, &written)
			})
			_, err := newTestReader(srv, Limits{Timeout: 20 * time.Second}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
			var tooLarge *TooLargeError
			if !errors.As(err, &tooLarge) || tooLarge.Limit != DefaultMaxBytes {
				t.Fatalf("err = %v, want a TooLargeError at the default cap", err)
			}
			if want := "fetch " + srv.URL + ": feed is larger than the 10 MiB limit"; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the server is still sending")
			}
			// What the server wrote is what the client read plus what the
			// sockets buffered when it hung up: far from all of it.
			t.Logf("the server wrote %d bytes before the client hung up", written.Load())
			if n := written.Load(); n >= size/2 {
				t.Errorf("the server wrote %d of %d bytes", n, size)
			}
		})
	}
}

// TestGzipBombIsRefusedAtTheCap: 40 MiB that gzip shrinks to some 40 KiB
// (one member of a mebibyte of zeros, forty times over: gzip readers read
// concatenated members as one stream) inflate only up to the cap.
func TestGzipBombIsRefusedAtTheCap(t *testing.T) {
	var member bytes.Buffer
	zw := gzip.NewWriter(&member)
	if _, err := zw.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	buf.Write(gzipped(t, `<?xml version="1.0"?><rss version="2.0"><channel><title>`))
	for range 40 {
		buf.Write(member.Bytes())
	}
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(buf.Bytes())
	})
	_, err := newTestReader(srv, Limits{MaxBytes: 1 << 20}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
	var tooLarge *TooLargeError
	if !errors.As(err, &tooLarge) || !strings.HasPrefix(err.Error(), "fetch "+srv.URL+": feed is larger than the 1 MiB limit") {
		t.Fatalf("err = %v, want the 1 MiB cap", err)
	}
}

// TestOneByteASecond: a server that trickles its answer is cut by the
// total timeout, however steadily it sends.
func TestOneByteASecond(t *testing.T) {
	body := minimalRSS("slow")
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.WriteHeader(http.StatusOK)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for i := range len(body) {
			_, _ = w.Write([]byte{body[i]})
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-tick.C:
			}
		}
	})
	_, err := newTestReader(srv, Limits{Timeout: 1500 * time.Millisecond}).Read(context.Background(), source(srv.URL), syndicate.Validators{})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "fetch "+srv.URL+": no complete answer within 1.5s") {
		t.Fatalf("err = %v, want the total timeout", err)
	}
}

func TestWebSubDiscovery(t *testing.T) {
	srv := newFeedsServer(t, nil)
	withHeaders := func(links ...string) *Reader {
		c := *srv.Client()
		c.Transport = headerTransport{base: c.Transport, links: links}
		return New(Options{Client: &c, UserAgent: testUserAgent, Timeout: 5 * time.Second, Now: testNow})
	}
	for _, tc := range []struct {
		name, file string
		links      []string
		hub, self  string
	}{
		{"headers win over the document", "websub.rss.xml",
			[]string{`<https://header-hub.example.net/>; rel="hub", </topic?x=1>; rel="self"`},
			"https://header-hub.example.net/", "{{BASE_URL}}/topic?x=1"},
		{"several headers, rel lists, quoted commas", "websub.atom.xml",
			[]string{`<https://example.net/a>; title="x, y"; rel="alternate"`, `<https://header-hub.example.net/>; rel="hub self-ish"`},
			"https://header-hub.example.net/", "{{BASE_URL}}/feeds/websub.atom.xml"},
		{"self from the header, hub from the document", "websub.json",
			[]string{`<https://example.org/topic>; rel=self`},
			"https://hub.example.net/", "https://example.org/topic"},
		{"none at all", "titles.rss.xml", nil, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := withHeaders(tc.links...).Read(context.Background(), source(srv.URL+"/feeds/"+tc.file), syndicate.Validators{})
			if err != nil {
				t.Fatal(err)
			}
			hub, self := strings.ReplaceAll(tc.hub, "{{BASE_URL}}", srv.URL), strings.ReplaceAll(tc.self, "{{BASE_URL}}", srv.URL)
			if res.Hub != hub || res.Self != self {
				t.Errorf("Hub %q, Self %q; want %q, %q", res.Hub, res.Self, hub, self)
			}
		})
	}
}

// headerTransport adds Link headers to every answer.
type headerTransport struct {
	base  http.RoundTripper
	links []string
}

func (h headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := h.base.RoundTrip(req)
	if err == nil {
		for _, l := range h.links {
			resp.Header.Add("Link", l)
		}
	}
	return resp, err
}

func TestParseLinkHeader(t *testing.T) {
	got := parseLinkHeader(`<https://a.example/>; rel="hub", <b>;rel=self;title="t, u" , broken; rel=hub, <c>; REL="Next"; rel="ignored"`)
	want := []headerLink{{"https://a.example/", "hub"}, {"b", "self"}, {"c", "Next"}}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("link %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
