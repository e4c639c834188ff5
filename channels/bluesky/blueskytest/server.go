// Package blueskytest is a strict local AT Protocol PDS (Personal Data
// Server) for tests. It answers the XRPC methods the bluesky channel uses
// as Bluesky's reference PDS does, refusals included: sessions with access
// and refresh tokens (expiry, rotation, revocation), handle resolution,
// blob uploads (sniffed by their magic number, within a size limit, deleted
// when no record uses them within their lifetime), and app.bsky.feed.post
// records validated as the lexicon says (text in graphemes and in bytes,
// datetimes, languages, facets, link cards and images), with the rate
// limits the reference PDS keeps on sessions, writes and uploads.
//
// It is stricter than the reference PDS where a test should never pass by
// something being silently accepted: it refuses validate: false, input
// fields and query parameters it does not know, record fields it does not
// validate, embeds other than external links and images, facet features
// other than links, tags and mentions, and facets that split a UTF-8
// character or overlap.
//
// It can be told to fail or throttle the next calls of a method, to drop
// the connection after processing a call, or to hold answers until
// released.
package blueskytest

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// The XRPC methods the server implements.
const (
	MethodCreateSession  = "com.atproto.server.createSession"
	MethodRefreshSession = "com.atproto.server.refreshSession"
	MethodResolveHandle  = "com.atproto.identity.resolveHandle"
	MethodDescribeRepo   = "com.atproto.repo.describeRepo"
	MethodUploadBlob     = "com.atproto.repo.uploadBlob"
	MethodCreateRecord   = "com.atproto.repo.createRecord"
	MethodGetRecord      = "com.atproto.repo.getRecord"
	MethodListRecords    = "com.atproto.repo.listRecords"
	MethodDeleteRecord   = "com.atproto.repo.deleteRecord"
)

// The lexicon names the server knows.
const (
	PostCollection = "app.bsky.feed.post"
	EmbedExternal  = "app.bsky.embed.external"
	EmbedImages    = "app.bsky.embed.images"
	FacetLink      = "app.bsky.richtext.facet#link"
	FacetTag       = "app.bsky.richtext.facet#tag"
	FacetMention   = "app.bsky.richtext.facet#mention"
)

// Defaults and limits, as the reference PDS and the lexicons have them.
const (
	DefaultAccessLifetime = 2 * time.Hour
	RefreshLifetime       = 90 * 24 * time.Hour
	DefaultMaxBlobSize    = 5_000_000
	DefaultBlobLifetime   = time.Hour
	MaxThumbSize          = 1_000_000 // app.bsky.embed.external#external.thumb
	MaxImageSize          = 2_000_000 // app.bsky.embed.images#image.image
	MaxTextGraphemes      = 300
	MaxTextBytes          = 3000

	// The hourly write budget: a create costs 3 points, a delete 1.
	WriteLimit       = 5000
	WriteWindow      = time.Hour
	CreateCost       = 3
	DeleteCost       = 1
	SessionLimit     = 30 // createSession calls per SessionWindow
	SessionWindow    = 5 * time.Minute
	UploadLimit      = 1000 // uploadBlob calls per UploadWindow
	UploadWindow     = 24 * time.Hour
	globalLimit      = 3000 // what other methods report when throttled
	globalWindow     = 5 * time.Minute
	maxJSONBody      = 1 << 20
	heldNotification = 1024 // rkeys a held createRecord can queue on stored
)

// Record is an app.bsky.feed.post record as the server stored it.
type Record struct {
	URI, CID, Rkey string
	Value          json.RawMessage // the record as stored
	Post           Post            // the same, decoded
	CreatedAt      time.Time       // server clock when stored
}

// Post is an app.bsky.feed.post record.
type Post struct {
	Type      string   `json:"$type"`
	Text      string   `json:"text"`
	CreatedAt string   `json:"createdAt"`
	Langs     []string `json:"langs,omitempty"`
	Facets    []Facet  `json:"facets,omitempty"`
	Embed     *Embed   `json:"embed,omitempty"`
}

// Facet is an app.bsky.richtext.facet: a byte range of the text and what
// it is.
type Facet struct {
	Index struct {
		ByteStart int `json:"byteStart"`
		ByteEnd   int `json:"byteEnd"`
	} `json:"index"`
	Features []Feature `json:"features"`
}

// Feature is a facet's link (URI), tag (Tag) or mention (DID).
type Feature struct {
	Type string `json:"$type"`
	URI  string `json:"uri,omitempty"`
	Tag  string `json:"tag,omitempty"`
	DID  string `json:"did,omitempty"`
}

// Embed is an app.bsky.embed.external (External) or app.bsky.embed.images
// (Images).
type Embed struct {
	Type     string    `json:"$type"`
	External *External `json:"external,omitempty"`
	Images   []Image   `json:"images,omitempty"`
}

// External is a link card.
type External struct {
	URI         string   `json:"uri"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Thumb       *BlobRef `json:"thumb,omitempty"`
}

// Image is one image of an app.bsky.embed.images.
type Image struct {
	Image       *BlobRef `json:"image"`
	Alt         string   `json:"alt"`
	AspectRatio *struct {
		Width  int `json:"width"`
		Height int `json:"height"`
	} `json:"aspectRatio,omitempty"`
}

// BlobRef is a record's reference to an uploaded blob.
type BlobRef struct {
	Type string `json:"$type"`
	Ref  struct {
		Link string `json:"$link"`
	} `json:"ref"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
}

// Blob is an uploaded blob.
type Blob struct {
	CID, MimeType string
	Size          int64
	Data          []byte
	UploadedAt    time.Time
}

// Server is the fake PDS, holding one account. It is safe for concurrent
// use.
type Server struct {
	t        testing.TB
	srv      *httptest.Server
	methods  map[string]route
	handle   string
	did      string
	password string
	clockID  uint64

	mu             sync.Mutex
	now            func() time.Time
	accessLifetime time.Duration
	tokens         map[string]*token
	maxBlobSize    int64
	blobLifetime   time.Duration
	uploads        []Blob           // every upload, in order
	blobs          map[string]*Blob // the blobs that still exist, by CID
	refs           map[string]int   // blob CID → stored records using it
	records        []*storedRecord  // in creation order
	lastTID        int64
	commit         string // CID of the latest commit
	writes         window
	sessionCalls   window
	uploadCalls    window
	injected       map[string][]injection
	drops          map[string]int
	holds          map[string]*hold
	calls          map[string]int
	sessions       int
}

type route struct {
	verb   string
	handle func(http.ResponseWriter, *http.Request)
}

type token struct {
	refresh bool
	expires time.Time
	revoked bool // a refresh token rotated or revoked
}

type storedRecord struct {
	Record
	blobs []string // CIDs of the blobs it references
}

