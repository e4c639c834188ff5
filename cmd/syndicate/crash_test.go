package main

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
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
		resp, err := forward(r, target)
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

// forward sends r on to target, the server it stands in front of.
func forward(r *http.Request, target string) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	return http.DefaultClient.Do(req)
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
	daemon, exited := startRunProcess(t, bin, crashPath, &logs)
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

// deliveryCampaign is the size of TestDeliveriesSurviveSIGKILLs: at least
// 20 kills when SYNDICATE_CAMPAIGN=full (CI sets it), 5 otherwise.
func deliveryCampaign() (articles, kills int) {
	if os.Getenv("SYNDICATE_CAMPAIGN") == "full" {
		return 60, 20
	}
	return 15, 5
}

// TestDeliveriesSurviveSIGKILLs SIGKILLs `run` again and again while it
// posts to Mastodon and Telegram, at moments drawn from a fixed seed, each
// time starting it again. Afterwards no article is on either platform
// twice; every Mastodon post is there (an interrupted one is looked up);
// a Telegram post missing is uncertain in the ledger, never lost unflagged.
func TestDeliveriesSurviveSIGKILLs(t *testing.T) {
	t.Parallel()
	nArticles, kills := deliveryCampaign()
	bin := syndicateBinary(t)
	s := newSite(t, siteOptions{floodLimit: 1000})
	s.mustOnce()
	titles := make([]string, nArticles)
	for i := range titles {
		titles[i] = fmt.Sprintf("Campaign article %02d", i)
		s.feeds.publish(fmt.Sprintf("campaign-%02d", i), titles[i], time.Date(2026, 11, 23, 10, i, 0, 0, time.UTC).Format(time.RFC1123Z))
	}
	posted := func() int { return len(s.mastodon.Statuses()) + len(s.telegram.Messages()) }
	rng := rand.New(rand.NewPCG(2026, 11))
	killed := 0
	for killed < kills && posted() < 2*nArticles {
		at := posted() + 1 + rng.IntN(max(1, 2*nArticles/kills))
		var logs bytes.Buffer
		daemon, exited := startRunProcess(t, bin, s.config, &logs)
		// Posts interrupted on Telegram are never made again, so the
		// moment may lie past what is left: no post for a few seconds
		// means everything that will go out went.
		last, progress := posted(), time.Now()
		for posted() < at && time.Since(progress) < 5*time.Second {
			select {
			case <-exited:
				t.Fatalf("run exited by itself:\n%s", logs.String())
			case <-time.After(2 * time.Millisecond):
			}
			if n := posted(); n != last {
				last, progress = n, time.Now()
			}
		}
		_ = daemon.Process.Kill()
		<-exited
		if posted() < at {
			break // all out
		}
		killed++
	}
	if killed == 0 {
		t.Fatal("everything went out before the first kill: the campaign tested nothing")
	}
	// The last run settles what the kills left and sends the rest.
	r := s.once()
	if r.code != 0 && !strings.Contains(r.stderr, "uncertain") {
		t.Fatalf("the last once exited %d:\n%s", r.code, r.stderr)
	}

	count := func(texts []string, title string) int {
		n := 0
		for _, text := range texts {
			if strings.Contains(text, title) {
				n++
			}
		}
		return n
	}
	var telegramTexts []string
	for _, m := range s.telegram.Messages() {
		telegramTexts = append(telegramTexts, m.Plain)
	}
	uncertain := 0
	for _, title := range titles {
		if n := count(s.mastodonTexts(), title); n != 1 {
			t.Errorf("mastodon: %q posted %d times, want once", title, n)
		}
		switch n := count(telegramTexts, title); {
		case n > 1:
			t.Errorf("telegram: %q posted %d times", title, n)
		case n == 0:
			if d := s.delivery("telegram-en", title); d.State != "uncertain" {
				t.Errorf("telegram: %q never posted, and %s, not uncertain", title, d.State)
			}
		}
		if s.delivery("telegram-en", title).State == "uncertain" {
			uncertain++
		}
	}
	t.Logf("%d kills, %d articles: 0 duplicates; %d Telegram deliveries uncertain for an editor", killed, nArticles, uncertain)
	if killed < kills {
		t.Logf("everything was out after %d kills of %d planned", killed, kills)
	}
}
