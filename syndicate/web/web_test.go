package web_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndicate-daemon/syndicate/syndicate/web"
)

type daemon struct {
	mu    sync.Mutex
	ready bool
	polls []string
}

func (d *daemon) Ready() bool { return d.ready }
func (d *daemon) FeedID(key string, byURL bool) (string, bool) {
	switch {
	case !byURL && key == "blog", byURL && key == "https://blog.example/feed":
		return "blog", true
	}
	return "", false
}
func (d *daemon) PollNow(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.polls = append(d.polls, id)
	return d.ready
}

func TestPing(t *testing.T) {
	const token = "an-admin-token-of-some-length"
	d := &daemon{ready: true}
	srv := httptest.NewServer(web.Handler(web.Options{Daemon: d, Gatherer: prometheus.NewRegistry(), AdminToken: token}))
	defer srv.Close()
	tests := []struct {
		name, method, query, auth string
		want                      int
	}{
		{"by id", "POST", "feed=blog", "Bearer " + token, 202},
		{"by url", "POST", "url=https://blog.example/feed", "Bearer " + token, 202},
		{"no token", "POST", "feed=blog", "", 401},
		{"wrong token", "POST", "feed=blog", "Bearer " + token + "x", 401},
		{"basic auth is not a bearer token", "POST", "feed=blog", "Basic " + token, 401},
		{"unknown feed", "POST", "feed=nope", "Bearer " + token, 404},
		{"unknown url", "POST", "url=https://other.example/feed", "Bearer " + token, 404},
		{"no feed named", "POST", "", "Bearer " + token, 400},
		{"GET", "GET", "feed=blog", "Bearer " + token, 405},
		{"PUT", "PUT", "feed=blog", "Bearer " + token, 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL+"/hooks/ping?"+tt.query, nil)
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if strings.Join(d.polls, ",") != "blog,blog" {
		t.Fatalf("polls %v", d.polls)
	}
}

func TestPingIsOffWithoutAnAdminToken(t *testing.T) {
	srv := httptest.NewServer(web.Handler(web.Options{Daemon: &daemon{ready: true}, Gatherer: prometheus.NewRegistry()}))
	defer srv.Close()
	req, _ := http.NewRequest("POST", srv.URL+"/hooks/ping?feed=blog", nil)
	req.Header.Set("Authorization", "Bearer ")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	d := &daemon{}
	srv := httptest.NewServer(web.Handler(web.Options{Daemon: d, Gatherer: prometheus.NewRegistry()}))
	defer srv.Close()
	status := func(path string) int {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status("/healthz") != 200 || status("/readyz") != 503 {
		t.Fatal("before ready: want 200 and 503")
	}
	d.ready = true
	if status("/readyz") != 200 || status("/metrics") != 200 {
		t.Fatal("when ready: want 200")
	}
}