// injection is a canned answer for the next call of a method.
type injection struct {
	status           int
	errName, message string
	throttle         bool
	reset            time.Time     // ratelimit-reset of a throttle
	retryAfter       time.Duration // of a throttle that says only Retry-After
}

type hold struct {
	stored   chan string
	released chan struct{}
	once     sync.Once
}

// NewServer starts a PDS with one account (handle, app password); closed at
// t's cleanup.
func NewServer(t testing.TB, handle, appPassword string) *Server {
	t.Helper()
	handle = strings.ToLower(handle)
	s := &Server{
		t:              t,
		handle:         handle,
		did:            didFor(handle),
		password:       appPassword,
		clockID:        randomUint(1 << 10),
		now:            time.Now,
		accessLifetime: DefaultAccessLifetime,
		tokens:         map[string]*token{},
		maxBlobSize:    DefaultMaxBlobSize,
		blobLifetime:   DefaultBlobLifetime,
		blobs:          map[string]*Blob{},
		refs:           map[string]int{},
		writes:         window{limit: WriteLimit, period: WriteWindow},
		sessionCalls:   window{limit: SessionLimit, period: SessionWindow},
		uploadCalls:    window{limit: UploadLimit, period: UploadWindow},
		injected:       map[string][]injection{},
		drops:          map[string]int{},
		holds:          map[string]*hold{},
		calls:          map[string]int{},
	}
	s.methods = map[string]route{
		MethodCreateSession:  {http.MethodPost, s.createSession},
		MethodRefreshSession: {http.MethodPost, s.refreshSession},
		MethodResolveHandle:  {http.MethodGet, s.resolveHandle},
		MethodDescribeRepo:   {http.MethodGet, s.describeRepo},
		MethodUploadBlob:     {http.MethodPost, s.uploadBlob},
		MethodCreateRecord:   {http.MethodPost, s.createRecord},
		MethodGetRecord:      {http.MethodGet, s.getRecord},
		MethodListRecords:    {http.MethodGet, s.listRecords},
		MethodDeleteRecord:   {http.MethodPost, s.deleteRecord},
	}
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// didFor derives a did:plc from the handle: 24 base32 characters of its
// SHA-256, the length and alphabet of a real one.
func didFor(handle string) string {
	sum := sha256.Sum256([]byte(handle))
	return "did:plc:" + base32Lower.EncodeToString(sum[:])[:24]
}

var base32Lower = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// URL is the PDS's base URL; XRPC methods are under URL()+"/xrpc/".
func (s *Server) URL() string { return s.srv.URL }

// DID is the account's DID.
func (s *Server) DID() string { return s.did }

// Handle is the account's handle, in lower case.
func (s *Server) Handle() string { return s.handle }

// SetClock replaces the server's clock (default time.Now), which token
// expiry, blob lifetime, record keys and rate-limit windows follow.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// SetAccessLifetime sets how long the access tokens issued from now on
// live (default 2h). Refresh tokens live RefreshLifetime (90 days).
func (s *Server) SetAccessLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.accessLifetime = d
}

// RevokeRefreshTokens makes every refresh token issued so far stop
// working. Access tokens already issued keep working until they expire, as
// the reference PDS's stateless access tokens do.
func (s *Server) RevokeRefreshTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, tok := range s.tokens {
		if tok.refresh {
			tok.revoked = true
		}
	}
}

// SetMaxBlobSize sets uploadBlob's limit in bytes (default 5,000,000).
func (s *Server) SetMaxBlobSize(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxBlobSize = n
}

// SetBlobLifetime sets how long an uploaded blob no record references
// lives (default 1h).
func (s *Server) SetBlobLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.blobLifetime = d
}

// ThrottleNext makes the next n calls to method answer 429 with the
// ratelimit headers of that method's limit, the window ending at reset.
func (s *Server) ThrottleNext(method string, n int, reset time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.injected[method] = append(s.injected[method], injection{status: http.StatusTooManyRequests, throttle: true, reset: reset})
	}
}

// ThrottleNextRetryAfter makes the next n calls to method answer 429
// with only a Retry-After header of after, as a front end of the PDS
// that keeps a limit of its own does.
func (s *Server) ThrottleNextRetryAfter(method string, n int, after time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.injected[method] = append(s.injected[method], injection{status: http.StatusTooManyRequests, throttle: true, retryAfter: after})
	}
}

// FailNext makes the next n calls to method answer status with the error
// errName and message, without doing anything else.
func (s *Server) FailNext(method string, n int, status int, errName, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.injected[method] = append(s.injected[method], injection{status: status, errName: errName, message: message})
	}
}

// DropAfterProcessing makes the next n calls to method be processed in
// full (a record is stored), then their connection closed without any
// answer, as when a crash or the network loses the answer. Go's transport
// retries by itself a GET (or a request with an Idempotency-Key) that dies
// so on a reused connection; use it on POST methods.
func (s *Server) DropAfterProcessing(method string, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops[method] += n
}

// HoldAnswers makes the calls to method from now on be processed, then
// their answer wait until release is called. For createRecord, stored
// receives the rkey of each record once it is stored (it buffers 1024
// and never blocks the server). release is idempotent and runs at the
// test's cleanup too.
func (s *Server) HoldAnswers(method string) (stored <-chan string, release func()) {
	h := &hold{stored: make(chan string, heldNotification), released: make(chan struct{})}
	s.mu.Lock()
	s.holds[method] = h
	s.mu.Unlock()
	release = func() {
		h.once.Do(func() {
			s.mu.Lock()
			if s.holds[method] == h {
				delete(s.holds, method)
			}
			s.mu.Unlock()
			close(h.released)
		})
	}
	s.t.Cleanup(release) // before the server closes, which waits for held calls
	return h.stored, release
}

// Records returns the app.bsky.feed.post records stored, in creation
// order, deleted ones excluded.
func (s *Server) Records() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, 0, len(s.records))
	for _, r := range s.records {
		rec := r.Record
		rec.Value = slices.Clone(r.Value)
		rec.Post = Post{}
		_ = json.Unmarshal(rec.Value, &rec.Post) // validated when stored
		out = append(out, rec)
	}
	return out
}

// Blobs returns every blob uploaded, in order, those since deleted
// included (HasBlob tells which still exist).
func (s *Server) Blobs() []Blob {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.uploads)
	for i := range out {
		out[i].Data = slices.Clone(out[i].Data)
	}
	return out
}

// HasBlob reports whether the blob cid still exists (uploaded, and not
// deleted for want of a record using it).
func (s *Server) HasBlob(cid string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireBlobs()
	return s.blobs[cid] != nil
}

