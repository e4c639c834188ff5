package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// insert puts an RSS item at the top of the site's English feed.
func (fs *feedServer) insert(item string) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.extra["en.rss.xml"] = append([]string{item}, fs.extra["en.rss.xml"]...)
}

func imageItem(slug, title, date, image string) string {
	return fmt.Sprintf(`<item>
    <title>%s</title>
    <link>https://en.communia.blog/%s</link>
    <guid isPermaLink="true">https://en.communia.blog/%s</guid>
    <pubDate>%s</pubDate>
    <media:content url="%s" medium="image" type="image/jpeg"><media:description>A picture</media:description></media:content>
    <description><![CDATA[<p>The lead of %s, with a picture.</p>]]></description>
  </item>`, title, slug, slug, date, image, title)
}

// countingServer answers every request with the site's JPEG, counting
// them: a fetch that the guard lets through is seen, and its image posted.
func countingServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	jpeg, err := os.ReadFile(filepath.Join("testdata", "site", "kazakhstan-strike.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write(jpeg)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// environWithProxy is the test's environment with every proxy setting
// replaced: plain HTTP goes through proxy, loopback never does.
func environWithProxy(proxy string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(name) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "ALL_PROXY", "REQUEST_METHOD":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "HTTP_PROXY="+proxy, "http_proxy="+proxy, "HTTPS_PROXY="+proxy, "https_proxy="+proxy,
		"NO_PROXY=", "no_proxy=")
}

// TestFeedContentCannotReachInside: images a feed names on a loopback
// server that is not the feed's origin (by address or by a name that
// resolves there) and on the cloud metadata address are not fetched: the
// posts go without them, each delivery says why, and neither the image
// server nor anything else receives a request. The cloud metadata
// address is reached only through a proxy (a local server standing in
// for it, so nothing leaves this machine), which must see nothing
// either. An image beside the feed, on its origin, is posted.
func TestFeedContentCannotReachInside(t *testing.T) {
	bin := syndicateBinary(t)
	s := newSite(t, siteOptions{})
	s.mustOnce()
	inside, insideHits := countingServer(t)
	proxy, proxyHits := countingServer(t)
	insideURL, _ := url.Parse(inside.URL)

	s.feeds.insert(imageItem("beside", "Beside the feed", "Mon, 23 Nov 2026 09:00:00 +0100", s.feeds.URL+"/kazakhstan-strike.jpg"))
	s.feeds.insert(imageItem("loopback", "Loopback image", "Mon, 23 Nov 2026 10:00:00 +0100", inside.URL+"/strike.jpg"))
	s.feeds.insert(imageItem("named", "Named loopback image", "Mon, 23 Nov 2026 11:00:00 +0100",
		"http://localhost:"+insideURL.Port()+"/strike.jpg"))
	s.feeds.insert(imageItem("metadata", "Metadata image", "Mon, 23 Nov 2026 12:00:00 +0100",
		"http://169.254.169.254/latest/meta-data/strike.jpg"))

	cmd := exec.Command(bin, "once", "--config", s.config, "--max-wait", "5s")
	cmd.Env = append(environWithProxy(proxy.URL), "MASTODON_TOKEN="+mastodonToken, "ADMIN_TOKEN="+adminToken)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("once: %v\n%s", err, out)
	}

	if n, m := insideHits.Load(), proxyHits.Load(); n != 0 || m != 0 {
		t.Fatalf("the image server received %d requests and the proxy %d; want none", n, m)
	}
	for _, title := range []string{"Loopback image", "Named loopback image", "Metadata image"} {
		for _, ch := range []string{"mastodon-en", "telegram-en"} {
			d := s.delivery(ch, title)
			if d.State != "sent" {
				t.Errorf("%s, %s: %s (%s)", ch, title, d.State, d.LastError)
			}
			for _, want := range []string{"without its image", "not fetched", "resolves to a private address", "allow_private_networks: false"} {
				if !strings.Contains(d.LastError, want) {
					t.Errorf("%s, %s: the delivery's warning %q does not say %q", ch, title, d.LastError, want)
				}
			}
		}
	}
	for _, st := range s.mastodon.Statuses() {
		beside := strings.HasPrefix(st.Text, "Beside the feed")
		if len(st.MediaIDs) > 0 != beside {
			t.Errorf("status %q has %d media", firstLines([]string{st.Text}), len(st.MediaIDs))
		}
	}
	for _, m := range s.telegram.Messages() {
		beside := strings.Contains(m.Plain, "Beside the feed")
		if (m.Method == "sendPhoto") != beside {
			t.Errorf("telegram %s for %q", m.Method, firstLines([]string{m.Plain}))
		}
	}
	if n, m := len(s.mastodon.Statuses()), len(s.telegram.Messages()); n != 4 || m != 4 {
		t.Fatalf("%d statuses and %d messages, want 4 of each", n, m)
	}
}

// TestAllowPrivateNetworks: with allow_private_networks: true, the image
// on another loopback server is fetched and posted.
func TestAllowPrivateNetworks(t *testing.T) {
	s := newSite(t, siteOptions{})
	raw, _ := os.ReadFile(s.config)
	s.writeFile("syndicate.yaml", "allow_private_networks: true\n"+string(raw))
	s.mustOnce()
	inside, insideHits := countingServer(t)
	s.feeds.insert(imageItem("loopback", "Loopback image", "Mon, 23 Nov 2026 10:00:00 +0100", inside.URL+"/strike.jpg"))
	s.mustOnce()
	if n := insideHits.Load(); n < 1 {
		t.Fatal("the image was not fetched")
	}
	if sts := s.mastodon.Statuses(); len(sts) != 1 || len(sts[0].MediaIDs) != 1 {
		t.Fatalf("statuses: %+v", sts)
	}
	if ms := s.telegram.Messages(); len(ms) != 1 || ms[0].Method != "sendPhoto" {
		t.Fatalf("messages: %+v", ms)
	}
	for _, ch := range []string{"mastodon-en", "telegram-en"} {
		if d := s.delivery(ch, "Loopback image"); d.State != "sent" || d.LastError != "" {
			t.Errorf("%s: %+v", ch, d)
		}
	}
}

// logged reports whether the daemon's log so far holds every one of parts
// on one line.
func (d *daemon) logged(parts ...string) bool {
	d.logs.mu.lock()
	defer d.logs.mu.unlock()
	for _, line := range strings.Split(d.buf.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all && len(parts) > 0 {
			return true
		}
	}
	return false
}

// TestWebSubHubInsideIsRefused: a feed that advertises a hub on loopback
// (not the feed's origin) does not make the daemon post to it; the log
// says why.
func TestWebSubHubInsideIsRefused(t *testing.T) {
	s := newSite(t, siteOptions{})
	var hits atomic.Int32
	hub := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer hub.Close()
	s.feeds.hub = hub.URL + "/hub"
	addr := freeAddr(t)
	raw, _ := os.ReadFile(s.config)
	s.writeFile("syndicate.yaml", strings.Replace(string(raw), `listen: "127.0.0.1:0"`,
		`listen: "`+addr+`"`+"\npublic_url: \"http://"+addr+`"`, 1))
	d := s.startDaemonAt(addr)
	waitFor(t, func() bool {
		return d.logged("websub: subscribe", "resolves to a private address", "allow_private_networks: false")
	})
	d.stop()
	if n := hits.Load(); n != 0 {
		t.Fatalf("the hub inside received %d requests", n)
	}
}
