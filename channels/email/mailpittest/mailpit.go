// Package mailpittest runs mailpit (github.com/axllent/mailpit), a real
// SMTP server that keeps what it receives, as a separate process on
// loopback, and reads the messages back through its HTTP API.
//
// Start runs the binary $SYNDICATE_MAILPIT names, else mailpit on PATH,
// else the version the repository's tools module (tools/go.mod) pins,
// built on first use with the go command into the user's cache directory
// (syndicate-test-tools/) and reused while tools/go.mod and tools/go.sum
// stay the same; the first build takes a minute or two. Start skips the
// test only when the go command itself is missing, and fails it when the
// build fails.
//
// Started so, mailpit offers neither STARTTLS nor AUTH: tests use
// tls: none and no username.
package mailpittest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Server is a running mailpit.
type Server struct {
	SMTPHost string
	SMTPPort int
	APIURL   string // http://127.0.0.1:PORT
	t        testing.TB
}

// Start runs a mailpit for the test, with its own database, and stops it
// (by its pid) when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	for attempt := 0; ; attempt++ {
		smtpPort, httpPort := freePort(t), freePort(t)
		s := &Server{SMTPHost: "127.0.0.1", SMTPPort: smtpPort, APIURL: fmt.Sprintf("http://127.0.0.1:%d", httpPort), t: t}
		logPath := filepath.Join(dir, fmt.Sprintf("mailpit-%d.log", attempt))
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin,
			"--smtp", fmt.Sprintf("127.0.0.1:%d", smtpPort),
			"--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
			"--max", "0",
			"--database", filepath.Join(dir, fmt.Sprintf("mailpit-%d.db", attempt)),
			"--smtp-disable-rdns",
			"--disable-version-check",
		)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			logFile.Close()
			t.Fatalf("start mailpit: %v", err)
		}
		pid := cmd.Process.Pid
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait(); logFile.Close() }()
		stop := func() {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = syscall.Kill(pid, syscall.SIGKILL)
				<-exited
			}
		}
		if err := s.waitReady(exited); err != nil {
			stop()
			log, _ := os.ReadFile(logPath)
			if attempt < 2 && strings.Contains(string(log), "address already in use") {
				continue // a port taken meanwhile: try others
			}
			t.Fatalf("mailpit did not start: %v\n%s", err, log)
		}
		t.Cleanup(stop)
		return s
	}
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func (s *Server) waitReady(exited <-chan error) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("mailpit exited: %v", err)
		default:
		}
		resp, err := http.Get(s.APIURL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if c, err := net.DialTimeout("tcp", net.JoinHostPort(s.SMTPHost, strconv.Itoa(s.SMTPPort)), time.Second); err == nil {
					c.Close()
					return nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("not ready after 15s")
}

// Address is a mailbox as the API gives it.
type Address struct {
	Name    string
	Address string
}

// Summary is a message in the list of /api/v1/messages.
type Summary struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Snippet   string
	Size      int
}

// Message is /api/v1/message/{ID}: the parts decoded.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Date      time.Time
	Text      string
	HTML      string
	Size      int
}

// Messages lists every message received, newest first.
func (s *Server) Messages() []Summary {
	s.t.Helper()
	var out []Summary
	for start := 0; ; {
		var page struct {
			Total    int
			Messages []Summary
		}
		s.get(fmt.Sprintf("/api/v1/messages?start=%d&limit=500", start), &page)
		out = append(out, page.Messages...)
		start += len(page.Messages)
		if len(page.Messages) == 0 || start >= page.Total {
			return out
		}
	}
}

// Count returns how many messages have arrived.
func (s *Server) Count() int {
	s.t.Helper()
	var page struct{ Total int }
	s.get("/api/v1/messages?limit=1", &page)
	return page.Total
}

// WaitMessages waits until n messages have arrived (mailpit stores them
// a moment after the SMTP answer), and returns them.
func (s *Server) WaitMessages(n int) []Summary {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ms := s.Messages()
		if len(ms) >= n || time.Now().After(deadline) {
			return ms
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Message returns a message with its text and HTML parts.
func (s *Server) Message(id string) Message {
	s.t.Helper()
	var m Message
	s.get("/api/v1/message/"+id, &m)
	return m
}

// Headers returns a message's headers.
func (s *Server) Headers(id string) map[string][]string {
	s.t.Helper()
	h := map[string][]string{}
	s.get("/api/v1/message/"+id+"/headers", &h)
	return h
}

// Raw returns a message as it was received.
func (s *Server) Raw(id string) string {
	s.t.Helper()
	return string(s.fetch("/api/v1/message/" + id + "/raw"))
}

// DeleteAll removes every message.
func (s *Server) DeleteAll() {
	s.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodDelete, s.APIURL+"/api/v1/messages", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("mailpit: delete messages: %v", err)
	}
	resp.Body.Close()
}

func (s *Server) get(path string, v any) {
	s.t.Helper()
	if err := json.Unmarshal(s.fetch(path), v); err != nil {
		s.t.Fatalf("mailpit %s: %v", path, err)
	}
}

func (s *Server) fetch(path string) []byte {
	s.t.Helper()
	resp, err := http.Get(s.APIURL + path)
	if err != nil {
		s.t.Fatalf("mailpit %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		s.t.Fatalf("mailpit %s: %d %v\n%s", path, resp.StatusCode, err, body)
	}
	return body
}
