package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/email/mailpittest"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

const digestSecret = "digest-test-secret-0123456789abcdef"

// digestSite is a feed server, a mailpit and a config whose feed goes to
// an email digest due every second.
type digestSite struct {
	t      *testing.T
	feeds  *feedServer
	mail   *mailpittest.Server
	dir    string
	config string
}

func newDigestSite(t *testing.T) *digestSite {
	t.Helper()
	s := &digestSite{t: t, mail: mailpittest.Start(t), feeds: newFeedServer(t), dir: t.TempDir()}
	s.config = filepath.Join(s.dir, "syndicate.yaml")
	yaml := fmt.Sprintf(`
store: "sqlite:%s"
listen: "127.0.0.1:0"
public_url: "http://127.0.0.1:8080"
timezone: "Europe/Madrid"
secret: "%s"
feeds:
  - id: emancipation-en
    url: "%s/en.rss.xml"
    language: en
    to: [digest-en]
channels:
  - id: digest-en
    type: email
    list: en
    schedule: "@every 1s"
    from: "Emancipation <news@example.org>"
    subject: "Emancipation: {{.Title}}"
    smtp: { host: 127.0.0.1, port: %d, tls: none }
`, filepath.Join(s.dir, "syndicate.db"), digestSecret, s.feeds.URL, s.mail.SMTPPort)
	if err := os.WriteFile(s.config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// schedule changes the digest's schedule.
func (s *digestSite) schedule(spec string) {
	s.t.Helper()
	cfg, err := os.ReadFile(s.config)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(s.config, []byte(strings.Replace(string(cfg), `schedule: "@every 1s"`, `schedule: "`+spec+`"`, 1)), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func (s *digestSite) run(args ...string) result {
	s.t.Helper()
	return runCommand(s.t, args, func(string) (string, bool) { return "", false })
}

func (s *digestSite) mustRun(args ...string) result {
	s.t.Helper()
	r := s.run(args...)
	if r.code != 0 {
		s.t.Fatalf("%v exited %d:\n%s\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

func (s *digestSite) once() result {
	s.t.Helper()
	return s.mustRun("once", "--config", s.config, "--max-wait", "0s")
}

// inbox returns the subjects received by each address.
func (s *digestSite) inbox() map[string][]string {
	out := map[string][]string{}
	for _, m := range s.mail.Messages() {
		for _, to := range m.To {
			out[to.Address] = append(out[to.Address], m.Subject)
		}
	}
	return out
}

func TestDigestEndToEnd(t *testing.T) {
	s := newDigestSite(t)
	s.mustRun("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", "ana@example.net", "bob@example.net")

	s.once() // first sight: nothing goes out; the digest's first period starts
	if n := len(s.mail.Messages()); n != 0 {
		t.Fatalf("%d messages after the first run", n)
	}
	r := s.mustRun("digest", "--config", s.config, "--channel", "digest-en")
	if !strings.Contains(r.stderr, "no new articles") || r.stdout != "" {
		t.Errorf("digest with nothing new:\n%s\n%s", r.stdout, r.stderr)
	}

	s.feeds.publish("mass-strike", "The mass strike & its lessons", "Mon, 23 Nov 2026 10:00:00 +0100", "Mass strike")
	time.Sleep(1100 * time.Millisecond) // the schedule fires
	r = s.once()
	msgs := s.mail.WaitMessages(2)
	if got := s.inbox(); len(msgs) != 2 || len(got["ana@example.net"]) != 1 || len(got["bob@example.net"]) != 1 {
		t.Fatalf("inbox after the digest was due: %v\n%s", got, r.stderr)
	}
	if want := "Emancipation: The mass strike & its lessons"; msgs[0].Subject != want {
		t.Errorf("subject %q, want %q", msgs[0].Subject, want)
	}
	if !strings.Contains(r.stderr, "digest messages in this run: 2 sent") {
		t.Errorf("once's report:\n%s", r.stderr)
	}

	// The headers and both parts, as received.
	links, err := subscribe.NewLinks("http://127.0.0.1:8080", []byte(digestSecret), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		h := s.mail.Headers(m.ID)
		lu := strings.Join(h["List-Unsubscribe"], "")
		url := strings.TrimSuffix(strings.TrimPrefix(strings.Fields(lu)[0], "<"), ">,")
		token, ok := strings.CutPrefix(url, "http://127.0.0.1:8080/unsubscribe/")
		if !ok {
			t.Fatalf("List-Unsubscribe %q", lu)
		}
		link, err := links.Parse(token)
		if err != nil || link.Kind != subscribe.LinkUnsubscribe || link.Email != m.To[0].Address || link.List != "en" {
			t.Errorf("unsubscribe token of %s: %+v, %v", m.To[0].Address, link, err)
		}
		if !strings.Contains(lu, "<mailto:unsubscribe@example.org?subject=unsubscribe>") ||
			strings.Join(h["List-Unsubscribe-Post"], "") != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe headers %q %q", lu, h["List-Unsubscribe-Post"])
		}
		full := s.mail.Message(m.ID)
		if !strings.Contains(full.Text, url) || !strings.Contains(full.HTML, `href="`+url+`"`) {
			t.Errorf("the personal link is not in both parts of %s's copy", m.To[0].Address)
		}
		if !strings.Contains(full.HTML, "https://en.communia.blog/mass-strike") || !strings.Contains(full.Text, "https://en.communia.blog/mass-strike") {
			t.Errorf("the article's link is not in both parts")
		}
	}
	st := s.run("status", "--config", s.config, "--json")
	if !strings.Contains(st.stdout, `"remote_id": "digest:1"`) {
		t.Errorf("status does not show the article digested:\n%s", st.stdout)
	}

	// A second run sends nothing.
	time.Sleep(1100 * time.Millisecond)
	s.once()
	if n := len(s.mail.Messages()); n != 2 {
		t.Fatalf("%d messages after a run with nothing new, want 2", n)
	}

	// Bob leaves; the next digest goes to Ana only.
	s.mustRun("subscribers", "remove", "--config", s.config, "--list", "en", "bob@example.net")
	s.feeds.publish("ai-again", "AI, again", "Tue, 24 Nov 2026 10:00:00 +0100", "Technology")
	time.Sleep(1100 * time.Millisecond)
	s.once()
	s.mail.WaitMessages(3)
	if got := s.inbox(); len(got["ana@example.net"]) != 2 || len(got["bob@example.net"]) != 1 {
		t.Fatalf("inbox after bob left: %v", got)
	}

}

// digest shows the next digest, and --now sends it at once; its articles
// then count as digested.
func TestDigestNowEndToEnd(t *testing.T) {
	s := newDigestSite(t)
	s.schedule("0 8 1 1 *") // once a year: only --now sends here
	s.mustRun("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", "ana@example.net")
	s.once()
	s.feeds.publish("kazakhstan", "Kazakhstan, a year on", "Wed, 25 Nov 2026 10:00:00 +0100", "Kazakhstan")
	s.once()
	if n := len(s.mail.Messages()); n != 0 {
		t.Fatalf("%d messages before --now", n)
	}
	htmlFile := filepath.Join(s.dir, "next.html")
	r := s.mustRun("digest", "--config", s.config, "--channel", "digest-en", "--html", htmlFile)
	if !strings.HasPrefix(r.stdout, "Subject: Emancipation: Kazakhstan, a year on\n") || !strings.Contains(r.stdout, "https://en.communia.blog/kazakhstan") ||
		!strings.Contains(r.stderr, "the schedule next fires at") {
		t.Errorf("digest preview:\n%s\n%s", r.stdout, r.stderr)
	}
	html, err := os.ReadFile(htmlFile)
	if err != nil || !strings.Contains(string(html), "<html") || !strings.Contains(string(html), "Kazakhstan, a year on") {
		t.Errorf("--html: %v\n%s", err, html)
	}
	if n := len(s.mail.Messages()); n != 0 {
		t.Fatalf("showing the digest sent %d messages", n)
	}
	r = s.mustRun("digest", "--config", s.config, "--channel", "digest-en", "--now")
	if !strings.Contains(r.stdout, "sent 1, deferred 0, failed 0, uncertain 0") {
		t.Errorf("digest --now:\n%s\n%s", r.stdout, r.stderr)
	}
	s.mail.WaitMessages(1)
	if got := s.inbox(); !slices.Equal(got["ana@example.net"], []string{"Emancipation: Kazakhstan, a year on"}) {
		t.Fatalf("inbox after digest --now: %v", got)
	}
	r = s.mustRun("digest", "--config", s.config, "--channel", "digest-en", "--now")
	if !strings.Contains(r.stderr, "nothing sent") {
		t.Errorf("digest --now with nothing new:\n%s\n%s", r.stdout, r.stderr)
	}
	r = s.mustRun("digest", "--config", s.config, "--channel", "digest-en")
	if !strings.Contains(r.stderr, "no new articles") {
		t.Errorf("digest after --now:\n%s", r.stderr)
	}
}

func TestCheckOnlineReachesTheSMTPServer(t *testing.T) {
	s := newDigestSite(t)
	r := s.run("check", "--config", s.config, "--online")
	if r.code != 0 || !strings.Contains(r.stdout, "channel digest-en: ok, SMTP 127.0.0.1:") {
		t.Fatalf("check --online exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	cfg, _ := os.ReadFile(s.config)
	broken := strings.Replace(string(cfg), fmt.Sprintf("port: %d", s.mail.SMTPPort), "port: 1", 1)
	if err := os.WriteFile(s.config, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.run("check", "--config", s.config, "--online")
	if r.code != 1 || !strings.Contains(r.stdout, "channel digest-en: FAIL") {
		t.Fatalf("check --online against a closed port exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestDigestCommandUsage(t *testing.T) {
	s := newDigestSite(t)
	for _, args := range [][]string{
		{"digest", "--config", s.config},
		{"digest", "--config", s.config, "--channel", "nope"},
	} {
		if r := s.run(args...); r.code != 2 {
			t.Errorf("%v exited %d, want 2:\n%s", args, r.code, r.stderr)
		}
	}
}

func TestDKIMKeyIsReadFromItsFile(t *testing.T) {
	dir := t.TempDir()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "dkim.pem")
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(good, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	os.WriteFile(bad, []byte("not a key\n"), 0o600)
	for _, tt := range []struct {
		file string
		code int
		want string
	}{
		{good, 0, "configuration ok"},
		{bad, 2, "dkim.key_file: " + bad + " holds no RSA or Ed25519 private key"},
		{filepath.Join(dir, "missing.pem"), 2, "dkim.key_file: open"},
	} {
		cfg := filepath.Join(dir, "syndicate.yaml")
		os.WriteFile(cfg, []byte(fmt.Sprintf(`
public_url: "http://127.0.0.1:8080"
store: "sqlite:%s"
feeds: [{id: f, url: "http://127.0.0.1:1/feed", to: [digest-en]}]
channels:
  - id: digest-en
    type: email
    list: en
    schedule: "0 8 * * MON"
    from: news@example.org
    smtp: {host: 127.0.0.1, port: 25, tls: none}
    dkim: {domain: example.org, selector: news, key_file: %q}
`, filepath.Join(dir, "s.db"), tt.file)), 0o600)
		r := runCommand(t, []string{"check", "--config", cfg}, func(string) (string, bool) { return "", false })
		if r.code != tt.code || !strings.Contains(r.stdout+r.stderr, tt.want) {
			t.Errorf("check with the key %s exited %d, want %d and %q:\n%s\n%s", filepath.Base(tt.file), r.code, tt.code, tt.want, r.stdout, r.stderr)
		}
	}
}