// Calls counts the calls received per XRPC method, whatever their answer.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// Sessions counts the successful createSession calls.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	nsid, ok := strings.CutPrefix(r.URL.Path, "/xrpc/")
	if !ok {
		writeError(w, http.StatusNotFound, "NotFound", "Not Found: "+r.URL.Path)
		return
	}
	s.mu.Lock()
	s.calls[nsid]++
	s.expireBlobs()
	var inj *injection
	if q := s.injected[nsid]; len(q) > 0 {
		inj, s.injected[nsid] = &q[0], q[1:]
	}
	s.mu.Unlock()
	if inj != nil {
		s.answerInjection(w, nsid, *inj)
		return
	}
	m, ok := s.methods[nsid]
	if !ok {
		writeError(w, http.StatusNotImplemented, "MethodNotImplemented", "Method Not Implemented")
		return
	}
	if r.Method != m.verb {
		writeError(w, http.StatusMethodNotAllowed, "InvalidRequest", fmt.Sprintf("Incorrect HTTP method (%s) expected %s", r.Method, m.verb))
		return
	}

	// The answer is recorded first, so that it can be held or dropped
	// after the call has had its effect.
	rec := httptest.NewRecorder()
	m.handle(rec, r)
	s.mu.Lock()
	h := s.holds[nsid]
	s.mu.Unlock()
	if h != nil {
		<-h.released
	}
	s.mu.Lock()
	drop := s.drops[nsid] > 0
	if drop {
		s.drops[nsid]--
	}
	s.mu.Unlock()
	if drop {
		dropConnection(w)
		return
	}
	for k, vs := range rec.Header() {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // closes the connection without an answer
}

func (s *Server) answerInjection(w http.ResponseWriter, nsid string, inj injection) {
	if !inj.throttle {
		writeError(w, inj.status, inj.errName, inj.message)
		return
	}
	if inj.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(math.Ceil(inj.retryAfter.Seconds())), 10))
		writeError(w, http.StatusTooManyRequests, "RateLimitExceeded", "Rate Limit Exceeded")
		return
	}
	limit, period := globalLimit, globalWindow
	switch nsid {
	case MethodCreateRecord, MethodDeleteRecord:
		limit, period = WriteLimit, WriteWindow
	case MethodCreateSession:
		limit, period = SessionLimit, SessionWindow
	case MethodUploadBlob:
		limit, period = UploadLimit, UploadWindow
	}
	s.mu.Lock()
	now := s.now()
	s.mu.Unlock()
	rateLimited(w, limit, period, inj.reset, now)
}

// window is a rate limit as the reference PDS keeps one: a fixed window
// that opens at the first call after the previous one ended.
type window struct {
	limit  int
	period time.Duration
	start  time.Time
	used   int
}

// take spends cost points at now; it reports false, spending nothing,
// when they are not left.
func (l *window) take(now time.Time, cost int) bool {
	if l.start.IsZero() || !now.Before(l.start.Add(l.period)) {
		l.start, l.used = now, 0
	}
	if l.used+cost > l.limit {
		return false
	}
	l.used += cost
	return true
}

func (l *window) reset() time.Time { return l.start.Add(l.period) }

// admit spends cost points and sets the ratelimit headers, or answers 429
// and returns false. s.mu must be held.
func (s *Server) admit(w http.ResponseWriter, l *window, cost int) bool {
	now := s.now()
	if !l.take(now, cost) {
		rateLimited(w, l.limit, l.period, l.reset(), now)
		return false
	}
	setRateHeaders(w.Header(), l.limit, l.limit-l.used, l.period, l.reset())
	return true
}

func setRateHeaders(h http.Header, limit, remaining int, period time.Duration, reset time.Time) {
	h.Set("ratelimit-limit", strconv.Itoa(limit))
	h.Set("ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("ratelimit-reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("ratelimit-policy", fmt.Sprintf("%d;w=%d", limit, int(period/time.Second)))
}

func rateLimited(w http.ResponseWriter, limit int, period time.Duration, reset, now time.Time) {
	setRateHeaders(w.Header(), limit, 0, period, reset)
	wait := max(0, int64(math.Ceil(reset.Sub(now).Seconds())))
	w.Header().Set("Retry-After", strconv.FormatInt(wait, 10))
	writeError(w, http.StatusTooManyRequests, "RateLimitExceeded", "Rate Limit Exceeded")
}

// expireBlobs deletes the blobs no record uses that are older than their
// lifetime. s.mu must be held.
func (s *Server) expireBlobs() {
	now := s.now()
	for cid, b := range s.blobs {
		if s.refs[cid] == 0 && now.Sub(b.UploadedAt) > s.blobLifetime {
			delete(s.blobs, cid)
		}
	}
}

// Sessions.

type sessionJSON struct {
	AccessJwt  string `json:"accessJwt"`
	RefreshJwt string `json:"refreshJwt"`
	Handle     string `json:"handle"`
	DID        string `json:"did"`
	Active     bool   `json:"active"`
}

func (s *Server) createSession(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Identifier      *string `json:"identifier"`
		Password        *string `json:"password"`
		AuthFactorToken *string `json:"authFactorToken"`
		AllowTakendown  *bool   `json:"allowTakendown"`
	}
	if err := readInput(r, &in); err != nil {
		err.write(w)
		return
	}
	if err := required(map[string]bool{"identifier": in.Identifier != nil, "password": in.Password != nil}); err != nil {
		err.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.admit(w, &s.sessionCalls, 1) {
		return
	}
	if !s.isAccount(*in.Identifier) || *in.Password != s.password {
		writeError(w, http.StatusUnauthorized, "AuthenticationRequired", "Invalid identifier or password")
		return
	}
	s.sessions++
	writeJSON(w, http.StatusOK, s.newSession())
}

func (s *Server) refreshSession(w http.ResponseWriter, r *http.Request) {
	jwt, ok := bearer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "AuthMissing", "Authentication Required")
		return
	}
	if body, _ := io.ReadAll(io.LimitReader(r.Body, 1)); len(body) > 0 {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "A request body was provided when none was expected")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.tokens[jwt]
	switch {
	case tok == nil || !tok.refresh:
		writeError(w, http.StatusBadRequest, "InvalidToken", "Token could not be verified")
		return
	case tok.revoked || !s.now().Before(tok.expires):
		writeError(w, http.StatusBadRequest, "ExpiredToken", "Token has been revoked")
		return
	}
	tok.revoked = true // rotation: a refresh token works once
	writeJSON(w, http.StatusOK, s.newSession())
}

// newSession issues an access and a refresh token. s.mu must be held.
func (s *Server) newSession() sessionJSON {
	return sessionJSON{
		AccessJwt: s.issue(false), RefreshJwt: s.issue(true),
		Handle: s.handle, DID: s.did, Active: true,
	}
}

