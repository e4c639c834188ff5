package websub_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
	"github.com/syndicate-daemon/syndicate/syndicate/websub"
)

// hub is a WebSub hub on loopback: it accepts subscription requests, then
// verifies them with the subscriber's callback as the W3C spec says.
type hub struct {
	*httptest.Server
	t        *testing.T
	mu       sync.Mutex
	secret   map[string]string // callback → hub.secret
	verified chan string       // callbacks whose verification succeeded
	requests []url.Values
}

func newHub(t *testing.T) *hub {
	h := &hub{t: t, secret: map[string]string{}, verified: make(chan string, 10)}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.Close)
	return h
}

func (h *hub) serve(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || r.Method != http.MethodPost {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	form := r.PostForm
	h.mu.Lock()
	h.requests = append(h.requests, form)
	h.secret[form.Get("hub.callback")] = form.Get("hub.secret")
	h.mu.Unlock()
	for _, k := range []string{"hub.mode", "hub.topic", "hub.callback"} {
		if form.Get(k) == "" {
			http.Error(w, k+" missing", http.StatusBadRequest)
			return
		}
	}
	w.WriteHeader(http.StatusAccepted)
	go h.verify(form)
}

func (h *hub) verify(form url.Values) {
	challenge := fmt.Sprintf("challenge-%d", time.Now().UnixNano())
	q := url.Values{"hub.mode": {form.Get("hub.mode")}, "hub.topic": {form.Get("hub.topic")},
		"hub.challenge": {challenge}, "hub.lease_seconds": {"3600"}}
	resp, err := http.Get(form.Get("hub.callback") + "?" + q.Encode())
	if err != nil {
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && string(body) == challenge {
		h.verified <- form.Get("hub.mode") + " " + form.Get("hub.callback")
	}
}

// deliver sends content to a callback, signed with the given method.
func (h *hub) deliver(callback, body string, method func() hash.Hash, name string, secret string) int {
	mac := hmac.New(method, []byte(secret))
	mac.Write([]byte(body))
	req, _ := http.NewRequest(http.MethodPost, callback, strings.NewReader(body))
	req.Header.Set("X-Hub-Signature", name+"="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

type daemon struct {
	mu    sync.Mutex
	polls []string
}

func (d *daemon) Ready() bool { return true }
func (d *daemon) FeedID(id string, byURL bool) (string, bool) {
	return id, !byURL && id == "blog"
}
func (d *daemon) PollNow(feedID string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.polls = append(d.polls, feedID)
	return true
}
func (d *daemon) count() int { d.mu.Lock(); defer d.mu.Unlock(); return len(d.polls) }

func TestSubscribeVerifyDeliverRenewUnsubscribe(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	d := &daemon{}
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	sub := &websub.Subscriber{Store: store, Poll: d.PollNow, Now: func() time.Time { return now }, Lease: 10 * time.Hour}
	site := httptest.NewServer(web.Handler(web.Options{Daemon: d, WebSub: sub}))
	defer site.Close()
	sub.CallbackBase = site.URL
	h := newHub(t)
	callback := site.URL + "/websub/blog"

	sub.Advertised(ctx, "blog", h.URL, "https://blog.example/feed")
	select {
	case v := <-h.verified:
		if v != "subscribe "+callback {
			t.Fatalf("verified %q", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hub could not verify the subscription")
	}
	s, err := store.Subscription(ctx, "blog")
	if err != nil || s.State != "active" || !s.LeaseUntil.Equal(now.Add(time.Hour)) {
		t.Fatalf("subscription %+v, %v", s, err)
	}

	// Content: a valid signature triggers a poll; a wrong one is ignored
	// but acknowledged.
	if code := h.deliver(callback, "<feed/>", sha256.New, "sha256", s.Secret); code != http.StatusAccepted || d.count() != 1 {
		t.Fatalf("signed delivery: %d, polls %d", code, d.count())
	}
	if code := h.deliver(callback, "<feed/>", sha1.New, "sha1", s.Secret); code != http.StatusAccepted || d.count() != 2 {
		t.Fatalf("sha1 delivery: %d, polls %d", code, d.count())
	}
	if code := h.deliver(callback, "<feed/>", sha256.New, "sha256", "not-the-secret"); code != http.StatusAccepted || d.count() != 2 {
		t.Fatalf("forged delivery: %d, polls %d", code, d.count())
	}
	if code := h.deliver(site.URL+"/websub/other", "<feed/>", sha256.New, "sha256", s.Secret); code != http.StatusNotFound {
		t.Fatalf("unknown feed: %d", code)
	}

	// A verification nobody asked for is refused.
	resp, _ := http.Get(callback + "?hub.mode=subscribe&hub.topic=https://evil.example/&hub.challenge=x")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unsolicited verification: %d", resp.StatusCode)
	}
	resp.Body.Close()

	// While the lease is long, polls do not re-subscribe; near its end they do.
	sub.Advertised(ctx, "blog", h.URL, "https://blog.example/feed")
	if n := len(h.requests); n != 1 {
		t.Fatalf("%d hub requests with a fresh lease", n)
	}
	now = now.Add(59 * time.Minute)
	sub.Advertised(ctx, "blog", h.URL, "https://blog.example/feed")
	<-h.verified
	if n := len(h.requests); n != 2 {
		t.Fatalf("%d hub requests after the lease ran low", n)
	}

	// The feed stops advertising the hub: unsubscribed, and confirmed.
	sub.Advertised(ctx, "blog", "", "")
	select {
	case v := <-h.verified:
		if v != "unsubscribe "+callback {
			t.Fatalf("verified %q", v)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hub could not verify the unsubscription")
	}
	if _, err := store.Subscription(ctx, "blog"); !errors.Is(err, syndicate.ErrNotFound) {
		t.Fatalf("subscription kept: %v", err)
	}
}
