package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestEditorSettlesUncertainDigestMessages: after a crash mid-digest the
// messages in flight are uncertain; an editor lists them, sends one again
// (it arrives) and records the other sent.
func TestEditorSettlesUncertainDigestMessages(t *testing.T) {
	s := newDigestSite(t)
	s.mustRun("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", "ana@example.net", "bob@example.net")
	s.schedule("0 8 1 1 *")
	s.once()
	s.feeds.publish("kazakhstan", "Kazakhstan", "Tue, 24 Nov 2026 10:00:00 +0100", "Kazakhstan")
	s.once() // planned, not due
	crashMidDigest(t, filepath.Join(s.dir, "syndicate.db"))
	if r := s.run("once", "--config", s.config, "--max-wait", "0s"); r.code != 1 {
		t.Fatalf("once after the crash: exit %d, want 1", r.code)
	}
	id := s.statusDigests()[0].ID

	r := s.mustRun("status", "--config", s.config, "--json", "--digest", "1", "--recipients", "uncertain")
	var doc struct {
		Messages []messageJSON `json:"messages"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if id != 1 || len(doc.Messages) != 2 || doc.Messages[0].Email != "ana@example.net" || doc.Messages[0].State != "uncertain" || doc.Messages[0].LastError == "" {
		t.Fatalf("uncertain messages of digest %d: %+v", id, doc.Messages)
	}
	if r := s.mustRun("status", "--config", s.config, "--digest", "1"); !strings.Contains(r.stdout, "MESSAGES OF DIGEST 1") || !strings.Contains(r.stdout, "bob@example.net") {
		t.Fatalf("status --digest:\n%s", r.stdout)
	}
	for _, bad := range [][]string{
		{"digest", "resend", "--config", s.config, "--digest", "9"},
		{"digest", "resend", "--config", s.config, "--digest", "1", "--state", "sent"},
		{"digest", "resend", "--config", s.config, "--digest", "1", "--channel", "other"},
		{"digest", "redo", "--config", s.config, "--digest", "1"},
		{"status", "--config", s.config, "--recipients", "uncertain"},
	} {
		if r := s.run(bad...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", bad, r.code, r.stderr)
		}
	}

	before := len(s.inbox()["ana@example.net"])
	r = s.mustRun("digest", "resend", "--config", s.config, "--digest", "1", "ana@example.net")
	if r.stdout != "ana@example.net: deferred\n" || !strings.Contains(r.stderr, "may then arrive twice") {
		t.Fatalf("resend:\n%s\n%s", r.stdout, r.stderr)
	}
	s.once()
	s.mail.WaitMessages(1)
	if got := len(s.inbox()["ana@example.net"]); got != before+1 {
		t.Fatalf("ana has %d messages after the resend, want %d", got, before+1)
	}
	if r := s.mustRun("digest", "mark-sent", "--config", s.config, "--digest", "1"); !strings.Contains(r.stdout, "bob@example.net: sent") {
		t.Fatalf("mark-sent:\n%s\n%s\n%s", r.stdout, r.stderr, s.mustRun("status", "--config", s.config, "--digest", "1").stdout)
	}
	if d := s.statusDigests()[0]; d.Recipients != (recipientsJSON{Sent: 2}) || !d.Finished {
		t.Fatalf("digest after the editor: %+v", d)
	}
	if r := s.run("digest", "resend", "--config", s.config, "--digest", "1", "nobody@example.net"); r.code != 1 {
		t.Fatalf("resend of an address without such a message: exit %d", r.code)
	}
}
