package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A dashboard session is a signed cookie, not a row anywhere: its value
// is a random session id and an expiry, with an HMAC over both. The key
// is derived from the configured admin token and a session key the
// command keeps in the store, so a session survives a restart of the
// daemon until it expires, and changing the admin token ends every
// session at once. Signing out drops the cookie and revokes the session
// in the process that served the sign-out.

// Cookie names.
const (
	sessionCookieName = "syndicate_session"
	loginCookieName   = "syndicate_login" // the sign-in form's CSRF token
)

// DefaultSessionLifetime is how long a sign-in lasts unless configured.
const DefaultSessionLifetime = 12 * time.Hour

// sessionIDBytes is the size of a session's random id.
const sessionIDBytes = 16

type session struct {
	id      string // base64 of the random bytes
	expires time.Time
}

// sessions signs and checks the session cookies.
type sessions struct {
	key      []byte
	lifetime time.Duration
	secure   bool // Secure cookies: the dashboard is served over https
	now      func() time.Time
	random   func([]byte) error

	mu      sync.Mutex
	revoked map[string]time.Time // session id → its expiry, until then
}

// newSessions derives the signing key from the admin token and the kept
// session key; without one, a key random to this process is used (the
// sessions then end with it).
func newSessions(adminToken string, kept []byte, lifetime time.Duration, secure bool, now func() time.Time) (*sessions, error) {
	if len(kept) == 0 {
		kept = make([]byte, 32)
		if _, err := rand.Read(kept); err != nil {
			return nil, fmt.Errorf("dashboard: session key: %w", err)
		}
	}
	mac := hmac.New(sha256.New, kept)
	mac.Write([]byte("syndicate dashboard sessions\x00"))
	mac.Write([]byte(adminToken))
	if lifetime <= 0 {
		lifetime = DefaultSessionLifetime
	}
	return &sessions{
		key: mac.Sum(nil), lifetime: lifetime, secure: secure, now: now,
		random:  func(b []byte) error { _, err := rand.Read(b); return err },
		revoked: map[string]time.Time{},
	}, nil
}

func (s *sessions) sign(purpose string, payload []byte) []byte {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(purpose))
	mac.Write([]byte{0})
	mac.Write(payload)
	return mac.Sum(nil)
}

// start makes a new session and sets its cookie.
func (s *sessions) start(w http.ResponseWriter) (session, error) {
	id := make([]byte, sessionIDBytes)
	if err := s.random(id); err != nil {
		return session{}, fmt.Errorf("new session: %w", err)
	}
	expires := s.now().Add(s.lifetime).Truncate(time.Second)
	payload := binary.BigEndian.AppendUint64(id, uint64(expires.Unix()))
	value := "v1." + base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(s.sign("session", payload))
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookieName, Value: value, Path: "/", Expires: expires, MaxAge: int(s.lifetime / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
	return session{id: base64.RawURLEncoding.EncodeToString(id), expires: expires}, nil
}

// read returns the request's session, if it carries a valid, unexpired
// and unrevoked one.
func (s *sessions) read(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookieName)
	if err != nil {
		return session{}, false
	}
	rest, ok := strings.CutPrefix(c.Value, "v1.")
	if !ok {
		return session{}, false
	}
	encPayload, encMAC, ok := strings.Cut(rest, ".")
	if !ok {
		return session{}, false
	}
	payload, err1 := base64.RawURLEncoding.DecodeString(encPayload)
	mac, err2 := base64.RawURLEncoding.DecodeString(encMAC)
	if err1 != nil || err2 != nil || len(payload) != sessionIDBytes+8 || !hmac.Equal(mac, s.sign("session", payload)) {
		return session{}, false
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(payload[sessionIDBytes:])), 0)
	if !s.now().Before(expires) {
		return session{}, false
	}
	sess := session{id: base64.RawURLEncoding.EncodeToString(payload[:sessionIDBytes]), expires: expires}
	s.mu.Lock()
	_, revoked := s.revoked[sess.id]
	s.mu.Unlock()
	return sess, !revoked
}

// end revokes the session and clears its cookie.
func (s *sessions) end(w http.ResponseWriter, sess session) {
	now := s.now()
	s.mu.Lock()
	for id, exp := range s.revoked {
		if !now.Before(exp) {
			delete(s.revoked, id) // expired anyway
		}
	}
	s.revoked[sess.id] = sess.expires
	s.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: sessionCookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
}

// csrfToken is the token every form of the session carries: bound to the
// session, so a token from another session, or made up, is refused.
func (s *sessions) csrfToken(sess session) string {
	return base64.RawURLEncoding.EncodeToString(s.sign("csrf", []byte(sess.id)))
}

func (s *sessions) validCSRF(sess session, token string) bool {
	want := s.csrfToken(sess)
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(want)) == 1
}

// loginToken sets the sign-in form's CSRF cookie (double submit: the
// form carries the same random value) and returns it.
func (s *sessions) loginToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(loginCookieName); err == nil && len(c.Value) >= 22 {
		return c.Value, nil
	}
	b := make([]byte, 16)
	if err := s.random(b); err != nil {
		return "", fmt.Errorf("sign-in form token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, &http.Cookie{
		Name: loginCookieName, Value: token, Path: "/login", MaxAge: 3600,
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode,
	})
	return token, nil
}

// validLoginToken checks the sign-in form's token against its cookie.
func validLoginToken(r *http.Request, token string) bool {
	c, err := r.Cookie(loginCookieName)
	return err == nil && token != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(token)) == 1
}

// tokenMatches compares a token given with the admin token in constant
// time (of hashes, so not even the length leaks).
func tokenMatches(given, adminToken string) bool {
	got, want := sha256.Sum256([]byte(strings.TrimSpace(given))), sha256.Sum256([]byte(adminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// loginLimiter refuses sign-ins from an address that failed too often
// lately, so the admin token cannot be guessed at speed.
type loginLimiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// Sign-in failures allowed per client address and window.
const (
	loginFailuresAllowed = 10
	loginFailureWindow   = 15 * time.Minute
)

func newLoginLimiter(now func() time.Time) *loginLimiter {
	return &loginLimiter{max: loginFailuresAllowed, window: loginFailureWindow, now: now, failures: map[string][]time.Time{}}
}

func (l *loginLimiter) recent(addr string) []time.Time {
	cutoff := l.now().Add(-l.window)
	kept := l.failures[addr][:0]
	for _, t := range l.failures[addr] {
		if t.After(cutoff) {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(l.failures, addr)
		return nil
	}
	l.failures[addr] = kept
	return kept
}

// allowed reports whether the address may try to sign in.
func (l *loginLimiter) allowed(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recent(addr)) < l.max
}

func (l *loginLimiter) failed(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) > 10000 { // a flood of addresses: forget the oldest state
		clear(l.failures)
	}
	l.failures[addr] = append(l.recent(addr), l.now())
}

// remoteHost is the address of the connection, without its port.
func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
