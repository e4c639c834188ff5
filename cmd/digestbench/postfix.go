package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/email"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// postfix is Postfix's smtp-sink, started by the benchmark, and the path
// of smtp-source to time against it.
type postfix struct {
	sink       *exec.Cmd
	addr       string
	sinkPath   string
	sourcePath string
	done       chan struct{} // closed when smtp-sink has exited
}

// postfixTool finds one of Postfix's test programs: on PATH, or in
// /usr/sbin, where Debian puts them (often not on a user's PATH).
func postfixTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	p := "/usr/sbin/" + name
	if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return p, nil
	}
	return "", fmt.Errorf("%s is not installed: it comes with Postfix (Debian: apt-get install postfix)", name)
}

// startPostfixSink starts smtp-sink on a free loopback port, accepting
// every message and keeping none, and waits until it answers.
func startPostfixSink() (*postfix, error) {
	sinkPath, err := postfixTool("smtp-sink")
	if err != nil {
		return nil, err
	}
	sourcePath, err := postfixTool("smtp-source")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	// A backlog of 1000, as in Postfix's own examples; no counters, no
	// dumps, no delays: as fast as it goes. Run as root, it must be told
	// whom to become.
	args := []string{addr, "1000"}
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "nobody"}, args...)
	}
	cmd := exec.Command(sinkPath, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start smtp-sink: %w", err)
	}
	pf := &postfix{sink: cmd, addr: addr, sinkPath: sinkPath, sourcePath: sourcePath, done: make(chan struct{})}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	for deadline := time.Now().Add(5 * time.Second); ; {
		select {
		case err := <-exited:
			return nil, fmt.Errorf("smtp-sink %s exited at start: %v", addr, err)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			return nil, fmt.Errorf("smtp-sink did not listen on %s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	go func() { <-exited; close(pf.done) }()
	return pf, nil
}

// sinkCPU is the processor time smtp-sink has used so far.
func (pf *postfix) sinkCPU() time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pf.sink.Process.Pid) + "/stat")
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses: utime
	// and stime are the 12th and 13th of them, in clock ticks (100 a
	// second on Linux).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(u+st) * 10 * time.Millisecond
}

// stop ends smtp-sink and waits for it.
func (pf *postfix) stop() {
	pf.sink.Process.Signal(syscall.SIGTERM)
	select {
	case <-pf.done:
	case <-time.After(5 * time.Second):
		pf.sink.Process.Kill()
		<-pf.done
	}
}

// source runs smtp-source against the sink: sessions in parallel, n
// messages in all with a body of size bytes (it adds a few headers of its
// own), a new connection for each message (its default) or, with reuse,
// one connection per session (-d), and times it.
func (pf *postfix) source(sessions, n, size int, reuse bool) (time.Duration, error) {
	args := []string{"-s", strconv.Itoa(sessions), "-m", strconv.Itoa(n), "-l", strconv.Itoa(size),
		"-f", "news@example.org", "-t", "reader@example.net"}
	if reuse {
		args = append(args, "-d")
	}
	cmd := exec.Command(pf.sourcePath, append(args, pf.addr)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	took := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("smtp-source: %v: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	return took, nil
}

// probeSize sends one copy of a digest of these articles to a sink in this
// process and returns its size in bytes, and that of its body.
func probeSize(ctx context.Context, cfg email.Config, articles []syndicate.Article) (size, body int, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, err
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		var messages, bytesIn atomic.Int64
		sinkSession(c, &messages, &bytesIn, func(msg []byte) {
			select {
			case got <- bytes.Clone(msg):
			default:
			}
		})
	}()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	cfg.Host, cfg.Port, cfg.Connections, cfg.Rate = "127.0.0.1", 0, 1, 0
	cfg.Port, _ = strconv.Atoi(port)
	ch, err := email.New(cfg)
	if err != nil {
		return 0, 0, err
	}
	m, err := ch.Prepare(ctx, syndicate.Digest{ID: 1, ChannelID: cfg.ID, Period: "probe", CreatedAt: time.Now()}, articles)
	if err != nil {
		return 0, 0, err
	}
	res, err := m.Send(ctx, []syndicate.Subscriber{{ID: 1, List: cfg.List, Email: "reader000000@example.net", State: syndicate.SubscriberConfirmed}}, nil)
	m.Close()
	if err != nil {
		return 0, 0, err
	}
	if res[0].State != syndicate.RecipientSent {
		return 0, 0, fmt.Errorf("the probe was %s: %v", res[0].State, res[0].Err)
	}
	select {
	case msg := <-got:
		end := bytes.Index(msg, []byte("\r\n\r\n"))
		if end < 0 {
			return 0, 0, errors.New("the probe has no body")
		}
		return len(msg), len(msg) - end - 4, nil
	case <-time.After(5 * time.Second):
		return 0, 0, errors.New("the probe did not arrive")
	}
}
