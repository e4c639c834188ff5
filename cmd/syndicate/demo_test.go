package main

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a subprocess's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// copyDemo copies deploy/demo.yaml and its feeds into a temporary
// directory, listening on a free loopback port instead of 8080.
func copyDemo(t *testing.T) (config, addr string) {
	t.Helper()
	dir := t.TempDir()
	raw, err := os.ReadFile("../../deploy/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	ln.Close()
	if !strings.Contains(string(raw), `listen: "127.0.0.1:8080"`) {
		t.Fatal("deploy/demo.yaml no longer listens on 127.0.0.1:8080, as the README says")
	}
	cfg := strings.Replace(string(raw), `listen: "127.0.0.1:8080"`, fmt.Sprintf("listen: %q", addr), 1)
	config = filepath.Join(dir, "demo.yaml")
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(filepath.Join(dir, "demo"), os.DirFS("../../deploy/demo")); err != nil {
		t.Fatal(err)
	}
	return config, addr
}

// TestDemo runs the README's first command as a newcomer would: with no
// network and no credentials, the demonstration prints the Mastodon post,
// the Telegram message and the digest of its articles, keeps serving its
// pages, stops on SIGTERM, and leaves no file behind.
func TestDemo(t *testing.T) {
	t.Parallel()
	bin := syndicateBinary(t)
	config, addr := copyDemo(t)
	work := t.TempDir()

	var stdout, stderr lockedBuffer
	cmd := exec.Command(bin, "run", "--config", config, "--dry-run")
	cmd.Dir = work
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TMPDIR=" + work}
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	})

	want := []string{
		"── mastodon-en · Mastodon post · Protests in Kazakhstan 5 clues",
		"#Kazakhstan #MassStrike #CentralAsia",
		"── bluesky-en · Bluesky post · Protests in Kazakhstan 5 clues",
		"en.communia.blog/protests-in-kaz…",
		"── telegram-en · Telegram message · Protests in Kazakhstan 5 clues",
		"<b>Protests in Kazakhstan 5 clues to understand what’s going on</b>",
		"── telegram-es · Telegram message · Protestas en Kazajistán",
		`── digest-en · email digest to the list "en" · 3 articles`,
		"Subject: Emancipation — this week",
		`── digest-es · email digest to the list "es" · 2 articles`,
		"demo-admin-token-not-a-secret",
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := stdout.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(out, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("the demo exited (%v) before printing %q:\n%s\n%s", err, missing, out, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the demo did not print %q in 30 s:\n%s\n%s", missing, out, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, page := range []string{"/readyz", "/subscribe?list=en", "/subscribe?list=es", "/login"} {
		resp, err := http.Get("http://" + addr + page)
		if err != nil {
			t.Fatalf("GET %s: %v", page, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d, want 200", page, resp.StatusCode)
		}
	}
	if strings.Contains(stderr.String(), "level=ERROR") {
		t.Errorf("the demo logged errors:\n%s", stderr.String())
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("the demo exited with %v after SIGTERM:\n%s", err, stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the demo did not stop on SIGTERM")
	}
	left, err := os.ReadDir(work)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("the demo left %d files behind, %s first", len(left), left[0].Name())
	}
}

// TestDemoOnlyDryRuns: the demonstration's channels are placeholders, so
// running it for real is refused as bad usage.
func TestDemoOnlyDryRuns(t *testing.T) {
	t.Parallel()
	config, _ := copyDemo(t)
	for _, command := range []string{"run", "once"} {
		r := runCommand(t, []string{command, "--config", config}, nil)
		if r.code != 2 || !strings.Contains(r.stderr, "demo: true") || !strings.Contains(r.stderr, "--dry-run") {
			t.Fatalf("%s without --dry-run: exit %d, %q; want 2 and the reason", command, r.code, r.stderr)
		}
	}
}

// TestEveryCommandOnEveryChannelType runs each command on the
// demonstration's configuration, which has a channel of every type: none
// may crash on a channel type it does not deal with (a lookup in a map
// built for some types only), and each answers as it should.
func TestEveryCommandOnEveryChannelType(t *testing.T) {
	t.Parallel()
	config, _ := copyDemo(t)
	raw, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store.db")
	cfg := strings.Replace(string(raw), `store: "sqlite:syndicate-demo.db"`, fmt.Sprintf("store: %q", "sqlite:"+store), 1)
	cfg = strings.Replace(cfg, "demo: true", "demo: false", 1) // so once may record
	if err := os.WriteFile(config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	csv := filepath.Join(t.TempDir(), "subscribers.csv")
	if err := os.WriteFile(csv, []byte("email\nreader@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string // in stdout or stderr
	}{
		{[]string{"check"}, 0, "configuration ok (3 feeds, 6 channels)"},
		{[]string{"preview", "--limit", "1"}, 0, "── communia-es → digest-es · email digest entry"},
		{[]string{"preview", "--channel", "digest-en", "--limit", "3"}, 0, "KAZAKHSTAN · MASS STRIKE · CENTRAL ASIA"},
		{[]string{"preview", "--channel", "mastodon-en", "--feed", "statements"}, 0, "#Statements #Kazakhstan"},
		{[]string{"preview", "--channel", "nope"}, 2, `no channel "nope"`},
		{[]string{"status"}, 0, "digest-en"},
		{[]string{"status", "--json", "--channel", "digest-es"}, 0, `"digests"`},
		{[]string{"digest", "--channel", "digest-en"}, 0, "no new articles"},
		{[]string{"digest", "--channel", "telegram-en"}, 2, `no email channel "telegram-en"`},
		{[]string{"subscribers", "add", "--list", "en", "--confirmed", "reader@example.org"}, 0, "reader@example.org"},
		{[]string{"subscribers", "import", "--list", "es", "--confirmed", csv}, 0, ""},
		{[]string{"subscribers", "list", "--list", "en"}, 0, "reader@example.org"},
		{[]string{"subscribers", "export", "--list", "es"}, 0, "reader@example.org"},
		{[]string{"subscribers", "remove", "--list", "en", "reader@example.org"}, 0, ""},
		{[]string{"subscribers", "list", "--list", "telegram-en"}, 2, ""},
		{[]string{"once", "--dry-run"}, 0, "── mastodon-en"},
		{[]string{"retry", "1"}, 1, "1"},
		{[]string{"skip", "1"}, 1, "1"},
		{[]string{"mark-sent", "1"}, 1, "1"},
	} {
		args := append([]string{tc.args[0], "--config", config}, tc.args[1:]...)
		if tc.args[0] == "subscribers" {
			args = append([]string{"subscribers", tc.args[1], "--config", config}, tc.args[2:]...)
		}
		r := runCommand(t, args, nil)
		if r.code != tc.code || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q in:\n%s\n%s", strings.Join(tc.args, " "), r.code, tc.code, tc.want, r.stdout, r.stderr)
		}
	}
}
