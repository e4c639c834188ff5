package netguard

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1":          "loopback",
		"127.8.9.10":         "loopback",
		"::1":                "loopback",
		"::ffff:127.0.0.1":   "loopback",
		"10.1.2.3":           "private",
		"172.16.0.1":         "private",
		"172.31.255.255":     "private",
		"192.168.1.1":        "private",
		"fc00::1":            "private",
		"fd12:3456::1":       "private",
		"169.254.169.254":    "link-local",
		"fe80::1":            "link-local",
		"100.64.0.1":         "shared (CGNAT)",
		"100.127.255.254":    "shared (CGNAT)",
		"0.0.0.0":            "unspecified",
		"0.1.2.3":            "unspecified",
		"::":                 "unspecified",
		"224.0.0.1":          "multicast",
		"ff02::1":            "multicast",
		"255.255.255.255":    "reserved",
		"64:ff9b::a9fe:a9fe": "link-local", // 169.254.169.254 through NAT64
		"93.184.216.34":      "",
		"172.32.0.1":         "",
		"100.128.0.1":        "",
		"2606:2800:220:1::":  "",
		"64:ff9b::5db8:d822": "",
	} {
		if got := Classify(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Classify(%s) = %q, want %q", addr, got, want)
		}
	}
}

func TestOrigin(t *testing.T) {
	for raw, want := range map[string]string{
		"https://Example.org/feed":  "https://example.org:443",
		"http://example.org./feed":  "http://example.org:80",
		"http://127.0.0.1:8080/x?y": "http://127.0.0.1:8080",
		"https://[::1]/x":           "https://[::1]:443",
		"file:///srv/feed.xml":      "",
		"ftp://example.org/":        "",
		"/relative":                 "",
	} {
		got, ok := Origin(raw)
		if got != want || ok != (want != "") {
			t.Errorf("Origin(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
	g := New(Options{Origins: []string{"https://example.org/feed", "file:///x"}})
	for raw, want := range map[string]bool{
		"https://example.org/images/a.jpg": true,
		"https://EXAMPLE.org:443/a.jpg":    true,
		"http://example.org/a.jpg":         false, // another scheme is another origin
		"https://example.org:8443/a.jpg":   false,
		"https://cdn.example.org/a.jpg":    false,
	} {
		u, _ := url.Parse(raw)
		if got := g.Allows(u); got != want {
			t.Errorf("Allows(%s) = %v, want %v", raw, got, want)
		}
	}
	if u, _ := url.Parse("http://127.0.0.1/"); !(*Guard)(nil).Allows(u) {
		t.Error("a nil Guard must allow everything")
	}
}

// counting is a server that counts the requests it receives.
func counting(t *testing.T, h http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func get(t *testing.T, c *http.Client, raw string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// TestTransport: a request to an allowed origin on loopback goes through;
// one to another loopback server is refused before anything is sent, by
// address and by name alike; and a redirect from the allowed origin to
// the other server is refused too.
func TestTransport(t *testing.T) {
	inside, reached := counting(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("secret")) })
	site, _ := counting(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/away" {
			http.Redirect(w, r, inside.URL+"/metadata", http.StatusFound)
			return
		}
		w.Write([]byte("ok"))
	})
	c := New(Options{Origins: []string{site.URL + "/feed.xml"}}).Client(5 * time.Second)

	if err := get(t, c, site.URL+"/image.jpg"); err != nil {
		t.Fatalf("the allowed origin: %v", err)
	}
	insideURL, _ := url.Parse(inside.URL)
	for _, target := range []string{
		inside.URL + "/metadata",
		"http://localhost:" + insideURL.Port() + "/metadata", // a name that resolves inside
		site.URL + "/away",                                   // the allowed origin redirects inside
	} {
		err := get(t, c, target)
		var refused *RefusedError
		if !errors.As(err, &refused) {
			t.Fatalf("%s: err = %v, want a RefusedError", target, err)
		}
		if refused.Kind != "loopback" || !strings.Contains(err.Error(), "resolves to a private address") ||
			!strings.Contains(err.Error(), "allow_private_networks: false") {
			t.Errorf("%s: %v", target, err)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the inside server received %d requests", n)
	}

	// Without a guard (allow_private_networks: true) all of it goes.
	var off *Guard
	if err := get(t, off.Client(5*time.Second), site.URL+"/away"); err != nil {
		t.Fatal(err)
	}
	if n := reached.Load(); n != 1 {
		t.Fatalf("the inside server received %d requests, want 1", n)
	}
}

// TestControlChecksTheConnectedAddress: whatever a name resolved to
// before, the hook judges the address being connected to.
func TestControlChecksTheConnectedAddress(t *testing.T) {
	g := New(Options{})
	for addr, refused := range map[string]bool{
		"127.0.0.1:80": true, "[::1]:443": true, "169.254.169.254:80": true, "[fe80::1%eth0]:80": true,
		"10.0.0.1:80": true, "100.64.1.1:80": true, "0.0.0.0:80": true, "93.184.216.34:443": false,
	} {
		err := g.Control(context.Background(), "tcp", addr, nil)
		if (err != nil) != refused {
			t.Errorf("Control(%s) = %v, want refused %v", addr, err, refused)
		}
	}
	allowed := context.WithValue(context.Background(), allowedKey{}, true)
	if err := g.Control(allowed, "tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("a dial for an allowed origin: %v", err)
	}
}

// TestProxiedRequestsAreCheckedByName: through a proxy, the target is
// resolved and checked before the request leaves.
func TestProxiedRequestsAreCheckedByName(t *testing.T) {
	proxy, proxied := counting(t, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("via proxy")) })
	proxyURL, _ := url.Parse(proxy.URL)
	g := New(Options{LookupNetIP: func(_ context.Context, _, host string) ([]netip.Addr, error) {
		if host == "metadata.example" {
			return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
	}})
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = http.ProxyURL(proxyURL)
	c := &http.Client{Transport: g.Transport(base, nil), Timeout: 5 * time.Second}
	var refused *RefusedError
	if err := get(t, c, "http://metadata.example/latest"); !errors.As(err, &refused) || refused.Host != "metadata.example" {
		t.Fatalf("err = %v, want a refusal naming metadata.example", err)
	}
	if err := get(t, c, "http://public.example/feed"); err != nil {
		t.Fatalf("a public host through the proxy: %v", err)
	}
	if n := proxied.Load(); n != 1 {
		t.Fatalf("the proxy received %d requests, want 1", n)
	}
}
