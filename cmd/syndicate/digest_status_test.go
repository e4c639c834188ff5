package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// statusDigests runs `status --json` and returns its digests, checking
// that every digest has every field and every state counted, and that the
// fields that were there before the digests still are.
func (s *digestSite) statusDigests(args ...string) []digestJSON {
	s.t.Helper()
	r := s.mustRun(append([]string{"status", "--config", s.config, "--json"}, args...)...)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		s.t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	for _, key := range []string{"feeds", "deliveries", "digests"} {
		if _, ok := raw[key]; !ok {
			s.t.Errorf("status --json has no %q:\n%s", key, r.stdout)
		}
	}
	var fields []map[string]json.RawMessage
	if err := json.Unmarshal(raw["digests"], &fields); err != nil || fields == nil {
		s.t.Fatalf("status --json digests: %v (want an array, never null)\n%s", err, raw["digests"])
	}
	for _, d := range fields {
		for _, key := range []string{"id", "channel", "list", "period", "articles", "created_at", "finished", "recipients"} {
			if _, ok := d[key]; !ok {
				s.t.Errorf("a digest of status --json has no %q: %s", key, raw["digests"])
			}
		}
		var states map[string]int
		if err := json.Unmarshal(d["recipients"], &states); err != nil || len(states) != len(syndicate.RecipientStates) {
			s.t.Errorf("recipients of a digest: %s, %v; want every state counted", d["recipients"], err)
		}
	}
	var out []digestJSON
	if err := json.Unmarshal(raw["digests"], &out); err != nil {
		s.t.Fatal(err)
	}
	return out
}

// statusLines runs `status` and returns the lines of its digest table
// after the header, each split into its fields.
func (s *digestSite) statusLines(args ...string) [][]string {
	s.t.Helper()
	r := s.mustRun(append([]string{"status", "--config", s.config}, args...)...)
	_, table, ok := strings.Cut(r.stdout, "\nDIGEST ")
	if !ok {
		s.t.Fatalf("status shows no digests:\n%s", r.stdout)
	}
	var out [][]string
	for _, line := range strings.Split(strings.TrimSpace(table), "\n")[1:] {
		out = append(out, strings.Fields(line))
	}
	return out
}

// status shows each email channel's digests: what each held, whether it
// is finished, and its messages by state, after a crash too.
func TestStatusShowsTheDigests(t *testing.T) {
	s := newDigestSite(t)
	s.mustRun("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", "ana@example.net", "bob@example.net")
	s.once()
	if got := s.statusDigests(); len(got) != 0 {
		t.Fatalf("digests before any: %+v", got)
	}
	if got := s.statusLines(); len(got) != 1 || strings.Join(got[0], " ") != "— digest-en en no digest yet" {
		t.Fatalf("status before any digest: %q", got)
	}

	s.feeds.publish("mass-strike", "The mass strike", "Mon, 23 Nov 2026 10:00:00 +0100", "Mass strike")
	time.Sleep(1100 * time.Millisecond)
	s.once()
	s.mail.WaitMessages(2)
	got := s.statusDigests()
	if len(got) != 1 {
		t.Fatalf("digests after one: %+v", got)
	}
	d := got[0]
	if d.ID != 1 || d.Channel != "digest-en" || d.List != "en" || d.Articles != 1 || !d.Finished || d.FinishedAt == nil ||
		d.CreatedAt.IsZero() || d.Recipients != (recipientsJSON{Sent: 2}) {
		t.Errorf("digest after one: %+v", d)
	}
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(d.Period) { // @every: the instant in UTC
		t.Errorf("period %q", d.Period)
	}
	lines := s.statusLines()
	if len(lines) != 1 {
		t.Fatalf("status after one digest: %q", lines)
	}
	// DIGEST CHANNEL LIST PERIOD ARTICLES CREATED (date time) FINISHED (date time) MESSAGES
	if l := lines[0]; len(l) != 11 || l[0] != "1" || l[1] != "digest-en" || l[2] != "en" || l[3] != d.Period || l[4] != "1" ||
		l[5] != d.CreatedAt.Local().Format("2006-01-02") || strings.Join(l[9:], " ") != "2 sent" {
		t.Errorf("digest line: %q", l)
	}

	// A process dies with a digest's messages handed to the server: they
	// are "sending" until the next run settles them as uncertain.
	s.schedule("0 8 1 1 *")
	s.feeds.publish("kazakhstan", "Kazakhstan", "Tue, 24 Nov 2026 10:00:00 +0100", "Kazakhstan")
	s.once() // planned, not due
	crashMidDigest(t, filepath.Join(s.dir, "syndicate.db"))
	got = s.statusDigests()
	if len(got) != 2 || got[0].ID != 2 || got[1].ID != 1 {
		t.Fatalf("digests after a second: %+v, want newest first", got)
	}
	if d := got[0]; d.Finished || d.FinishedAt != nil || d.Period != "crash" || d.Recipients != (recipientsJSON{Sending: 2}) {
		t.Errorf("digest left by a crash: %+v", d)
	}
	if lines := s.statusLines(); len(lines) != 2 || lines[0][0] != "2" || lines[0][7] != "no" ||
		strings.Join(lines[0][8:], " ") != "2 sending" || lines[1][0] != "1" {
		t.Errorf("status with a digest in flight: %q", lines)
	}
	if r := s.run("once", "--config", s.config, "--max-wait", "0s"); r.code != 1 {
		t.Fatalf("once after a crash exited %d, want 1 (uncertain messages):\n%s", r.code, r.stderr)
	}
	if d := s.statusDigests()[0]; !d.Finished || d.Recipients != (recipientsJSON{Uncertain: 2}) {
		t.Errorf("digest settled after the crash: %+v", d)
	}
	if l := s.statusLines()[0]; strings.Join(l[9:], " ") != "2 uncertain" {
		t.Errorf("status of the settled digest: %q", l)
	}
	if r := s.mustRun("status", "--config", s.config); !regexp.MustCompile(`(?m)^2 +sent +digest-en +emancipation-en +Kazakhstan +in digest 2$`).MatchString(r.stdout) {
		t.Errorf("status does not say which digest took the article:\n%s", r.stdout)
	}

	// Filters: the digests of the channel named, and of those the feed
	// named goes to.
	if got := s.statusDigests("--channel", "digest-en"); len(got) != 2 {
		t.Errorf("status --channel digest-en: %d digests", len(got))
	}
	if got := s.statusDigests("--feed", "emancipation-en"); len(got) != 2 {
		t.Errorf("status --feed emancipation-en: %d digests", len(got))
	}
}

