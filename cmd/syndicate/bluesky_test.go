package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/bluesky/blueskytest"
)

const (
	blueskyHandle   = "emancipation.bsky.social"
	blueskyPassword = "bsky-app-password-do-not-log"
)

// blueskySite is the site with its feed routed to the channels to, among
// them bluesky-en, a Bluesky account on a local PDS.
func blueskySite(t *testing.T, to, channelYAML string) (*site, *blueskytest.Server) {
	t.Helper()
	s := newSite(t, siteOptions{})
	pds := blueskytest.NewServer(t, blueskyHandle, blueskyPassword)
	raw, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(raw), "to: [mastodon-en, telegram-en]", "to: ["+to+"]", 1) + `
  - id: bluesky-en
    type: bluesky
    handle: "` + blueskyHandle + `"
    app_password_file: "` + s.writeFile("bluesky.password", blueskyPassword+"\n") + `"
    service: "` + pds.URL() + `"
    retry: { max_attempts: 4, min_backoff: 10ms, max_backoff: 50ms }
` + channelYAML
	s.writeFile("syndicate.yaml", cfg)
	return s, pds
}

func TestBlueskyPostsOnceWithItsFacets(t *testing.T) {
	s, pds := blueskySite(t, "mastodon-en, telegram-en, bluesky-en", "")
	s.mustOnce()
	s.feeds.publish("mass-strike", "The mass strike & its lessons", "Mon, 23 Nov 2026 10:00:00 +0100", "Mass strike")
	s.mustOnce()
	s.mustOnce()
	recs := pds.Records()
	if len(recs) != 1 || !strings.HasPrefix(recs[0].Post.Text, "The mass strike & its lessons") {
		t.Fatalf("records: %+v", recs)
	}
	d := s.delivery("bluesky-en", "The mass strike & its lessons")
	if d.State != "sent" || d.RemoteID != recs[0].URI || d.RemoteURL != "https://bsky.app/profile/"+pds.DID()+"/post/"+recs[0].Rkey {
		t.Errorf("delivery %+v", d)
	}
	tags := 0
	for _, f := range recs[0].Post.Facets {
		if f.Features[0].Tag == "MassStrike" {
			tags++
		}
	}
	if tags != 1 || recs[0].Post.Embed == nil || recs[0].Post.Embed.External == nil {
		t.Errorf("post %+v", recs[0].Post)
	}
	// The second run reused the first one's session.
	if pds.Sessions() != 1 {
		t.Errorf("%d sessions over three runs", pds.Sessions())
	}
	if r := s.run("preview", "--config", s.config); r.code != 0 || !strings.Contains(r.stdout, "Bluesky post") {
		t.Errorf("preview exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// check --online makes a session and resolves the handle; a wrong app
// password fails the check, naming the channel and not the password.
func TestBlueskyCheckOnline(t *testing.T) {
	s, pds := blueskySite(t, "bluesky-en", "")
	r := s.run("check", "--online", "--config", s.config)
	want := "channel bluesky-en: ok, authenticated as @" + blueskyHandle + " (" + pds.DID() + ")"
	if r.code != 0 || !strings.Contains(r.stdout, want) || pds.Calls(blueskytest.MethodResolveHandle) != 1 {
		t.Fatalf("check --online exited %d, %d resolveHandle calls:\n%s\n%s", r.code, pds.Calls(blueskytest.MethodResolveHandle), r.stdout, r.stderr)
	}
	s.writeFile("bluesky.password", "not-the-password\n")
	r = s.run("check", "--online", "--config", s.config)
	if r.code != 1 || !strings.Contains(r.stdout, "channel bluesky-en: FAIL") || strings.Contains(r.stdout+r.stderr, "not-the-password") {
		t.Errorf("with a wrong password, check --online exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestBlueskyRefusesEditAtLoad(t *testing.T) {
	s, _ := blueskySite(t, "bluesky-en", "    on_update: edit\n")
	r := s.run("check", "--config", s.config)
	if r.code != 2 || !strings.Contains(r.stderr, `on_update: a bluesky channel cannot edit its posts: must be ignore (got "edit")`) {
		t.Errorf("check exited %d:\n%s", r.code, r.stderr)
	}
}

// TestBlueskyKilledMidSend kills the daemon (SIGKILL) while the PDS holds
// its answer to createRecord, the record stored. The next run finds the
// record under the delivery's key: the delivery is sent, never uncertain,
// and the post exists once.
func TestBlueskyKilledMidSend(t *testing.T) {
	bin := syndicateBinary(t)
	s, pds := blueskySite(t, "bluesky-en", "") // alone: a Telegram post cut short would be uncertain
	s.mustOnce()
	s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	stored, release := pds.HoldAnswers("com.atproto.repo.createRecord")

	var logs bytes.Buffer
	daemon, exited := startRunProcess(t, bin, s.config, &logs)
	select {
	case <-stored:
	case <-exited:
		t.Fatalf("the daemon exited before posting:\n%s", logs.String())
	case <-time.After(30 * time.Second):
		_ = daemon.Process.Kill()
		t.Fatalf("the daemon did not post:\n%s", logs.String())
	}
	if err := daemon.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-exited
	release()
	if d := s.delivery("bluesky-en", "Strike"); d.State != "sending" {
		t.Fatalf("after the kill: %s", d.State)
	}

	s.mustOnce()
	d := s.delivery("bluesky-en", "Strike")
	recs := pds.Records()
	if d.State != "sent" || len(recs) != 1 || d.RemoteID != recs[0].URI {
		t.Fatalf("after recovery: %+v; %d records", d, len(recs))
	}
	if n := pds.Calls("com.atproto.repo.createRecord"); n != 1 {
		t.Errorf("%d creates: the recovery created again", n)
	}
	if strings.Contains(logs.String(), blueskyPassword) {
		t.Error("the app password reached the log")
	}
}
