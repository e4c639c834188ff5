package main

import (
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// serverLimits bound what one client can hold of the HTTP server: a slow
// or greedy one is cut off, the others are still served.
type serverLimits struct {
	// ReadHeader bounds reading a request's header; Read the whole
	// request, body included (a form trickled a byte at a time is cut
	// off); Write the answer, from the end of the request's header.
	ReadHeader, Read, Write time.Duration
	// LongWrite replaces Write for the answers that may be large: the
	// metrics and the subscriber export.
	LongWrite time.Duration
	// Idle bounds how long a kept-alive connection waits for its next
	// request.
	Idle time.Duration
	// MaxHeaderBytes bounds a request's header.
	MaxHeaderBytes int
	// PerIP is the most connections open at once from one address (from
	// one /64 for IPv6); more are answered 503 and closed. 0: no cap.
	PerIP int
}

// Defaults of the HTTP server's limits (see README, "HTTP server").
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = time.Minute
	defaultWriteTimeout      = time.Minute
	defaultLongWriteTimeout  = 10 * time.Minute
	defaultIdleTimeout       = 2 * time.Minute
	defaultMaxHeaderBytes    = 64 << 10
	defaultConnectionsPerIP  = 32
)

func defaultServerLimits() serverLimits {
	return serverLimits{
		ReadHeader: defaultReadHeaderTimeout, Read: defaultReadTimeout, Write: defaultWriteTimeout,
		LongWrite: defaultLongWriteTimeout, Idle: defaultIdleTimeout,
		MaxHeaderBytes: defaultMaxHeaderBytes, PerIP: defaultConnectionsPerIP,
	}
}

// httpServer is the daemon's HTTP server: an http.Server with the limits
// set, whose Serve caps the connections per client address.
type httpServer struct {
	*http.Server
	perIP int
}

// limitServer sets the limits l on srv, wraps its handler so that the
// large answers get l.LongWrite, logs its errors to log, and returns it as
// an httpServer, whose Serve caps the connections per client address.
func limitServer(srv *http.Server, l serverLimits, log *slog.Logger) *httpServer {
	srv.Handler = longAnswers(srv.Handler, l.LongWrite)
	srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout = l.ReadHeader, l.Read, l.Write, l.Idle
	srv.MaxHeaderBytes = l.MaxHeaderBytes
	srv.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	return &httpServer{Server: srv, perIP: l.PerIP}
}

// Serve serves the connections of ln, at most perIP at once from one
// client address.
func (s *httpServer) Serve(ln net.Listener) error {
	if s.perIP > 0 {
		ln = &perIPListener{Listener: ln, max: s.perIP, open: map[netip.Prefix]int{}}
	}
	return s.Server.Serve(ln)
}

// longAnswers gives the answers that may be large (the metrics, the
// subscriber export) d to be written instead of the server's
// WriteTimeout.
func longAnswers(h http.Handler, d time.Duration) http.Handler {
	if d <= 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/metrics" || r.URL.Path == "/subscribers/export") {
			_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
		}
		h.ServeHTTP(w, r)
	})
}

// perIPListener caps the connections open at once per client address.
type perIPListener struct {
	net.Listener
	max int

	mu   sync.Mutex
	open map[netip.Prefix]int
}

func (l *perIPListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, ok := clientKey(c.RemoteAddr())
		if !ok {
			return c, nil // not TCP: nothing to count by
		}
		l.mu.Lock()
		if l.open[key] >= l.max {
			l.mu.Unlock()
			go refuseConn(c)
			continue
		}
		l.open[key]++
		l.mu.Unlock()
		return &countedConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

func (l *perIPListener) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// clientKey is what connections are counted by: the client's IPv4
// address, or its IPv6 /64 (what one site is given).
func clientKey(a net.Addr) (netip.Prefix, bool) {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return netip.Prefix{}, false
	}
	ip := tcp.AddrPort().Addr().Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	return p, err == nil
}

// tooManyConnections is the body of the answer to a connection over the
// cap.
const tooManyConnections = "too many connections open from your address\n"

// refuseConn answers 503 and closes the connection, without waiting long
// for a client that does not read.
func refuseConn(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	answer := "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n" +
		"Connection: close\r\nRetry-After: 10\r\nContent-Length: " + strconv.Itoa(len(tooManyConnections)) + "\r\n\r\n" +
		tooManyConnections
	if _, err := io.WriteString(c, answer); err != nil {
		return
	}
	// Closing with the request unread would reset the connection and
	// could lose the answer: stop writing, read a little, then close.
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
}

// countedConn releases its place under the cap once, when closed.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