// issue makes a token shaped like the reference PDS's JWTs (their claims
// readable, the signature random) and remembers it. s.mu must be held.
func (s *Server) issue(refresh bool) string {
	now := s.now()
	typ, scope, life := "at+jwt", "com.atproto.appPass", s.accessLifetime
	if refresh {
		typ, scope, life = "refresh+jwt", "com.atproto.refresh", RefreshLifetime
	}
	claims := map[string]any{
		"scope": scope, "sub": s.did, "aud": "did:web:" + strings.TrimPrefix(s.srv.URL, "http://"),
		"iat": now.Unix(), "exp": now.Add(life).Unix(),
	}
	if refresh {
		claims["jti"] = base64.RawURLEncoding.EncodeToString(randomBytes(32))
	}
	header, _ := json.Marshal(map[string]string{"typ": typ, "alg": "ES256K"})
	payload, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding
	jwt := enc.EncodeToString(header) + "." + enc.EncodeToString(payload) + "." + enc.EncodeToString(randomBytes(64))
	s.tokens[jwt] = &token{refresh: refresh, expires: now.Add(life)}
	return jwt
}

func bearer(r *http.Request) (string, bool) {
	jwt, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return strings.TrimSpace(jwt), ok && strings.TrimSpace(jwt) != ""
}

// authorize checks the request's access token, answering the error and
// returning false when it does not pass.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) bool {
	jwt, ok := bearer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "AuthMissing", "Authentication Required")
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := s.tokens[jwt]
	switch {
	case tok == nil || tok.refresh:
		writeError(w, http.StatusBadRequest, "InvalidToken", "Token could not be verified")
		return false
	case !s.now().Before(tok.expires):
		writeError(w, http.StatusBadRequest, "ExpiredToken", "Token has expired")
		return false
	}
	return true
}

// isAccount reports whether id names the account: its DID, or its handle
// in any case.
func (s *Server) isAccount(id string) bool {
	return id == s.did || strings.EqualFold(id, s.handle)
}

// Identity and repo description.

func (s *Server) resolveHandle(w http.ResponseWriter, r *http.Request) {
	q, err := queryParams(r, []string{"handle"})
	if err != nil {
		err.write(w)
		return
	}
	if !strings.EqualFold(q.Get("handle"), s.handle) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Unable to resolve handle")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"did": s.did})
}

func (s *Server) describeRepo(w http.ResponseWriter, r *http.Request) {
	q, err := queryParams(r, []string{"repo"})
	if err != nil {
		err.write(w)
		return
	}
	if !s.isAccount(q.Get("repo")) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Could not find repo: "+q.Get("repo"))
		return
	}
	s.mu.Lock()
	collections := []string{}
	if len(s.records) > 0 {
		collections = append(collections, PostCollection)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"handle": s.handle,
		"did":    s.did,
		"didDoc": map[string]any{
			"id":          s.did,
			"alsoKnownAs": []string{"at://" + s.handle},
			"service": []map[string]string{{
				"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": s.srv.URL,
			}},
		},
		"collections":     collections,
		"handleIsCorrect": true,
	})
}

// Blobs.

func (s *Server) uploadBlob(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	contentType := r.Header.Get("Content-Type")
	if contentType == "" {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Request encoding (Content-Type) required but not provided")
		return
	}
	s.mu.Lock()
	limit := s.maxBlobSize
	s.mu.Unlock()
	data, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "reading the blob: "+err.Error())
		return
	}
	if int64(len(data)) > limit {
		writeError(w, http.StatusRequestEntityTooLarge, "PayloadTooLarge", "request entity too large")
		return
	}
	mimeType := sniffImage(data)
	if mimeType == "" {
		mimeType = contentType
		if mt, _, err := mime.ParseMediaType(contentType); err == nil {
			mimeType = mt
		}
	}
	b := Blob{CID: makeCID(codecRaw, data), MimeType: mimeType, Size: int64(len(data)), Data: data}
	s.mu.Lock()
	if !s.admit(w, &s.uploadCalls, 1) {
		s.mu.Unlock()
		return
	}
	b.UploadedAt = s.now()
	s.uploads = append(s.uploads, b)
	if s.refs[b.CID] == 0 {
		kept := b
		s.blobs[b.CID] = &kept // uploading it again restarts its lifetime
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"blob": blobRef(b)})
}

func blobRef(b Blob) BlobRef {
	ref := BlobRef{Type: "blob", MimeType: b.MimeType, Size: b.Size}
	ref.Ref.Link = b.CID
	return ref
}

// sniffImage names the image types the reference PDS recognises by their
// magic number.
func sniffImage(b []byte) string {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xd8, 0xff}):
		return "image/jpeg"
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return "image/png"
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return "image/gif"
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return "image/webp"
	}
	return ""
}

// CIDv1 codecs: raw for blobs, dag-cbor for records and commits.
const (
	codecRaw     = 0x55
	codecDagCBOR = 0x71
)

// makeCID makes a CIDv1 of data's SHA-256 in base32, as "bafkrei…" for a
// blob. Records are hashed as their JSON, not as DAG-CBOR: the CID is of
// the right form, not the one a real PDS would compute.
func makeCID(codec byte, data []byte) string {
	sum := sha256.Sum256(data)
	return "b" + base32Lower.EncodeToString(append([]byte{0x01, codec, 0x12, 0x20}, sum[:]...))
}

// Records.

type createInput struct {
	Repo       *string         `json:"repo"`
	Collection *string         `json:"collection"`
	Rkey       *string         `json:"rkey"`
	Validate   *bool           `json:"validate"`
	Record     json.RawMessage `json:"record"`
	SwapCommit *string         `json:"swapCommit"`
}

