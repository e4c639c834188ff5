package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syndicateBinary returns the syndicate binary, built once for all the
// tests that need a process of its own (signals, crashes, replicas).
func syndicateBinary(t *testing.T) string {
	t.Helper()
	bin, err := builtBinary()
	if errors.Is(err, exec.ErrNotFound) {
		t.Skip("go tool not found: cannot build the binary")
	}
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// startRunProcess starts the binary's run on config, with the tests' tokens and
// its output to out. exited is closed once it has ended; if it is still
// running when the test ends, it is killed.
func startRunProcess(t testing.TB, bin, config string, out io.Writer) (daemon *exec.Cmd, exited <-chan struct{}) {
	t.Helper()
	daemon = exec.Command(bin, "run", "--config", config)
	daemon.Env = append(os.Environ(), "MASTODON_TOKEN="+mastodonToken, "ADMIN_TOKEN="+adminToken)
	daemon.Stdout, daemon.Stderr = out, out
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = daemon.Wait(); close(done) }()
	t.Cleanup(func() {
		select {
		case <-done:
		default:
			_ = daemon.Process.Kill()
			<-done
		}
	})
	return daemon, done
}

var (
	binaryDir   string // removed by TestMain
	builtBinary = sync.OnceValues(func() (string, error) {
		gobin, err := exec.LookPath("go")
		if err != nil {
			return "", err
		}
		if binaryDir, err = os.MkdirTemp("", "syndicate-test-bin-"); err != nil {
			return "", err
		}
		bin := filepath.Join(binaryDir, "syndicate")
		if out, err := exec.Command(gobin, "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return "", fmt.Errorf("build: %v\n%s", err, out)
		}
		return bin, nil
	})
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// TestSecondSignalExitsAtOnce: a first SIGTERM while both posts hang on
// the wire lets them finish (the daemon waits); a second one ends the
// process at once, with a non-zero status. The next once finds the
// Mastodon post among the account's statuses and records it sent, and
// records the Telegram one uncertain. Nothing is posted twice.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	for _, second := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(second.String(), func(t *testing.T) {
			bin := syndicateBinary(t)
			s := newSite(t, siteOptions{})
			s.mustOnce()
			s.feeds.publish("strike", "Strike", "Mon, 23 Nov 2026 10:00:00 +0100")

			mastodonURL, tootPosted := forwardThenHang(t, s.mastodon.URL(), "/api/v1/statuses")
			telegramURL, messagePosted := forwardThenHang(t, s.telegram.URL(), "/sendMessage")
			raw, _ := os.ReadFile(s.config)
			hangConfig := strings.NewReplacer(
				`server: "`+s.mastodon.URL()+`"`, `server: "`+mastodonURL+`"`,
				`api_url: "`+s.telegram.URL()+`"`, `api_url: "`+telegramURL+`"`,
			).Replace(string(raw))
			path := s.writeFile("hang.yaml", hangConfig)

			var logs bytes.Buffer
			daemon, exited := startRunProcess(t, bin, path, &logs)
			for _, posted := range []<-chan struct{}{tootPosted, messagePosted} {
				select {
				case <-posted:
				case <-exited:
					t.Fatalf("the daemon exited before posting:\n%s", logs.String())
				case <-time.After(30 * time.Second):
					t.Fatalf("the daemon did not post:\n%s", logs.String())
				}
			}

			if err := daemon.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
				t.Fatalf("the first SIGTERM did not wait for the sends in flight:\n%s", logs.String())
			case <-time.After(time.Second):
			}
			if err := daemon.Process.Signal(second); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				t.Fatalf("the daemon was still running 5s after a second signal (%v):\n%s", second, logs.String())
			}
			if code := daemon.ProcessState.ExitCode(); code == 0 {
				t.Fatalf("exit status 0 after a second signal:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), "second signal") {
				t.Errorf("the daemon did not say why it exited:\n%s", logs.String())
			}

			if r := s.once(); r.code != 1 || !strings.Contains(r.stderr, "uncertain") {
				t.Fatalf("once after the second signal exited %d, want 1 for the uncertain Telegram post:\n%s", r.code, r.stderr)
			}
			if d := s.delivery("mastodon-en", "Strike"); d.State != "sent" || d.RemoteID == "" {
				t.Fatalf("mastodon: %+v", d)
			}
			if d := s.delivery("telegram-en", "Strike"); d.State != "uncertain" {
				t.Fatalf("telegram: %+v", d)
			}
			if n, m := len(s.mastodon.Statuses()), len(s.telegram.Messages()); n != 1 || m != 1 {
				t.Fatalf("after recovery: %d statuses, %d messages; want exactly one each", n, m)
			}
		})
	}
}
