package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// digestCampaign is the size of TestDigestSurvivesSIGKILLs: the issue's
// full size when SYNDICATE_CAMPAIGN=full (CI sets it), else a smaller one.
func digestCampaign() (subscribers, kills int) {
	if os.Getenv("SYNDICATE_CAMPAIGN") == "full" {
		return 5_000, 20
	}
	return 1_000, 5
}

// TestDigestSurvivesSIGKILLs mails one digest through mailpit while the
// process sending it is SIGKILLed again and again, at moments drawn from a
// fixed seed, each time resumed by the next `once`. Afterwards every
// subscriber got it exactly once, except the uncertain ones (at most one
// per connection per kill), who got it at most once; nobody twice.
func TestDigestSurvivesSIGKILLs(t *testing.T) {
	t.Parallel()
	nSubscribers, kills := digestCampaign()
	bin := syndicateBinary(t)
	s := newDigestSite(t)
	s.schedule("0 0 1 1 *") // only `digest --now` and resumes send
	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range nSubscribers {
		fmt.Fprintf(&csv, "reader%05d@example.net\n", i)
	}
	path := filepath.Join(s.dir, "subscribers.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s.mustRun("subscribers", "import", "--config", s.config, "--list", "en", "--confirmed", path)
	s.once() // first sight
	s.feeds.publish("mass-strike", "The mass strike", "Mon, 23 Nov 2026 10:00:00 +0100")
	s.once() // the article waits for the digest

	rng := rand.New(rand.NewPCG(2026, 12))
	args := []string{"digest", "--config", s.config, "--channel", "digest-en", "--now"}
	killed := 0
	for killed < kills {
		before := s.mail.Count()
		// A moment between one and two fiftieths of the list into this run.
		at := before + nSubscribers/(kills*4) + rng.IntN(nSubscribers/(kills*2)+1)
		var logs bytes.Buffer
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		finished := false
	wait:
		for {
			select {
			case <-exited:
				finished = true // the digest was done before this moment
				break wait
			case <-time.After(5 * time.Millisecond):
				if s.mail.Count() >= at {
					_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
					<-exited
					killed++
					break wait
				}
			}
		}
		if finished {
			break
		}
		args = []string{"once", "--config", s.config, "--max-wait", "0s"} // resumes the open digest
	}
	if killed < kills {
		t.Logf("the digest finished after %d kills of %d planned", killed, kills)
	}
	if killed == 0 {
		t.Fatal("the digest finished before any kill: the campaign tested nothing")
	}
	// What is left goes out; the run reports the uncertain ones.
	if r := s.run("once", "--config", s.config, "--max-wait", "0s"); r.code != 0 && !strings.Contains(r.stderr, "uncertain") {
		t.Fatalf("the last once exited %d:\n%s", r.code, r.stderr)
	}

	status := s.statusDigests()
	if len(status) != 1 {
		t.Fatalf("%d digests, want 1", len(status))
	}
	counts := status[0].Recipients
	uncertain := counts.Uncertain
	if counts.Claimed != 0 || counts.Sending != 0 || counts.Deferred != 0 || !status[0].Finished {
		t.Errorf("messages left in flight or waiting: %+v (finished %v)", counts, status[0].Finished)
	}
	s.mail.WaitMessages(nSubscribers - uncertain)
	got := s.inbox()
	never, twice := 0, 0
	for i := range nSubscribers {
		switch n := len(got[fmt.Sprintf("reader%05d@example.net", i)]); {
		case n == 0:
			never++
		case n > 1:
			twice++
		}
	}
	t.Logf("%d kills: %d subscribers, %d never, %d twice, %d uncertain", killed, nSubscribers, never, twice, uncertain)
	if twice != 0 {
		t.Errorf("%d subscribers got the digest twice", twice)
	}
	if never > uncertain {
		t.Errorf("%d subscribers never got the digest, but only %d are uncertain", never, uncertain)
	}
	if max := killed * 4; uncertain > max {
		t.Errorf("%d uncertain after %d kills, want at most %d (one per connection per kill)", uncertain, killed, max)
	}
}
