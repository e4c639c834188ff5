package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestReviewThenApproveWithText: with review: true, new deliveries wait;
// an editor's rewrite is checked as the platform would check it, refused
// with the reason (and nothing saved), or sent exactly as written.
func TestReviewThenApproveWithText(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{extraFeed: "    review: true"})
	s.mustOnce()
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	r := s.once()
	if r.code != 0 || !strings.Contains(r.stderr, "2 deliveries wait in review") {
		t.Fatalf("once with deliveries in review: exit %d\n%s", r.code, r.stderr)
	}
	if n := len(s.mastodon.Statuses()) + len(s.telegram.Messages()); n != 0 {
		t.Fatalf("%d posts went out before review", n)
	}
	tg, md := s.delivery("telegram-en", "Strike"), s.delivery("mastodon-en", "Strike")
	if tg.State != "review" || md.State != "review" {
		t.Fatalf("states %s, %s; want review", tg.State, md.State)
	}

	for _, bad := range []struct {
		id        int64
		text, why string
	}{
		{tg.ID, "<b>unclosed bold", "can't parse entities"},
		{tg.ID, "<a href=\"https://example.org\"><a href=\"https://example.org/2\">nested</a></a>", "Telegram would drop"},
		{md.ID, strings.Repeat("long words ", 60), "over its limit of 500"},
		{tg.ID, "   ", "empty"},
	} {
		r := s.run("approve", "--config", s.config, "--text-file", s.writeFile("bad.txt", bad.text), strconv.FormatInt(bad.id, 10))
		if r.code != 1 || !strings.Contains(r.stderr, bad.why) {
			t.Errorf("approve %q: exit %d, %q; want 1 and %q", bad.text, r.code, r.stderr, bad.why)
		}
	}
	if d := s.delivery("telegram-en", "Strike"); d.State != "review" {
		t.Fatalf("a refused text changed the delivery: %+v", d)
	}

	rewritten := "<b>Strike</b> — rewritten by the editor &amp; approved\nhttps://example.org/strike"
	if r := s.run("approve", "--config", s.config, "--text-file", s.writeFile("ok.txt", rewritten), strconv.FormatInt(tg.ID, 10)); r.code != 0 {
		t.Fatalf("approve: exit %d\n%s", r.code, r.stderr)
	}
	if r := s.run("approve", "--config", s.config, "--text-file", s.writeFile("ok.txt", rewritten), "1", "2"); r.code != 2 {
		t.Fatalf("--text-file with two deliveries: exit %d, want 2", r.code)
	}
	if r := s.run("skip", "--config", s.config, strconv.FormatInt(md.ID, 10)); r.code != 0 {
		t.Fatalf("skip in review: exit %d\n%s", r.code, r.stderr)
	}
	s.mustOnce()
	if got := s.telegramTexts(); len(got) != 1 || got[0] != rewritten {
		t.Fatalf("telegram received %q, want exactly the editor's text", got)
	}
	if n := len(s.mastodon.Statuses()); n != 0 {
		t.Fatalf("the skipped delivery was posted (%d)", n)
	}
	if d := s.delivery("telegram-en", "Strike"); d.State != "sent" {
		t.Fatalf("after approval: %+v", d)
	}
}

// TestPauseHoldsAChannel: while a channel is paused nothing reaches it and
// its deliveries wait as pending; once reports them, not as failures;
// resumed, they go out.
func TestPauseHoldsAChannel(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	s.mustOnce()
	if r := s.run("pause", "--config", s.config, "telegram-en"); r.code != 0 || !strings.Contains(r.stdout, "telegram-en: paused") {
		t.Fatalf("pause: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := s.run("pause", "--config", s.config, "nope"); r.code != 2 {
		t.Fatalf("pause of an unknown channel: exit %d, want 2", r.code)
	}
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	r := s.once()
	if r.code != 0 || !strings.Contains(r.stderr, "channel telegram-en is paused: 1 deliveries wait") {
		t.Fatalf("once with a paused channel: exit %d\n%s", r.code, r.stderr)
	}
	if m, tg := len(s.mastodon.Statuses()), len(s.telegram.Messages()); m != 1 || tg != 0 {
		t.Fatalf("mastodon %d, telegram %d: want 1 and 0", m, tg)
	}
	if d := s.delivery("telegram-en", "Strike"); d.State != "pending" {
		t.Fatalf("paused delivery: %+v", d)
	}
	if r := s.run("resume", "--config", s.config, "telegram-en"); r.code != 0 {
		t.Fatalf("resume: exit %d\n%s", r.code, r.stderr)
	}
	s.mustOnce()
	if n := len(s.telegram.Messages()); n != 1 {
		t.Fatalf("after resume telegram has %d messages", n)
	}
}

// TestDecisionReachesRunningDaemon: retry, run from another process while
// the daemon runs, is acted on at once, not at the delivery's next timer.
func TestDecisionReachesRunningDaemon(t *testing.T) {
	t.Parallel()
	s := newSite(t, siteOptions{})
	s.mustOnce()
	d := s.startDaemon()
	s.mastodon.FailNext(1, http.StatusForbidden, nil, `{"error":"This action is not allowed"}`)
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	if code := d.ping("feed=emancipation-en", adminToken); code != http.StatusAccepted {
		t.Fatalf("ping: %d", code)
	}
	waitFor(t, func() bool { return s.stateOf("mastodon-en", "Strike") == "failed" })
	failed := s.delivery("mastodon-en", "Strike")
	if !strings.Contains(failed.LastError, "not allowed") {
		t.Fatalf("failed delivery: %+v", failed)
	}
	if r := s.run("retry", "--config", s.config, strconv.FormatInt(failed.ID, 10)); r.code != 0 {
		t.Fatalf("retry: exit %d\n%s", r.code, r.stderr)
	}
	waitFor(t, func() bool { return len(s.mastodon.Statuses()) == 1 })
	waitFor(t, func() bool { return s.stateOf("mastodon-en", "Strike") == "sent" })
	d.stop()
}

// stateOf is the state of the article's delivery to channel, "" while
// there is none.
func (s *site) stateOf(channel, title string) string {
	for _, d := range s.status().Deliveries {
		if d.Channel == channel && d.Title == title {
			return d.State
		}
	}
	return ""
}