// crashMidDigest makes, in the store at path, a digest of the pending
// article of digest-en and claims its recipients, as a process that died
// while the mail server had the messages would leave them.
func crashMidDigest(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pending, err := st.ListDeliveries(ctx, syndicate.DeliveryFilter{ChannelID: "digest-en", States: []syndicate.State{syndicate.StatePending}})
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending deliveries: %d, %v", len(pending), err)
	}
	d, _, err := st.CreateDigest(ctx, syndicate.Digest{ChannelID: "digest-en", Period: "crash", Articles: []int64{pending[0].ArticleID}})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := st.Unsent(ctx, d.ID, "en", 0, 0)
	if err != nil || len(subs) != 2 {
		t.Fatalf("recipients: %d, %v", len(subs), err)
	}
	dead := deadOwner(t)
	if _, err := st.ClaimRecipients(ctx, d.ID, []int64{subs[0].ID, subs[1].ID}, dead, time.Now()); err != nil {
		t.Fatal(err)
	}
	// Both handed to the mail server.
	if begun, err := st.BeginRecipients(ctx, d.ID, dead, nil, []int64{subs[0].ID, subs[1].ID}); err != nil || len(begun) != 2 {
		t.Fatalf("BeginRecipients: %v, %v", begun, err)
	}
}

// The daemon counts the digests it sends and their messages, and its
// gauges read the digests from the store.
// deadOwner names, as the daemon names itself in its claims, a process
// of this host that is not running.
func deadOwner(t *testing.T) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	for pid := 4_000_000; pid > 1; pid-- {
		if errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			return fmt.Sprintf("%s/%d/dead", host, pid)
		}
	}
	t.Fatal("no free process id")
	return ""
}

func TestRunExposesDigestMetrics(t *testing.T) {
	s := newDigestSite(t)
	addr := freeAddr(t)
	raw, _ := os.ReadFile(s.config)
	if err := os.WriteFile(s.config, []byte(strings.Replace(string(raw), `listen: "127.0.0.1:0"`, `listen: "`+addr+`"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustRun("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", "ana@example.net", "bob@example.net")
	s.once() // first sight
	// An article planned while the digest is not due, so that the
	// daemon's check at start makes the digest.
	s.schedule("0 8 1 1 *")
	s.feeds.publish("mass-strike", "The mass strike", "Mon, 23 Nov 2026 10:00:00 +0100", "Mass strike")
	s.once()
	raw, _ = os.ReadFile(s.config)
	if err := os.WriteFile(s.config, []byte(strings.Replace(string(raw), `schedule: "0 8 1 1 *"`, `schedule: "@every 1s"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)

	startRun(t, s.config)
	s.mail.WaitMessages(2)
	want := []string{
		`syndicate_digest_messages_total{channel="digest-en",state="sent"} 2`,
		`syndicate_digests_total{channel="digest-en",result="sent"} 1`,
		`syndicate_digests_open{channel="digest-en"} 0`,
		`syndicate_digest_last_created_timestamp_seconds{channel="digest-en"} `,
	}
	var metrics string
	deadline := time.Now().Add(10 * time.Second)
	for {
		metrics = body("http://" + addr + "/metrics")
		missing := false
		for _, w := range want {
			missing = missing || !strings.Contains(metrics, w)
		}
		if !missing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics lacks some of %q:\n%s", want, grepLines(metrics, "syndicate_digest"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func grepLines(text, substr string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