func (s *Server) createRecord(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	var in createInput
	if err := readInput(r, &in); err != nil {
		err.write(w)
		return
	}
	if err := required(map[string]bool{"repo": in.Repo != nil, "collection": in.Collection != nil, "record": in.Record != nil}); err != nil {
		err.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.admit(w, &s.writes, CreateCost) {
		return
	}
	rec, err := s.prepareCreate(in)
	if err != nil {
		err.write(w)
		return
	}
	s.records = append(s.records, rec)
	for _, cid := range rec.blobs {
		s.refs[cid]++
	}
	rev := s.newCommit(rec.CID)
	if h := s.holds[MethodCreateRecord]; h != nil {
		select {
		case h.stored <- rec.Rkey:
		default:
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uri": rec.URI, "cid": rec.CID,
		"commit":           map[string]string{"cid": s.commit, "rev": rev},
		"validationStatus": "valid",
	})
}

// prepareCreate checks a createRecord input in the order the reference PDS
// does and makes the record to store. s.mu must be held.
func (s *Server) prepareCreate(in createInput) (*storedRecord, *xrpcError) {
	switch {
	case !s.isAccount(*in.Repo):
		return nil, invalidRequest("Invalid repo")
	case in.Validate != nil && !*in.Validate:
		return nil, invalidRequest("this test PDS refuses unvalidated records")
	case *in.Collection != PostCollection:
		return nil, invalidRequest(fmt.Sprintf("this test PDS stores only %s records, not %s", PostCollection, *in.Collection))
	}
	var value map[string]any
	dec := json.NewDecoder(bytes.NewReader(in.Record))
	dec.UseNumber()
	if err := dec.Decode(&value); err != nil || value == nil {
		return nil, invalidRecord("Record must be an object")
	}
	if typ, _ := value["$type"].(string); typ != *in.Collection {
		return nil, invalidRecord(fmt.Sprintf("Invalid $type: expected %s, got %v", *in.Collection, value["$type"]))
	}
	rkey := ""
	if in.Rkey != nil {
		if !validTID(*in.Rkey) {
			return nil, invalidRequest("Invalid record key")
		}
		rkey = *in.Rkey
	}
	blobs, err := s.validatePost(value)
	if err != nil {
		return nil, err
	}
	if in.SwapCommit != nil && *in.SwapCommit != s.commit {
		return nil, &xrpcError{http.StatusBadRequest, "InvalidSwap", "Commit was at " + s.commit}
	}
	if rkey == "" {
		rkey = s.nextTID()
		for s.find(rkey) != nil {
			rkey = s.nextTID()
		}
	} else if s.find(rkey) != nil {
		// What the reference PDS answers when its repo refuses the write.
		return nil, &xrpcError{http.StatusInternalServerError, "InternalServerError", "Internal Server Error"}
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, in.Record); err != nil {
		return nil, invalidRecord("Record must be an object")
	}
	rec := &storedRecord{Record: Record{
		URI: s.uri(rkey), CID: makeCID(codecDagCBOR, compact.Bytes()), Rkey: rkey,
		Value: compact.Bytes(), CreatedAt: s.now(),
	}, blobs: blobs}
	if err := json.Unmarshal(rec.Value, &rec.Post); err != nil {
		return nil, invalidRecord("Record could not be read as a post: " + err.Error())
	}
	return rec, nil
}

func (s *Server) uri(rkey string) string {
	return "at://" + s.did + "/" + PostCollection + "/" + rkey
}

// find returns the stored record under rkey, or nil. s.mu must be held.
func (s *Server) find(rkey string) *storedRecord {
	for _, r := range s.records {
		if r.Rkey == rkey {
			return r
		}
	}
	return nil
}

// newCommit moves the repo to a new commit over a change and returns its
// rev. s.mu must be held.
func (s *Server) newCommit(change string) string {
	rev := s.nextTID()
	s.commit = makeCID(codecDagCBOR, []byte(s.commit+" "+rev+" "+change))
	return rev
}

const tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

var tidPattern = regexp.MustCompile(`^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$`)

func validTID(s string) bool { return tidPattern.MatchString(s) }

// nextTID makes a TID from the clock: the microseconds since 1970 and
// the server's clock id, increasing even when the clock does not. s.mu
// must be held.
func (s *Server) nextTID() string {
	us := s.now().UnixMicro()
	if us <= s.lastTID {
		us = s.lastTID + 1
	}
	s.lastTID = us
	v := uint64(us)<<10 | s.clockID
	var b [13]byte
	for i := 12; i >= 0; i-- {
		b[i] = tidAlphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

func (s *Server) getRecord(w http.ResponseWriter, r *http.Request) {
	q, err := queryParams(r, []string{"repo", "collection", "rkey"}, "cid")
	if err != nil {
		err.write(w)
		return
	}
	if !s.isAccount(q.Get("repo")) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Could not find repo: "+q.Get("repo"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec *storedRecord
	if q.Get("collection") == PostCollection {
		rec = s.find(q.Get("rkey"))
	}
	if rec == nil || (q.Has("cid") && q.Get("cid") != rec.CID) {
		writeError(w, http.StatusBadRequest, "RecordNotFound",
			fmt.Sprintf("Could not locate record: at://%s/%s/%s", s.did, q.Get("collection"), q.Get("rkey")))
		return
	}
	writeJSON(w, http.StatusOK, recordJSON(rec))
}

func recordJSON(r *storedRecord) map[string]any {
	return map[string]any{"uri": r.URI, "cid": r.CID, "value": r.Value}
}

func (s *Server) listRecords(w http.ResponseWriter, r *http.Request) {
	q, xerr := queryParams(r, []string{"repo", "collection"}, "limit", "cursor", "reverse")
	if xerr != nil {
		xerr.write(w)
		return
	}
	limit, reverse, xerr := listOptions(q)
	if xerr != nil {
		xerr.write(w)
		return
	}
	if !s.isAccount(q.Get("repo")) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Could not find repo: "+q.Get("repo"))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var recs []*storedRecord
	if q.Get("collection") == PostCollection {
		recs = slices.Clone(s.records)
	}
	slices.SortFunc(recs, func(a, b *storedRecord) int { return strings.Compare(b.Rkey, a.Rkey) })
	if reverse {
		slices.Reverse(recs)
	}
	if cursor := q.Get("cursor"); cursor != "" {
		recs = slices.DeleteFunc(recs, func(r *storedRecord) bool {
			return (!reverse && r.Rkey >= cursor) || (reverse && r.Rkey <= cursor)
		})
	}
	recs = recs[:min(limit, len(recs))]
	out := []map[string]any{}
	for _, rec := range recs {
		out = append(out, recordJSON(rec))
	}
	answer := map[string]any{"records": out}
	if len(recs) > 0 {
		// As the reference PDS does: a cursor whenever records came, so
		// the last page is an empty one.
		answer["cursor"] = recs[len(recs)-1].Rkey
	}
	writeJSON(w, http.StatusOK, answer)
}

func listOptions(q url.Values) (limit int, reverse bool, err *xrpcError) {
	limit = 50
	if q.Has("limit") {
		n, perr := strconv.Atoi(q.Get("limit"))
		switch {
		case perr != nil:
			return 0, false, invalidRequest("limit must be an integer")
		case n < 1:
			return 0, false, invalidRequest("limit can not be less than 1")
		case n > 100:
			return 0, false, invalidRequest("limit can not be greater than 100")
		}
		limit = n
	}
	if q.Has("reverse") {
		switch q.Get("reverse") {
		case "true":
			reverse = true
		case "false":
		default:
			return 0, false, invalidRequest("reverse must be a boolean")
		}
	}
	return limit, reverse, nil
}

func (s *Server) deleteRecord(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r) {
		return
	}
	var in struct {
		Repo       *string `json:"repo"`
		Collection *string `json:"collection"`
		Rkey       *string `json:"rkey"`
		SwapRecord *string `json:"swapRecord"`
		SwapCommit *string `json:"swapCommit"`
	}
	if err := readInput(r, &in); err != nil {
		err.write(w)
		return
	}
	if err := required(map[string]bool{"repo": in.Repo != nil, "collection": in.Collection != nil, "rkey": in.Rkey != nil}); err != nil {
		err.write(w)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.admit(w, &s.writes, DeleteCost) {
		return
	}
	if !s.isAccount(*in.Repo) {
		writeError(w, http.StatusBadRequest, "InvalidRequest", "Invalid repo")
		return
	}
	var rec *storedRecord
	if *in.Collection == PostCollection {
		rec = s.find(*in.Rkey)
	}
	switch {
	case in.SwapCommit != nil && *in.SwapCommit != s.commit:
		writeError(w, http.StatusBadRequest, "InvalidSwap", "Commit was at "+s.commit)
		return
	case in.SwapRecord != nil && (rec == nil || rec.CID != *in.SwapRecord):
		writeError(w, http.StatusBadRequest, "InvalidSwap", "Record was at another CID")
		return
	case rec == nil:
		writeJSON(w, http.StatusOK, map[string]any{}) // nothing to delete: no commit
		return
	}
	s.records = slices.DeleteFunc(s.records, func(r *storedRecord) bool { return r == rec })
	for _, cid := range rec.blobs {
		// The reference PDS deletes the blobs a deletion leaves unused.
		if s.refs[cid]--; s.refs[cid] <= 0 {
			delete(s.refs, cid)
			delete(s.blobs, cid)
		}
	}
	rev := s.newCommit("delete " + rec.URI)
	writeJSON(w, http.StatusOK, map[string]any{"commit": map[string]string{"cid": s.commit, "rev": rev}})
}

// Post validation, as the app.bsky.feed.post lexicon says, paths named as
// the reference PDS names them ("Record/text").

// validatePost checks the record and the blobs it references, returning
// their CIDs. s.mu must be held.
func (s *Server) validatePost(rec map[string]any) ([]string, *xrpcError) {
	const path = "Record"
	if err := allowOnly(rec, path, "$type", "text", "createdAt", "langs", "facets", "embed", "tags"); err != nil {
		return nil, err
	}
	text, err := needString(rec, "text", path)
	if err != nil {
		return nil, err
	}
	if err := checkLength(text, path+"/text", MaxTextBytes, MaxTextGraphemes); err != nil {
		return nil, err
	}
	createdAt, err := needString(rec, "createdAt", path)
	if err != nil {
		return nil, err
	}
	if !validDatetime(createdAt) {
		return nil, invalidRecord(path + "/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)")
	}
	if v, ok := rec["langs"]; ok {
		if err := checkLangs(v, path+"/langs"); err != nil {
			return nil, err
		}
	}
	if v, ok := rec["tags"]; ok {
		if err := checkTags(v, path+"/tags"); err != nil {
			return nil, err
		}
	}
	if v, ok := rec["facets"]; ok {
		if err := checkFacets(v, path+"/facets", text); err != nil {
			return nil, err
		}
	}
	if v, ok := rec["embed"]; ok {
		return s.checkEmbed(v, path+"/embed")
	}
	return nil, nil
}

// checkLength applies a lexicon string's maxLength (in UTF-8 bytes) and
// maxGraphemes (extended grapheme clusters).
func checkLength(s, path string, maxBytes, maxGraphemes int) *xrpcError {
	if len(s) > maxBytes {
		return invalidRecord(fmt.Sprintf("%s must not be longer than %d characters", path, maxBytes))
	}
	if uniseg.GraphemeClusterCount(s) > maxGraphemes {
		return invalidRecord(fmt.Sprintf("%s must not be longer than %d graphemes", path, maxGraphemes))
	}
	return nil
}

var datetimePattern = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`)

// validDatetime accepts what atproto's datetime format does: RFC 3339 with
// upper-case T and Z, seconds, and a timezone other than -00:00.
func validDatetime(s string) bool {
	if !datetimePattern.MatchString(s) || strings.HasSuffix(s, "-00:00") || strings.HasPrefix(s, "0000") {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}

var langPattern = regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$`)

func checkLangs(v any, path string) *xrpcError {
	list, err := asArray(v, path, 3)
	if err != nil {
		return err
	}
	for i, item := range list {
		if l, ok := item.(string); !ok || !langPattern.MatchString(l) {
			return invalidRecord(fmt.Sprintf("%s/%d must be a well-formed BCP-47 language tag", path, i))
		}
	}
	return nil
}

func checkTags(v any, path string) *xrpcError {
	list, err := asArray(v, path, 8)
	if err != nil {
		return err
	}
	for i, item := range list {
		tag, ok := item.(string)
		if !ok {
			return invalidRecord(fmt.Sprintf("%s/%d must be a string", path, i))
		}
		if err := checkLength(tag, fmt.Sprintf("%s/%d", path, i), 640, 64); err != nil {
			return err
		}
	}
	return nil
}

func checkFacets(v any, path, text string) *xrpcError {
	list, err := asArray(v, path, -1)
	if err != nil {
		return err
	}
	type span struct {
		start, end int64
		path       string
	}
	var spans []span
	for i, item := range list {
		fpath := fmt.Sprintf("%s/%d", path, i)
		start, end, err := checkFacet(item, fpath, text)
		if err != nil {
			return err
		}
		spans = append(spans, span{start, end, fpath})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := 1; i < len(spans); i++ {
		if spans[i].start < spans[i-1].end {
			return invalidRecord(fmt.Sprintf("%s overlaps %s", spans[i].path, spans[i-1].path))
		}
	}
	return nil
}

// checkFacet checks one facet against the text and returns its range.
func checkFacet(v any, path, text string) (start, end int64, _ *xrpcError) {
	facet, err := asObject(v, path)
	if err != nil {
		return 0, 0, err
	}
	if err := allowOnly(facet, path, "$type", "index", "features"); err != nil {
		return 0, 0, err
	}
	if t, ok := facet["$type"]; ok && t != "app.bsky.richtext.facet" {
		return 0, 0, invalidRecord(fmt.Sprintf("%s has $type %v, not app.bsky.richtext.facet", path, t))
	}
	index, err := needObject(facet, "index", path)
	if err != nil {
		return 0, 0, err
	}
	if err := allowOnly(index, path+"/index", "byteStart", "byteEnd"); err != nil {
		return 0, 0, err
	}
	if start, err = needInt(index, "byteStart", path+"/index"); err != nil {
		return 0, 0, err
	}
	if end, err = needInt(index, "byteEnd", path+"/index"); err != nil {
		return 0, 0, err
	}
	if start < 0 || start >= end || end > int64(len(text)) {
		return 0, 0, invalidRecord(fmt.Sprintf("%s/index must have 0 ≤ byteStart < byteEnd ≤ %d, the text's length in bytes (got %d, %d)", path, len(text), start, end))
	}
	// Stricter than the reference PDS, which takes any byte offsets: a
	// range that splits a UTF-8 character is a client's counting bug.
	if !runeBoundary(text, start) || !runeBoundary(text, end) {
		return 0, 0, invalidRecord(fmt.Sprintf("%s/index must fall on UTF-8 character boundaries (got %d, %d)", path, start, end))
	}
	features, err := needArray(facet, "features", path)
	if err != nil {
		return 0, 0, err
	}
	if len(features) == 0 {
		return 0, 0, invalidRecord(path + "/features must not be empty")
	}
	for j, f := range features {
		if err := checkFeature(f, fmt.Sprintf("%s/features/%d", path, j), text[start:end]); err != nil {
			return 0, 0, err
		}
	}
	return start, end, nil
}

func runeBoundary(text string, i int64) bool {
	return i == int64(len(text)) || utf8.RuneStart(text[i])
}

// checkFeature checks a facet feature against the text it covers.
func checkFeature(v any, path, covered string) *xrpcError {
	f, err := asObject(v, path)
	if err != nil {
		return err
	}
	typ, err := needString(f, "$type", path)
	if err != nil {
		return err
	}
	switch typ {
	case FacetLink:
		if err := allowOnly(f, path, "$type", "uri"); err != nil {
			return err
		}
		uri, err := needString(f, "uri", path)
		if err != nil {
			return err
		}
		if !validURI(uri) {
			return invalidRecord(path + "/uri must be a uri")
		}
		if covered == "" {
			return invalidRecord(path + " is a link over no text")
		}
	case FacetTag:
		if err := allowOnly(f, path, "$type", "tag"); err != nil {
			return err
		}
		tag, err := needString(f, "tag", path)
		if err != nil {
			return err
		}
		if err := checkTag(tag, path+"/tag"); err != nil {
			return err
		}
		if covered != "#"+tag {
			return invalidRecord(fmt.Sprintf("%s covers %q, not %q", path, covered, "#"+tag))
		}
	case FacetMention:
		if err := allowOnly(f, path, "$type", "did"); err != nil {
			return err
		}
		did, err := needString(f, "did", path)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(did, "did:") || len(did) <= len("did:") {
			return invalidRecord(path + "/did must be a did")
		}
	default:
		return invalidRecord(fmt.Sprintf("%s has $type %q: this test PDS knows %s, %s and %s", path, typ, FacetLink, FacetTag, FacetMention))
	}
	return nil
}

func checkTag(tag, path string) *xrpcError {
	switch {
	case tag == "":
		return invalidRecord(path + " must not be empty")
	case strings.HasPrefix(tag, "#"):
		return invalidRecord(path + " must not start with '#'")
	case strings.ContainsFunc(tag, unicode.IsSpace):
		return invalidRecord(path + " must not contain whitespace")
	}
	return checkLength(tag, path, 640, 64)
}

var uriPattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9+.-]*:(//)?[^\s/][^\s]*$`)

// validURI accepts what the lexicon's uri format does: an absolute URI.
func validURI(s string) bool {
	if len(s) > 8192 || !uriPattern.MatchString(s) {
		return false
	}
	_, err := url.Parse(s)
	return err == nil
}

// checkEmbed checks the embed and returns the CIDs of its blobs. s.mu must
// be held.
func (s *Server) checkEmbed(v any, path string) ([]string, *xrpcError) {
	embed, err := asObject(v, path)
	if err != nil {
		return nil, err
	}
	typ, err := needString(embed, "$type", path)
	if err != nil {
		return nil, err
	}
	switch typ {
	case EmbedExternal:
		return s.checkExternal(embed, path)
	case EmbedImages:
		return s.checkImages(embed, path)
	}
	return nil, invalidRecord(fmt.Sprintf("%s has $type %q: this test PDS implements %s and %s", path, typ, EmbedExternal, EmbedImages))
}

func (s *Server) checkExternal(embed map[string]any, path string) ([]string, *xrpcError) {
	if err := allowOnly(embed, path, "$type", "external"); err != nil {
		return nil, err
	}
	ext, err := needObject(embed, "external", path)
	if err != nil {
		return nil, err
	}
	path += "/external"
	if err := allowOnly(ext, path, "uri", "title", "description", "thumb"); err != nil {
		return nil, err
	}
	uri, err := needString(ext, "uri", path)
	if err != nil {
		return nil, err
	}
	if !validURI(uri) {
		return nil, invalidRecord(path + "/uri must be a uri")
	}
	if _, err := needString(ext, "title", path); err != nil {
		return nil, err
	}
	if _, err := needString(ext, "description", path); err != nil {
		return nil, err
	}
	thumb, ok := ext["thumb"]
	if !ok {
		return nil, nil
	}
	cid, err := s.checkBlob(thumb, path+"/thumb", MaxThumbSize)
	if err != nil {
		return nil, err
	}
	return []string{cid}, nil
}

func (s *Server) checkImages(embed map[string]any, path string) ([]string, *xrpcError) {
	if err := allowOnly(embed, path, "$type", "images"); err != nil {
		return nil, err
	}
	images, err := needArray(embed, "images", path)
	if err != nil {
		return nil, err
	}
	switch {
	case len(images) == 0:
		return nil, invalidRecord(path + "/images must not be empty")
	case len(images) > 4:
		return nil, invalidRecord(path + "/images must not have more than 4 elements")
	}
	var cids []string
	for i, v := range images {
		ipath := fmt.Sprintf("%s/images/%d", path, i)
		img, err := asObject(v, ipath)
		if err != nil {
			return nil, err
		}
		if err := allowOnly(img, ipath, "image", "alt", "aspectRatio"); err != nil {
			return nil, err
		}
		blob, ok := img["image"]
		if !ok {
			return nil, invalidRecord(ipath + ` must have the property "image"`)
		}
		if _, err := needString(img, "alt", ipath); err != nil {
			return nil, err
		}
		if ar, ok := img["aspectRatio"]; ok {
			if err := checkAspectRatio(ar, ipath+"/aspectRatio"); err != nil {
				return nil, err
			}
		}
		cid, err := s.checkBlob(blob, ipath+"/image", MaxImageSize)
		if err != nil {
			return nil, err
		}
		cids = append(cids, cid)
	}
	return cids, nil
}

func checkAspectRatio(v any, path string) *xrpcError {
	ar, err := asObject(v, path)
	if err != nil {
		return err
	}
	if err := allowOnly(ar, path, "width", "height"); err != nil {
		return err
	}
	for _, key := range []string{"width", "height"} {
		n, err := needInt(ar, key, path)
		if err != nil {
			return err
		}
		if n < 1 {
			return invalidRecord(fmt.Sprintf("%s/%s can not be less than 1", path, key))
		}
	}
	return nil
}

// checkBlob checks a blob ref: an image this account uploaded, still
// there, within maxSize, described as stored. It returns its CID. s.mu
// must be held.
func (s *Server) checkBlob(v any, path string, maxSize int64) (string, *xrpcError) {
	notRef := invalidRecord(path + " should be a blob ref")
	ref, ok := v.(map[string]any)
	if !ok || ref["$type"] != "blob" {
		return "", notRef
	}
	if err := allowOnly(ref, path, "$type", "ref", "mimeType", "size"); err != nil {
		return "", err
	}
	link, _ := ref["ref"].(map[string]any)
	cid, ok1 := link["$link"].(string)
	mimeType, ok2 := ref["mimeType"].(string)
	size, err := needInt(ref, "size", path)
	if !ok1 || !ok2 || err != nil || len(link) != 1 {
		return "", notRef
	}
	if !strings.HasPrefix(mimeType, "image/") {
		return "", invalidRecord(fmt.Sprintf("%s has mimeType %q, which does not match image/*", path, mimeType))
	}
	b := s.blobs[cid]
	switch {
	case b == nil:
		return "", &xrpcError{http.StatusBadRequest, "BlobNotFound", "Could not find blob: " + cid}
	case b.Size > maxSize:
		return "", &xrpcError{http.StatusBadRequest, "BlobTooLarge", "blob too big"}
	case !strings.HasPrefix(b.MimeType, "image/"):
		return "", &xrpcError{http.StatusBadRequest, "InvalidMimeType", fmt.Sprintf("Wrong type of file. It is %s but it must match image/*.", b.MimeType)}
	case mimeType != b.MimeType:
		return "", &xrpcError{http.StatusBadRequest, "InvalidMimeType",
			fmt.Sprintf("Referenced Mimetype does not match stored blob. Expected: %s, Got: %s", b.MimeType, mimeType)}
	case size != b.Size:
		return "", invalidRecord(fmt.Sprintf("%s/size is %d, but the blob stored has %d bytes", path, size, b.Size))
	}
	return cid, nil
}

// Generic lexicon checks on a decoded JSON value (numbers as json.Number).

func asObject(v any, path string) (map[string]any, *xrpcError) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidRecord(path + " must be an object")
	}
	return m, nil
}

// asArray checks that v is an array of at most maxLen items (-1: any).
func asArray(v any, path string, maxLen int) ([]any, *xrpcError) {
	list, ok := v.([]any)
	if !ok {
		return nil, invalidRecord(path + " must be an array")
	}
	if maxLen >= 0 && len(list) > maxLen {
		return nil, invalidRecord(fmt.Sprintf("%s must not have more than %d elements", path, maxLen))
	}
	return list, nil
}

func missing(path, key string) *xrpcError {
	return invalidRecord(fmt.Sprintf("%s must have the property %q", path, key))
}

func needString(m map[string]any, key, path string) (string, *xrpcError) {
	v, ok := m[key]
	if !ok {
		return "", missing(path, key)
	}
	s, ok := v.(string)
	if !ok {
		return "", invalidRecord(path + "/" + key + " must be a string")
	}
	return s, nil
}

func needObject(m map[string]any, key, path string) (map[string]any, *xrpcError) {
	v, ok := m[key]
	if !ok {
		return nil, missing(path, key)
	}
	return asObject(v, path+"/"+key)
}

func needArray(m map[string]any, key, path string) ([]any, *xrpcError) {
	v, ok := m[key]
	if !ok {
		return nil, missing(path, key)
	}
	return asArray(v, path+"/"+key, -1)
}

func needInt(m map[string]any, key, path string) (int64, *xrpcError) {
	v, ok := m[key]
	if !ok {
		return 0, missing(path, key)
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, invalidRecord(path + "/" + key + " must be an integer")
	}
	i, err := n.Int64()
	if err != nil {
		return 0, invalidRecord(path + "/" + key + " must be an integer")
	}
	return i, nil
}

// allowOnly refuses the fields the fake does not validate. The reference
// PDS stores unknown fields; refusing them keeps a test from passing on a
// field that nothing checked.
func allowOnly(m map[string]any, path string, keys ...string) *xrpcError {
	for k := range m {
		if !slices.Contains(keys, k) {
			return invalidRecord(fmt.Sprintf("%s/%s is not a field this test PDS validates", path, k))
		}
	}
	return nil
}

// XRPC plumbing.

// xrpcError is an XRPC error answer.
type xrpcError struct {
	status        int
	name, message string
}

func (e *xrpcError) Error() string { return e.name + ": " + e.message }

func (e *xrpcError) write(w http.ResponseWriter) { writeError(w, e.status, e.name, e.message) }

func invalidRequest(msg string) *xrpcError {
	return &xrpcError{http.StatusBadRequest, "InvalidRequest", msg}
}

func invalidRecord(msg string) *xrpcError {
	return &xrpcError{http.StatusBadRequest, "InvalidRecord", msg}
}

// readInput decodes a procedure's JSON body into v, refusing a body that
// is not JSON, not declared as JSON, or has fields the method does not
// take (the reference PDS would ignore them).
func readInput(r *http.Request, v any) *xrpcError {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return invalidRequest("Request encoding (Content-Type) required but not provided")
	}
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return invalidRequest("Wrong request encoding (Content-Type): " + ct)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody+1))
	if err != nil {
		return invalidRequest("reading the request body: " + err.Error())
	}
	if len(body) > maxJSONBody {
		return &xrpcError{http.StatusRequestEntityTooLarge, "PayloadTooLarge", "request entity too large"}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return invalidRequest("Invalid JSON body: " + err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return invalidRequest("Invalid JSON body: data after the JSON value")
	}
	return nil
}

// required names the first absent property of an input, in a fixed order.
func required(present map[string]bool) *xrpcError {
	keys := make([]string, 0, len(present))
	for k := range present {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !present[k] {
			return invalidRequest(fmt.Sprintf("Input must have the property %q", k))
		}
	}
	return nil
}

// queryParams checks a query's parameters: all of need present and not
// empty, none but need and optional.
func queryParams(r *http.Request, need []string, optional ...string) (url.Values, *xrpcError) {
	q := r.URL.Query()
	for k := range q {
		if !slices.Contains(need, k) && !slices.Contains(optional, k) {
			return nil, invalidRequest(fmt.Sprintf("this test PDS does not know the parameter %q", k))
		}
	}
	for _, k := range need {
		if q.Get(k) == "" {
			return nil, invalidRequest(fmt.Sprintf("Params must have the property %q", k))
		}
	}
	return q, nil
}

type errorJSON struct {
	Error   string `json:"error"`
	Message string `json:"message"`
}

func writeError(w http.ResponseWriter, status int, name, message string) {
	writeJSON(w, status, errorJSON{name, message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b
}

func randomUint(n uint64) uint64 {
	var v uint64
	for _, c := range randomBytes(8) {
		v = v<<8 | uint64(c)
	}
	return v % n
}
