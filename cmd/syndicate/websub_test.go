package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// testHub is a WebSub hub: it records the subscription, verifies it with
// the callback, and can then notify the subscriber of new content.
type testHub struct {
	*httptest.Server
	mu       sync.Mutex
	callback string
	secret   string
	verified chan struct{}
}

func newTestHub(t *testing.T) *testHub {
	h := &testHub{verified: make(chan struct{}, 1)}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("hub.mode") != "subscribe" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.callback, h.secret = r.PostForm.Get("hub.callback"), r.PostForm.Get("hub.secret")
		h.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		go func(topic string) {
			q := url.Values{"hub.mode": {"subscribe"}, "hub.topic": {topic}, "hub.challenge": {"c-123"}, "hub.lease_seconds": {"86400"}}
			resp, err := http.Get(h.callback + "?" + q.Encode())
			if err != nil {
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 && string(body) == "c-123" {
				h.verified <- struct{}{}
			}
		}(r.PostForm.Get("hub.topic"))
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *testHub) notify(t *testing.T, body string) {
	h.mu.Lock()
	callback, secret := h.callback, h.secret
	h.mu.Unlock()
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	req, _ := http.NewRequest(http.MethodPost, callback, strings.NewReader(body))
	req.Header.Set("X-Hub-Signature", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// TestWebSubDeliversAtOnce: the feed advertises a hub, the daemon
// subscribes with public_url as its callback base, and the hub's
// notification brings the new article out without waiting for a poll.
func TestWebSubDeliversAtOnce(t *testing.T) {
	s := newSite(t, siteOptions{})
	hub := newTestHub(t)
	s.feeds.hub = hub.URL
	addr := freeAddr(t)
	raw, _ := os.ReadFile(s.config)
	s.writeFile("syndicate.yaml", strings.Replace(string(raw), `listen: "127.0.0.1:0"`,
		`listen: "`+addr+`"`+"\npublic_url: \"http://"+addr+`"`+"\nallow_private_networks: true # the hub is on loopback", 1))
	d := s.startDaemonAt(addr)
	defer d.stop()
	select {
	case <-hub.verified:
	case <-time.After(20 * time.Second):
		t.Fatal("the daemon did not subscribe to the hub")
	}
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	hub.notify(t, "<rss/>")
	waitFor(t, func() bool { return len(s.mastodon.Statuses()) == 1 && len(s.telegram.Messages()) == 1 })
}
