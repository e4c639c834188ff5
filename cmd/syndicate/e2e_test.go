package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/channels/telegram/telegramtest"
)

const (
	adminToken    = "admin-secret-token-0123456789"
	mastodonToken = "mastodon-secret-token-0123456789"
	telegramToken = "123456:telegram-secret-token-abcdef"
	telegramChat  = "@emancipation_en"
)

// site is a whole setup on loopback: the feed server, the fake platforms
// and a config file pointing at them, with its own SQLite file.
type site struct {
	t        testing.TB
	feeds    *feedServer
	mastodon *mastodontest.Server
	telegram *telegramtest.Server
	dir      string
	config   string
}

type siteOptions struct {
	backfill   int
	floodLimit int
	extraFeed  string // YAML appended to the feed
}

func newSite(t testing.TB, opt siteOptions) *site {
	t.Helper()
	s := &site{t: t, feeds: newFeedServer(t), mastodon: mastodontest.NewServer(t, mastodonToken), telegram: telegramtest.NewServer(t, telegramToken), dir: t.TempDir()}
	s.telegram.AddChat(telegramChat)
	if opt.floodLimit == 0 {
		opt.floodLimit = 10
	}
	s.config = filepath.Join(s.dir, "syndicate.yaml")
	yaml := fmt.Sprintf(`
store: "sqlite:%s"
listen: "127.0.0.1:0"
timezone: "Europe/Madrid"
admin_token: "${ADMIN_TOKEN}"
feeds:
  - id: emancipation-en
    url: "%s/en.rss.xml"
    language: en
    schedule: "*/5 * * * *"
    backfill: %d
    flood_limit: %d
    to: [mastodon-en, telegram-en]
%s
channels:
  - id: mastodon-en
    type: mastodon
    server: "%s"
    access_token: "${MASTODON_TOKEN}"
    retry: { max_attempts: 4, min_backoff: 10ms, max_backoff: 50ms }
    rate_limits: { requests_per_5m: 0, media_per_30m: 0, statuses_per_3h: 0 }
  - id: telegram-en
    type: telegram
    api_url: "%s"
    bot_token_file: "%s"
    chat: "%s"
    pacing: { per_minute: 0, min_interval: 0s }
    retry: { max_attempts: 4, min_backoff: 10ms, max_backoff: 50ms }
`, filepath.Join(s.dir, "syndicate.db"), s.feeds.URL, opt.backfill, opt.floodLimit, opt.extraFeed,
		s.mastodon.URL(), s.telegram.URL(), s.writeFile("telegram.token", telegramToken+"\n"), telegramChat)
	s.writeFile("syndicate.yaml", yaml)
	return s
}

func (s *site) writeFile(name, content string) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the command in-process, as a user would from a shell.
func (s *site) run(args ...string) result {
	s.t.Helper()
	return runCommand(s.t, args, siteEnv)
}

// siteEnv is the environment the site's config reads its secrets from.
func siteEnv(k string) (string, bool) {
	switch k {
	case "MASTODON_TOKEN":
		return mastodonToken, true
	case "ADMIN_TOKEN":
		return adminToken, true
	}
	return "", false
}

func runCommand(t testing.TB, args []string, lookup func(string) (string, bool)) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, args, Env{Stdout: &out, Stderr: &errOut, LookupEnv: lookup})
	r := result{code, out.String(), errOut.String()}
	for _, secret := range []string{mastodonToken, telegramToken, adminToken} {
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Fatalf("a secret reached the output of %v:\n%s\n%s", args, r.stdout, r.stderr)
		}
	}
	return r
}

func (s *site) once(extra ...string) result {
	s.t.Helper()
	return s.run(append([]string{"once", "--config", s.config, "--max-wait", "5s"}, extra...)...)
}

