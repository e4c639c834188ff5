package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServerLimits are the server's limits scaled down, so that a test
// waits seconds, not minutes.
func testServerLimits() serverLimits {
	return serverLimits{
		ReadHeader: 500 * time.Millisecond, Read: time.Second, Write: time.Second, LongWrite: 5 * time.Second,
		Idle: time.Second, MaxHeaderBytes: 4 << 10, PerIP: 32,
	}
}

// startServer serves h under l on a loopback port.
func startServer(t *testing.T, h http.Handler, l serverLimits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := limitServer(&http.Server{Handler: h}, l, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// formHandler reads the whole form, as the subscribe page does, and
// counts the forms it got whole.
func formHandler(complete *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		if r.Method == http.MethodPost {
			complete.Add(1)
		}
		fmt.Fprintf(w, "thanks %s\n", r.PostForm.Get("email"))
	})
}

// trickle sends a /subscribe form a byte at a time, every interval, and
// returns how long the server let it go on: until the connection was cut
// (the form is never whole), or until max.
func trickle(addr string, interval, max time.Duration) (time.Duration, error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	body := "email=" + strings.Repeat("a", 200) + "%40example.org"
	start := time.Now()
	if _, err := fmt.Fprintf(c, "POST /subscribe HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n", addr, len(body)); err != nil {
		return 0, err
	}
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, c) // until the server closes
		close(closed)
	}()
	for i := 0; time.Since(start) < max; i++ {
		select {
		case <-closed:
			return time.Since(start), nil
		case <-time.After(interval):
		}
		if _, err := c.Write([]byte{body[i%len(body)]}); err != nil {
			return time.Since(start), nil
		}
	}
	return time.Since(start), errors.New("still connected")
}

// TestSlowClientsAreCutOff: twenty clients trickling a /subscribe form at
// a byte a second are cut off once the read timeout has passed, and a
// normal client is served meanwhile.
func TestSlowClientsAreCutOff(t *testing.T) {
	var complete atomic.Int32
	l := testServerLimits()
	addr := startServer(t, formHandler(&complete), l)

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			held, err := trickle(addr, time.Second, 10*time.Second)
			switch {
			case err != nil:
				errs <- fmt.Errorf("after %s: %w", held.Round(time.Millisecond), err)
			case held > l.Read+2*time.Second:
				errs <- fmt.Errorf("held the connection %s, with a read timeout of %s", held.Round(time.Millisecond), l.Read)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // the tricklers are connected
	resp, err := http.PostForm("http://"+addr+"/subscribe", url.Values{"email": {"reader@example.org"}})
	if err != nil {
		t.Fatalf("a normal client: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(got), "reader@example.org") {
		t.Fatalf("a normal client: %s %q", resp.Status, got)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error("a trickling client " + err.Error())
	}
	if n := complete.Load(); n != 1 {
		t.Errorf("%d forms came whole, want only the normal client's", n)
	}
}

// TestSlowReaderIsCutOff: a client that asks and then does not read is
// cut off once the write timeout has passed; the metrics have longer.
func TestSlowReaderIsCutOff(t *testing.T) {
	big := strings.Repeat("x", 64<<20) // more than the socket buffers hold
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, big) })
	l := testServerLimits()
	addr := startServer(t, h, l)
	for path, cut := range map[string]bool{"/page": true, "/metrics": false} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		br := bufio.NewReader(c)
		if _, err := br.ReadString('\n'); err != nil { // the status line, then stop reading
			t.Fatal(err)
		}
		time.Sleep(l.Write + time.Second) // past the write timeout, not the long one
		_ = c.SetReadDeadline(time.Now().Add(l.LongWrite))
		n, _ := io.Copy(io.Discard, br)
		c.Close()
		if got := n < int64(len(big)); got != cut {
			t.Errorf("%s: read %d bytes of a %d-byte answer; want it cut: %v", path, n, len(big), cut)
		}
	}
}

// TestConnectionsPerIPAreCapped: past the cap, a client's further
// connections are answered 503 and closed; once one of its connections
// closes, it is served again.
func TestConnectionsPerIPAreCapped(t *testing.T) {
	var complete atomic.Int32
	l := testServerLimits()
	l.PerIP, l.ReadHeader, l.Read = 4, 10*time.Second, 10*time.Second
	addr := startServer(t, formHandler(&complete), l)

	var held []net.Conn
	for range l.PerIP {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	// Over the cap the server answers before reading a request: the client
	// only reads (a request written to a socket closed unread would reset
	// it, and the answer could be lost).
	refused := func() string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return ""
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
		b, _ := io.ReadAll(c)
		return string(b)
	}
	var answer string
	waitFor(t, func() bool { // the server has accepted the held ones
		answer = refused()
		return strings.HasPrefix(answer, "HTTP/1.1 503 ")
	})
	if !strings.Contains(answer, "too many connections") {
		t.Fatalf("over the cap: %q", answer)
	}
	held[0].Close()
	waitFor(t, func() bool {
		resp, err := client.Get("http://" + addr + "/subscribe")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// TestDefaultServerLimits: the daemon's server has every limit set.
func TestDefaultServerLimits(t *testing.T) {
	srv := limitServer(&http.Server{Handler: http.NotFoundHandler()}, defaultServerLimits(), slog.New(slog.DiscardHandler))
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 ||
		srv.MaxHeaderBytes <= 0 || srv.perIP <= 0 {
		t.Fatalf("limits: %+v, %d per IP", srv.Server, srv.perIP)
	}
	if l := defaultServerLimits(); l.LongWrite <= l.Write || l.ReadHeader > l.Read {
		t.Fatalf("limits: %+v", l)
	}
}
