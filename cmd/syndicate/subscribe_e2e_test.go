package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReaderSubscribesConfirmsReadsAndLeaves follows one reader through
// the running daemon: the subscribe form, the confirmation mail in
// mailpit, its link, a digest, and the one-click unsubscribe of RFC 8058
// posted to the URL of the digest's List-Unsubscribe header.
func TestReaderSubscribesConfirmsReadsAndLeaves(t *testing.T) {
	s := newDigestSite(t)
	addr := freeAddr(t)
	raw, _ := os.ReadFile(s.config)
	cfg := strings.NewReplacer(`listen: "127.0.0.1:0"`, `listen: "`+addr+`"`,
		`public_url: "http://127.0.0.1:8080"`, `public_url: "http://`+addr+`"`).Replace(string(raw))
	if err := os.WriteFile(s.config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.once() // first sight
	base := "http://" + addr

	stop := startRun(t, s.config)
	resp, err := http.PostForm(base+"/subscribe", url.Values{"email": {"reader@example.net"}, "list": {"en"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	confirm := regexp.MustCompile(regexp.QuoteMeta(base) + `/confirm/[A-Za-z0-9_.-]+`).FindString(s.mail.Message(s.mail.WaitMessages(1)[0].ID).Text)
	if confirm == "" {
		t.Fatal("no confirmation link in the mail")
	}
	if code := get(confirm); code != http.StatusOK {
		t.Fatalf("confirm: %d", code)
	}
	stop()

	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	time.Sleep(1100 * time.Millisecond)
	s.once()
	msgs := s.mail.WaitMessages(2)
	digest := msgs[0] // newest first
	if digest.Subject == "" || digest.To[0].Address != "reader@example.net" || !strings.Contains(digest.Subject, "Strike") {
		t.Fatalf("digest %+v", digest)
	}
	unsubscribe := strings.Trim(strings.Fields(strings.Join(s.mail.Headers(digest.ID)["List-Unsubscribe"], ""))[0], "<>,")
	if !strings.HasPrefix(unsubscribe, base+"/unsubscribe/") {
		t.Fatalf("List-Unsubscribe %q", unsubscribe)
	}

	stop = startRun(t, s.config)
	// A GET (a link scanner) unsubscribes nobody; the one-click POST does,
	// without a cookie and without a redirect.
	if code := get(unsubscribe); code != http.StatusOK {
		t.Fatalf("GET unsubscribe: %d", code)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.Post(unsubscribe, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %d", resp.StatusCode)
	}
	stop()

	s.feeds.publish("after", "After", "Tue, 24 Nov 2026 10:00:00 +0100")
	time.Sleep(1100 * time.Millisecond)
	s.once()
	if n := len(s.mail.Messages()); n != 2 {
		t.Fatalf("%d messages: mail went out after the reader unsubscribed", n)
	}
}

// startRun runs `syndicate run` in-process until the returned stop is
// called, waiting for it to be ready.
func startRun(t *testing.T, config string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &syncWriter{w: &bytes.Buffer{}}
	go func() {
		done <- Run(ctx, []string{"run", "--config", config}, Env{Stdout: io.Discard, Stderr: logs, LookupEnv: func(string) (string, bool) { return "", false }})
	}()
	raw, _ := os.ReadFile(config)
	listen := regexp.MustCompile(`listen: "([^"]+)"`).FindStringSubmatch(string(raw))[1]
	waitFor(t, func() bool { return get("http://"+listen+"/readyz") == 200 })
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run exited %d", code)
		}
	}
	t.Cleanup(stop)
	return stop
}
