package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

const seedTitle = "Protests in Kazakhstan 5 clues to understand what’s going on"

// dashboardSite is a site whose feed also goes to an email digest (weekly,
// so none is due during a test), served by `run` on a loopback address.
type dashboardSite struct {
	*site
	base string
}

func newDashboardSite(t *testing.T, opt siteOptions, edit func(yaml string) string) *dashboardSite {
	t.Helper()
	s := newSite(t, opt)
	raw, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	yaml := strings.Replace(string(raw), `listen: "127.0.0.1:0"`, `listen: "`+addr+`"`+"\npublic_url: \"http://"+addr+`"`, 1)
	yaml = strings.Replace(yaml, "to: [mastodon-en, telegram-en]", "to: [mastodon-en, telegram-en, digest-en]", 1)
	yaml += fmt.Sprintf(`  - id: digest-en
    type: email
    list: en
    schedule: "0 8 * * MON"
    from: "Emancipation <news@example.org>"
    subject: "Emancipation this week"
    smtp: { host: 127.0.0.1, port: %d, tls: none }
`, closedPort(t))
	if edit != nil {
		yaml = edit(yaml)
	}
	s.writeFile("syndicate.yaml", yaml)
	return &dashboardSite{site: s, base: "http://" + addr}
}

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	addr := freeAddr(t)
	var port int
	fmt.Sscanf(addr[strings.LastIndex(addr, ":")+1:], "%d", &port)
	return port
}

// start runs the daemon until the test ends, or until stop is called.
func (s *dashboardSite) start(t *testing.T) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var logBuf bytes.Buffer
	logs := &syncWriter{w: &logBuf}
	go func() {
		done <- Run(ctx, []string{"run", "--config", s.config}, Env{Stdout: io.Discard, Stderr: logs, LookupEnv: siteEnv})
	}()
	waitFor(t, func() bool { return get(s.base+"/readyz") == 200 })
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
		if strings.Contains(logBuf.String(), adminToken) { // the daemon has stopped writing
			t.Error("the admin token reached the log")
		}
	}
	t.Cleanup(stop)
	return stop
}

// editor is a browser without JavaScript signed in to the dashboard.
type editor struct {
	t      *testing.T
	base   string
	client *http.Client
	csrf   string
}

