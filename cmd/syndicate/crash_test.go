package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// forwardThenHang passes every request on to target, but for the posting
// endpoint it forwards the request, drops the answer and never replies:
// the post is on the platform, and the daemon is left waiting, as when a
// process dies between the request and the response.
func forwardThenHang(t testing.TB, target, postPath string) (url string, posted <-chan struct{}) {
	t.Helper()
	arrived := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		if strings.HasSuffix(r.URL.Path, postPath) {
			once.Do(func() { close(arrived) })
			<-r.Context().Done()
			return
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, arrived
}

// TestDaemonKilledMidSend kills the daemon's process (SIGKILL) while both
// posts are on the wire. The next run finds the Mastodon post among the
// account's statuses and records it sent; the Telegram post, which has no
// such lookup, becomes uncertain. Nothing is posted twice.
func TestDaemonKilledMidSend(t *testing.T) {
	bin := syndicateBinary(t)

	s := newSite(t, siteOptions{})
	s.mustOnce()
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")

	mastodonURL, tootPosted := forwardThenHang(t, s.mastodon.URL(), "/api/v1/statuses")
	telegramURL, messagePosted := forwardThenHang(t, s.telegram.URL(), "/sendMessage")
	raw, _ := os.ReadFile(s.config)
	crashConfig := strings.NewReplacer(
		`server: "`+s.mastodon.URL()+`"`, `server: "`+mastodonURL+`"`,
		`api_url: "`+s.telegram.URL()+`"`, `api_url: "`+telegramURL+`"`,
	).Replace(string(raw))
	crashPath := s.writeFile("crash.yaml", crashConfig)

	var logs bytes.Buffer
	daemon := exec.Command(bin, "run", "--config", crashPath)
	daemon.Env = append(os.Environ(), "MASTODON_TOKEN="+mastodonToken, "ADMIN_TOKEN="+adminToken)
	daemon.Stdout, daemon.Stderr = &logs, &logs
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = daemon.Wait(); close(exited) }()
	for _, posted := range []<-chan struct{}{tootPosted, messagePosted} {
		select {
		case <-posted:
		case <-exited:
			t.Fatalf("the daemon exited before posting:\n%s", logs.String())
		case <-time.After(30 * time.Second):
			_ = daemon.Process.Kill()
			t.Fatalf("the daemon did not post:\n%s", logs.String())
		}
	}
	if err := daemon.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited

	for _, ch := range []string{"mastodon-en", "telegram-en"} {
		if d := s.delivery(ch, "Strike"); d.State != "sending" {
			t.Fatalf("%s after the kill: %s", ch, d.State)
		}
	}
	if r := s.once(); r.code != 1 || !strings.Contains(r.stderr, "uncertain") {
		t.Fatalf("once after the crash exited %d, want 1 for the uncertain Telegram post:\n%s", r.code, r.stderr)
	}
	if d := s.delivery("mastodon-en", "Strike"); d.State != "sent" || d.RemoteID == "" {
		t.Fatalf("mastodon: %+v", d)
	}
	if d := s.delivery("telegram-en", "Strike"); d.State != "uncertain" || !strings.Contains(d.LastError, "interrupted") {
		t.Fatalf("telegram: %+v", d)
	}
	if n, m := len(s.mastodon.Statuses()), len(s.telegram.Messages()); n != 1 || m != 1 {
		t.Fatalf("after recovery: %d statuses, %d messages; want exactly one each", n, m)
	}
}