func (s *site) mustOnce(extra ...string) {
	s.t.Helper()
	if r := s.once(extra...); r.code != 0 {
		s.t.Fatalf("once exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func (s *site) status() statusJSON {
	s.t.Helper()
	r := s.run("status", "--config", s.config, "--json")
	if r.code != 0 {
		s.t.Fatalf("status exited %d: %s", r.code, r.stderr)
	}
	var st statusJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		s.t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

func (s *site) delivery(channel, title string) deliveryJSON {
	s.t.Helper()
	for _, d := range s.status().Deliveries {
		if d.Channel == channel && d.Title == title {
			return d
		}
	}
	s.t.Fatalf("no delivery of %q to %s", title, channel)
	return deliveryJSON{}
}

func (s *site) mastodonTexts() []string {
	var out []string
	for _, st := range s.mastodon.Statuses() {
		out = append(out, st.Text)
	}
	return out
}

func (s *site) telegramTexts() []string {
	var out []string
	for _, m := range s.telegram.Messages() {
		out = append(out, m.Text)
	}
	return out
}

func firstLines(texts []string) []string {
	var out []string
	for _, t := range texts {
		line, _, _ := strings.Cut(t, "\n")
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(line, "<b>"), "</b>"))
	}
	return out
}

func TestFirstSightPostsNothingThenANewItemGoesOutOnce(t *testing.T) {
	s := newSite(t, siteOptions{})
	s.mustOnce()
	if n := len(s.mastodon.Statuses()) + len(s.telegram.Messages()); n != 0 {
		t.Fatalf("first sight posted %d messages", n)
	}

	s.feeds.publish("mass-strike", "The mass strike & its lessons", "Mon, 23 Nov 2026 10:00:00 +0100", "Mass strike")
	s.mustOnce()
	s.mustOnce() // a second run sends nothing
	if got := firstLines(s.mastodonTexts()); !slices.Equal(got, []string{"The mass strike & its lessons"}) {
		t.Fatalf("mastodon got %q", got)
	}
	if got := firstLines(s.telegramTexts()); !slices.Equal(got, []string{"The mass strike &amp; its lessons"}) {
		t.Fatalf("telegram got %q", got)
	}
	st := s.mastodon.Statuses()[0]
	if !strings.Contains(st.Text, "https://en.communia.blog/mass-strike") || st.Language != "en" {
		t.Fatalf("status %+v", st)
	}
	d := s.delivery("mastodon-en", "The mass strike & its lessons")
	if d.State != "sent" || d.RemoteID == "" || d.RemoteURL == "" || d.ID == 0 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestConditionalGetAnd304(t *testing.T) {
	s := newSite(t, siteOptions{})
	s.mustOnce()
	s.mustOnce()
	if s.feeds.count(s.feeds.sawETag, "en.rss.xml") != 1 || s.feeds.count(s.feeds.notMod, "en.rss.xml") != 1 {
		t.Fatalf("second poll: If-None-Match sent %d times, 304 answered %d times",
			s.feeds.count(s.feeds.sawETag, "en.rss.xml"), s.feeds.count(s.feeds.notMod, "en.rss.xml"))
	}
	st := s.status()
	if len(st.Feeds) != 1 || st.Feeds[0].LastError != "" || st.Feeds[0].LastOKAt == nil || len(st.Deliveries) != 0 {
		t.Fatalf("after a 304: %+v", st)
	}
}

func TestBackfillTwoPostsTheTwoNewestOldestFirst(t *testing.T) {
	s := newSite(t, siteOptions{backfill: 2})
	s.mustOnce()
	want := []string{"Who is afraid of Artificial Intelligence?", "A new era in South America"}
	if got := firstLines(s.mastodonTexts()); !slices.Equal(got, want) {
		t.Fatalf("mastodon got %q, want %q", got, want)
	}
	if got := firstLines(s.telegramTexts()); !slices.Equal(got, want) {
		t.Fatalf("telegram got %q, want %q", got, want)
	}
}

func TestChannelAnswering500TwiceThen200DeliversOnce(t *testing.T) {
	s := newSite(t, siteOptions{})
	s.mustOnce()
	s.mastodon.FailNext(2, 500, nil, `{"error":"Internal server error"}`)
	s.telegram.FailNext(2, 500, "<html>Bad Gateway</html>")
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	s.mustOnce()
	if n := len(s.mastodon.Statuses()); n != 1 {
		t.Fatalf("mastodon has %d statuses", n)
	}
	if n := len(s.telegram.Messages()); n != 1 {
		t.Fatalf("telegram has %d messages", n)
	}
	if d := s.delivery("mastodon-en", "Strike"); d.State != "sent" || d.Attempts != 3 {
		t.Fatalf("delivery %+v", d)
	}
}

func TestChannelAnswering401FailsAndTheOtherStillGetsThePost(t *testing.T) {
	s := newSite(t, siteOptions{})
	s.mustOnce()
	s.mastodon.FailNext(1, 401, nil, `{"error":"The access token is invalid"}`)
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	r := s.once()
	if r.code != 1 {
		t.Fatalf("once exited %d, want 1:\n%s", r.code, r.stderr)
	}
	d := s.delivery("mastodon-en", "Strike")
	if d.State != "failed" || !strings.Contains(d.LastError, "The access token is invalid") {
		t.Fatalf("delivery %+v", d)
	}
	text := s.run("status", "--config", s.config)
	if !strings.Contains(text.stdout, "failed") || !strings.Contains(text.stdout, "The access token is invalid") {
		t.Fatalf("status does not show the failure:\n%s", text.stdout)
	}
	if len(s.telegram.Messages()) != 1 {
		t.Fatal("telegram did not get the post")
	}
}

func TestFloodIsHeldAndRetryReleasesIt(t *testing.T) {
	s := newSite(t, siteOptions{floodLimit: 2})
	s.mustOnce()
	for i := range 3 {
		s.feeds.publish(fmt.Sprintf("n%d", i), fmt.Sprintf("News %d", i), fmt.Sprintf("Mon, 23 Nov 2026 1%d:00:00 +0100", i))
	}
	r := s.once()
	if r.code != 0 || !strings.Contains(r.stderr, "held by the flood guard") {
		t.Fatalf("once exited %d:\n%s", r.code, r.stderr)
	}
	if len(s.mastodon.Statuses())+len(s.telegram.Messages()) != 0 {
		t.Fatal("a flood went out")
	}
	var ids []string
	for _, d := range s.status().Deliveries {
		if d.State != "held" {
			t.Fatalf("delivery %+v not held", d)
		}
		if d.Channel == "mastodon-en" {
			ids = append(ids, fmt.Sprint(d.ID))
		}
	}
	if r := s.run(append([]string{"retry", "--config", s.config}, ids...)...); r.code != 0 {
		t.Fatalf("retry: %d %s", r.code, r.stderr)
	}
	s.mustOnce()
	if got := firstLines(s.mastodonTexts()); !slices.Equal(got, []string{"News 0", "News 1", "News 2"}) {
		t.Fatalf("released: %q", got)
	}
	if len(s.telegram.Messages()) != 0 {
		t.Fatal("telegram's held deliveries went out without a decision")
	}
}

func TestInterruptedSendIsUncertainAndTheEditorDecides(t *testing.T) {
	s := newSite(t, siteOptions{})
	s.mustOnce()
	s.telegram.DropAfterAccept(2)
	s.feeds.publish("a", "First", "Mon, 23 Nov 2026 10:00:00 +0100")
	s.feeds.publish("b", "Second", "Mon, 23 Nov 2026 11:00:00 +0100")
	s.feeds.publish("c", "Third", "Mon, 23 Nov 2026 12:00:00 +0100")
	if r := s.once(); r.code != 1 || !strings.Contains(r.stderr, "uncertain") {
		t.Fatalf("once exited %d:\n%s", r.code, r.stderr)
	}
	first, second := s.delivery("telegram-en", "First"), s.delivery("telegram-en", "Second")
	if first.State != "uncertain" || second.State != "uncertain" {
		t.Fatalf("states %s, %s", first.State, second.State)
	}
	s.mustOnce() // nothing is re-sent silently
	if n := len(s.telegram.Messages()); n != 3 {
		t.Fatalf("telegram has %d messages, want 3 (two accepted before the drop, one sent)", n)
	}
	if r := s.run("mark-sent", "--config", s.config, fmt.Sprint(first.ID)); r.code != 0 {
		t.Fatalf("mark-sent: %s", r.stderr)
	}
	if r := s.run("retry", fmt.Sprint(second.ID), "--config", s.config); r.code != 0 {
		t.Fatalf("retry: %s", r.stderr)
	}
	s.mustOnce()
	if n := len(s.telegram.Messages()); n != 4 {
		t.Fatalf("after retry telegram has %d messages, want 4", n)
	}
	if d := s.delivery("telegram-en", "First"); d.State != "sent" {
		t.Fatalf("mark-sent left %s", d.State)
	}
	third := s.delivery("telegram-en", "Third")
	if r := s.run("skip", "--config", s.config, fmt.Sprint(third.ID)); r.code != 1 || !strings.Contains(r.stderr, "is sent") {
		t.Fatalf("skip of a sent delivery: %d %s", r.code, r.stderr)
	}
	if r := s.run("skip", "--config", s.config, "99999"); r.code != 1 || !strings.Contains(r.stderr, "no such delivery") {
		t.Fatalf("skip of an unknown delivery: %d %s", r.code, r.stderr)
	}
	if r := s.run("skip", "--config", s.config, "abc"); r.code != 2 {
		t.Fatalf("skip abc: %d %s", r.code, r.stderr)
	}
}

func TestDryRunSendsAndWritesNothing(t *testing.T) {
	s := newSite(t, siteOptions{backfill: 2})
	r := s.once("--dry-run")
	if r.code != 0 {
		t.Fatalf("dry run exited %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "syndicate.db")); !os.IsNotExist(err) {
		t.Fatalf("a dry run created the database: %v", err)
	}
	for _, want := range []string{"── mastodon-en · Mastodon post · A new era in South America", "── telegram-en · Telegram message · A new era in South America"} {
		if !strings.Contains(r.stdout, want) {
			t.Fatalf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}

	// The real run afterwards still backfills: the dry run baselined nothing.
	s.mustOnce()
	if n := len(s.mastodon.Statuses()); n != 2 {
		t.Fatalf("mastodon has %d statuses after the real run", n)
	}

	// On an established database, a dry run shows the new article and
	// leaves the ledger and the feed state as they were.
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	before := s.status()
	r = s.once("--dry-run")
	if r.code != 0 || !strings.Contains(r.stdout, "Strike") {
		t.Fatalf("dry run exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	after := s.status()
	if len(after.Deliveries) != len(before.Deliveries) || !after.Feeds[0].LastPollAt.Equal(*before.Feeds[0].LastPollAt) {
		t.Fatalf("the dry run wrote: %d deliveries before, %d after; last poll %v → %v",
			len(before.Deliveries), len(after.Deliveries), before.Feeds[0].LastPollAt, after.Feeds[0].LastPollAt)
	}
	if len(s.mastodon.Statuses()) != 2 || len(s.telegram.Messages()) != 2 {
		t.Fatal("the dry run sent")
	}
	s.mustOnce()
	if got := firstLines(s.mastodonTexts()); len(got) != 3 || got[2] != "Strike" {
		t.Fatalf("mastodon got %q", got)
	}
}

func TestFeedErrorFailsOnceButNotTheOtherFeed(t *testing.T) {
	s := newSite(t, siteOptions{extraFeed: `  - id: statements
    url: "` + "FEEDURL" + `/statements.json"
    to: [telegram-en]
  - id: broken
    url: "` + "FEEDURL" + `/missing.xml"
    to: [telegram-en]`})
	raw, _ := os.ReadFile(s.config)
	s.writeFile("syndicate.yaml", strings.ReplaceAll(string(raw), "FEEDURL", s.feeds.URL))
	r := s.once()
	if r.code != 1 || !strings.Contains(r.stderr, `feed "broken"`) || !strings.Contains(r.stderr, "404") {
		t.Fatalf("once exited %d:\n%s", r.code, r.stderr)
	}
	st := s.status()
	for _, f := range st.Feeds {
		if (f.ID == "broken") != (f.LastError != "") {
			t.Fatalf("feed %+v", f)
		}
	}
}

// A 429 is obeyed: Telegram's retry_after and Mastodon's X-RateLimit-Reset
// set the next attempt, made within once's --max-wait.
func TestRateLimitedChannelsRetryWhenTold(t *testing.T) {
	s := newSite(t, siteOptions{})
	s.mustOnce()
	reset := time.Now().Add(time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	s.mastodon.FailNext(1, 429, http.Header{"X-Ratelimit-Limit": {"300"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {reset}}, `{"error":"Too many requests"}`)
	s.telegram.FailNext(1, 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`)
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	s.mustOnce()
	for _, ch := range []string{"mastodon-en", "telegram-en"} {
		if d := s.delivery(ch, "Strike"); d.State != "sent" || d.Attempts != 2 {
			t.Fatalf("%s: %+v", ch, d)
		}
	}
	if len(s.mastodon.Statuses()) != 1 || len(s.telegram.Messages()) != 1 {
		t.Fatal("not exactly one post each")
	}
}