func (s *dashboardSite) signIn(t *testing.T) *editor {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	e := &editor{t: t, base: s.base, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	code, body := e.get("/login")
	if code != http.StatusOK {
		t.Fatalf("sign-in form: %d", code)
	}
	if code, _ := e.post("/login", url.Values{"csrf": {csrfIn(t, body)}, "token": {adminToken + "!"}}); code != http.StatusUnauthorized {
		t.Fatalf("a wrong token: %d", code)
	}
	if code, _ := e.post("/login", url.Values{"csrf": {csrfIn(t, body)}, "token": {adminToken}}); code != http.StatusSeeOther {
		t.Fatalf("sign in: %d", code)
	}
	code, body = e.get("/")
	if code != http.StatusOK {
		t.Fatalf("overview: %d", code)
	}
	e.csrf = csrfIn(t, body)
	return e
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfIn(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in\n%s", page)
	}
	return m[1]
}

func (e *editor) do(req *http.Request) (int, string) {
	e.t.Helper()
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (e *editor) get(path string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.base+path, nil)
	return e.do(req)
}

func (e *editor) post(path string, form url.Values) (int, string) {
	e.t.Helper()
	if form.Get("csrf") == "" && e.csrf != "" {
		form.Set("csrf", e.csrf)
	}
	req, _ := http.NewRequest("POST", e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

// articleID finds an article's id in the article list.
func (e *editor) articleID(title string) string {
	e.t.Helper()
	_, list := e.get("/articles?q=" + url.QueryEscape(title))
	m := regexp.MustCompile(`data-article="(\d+)">\s*<div class="head">\s*<a class="title" href="/articles/\d+">` + regexp.QuoteMeta(html.EscapeString(title)) + `<`).FindStringSubmatch(list)
	if m == nil {
		e.t.Fatalf("no article %q in\n%s", title, list)
	}
	return m[1]
}

// badgeState is the state the article list shows for a delivery.
func (e *editor) badgeState(id int64) string {
	e.t.Helper()
	_, list := e.get("/articles")
	m := regexp.MustCompile(fmt.Sprintf(`data-delivery="%d" data-state="([a-z]+)"`, id)).FindStringSubmatch(list)
	if m == nil {
		return ""
	}
	return m[1]
}

// statesByID is each delivery of the status document, as its JSON.
func statesByID(st statusJSON) map[int64]string {
	out := map[int64]string{}
	for _, d := range st.Deliveries {
		b, _ := json.Marshal(d)
		out[d.ID] = string(b)
	}
	return out
}

func TestDashboardSteersTheRunningDaemon(t *testing.T) {
	s := newDashboardSite(t, siteOptions{backfill: 3}, nil)
	// The seed article goes first (oldest first): Mastodon refuses it.
	s.mastodon.FailNext(1, http.StatusUnprocessableEntity, nil, `{"error":"Validation failed: Text character limit of 500 exceeded"}`)
	if r := s.once(); r.code != 1 {
		t.Fatalf("once: %d, want 1 (a delivery failed)\n%s", r.code, r.stderr)
	}
	failed := s.delivery("mastodon-en", seedTitle)
	if failed.State != "failed" || !strings.Contains(failed.LastError, "Validation failed") {
		t.Fatalf("the seed article's Mastodon delivery: %+v", failed)
	}
	for _, addr := range []string{"ana@example.org", "bo@example.net", "gone@example.org"} {
		if r := s.run("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", addr); r.code != 0 {
			t.Fatalf("subscribers add: %s", r.stderr)
		}
	}
	if r := s.run("subscribers", "remove", "--config", s.config, "--list", "en", "gone@example.org"); r.code != 0 {
		t.Fatalf("subscribers remove: %s", r.stderr)
	}
	s.start(t)

	// Without a session: sent to sign in; an action refused.
	anon := &editor{t: t, base: s.base, client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if code, _ := anon.get("/articles"); code != http.StatusSeeOther {
		t.Fatalf("articles without a session: %d", code)
	}
	if code, _ := anon.post(fmt.Sprintf("/deliveries/%d/retry", failed.ID), url.Values{"csrf": {"x"}}); code != http.StatusForbidden {
		t.Fatalf("retry without a session: %d", code)
	}

	e := s.signIn(t)
	_, overview := e.get("/")
	for _, want := range []string{`data-feed="emancipation-en"`, `data-channel="mastodon-en" data-paused="false"`, `data-count="failed">1</b>`,
		`data-channel="digest-en"`, "with 3 articles so far", "<td>2</td><td>0</td><td>1</td>"} {
		if !strings.Contains(overview, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}

	id := e.articleID(seedTitle)
	_, list := e.get("/articles")
	if !strings.Contains(list, fmt.Sprintf(`data-delivery="%d" data-state="failed" title="%s"`, failed.ID, html.EscapeString(failed.LastError))) {
		t.Errorf("the failed badge does not carry its error:\n%s", list)
	}
	tg := s.delivery("telegram-en", seedTitle)
	if !strings.Contains(list, fmt.Sprintf(`data-delivery="%d" data-state="sent" href="%s"`, tg.ID, tg.RemoteURL)) {
		t.Errorf("the sent Telegram badge does not link to the post %s", tg.RemoteURL)
	}

	_, page := e.get("/articles/" + id)
	for _, want := range []string{
		`class="toot-text">` + html.EscapeString(seedTitle), "#Kazakhstan", `class="toot-media"`, `alt="Oil workers on wildcat strike`,
		`<div class="tg-text"><strong>` + html.EscapeString(seedTitle), `class="tg-button"`, "Read the article", `class="tg-photo"`,
		`class="entry-text">`, "Validation failed", // the attempt
		fmt.Sprintf(`action="/deliveries/%d/retry"`, failed.ID),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the article page lacks %s", want)
		}
	}
	if strings.Contains(page, mastodonToken) || strings.Contains(page, telegramToken) {
		t.Fatal("the article page shows a token")
	}

	// Retry: the failed delivery goes out, and nothing else changes.
	before := statesByID(s.status())
	posted := len(s.mastodon.Statuses())
	if code, _ := e.post(fmt.Sprintf("/deliveries/%d/retry", failed.ID), url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("retry: %d", code)
	}
	waitFor(t, func() bool { return e.badgeState(failed.ID) == "sent" })
	after := statesByID(s.status())
	for id, d := range before {
		if id == failed.ID {
			continue
		}
		if after[id] != d {
			t.Errorf("delivery %d changed: %s → %s", id, d, after[id])
		}
	}
	if n := len(s.mastodon.Statuses()); n != posted+1 {
		t.Fatalf("%d statuses after the retry, want %d", n, posted+1)
	}

	// Pause Telegram: a new article reaches Mastodon, not Telegram.
	if code, _ := e.post("/channels/telegram-en/pause", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("pause: %d", code)
	}
	if _, overview := e.get("/"); !strings.Contains(overview, `data-channel="telegram-en" data-paused="true" class="paused"`) {
		t.Fatal("the overview does not show telegram-en paused")
	}
	messages := len(s.telegram.Messages())
	s.feeds.publish("mass-strike", "The mass strike and its lessons", "Mon, 23 Nov 2026 10:00:00 +0100", "Mass strike")
	ping, _ := http.NewRequest("POST", s.base+"/hooks/ping?feed=emancipation-en", nil)
	ping.Header.Set("Authorization", "Bearer "+adminToken)
	if code, _ := e.do(ping); code != http.StatusAccepted {
		t.Fatalf("ping: %d", code)
	}
	waitFor(t, func() bool { return len(s.mastodon.Statuses()) == posted+2 })
	time.Sleep(300 * time.Millisecond)
	if n := len(s.telegram.Messages()); n != messages {
		t.Fatalf("a paused channel received %d messages", n-messages)
	}
	if d := s.delivery("telegram-en", "The mass strike and its lessons"); d.State != "pending" {
		t.Fatalf("the paused channel's delivery is %s, want pending", d.State)
	}
	if code, _ := e.post("/channels/telegram-en/resume", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("resume: %d", code)
	}
	waitFor(t, func() bool { return len(s.telegram.Messages()) == messages+1 })
	// Received is not yet recorded: the comparison below needs a ledger at rest.
	waitFor(t, func() bool { return s.stateOf("telegram-en", "The mass strike and its lessons") == "sent" })

	// The API is status --json, with its filters.
	api := func(query string) string {
		req, _ := http.NewRequest("GET", s.base+"/api/v1/status"+query, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		code, body := e.do(req)
		if code != http.StatusOK {
			t.Fatalf("api %s: %d %s", query, code, body)
		}
		return body
	}
	for _, tt := range []struct {
		query string
		flags []string
	}{
		{"", nil},
		{"?channel=telegram-en&state=sent&limit=2", []string{"--channel", "telegram-en", "--state", "sent", "--limit", "2"}},
		{"?feed=emancipation-en&state=pending,failed", []string{"--feed", "emancipation-en", "--state", "pending,failed"}},
	} {
		r := s.run(append([]string{"status", "--config", s.config, "--json"}, tt.flags...)...)
		if got := api(tt.query); got != r.stdout {
			t.Errorf("api%s differs from status --json %v:\n%s\n---\n%s", tt.query, tt.flags, got, r.stdout)
		}
	}
	req, _ := http.NewRequest("GET", s.base+"/api/v1/status?state=nonsense", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if code, _ := e.do(req); code != http.StatusBadRequest {
		t.Errorf("api with an unknown state: %d", code)
	}
	var doc statusJSON
	if err := json.Unmarshal([]byte(api("")), &doc); err != nil || len(doc.Deliveries) != 12 {
		t.Errorf("api document: %v, %d deliveries", err, len(doc.Deliveries))
	}

	// Subscribers: search, export as the command line does, import with
	// its rules.
	_, subs := e.get("/subscribers?list=en&email=EXAMPLE.ORG")
	if !strings.Contains(subs, `data-subscriber="ana@example.org"`) || !strings.Contains(subs, `data-subscriber="gone@example.org"`) || strings.Contains(subs, `data-subscriber="bo@example.net"`) {
		t.Errorf("search:\n%s", subs)
	}
	_, exported := e.get("/subscribers/export?list=en")
	if r := s.run("subscribers", "export", "--config", s.config, "--list", "en"); exported != r.stdout {
		t.Errorf("export differs from the command line's:\n%s\n---\n%s", exported, r.stdout)
	}
	code, report := e.upload("/subscribers/import", map[string]string{"list": "en", "confirmed": "yes"},
		"email,state\ngone@example.org,confirmed\nnew@example.org,\nnot an address,\n")
	if code != http.StatusOK || !strings.Contains(report, "1 addresses added (confirmed), 1 already on the list and left as they were, 1 bad rows") ||
		!strings.Contains(report, "line 4: ") {
		t.Fatalf("import: %d\n%s", code, report)
	}
	if r := s.run("subscribers", "list", "--config", s.config, "--list", "en"); !regexp.MustCompile(`gone@example.org\s+unsubscribed`).MatchString(r.stdout) ||
		!regexp.MustCompile(`new@example.org\s+confirmed`).MatchString(r.stdout) {
		t.Fatalf("after the import:\n%s", r.stdout)
	}
	if code, _ := e.post("/subscribers/remove", url.Values{"list": {"en"}, "email": {"ana@example.org"}}); code != http.StatusSeeOther {
		t.Fatalf("remove: %d", code)
	}
	if r := s.run("subscribers", "list", "--config", s.config, "--list", "en"); !regexp.MustCompile(`ana@example.org\s+unsubscribed`).MatchString(r.stdout) {
		t.Fatalf("after the removal:\n%s", r.stdout)
	}

	// Signed out, the session is gone.
	if code, _ := e.post("/logout", url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("sign out: %d", code)
	}
	if code, _ := e.get("/"); code != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", code)
	}
}

func (e *editor) upload(path string, fields map[string]string, file string) (int, string) {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", e.csrf)
	for k, v := range fields {
		_ = mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("file", "subscribers.csv")
	_, _ = io.WriteString(fw, file)
	mw.Close()
	req, _ := http.NewRequest("POST", e.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return e.do(req)
}

func TestDashboardReviewRewritesAndApproves(t *testing.T) {
	s := newDashboardSite(t, siteOptions{backfill: 1, extraFeed: "    review: true"}, nil)
	s.mustOnce()
	if n := len(s.mastodon.Statuses()) + len(s.telegram.Messages()); n != 0 {
		t.Fatalf("%d posts went out before review", n)
	}
	const title = "A new era in South America"
	for _, ch := range []string{"mastodon-en", "telegram-en", "digest-en"} {
		if d := s.delivery(ch, title); d.State != "review" {
			t.Fatalf("%s: %s, want review", ch, d.State)
		}
	}
	s.start(t)
	e := s.signIn(t)
	id := e.articleID(title)

	tests := []struct {
		channel, refused, reason, rewrite string
		received                          func() []string
	}{
		{"telegram-en", "<div>a block</div>", "div", "<b>A new era</b> in South America, <i>rewritten</i>.\n\nhttps://en.communia.blog/a-new-era-in-south-america",
			s.telegramTexts},
		{"mastodon-en", strings.Repeat("too long ", 80), "500", "A new era in South America, rewritten for Mastodon.\n\nhttps://en.communia.blog/a-new-era-in-south-america",
			s.mastodonTexts},
	}
	for _, tt := range tests {
		t.Run(tt.channel, func(t *testing.T) {
			d := s.delivery(tt.channel, title)
			_, page := e.get("/articles/" + id)
			if !strings.Contains(page, fmt.Sprintf(`<textarea id="text-%d" name="text"`, d.ID)) {
				t.Skipf("%s offers no text box in review: its channel does not implement syndicate.TextChecker", tt.channel)
			}
			// Refused on submit, with the reason; nothing saved.
			for _, action := range []string{"check", "approve"} {
				code, body := e.post(fmt.Sprintf("/deliveries/%d/%s", d.ID, action), url.Values{"text": {tt.refused}, "original": {"x"}})
				if code != http.StatusUnprocessableEntity || !strings.Contains(body, tt.reason) || !strings.Contains(body, "refused") {
					t.Fatalf("%s of a text the platform refuses: %d\n%s", action, code, body)
				}
			}
			if after := s.delivery(tt.channel, title); after.State != "review" {
				t.Fatalf("a refused text moved the delivery to %s", after.State)
			}
			if code, _ := e.post(fmt.Sprintf("/deliveries/%d/check", d.ID), url.Values{"text": {tt.rewrite}}); code != http.StatusOK {
				t.Fatalf("check of the rewrite: %d", code)
			}
			if n := len(tt.received()); n != 0 {
				t.Fatalf("%d posts before the approval", n)
			}
			code, _ := e.post(fmt.Sprintf("/deliveries/%d/approve", d.ID), url.Values{"text": {strings.ReplaceAll(tt.rewrite, "\n", "\r\n")}, "original": {"x"}})
			if code != http.StatusSeeOther {
				t.Fatalf("approve: %d", code)
			}
			waitFor(t, func() bool { return len(tt.received()) == 1 })
			if got := tt.received()[0]; got != tt.rewrite {
				t.Fatalf("the platform received\n%q\nwant exactly\n%q", got, tt.rewrite)
			}
			waitFor(t, func() bool { return e.badgeState(d.ID) == "sent" })
		})
	}

	// The digest's delivery is approved as it is, and skipping works too.
	dg := s.delivery("digest-en", title)
	if code, _ := e.post(fmt.Sprintf("/deliveries/%d/approve", dg.ID), url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("approve the digest entry: %d", code)
	}
	if d := s.delivery("digest-en", title); d.State != "pending" {
		t.Fatalf("the approved digest entry is %s", d.State)
	}
	if code, _ := e.post(fmt.Sprintf("/deliveries/%d/skip", dg.ID), url.Values{}); code != http.StatusSeeOther {
		t.Fatalf("skip: %d", code)
	}
	if d := s.delivery("digest-en", title); d.State != "skipped" {
		t.Fatalf("the skipped digest entry is %s", d.State)
	}
}

func TestDashboardIsOffWithoutAdminToken(t *testing.T) {
	s := newDashboardSite(t, siteOptions{}, func(yaml string) string {
		return strings.Replace(yaml, `admin_token: "${ADMIN_TOKEN}"`+"\n", "", 1)
	})
	s.start(t)
	for _, path := range []string{"/", "/login", "/articles", "/api/v1/status", "/subscribers"} {
		if code := get(s.base + path); code != http.StatusNotFound {
			t.Errorf("GET %s without admin_token: %d, want 404", path, code)
		}
	}
	if code := get(s.base + "/healthz"); code != http.StatusOK {
		t.Errorf("healthz: %d", code)
	}
}

// TestDashboardDecidesOnDigestMessages: after a crash mid-digest, the
// digest's page lists its two uncertain messages; Resend of one mails it
// again through the running daemon at once, not at its next check, and
// Mark sent records the other, as `digest resend|mark-sent` do.
// runningWithUncertainDigest starts `run` (with its dashboard) on a digest
// site whose digest 1 a crash left with two messages in flight, and waits
// until the daemon has settled them uncertain.
func runningWithUncertainDigest(t *testing.T) (*digestSite, *dashboardSite) {
	s := newDigestSite(t)
	s.mustRun("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", "ana@example.net", "bob@example.net")
	s.schedule("0 8 1 1 *") // no digest falls due during the test
	s.once()
	s.feeds.publish("kazakhstan", "Kazakhstan", "Tue, 24 Nov 2026 10:00:00 +0100", "Kazakhstan")
	s.once() // planned, not due
	crashMidDigest(t, filepath.Join(s.dir, "syndicate.db"))

	addr := freeAddr(t)
	raw, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	yaml := strings.Replace(string(raw), `listen: "127.0.0.1:0"`, `listen: "`+addr+`"`+"\nadmin_token: \"${ADMIN_TOKEN}\"", 1)
	if err := os.WriteFile(s.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &dashboardSite{site: &site{t: t, dir: s.dir, config: s.config}, base: "http://" + addr}
	d.start(t)
	waitFor(t, func() bool { return s.statusDigests()[0].Recipients.Uncertain == 2 })
	return s, d
}

// TestDigestResendFromTheCommandLineReachesTheDaemon: `digest resend` in
// another shell is mailed by the running daemon at once, not at its next
// digest check.
func TestDigestResendFromTheCommandLineReachesTheDaemon(t *testing.T) {
	s, _ := runningWithUncertainDigest(t)
	asked := time.Now()
	s.mustRun("digest", "resend", "--config", s.config, "--digest", "1", "ana@example.net")
	for len(s.inbox()["ana@example.net"]) == 0 {
		if time.Since(asked) > syndicate.DefaultDigestInterval/2 {
			t.Fatalf("the resent message was not mailed within %s", syndicate.DefaultDigestInterval/2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := len(s.inbox()["bob@example.net"]); got != 0 {
		t.Fatalf("bob, not chosen, received %d messages", got)
	}
}

func TestDashboardDecidesOnDigestMessages(t *testing.T) {
	s, d := runningWithUncertainDigest(t)
	e := d.signIn(t)

	// The daemon's first pass settled the crash: both messages uncertain.
	var page string
	waitFor(t, func() bool {
		_, page = e.get("/digests/1")
		return strings.Contains(page, `data-count="uncertain">2</b>`)
	})
	if _, overview := e.get("/"); !strings.Contains(overview, `<a href="/digests/1" aria-label="Digest 1">1</a>`) {
		t.Error("the overview does not link to the digest")
	}
	for _, want := range []string{`<tr data-message="ana@example.net" data-state="uncertain">`, `<tr data-message="bob@example.net" data-state="uncertain">`,
		"<dd>crash</dd>", "<dt>Articles</dt><dd>1</dd>", "digest-en, list en"} {
		if !strings.Contains(page, want) {
			t.Errorf("the digest page lacks %s", want)
		}
	}
	for _, m := range s.statusMessages("uncertain") {
		if !strings.Contains(page, html.EscapeString(m.LastError)) {
			t.Errorf("the page does not show %s's last error %q", m.Email, m.LastError)
		}
	}
	if code, _ := e.post("/digests/1/resend", url.Values{"csrf": {"forged"}}); code != http.StatusForbidden {
		t.Fatalf("resend with a forged CSRF token: %d", code)
	}
	if code, _ := e.get("/digests/2"); code != http.StatusNotFound {
		t.Errorf("an unknown digest: %d", code)
	}

	// Resend ana's: mailed again well before the daemon's next check.
	before := len(s.inbox()["ana@example.net"])
	asked := time.Now()
	code, _ := e.post("/digests/1/resend", url.Values{"address": {"ana@example.net"}})
	if code != http.StatusSeeOther {
		t.Fatalf("resend: %d", code)
	}
	for len(s.inbox()["ana@example.net"]) == before {
		if time.Since(asked) > syndicate.DefaultDigestInterval/2 {
			t.Fatalf("the resent message was not mailed within %s", syndicate.DefaultDigestInterval/2)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := len(s.inbox()["bob@example.net"]); got != 0 {
		t.Fatalf("bob, not chosen, received %d messages", got)
	}
	_, page = e.get("/digests/1?done=resend&changed=1&from=uncertain")
	if !strings.Contains(page, "Resend: 1 message of digest 1 will be mailed again now.") || !strings.Contains(page, "it may then arrive twice") {
		t.Errorf("the notice after the resend:\n%s", page)
	}

	// Mark the rest sent: the digest is done.
	if code, _ := e.post("/digests/1/mark-sent", url.Values{"state": {"uncertain", "failed"}}); code != http.StatusSeeOther {
		t.Fatalf("mark sent: %d", code)
	}
	waitFor(t, func() bool {
		dg := s.statusDigests()[0]
		return dg.Recipients == (recipientsJSON{Sent: 2}) && dg.Finished
	})
	_, page = e.get("/digests/1")
	if !strings.Contains(page, "No message uncertain or failed.") || strings.Contains(page, `id="decide"`) {
		t.Errorf("the digest page after the decisions:\n%s", page)
	}
	if strings.Contains(page, adminToken) || strings.Contains(page, digestSecret) {
		t.Fatal("the digest page shows a secret")
	}
}

// statusMessages are the digest's messages in the state, as `status
// --digest 1 --recipients STATE --json` lists them.
func (s *digestSite) statusMessages(state string) []messageJSON {
	s.t.Helper()
	r := s.mustRun("status", "--config", s.config, "--json", "--digest", "1", "--recipients", state)
	var doc struct {
		Messages []messageJSON `json:"messages"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		s.t.Fatal(err)
	}
	return doc.Messages
}
