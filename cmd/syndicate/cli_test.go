package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	r := runCommand(t, []string{"--version"}, nil)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "syndicate ") || !strings.Contains(r.stdout, "go1.") {
		t.Fatalf("%d %q", r.code, r.stdout)
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"once", "--no-such-flag"},
		{"status", "--log-level", "loud"},
		{"status", "--log-format", "xml"},
		{"once", "extra-argument"},
		{"retry"},
	} {
		if r := runCommand(t, args, nil); r.code != 2 {
			t.Errorf("%v exited %d, want 2\n%s", args, r.code, r.stderr)
		}
	}
}

// TestBrokenConfigsExit2NamingTheKey runs `check` on broken files: each is
// refused with exit 2 and every problem named by its key path.
func TestBrokenConfigsExit2NamingTheKey(t *testing.T) {
	good := `feeds:
  - id: blog
    url: "https://blog.example/feed"
    to: [telegram-en]
channels:
  - id: telegram-en
    type: telegram
    bot_token: "${TG_TOKEN}"
    chat: "@blog_en"
`
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"missing chat", strings.Replace(good, `    chat: "@blog_en"`+"\n", "", 1), []string{"channels[0].chat: required"}},
		{"bad cron", strings.Replace(good, "    to:", "    schedule: \"*/5 * *\"\n    to:", 1), []string{`feeds[0].schedule: invalid cron spec "*/5 * *"`}},
		{"cron that panics the parser", strings.Replace(good, "    to:", "    schedule: \"CRON_TZ=UTC\"\n    to:", 1), []string{`feeds[0].schedule`}},
		{"every 0s", strings.Replace(good, "    to:", "    schedule: \"@every 0s\"\n    to:", 1), []string{`feeds[0].schedule`}},
		{"unknown channel", strings.Replace(good, "to: [telegram-en]", "to: [telegram-en, telegram-xx]", 1), []string{`feeds[0].to[1]: unknown channel "telegram-xx"`}},
		{"typo in a key", strings.Replace(good, "    url:", "    ulr: x\n    url:", 1), []string{"feeds[0].ulr", "unknown"}},
		{"unset variable", strings.Replace(good, "TG_TOKEN", "NOT_SET_ANYWHERE", 1), []string{"channels[0].bot_token", "NOT_SET_ANYWHERE"}},
		{"both forms", strings.Replace(good, `    chat:`, "    bot_token_file: /dev/null\n    chat:", 1), []string{"channels[0].bot_token"}},
		{"several problems at once", strings.Replace(strings.Replace(good, `    chat: "@blog_en"`+"\n", "", 1), "to: [telegram-en]", "to: [telegram-xx]", 1),
			[]string{"channels[0].chat: required", `feeds[0].to[0]: unknown channel "telegram-xx"`}},
		{"not yaml", "feeds: [", []string{"line"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(path, []byte(tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			r := runCommand(t, []string{"check", "--config", path}, func(k string) (string, bool) {
				if k == "TG_TOKEN" {
					return telegramToken, true
				}
				return "", false
			})
			if r.code != 2 {
				t.Fatalf("exit %d, want 2\n%s%s", r.code, r.stdout, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		if r := runCommand(t, []string{"check", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, nil); r.code != 2 {
			t.Fatalf("exit %d", r.code)
		}
	})
}

func TestCheckOnline(t *testing.T) {
	s := newSite(t, siteOptions{})
	r := s.run("check", "--online", "--config", s.config)
	if r.code != 0 {
		t.Fatalf("check --online exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"configuration ok", "store: ok, sqlite ", "does not exist yet", "feed emancipation-en: ok, 4 items", "channel mastodon-en: ok", "channel telegram-en: ok"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	s.feeds.status["en.rss.xml"] = http.StatusNotFound
	if r := s.run("check", "--online", "--config", s.config); r.code != 1 || !strings.Contains(r.stdout, "feed emancipation-en: FAIL") {
		t.Fatalf("check --online with a broken feed exited %d:\n%s", r.code, r.stdout)
	}
}

func TestPreviewRendersWithoutSendingOrWriting(t *testing.T) {
	s := newSite(t, siteOptions{})
	r := s.run("preview", "--config", s.config, "--limit", "1", "--channel", "telegram-en")
	if r.code != 0 {
		t.Fatalf("preview exited %d: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "emancipation-en → telegram-en · Telegram message") || !strings.Contains(r.stdout, "<b>A new era in South America</b>") {
		t.Fatalf("preview printed:\n%s", r.stdout)
	}
	if strings.Contains(r.stdout, "Who is afraid") {
		t.Fatalf("--limit 1 printed more:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "syndicate.db")); !os.IsNotExist(err) {
		t.Fatalf("preview created the store: %v", err)
	}
	if len(s.mastodon.Statuses())+len(s.telegram.Messages()) != 0 {
		t.Fatal("preview sent")
	}
}

// TestRunServesHealthAndStopsGracefully starts the daemon in-process, waits
// for it to be ready, checks its endpoints and stops it as SIGTERM would.
func TestRunServesHealthAndStopsGracefully(t *testing.T) {
	s := newSite(t, siteOptions{backfill: 1})
	d := s.startDaemon()
	base := d.base
	if code := get(base + "/healthz"); code != 200 {
		t.Fatalf("/healthz %d", code)
	}
	// The backfilled article reaches both channels without any prompt, and
	// the metrics say so once it is recorded.
	want := []string{
		`syndicate_feed_polls_total{feed="emancipation-en",result="ok"} 1`,
		`syndicate_deliveries{channel="mastodon-en",state="sent"} 1`,
		`syndicate_deliveries{channel="telegram-en",state="sent"} 1`,
		`syndicate_delivery_attempts_total{channel="telegram-en",outcome="sent"} 1`,
		`syndicate_send_duration_seconds_count{channel="mastodon-en"} 1`,
	}
	var metrics string
	waitFor(t, func() bool {
		metrics = body(base + "/metrics")
		for _, w := range want {
			if !strings.Contains(metrics, w) {
				return false
			}
		}
		return true
	})
	if len(s.mastodon.Statuses()) != 1 || len(s.telegram.Messages()) != 1 {
		t.Fatalf("posts: %d statuses, %d messages", len(s.mastodon.Statuses()), len(s.telegram.Messages()))
	}

	logs := d.stop()
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		if !strings.HasPrefix(sc.Text(), "{") {
			t.Fatalf("--log-format json printed a non-JSON line: %q", sc.Text())
		}
	}
}

// TestPingDeliversAtOnce: the site's publish hook makes the daemon poll
// now, and the new article reaches both channels without waiting for the
// schedule.
func TestPingDeliversAtOnce(t *testing.T) {
	s := newSite(t, siteOptions{})
	d := s.startDaemon()
	defer d.stop()
	waitFor(t, func() bool { return s.feeds.count(s.feeds.requests, "en.rss.xml") == 1 })
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	if code := d.ping("feed=emancipation-en", adminToken); code != http.StatusAccepted {
		t.Fatalf("ping: %d", code)
	}
	waitFor(t, func() bool { return len(s.mastodon.Statuses()) == 1 && len(s.telegram.Messages()) == 1 })
	if code := d.ping("feed=emancipation-en", "wrong"); code != http.StatusUnauthorized {
		t.Fatalf("ping with a wrong token: %d", code)
	}
	if code := d.ping("url="+s.feeds.URL+"/en.rss.xml", adminToken); code != http.StatusAccepted {
		t.Fatalf("ping by url: %d", code)
	}
}

// daemon is `syndicate run` in-process.
type daemon struct {
	t      testing.TB
	base   string
	cancel context.CancelFunc
	done   chan int
	logs   *syncWriter
	buf    *bytes.Buffer
}

// startDaemon runs the site's daemon on a free port and waits until ready.
func (s *site) startDaemon() *daemon {
	s.t.Helper()
	addr := freeAddr(s.t)
	raw, _ := os.ReadFile(s.config)
	s.writeFile("syndicate.yaml", strings.Replace(string(raw), `listen: "127.0.0.1:0"`, fmt.Sprintf("listen: %q", addr), 1))
	return s.startDaemonAt(addr)
}

// startDaemonAt runs the daemon of a config that listens on addr.
func (s *site) startDaemonAt(addr string) *daemon {
	s.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	buf := &bytes.Buffer{}
	d := &daemon{t: s.t, base: "http://" + addr, cancel: cancel, done: make(chan int, 1), logs: &syncWriter{w: buf}, buf: buf}
	go func() {
		d.done <- Run(ctx, []string{"run", "--config", s.config, "--log-format", "json"}, Env{Stdout: io.Discard, Stderr: d.logs, LookupEnv: siteEnv})
	}()
	s.t.Cleanup(func() { d.stop() })
	waitFor(s.t, func() bool { return get(d.base+"/readyz") == 200 })
	return d
}

// stop stops the daemon as SIGTERM would and returns its logs.
func (d *daemon) stop() string {
	d.t.Helper()
	if d.cancel == nil {
		return ""
	}
	d.cancel()
	d.cancel = nil
	select {
	case code := <-d.done:
		if code != 0 {
			d.t.Fatalf("run exited %d:\n%s", code, d.buf.String())
		}
	case <-time.After(30 * time.Second):
		d.t.Fatal("run did not stop")
	}
	d.logs.mu.lock()
	defer d.logs.mu.unlock()
	logs := d.buf.String()
	for _, secret := range []string{mastodonToken, telegramToken, adminToken} {
		if strings.Contains(logs, secret) {
			d.t.Fatal("a secret reached the log")
		}
	}
	return logs
}

func (d *daemon) ping(query, token string) int {
	req, _ := http.NewRequest(http.MethodPost, d.base+"/hooks/ping?"+query, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		d.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(url string) int {
	resp, err := http.Get(url)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func body(url string) string {
	resp, err := http.Get(url)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func waitFor(t testing.TB, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 20s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// syncWriter lets the daemon's goroutines log into one buffer.
type syncWriter struct {
	mu chanMutex
	w  io.Writer
}

type chanMutex struct{ ch chan struct{} }

func (m *chanMutex) lock() {
	if m.ch == nil {
		m.ch = make(chan struct{}, 1)
	}
	m.ch <- struct{}{}
}
func (m *chanMutex) unlock() { <-m.ch }

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.lock()
	defer s.mu.unlock()
	return s.w.Write(p)
}
