// Package mastodontest is a fake Mastodon server for tests. It answers the
// part of the API the syndicate channel uses as Mastodon does, and refuses
// what Mastodon refuses: a missing or wrong token, a blank status, a status
// over the character limit (counted as Mastodon counts, its content
// warning included), an unknown visibility, an image description over the
// limit, an upload that is not an image (by its magic number, as Mastodon
// checks), the attachment of media still processing or unknown. It honours
// Idempotency-Key, keeps Mastodon's rate limits per account (fixed windows,
// every answer saying in X-RateLimit-Limit, -Remaining and -Reset what is
// left of the most used one, and 429 past a limit), processes uploads in
// the background when told (202, then 206 for a number of polls), and edits
// statuses as Mastodon does: an edit that does not name the media again
// removes them. It can be told to fail the next requests of a route, or
// to publish status posts and drop the connection unanswered.
//
// It can behave like other servers of the same API instead (SetSoftware):
// GoToSocial, which names itself in its instance documents and nodeinfo,
// advertises 25 characters per URL but counts the code points of the text
// and the content warning as sent, URLs and mentions in full, and refuses
// a longer status with a 400 "Bad Request: text with spoiler exceed max
// chars (N)"; Pleroma and Akkoma, which give their limit as max_toot_chars
// in /api/v1/instance, count the grapheme clusters of the trimmed text and
// content warning, URLs in full, and refuse with a 422 "The status is over
// the character limit".
//
// It is stricter than Mastodon in two ways: a request with a parameter the
// fake does not implement is refused (400), so a test never passes by a
// parameter being silently ignored; and a language that is not an ISO 639
// code is refused (422) where Mastodon would silently post in another.
package mastodontest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syndicate-daemon/syndicate/channels/mastodon/internal/length"
)

// The account the token belongs to.
const (
	AccountID = "109000000000000001"
	Username  = "syndicate"
)

// Mastodon's defaults, which the fake starts with.
const (
	DefaultMaxCharacters    = 500
	DefaultCharactersPerURL = 23
	DefaultDescriptionLimit = 1500
	DefaultImageSizeLimit   = 16 << 20
	maxMediaAttachments     = 4
)

// Status is a status as the fake published it.
type Status struct {
	ID             string
	URL            string // URL()/@syndicate/ID
	URI            string
	Text           string // as posted
	Content        string // as Mastodon renders it: HTML, links as <a href>
	SpoilerText    string
	Visibility     string
	Language       string
	Sensitive      bool
	MediaIDs       []string
	InReplyToID    string
	IdempotencyKey string
	CreatedAt      time.Time
	EditedAt       time.Time // zero until edited
	Edits          int
}

// Media is an uploaded media attachment.
type Media struct {
	ID          string
	ContentType string // by the file's magic number
	Size        int
	Description string
	StatusID    string // "" while unattached
	Processed   bool
	pollsLeft   int // GETs answering 206 before it is processed
}

// Software is a server the fake can behave like.
type Software string

// The servers the fake can behave like.
const (
	Mastodon   Software = "mastodon"
	GoToSocial Software = "gotosocial"
	Pleroma    Software = "pleroma"
	Akkoma     Software = "akkoma"
)

// The versions the fake reports.
const (
	MastodonVersion   = "4.3.0"
	GoToSocialVersion = "0.18.3"
	PleromaVersion    = "2.9.1"
	AkkomaVersion     = "3.15.2"
)

// GoToSocialPerURL is the characters_reserved_per_url GoToSocial reports
// (and does not apply).
const GoToSocialPerURL = 25

// Rate limits per account, as Mastodon keeps them.
type RateLimits struct {
	Requests int // API requests per 5 minutes (Mastodon: 300)
	Media    int // media uploads per 30 minutes (30)
	Statuses int // statuses per 3 hours (300)
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	mux   *http.ServeMux
	token string

	mu              sync.Mutex
	now             func() time.Time
	software        Software
	hideInInstance  bool // the instance documents do not say the software
	noNodeInfo      bool
	noRateHeaders   bool
	maxChars        int
	perURL          int
	fullURLs        bool
	descLimit       int
	imageSizeLimit  int
	processingPolls int
	noV2            bool
	limits          RateLimits
	windows         map[string]int // family and window → count
	throttled       int
	statuses        []Status
	byKey           map[string]int // idempotency key → index in statuses
	media           []*Media
	failures        []failure
	drops           int
	requests        map[string]int
}

type failure struct {
	route  string // "METHOD /path" prefix
	status int
	header http.Header
	body   string
}

// idempotencyTTL is how long Mastodon remembers an Idempotency-Key.
const idempotencyTTL = time.Hour

// NewServer starts a fake instance accepting token; it is closed when the
// test ends.
func NewServer(t testing.TB, token string) *Server {
	t.Helper()
	s := &Server{
		mux:            http.NewServeMux(),
		token:          token,
		now:            time.Now,
		software:       Mastodon,
		maxChars:       DefaultMaxCharacters,
		perURL:         DefaultCharactersPerURL,
		descLimit:      DefaultDescriptionLimit,
		imageSizeLimit: DefaultImageSizeLimit,
		limits:         RateLimits{Requests: 300, Media: 30, Statuses: 300},
		windows:        map[string]int{},
		byKey:          map[string]int{},
		requests:       map[string]int{},
	}
	s.mux.HandleFunc("POST /api/v1/statuses", s.postStatus)
	s.mux.HandleFunc("GET /api/v1/statuses/{id}", s.getStatus)
	s.mux.HandleFunc("GET /api/v1/statuses/{id}/source", s.getSource)
	s.mux.HandleFunc("PUT /api/v1/statuses/{id}", s.putStatus)
	s.mux.HandleFunc("POST /api/v2/media", s.postMedia)
	s.mux.HandleFunc("GET /api/v1/media/{id}", s.getMedia)
	s.mux.HandleFunc("GET /api/v1/accounts/verify_credentials", s.verifyCredentials)
	s.mux.HandleFunc("GET /api/v1/accounts/{id}/statuses", s.accountStatuses)
	s.mux.HandleFunc("GET /api/v2/instance", s.instanceV2)
	s.mux.HandleFunc("GET /api/v1/instance", s.instanceV1)
	s.mux.HandleFunc("GET /.well-known/nodeinfo", s.nodeInfoLinks)
	s.mux.HandleFunc("GET /nodeinfo/2.0", s.nodeInfo)
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL of the instance.
func (s *Server) URL() string { return s.srv.URL }

// SetClock replaces the fake's clock (default time.Now), which dates
// statuses, expires idempotency keys and turns the rate-limit windows.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// SetMaxCharacters sets the instance's status limit (default 500).
func (s *Server) SetMaxCharacters(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxChars = n
}

// SetSoftware makes the fake behave like sw: its instance documents and
// nodeinfo, its counting, its refusal of a status over the limit (see the
// package documentation). GoToSocial reports 25 characters per URL.
func (s *Server) SetSoftware(sw Software) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.software = sw
	if sw == GoToSocial {
		s.perURL = GoToSocialPerURL
	}
}

// HideSoftware makes the instance documents name no software (no
// source_url, a bare version number) and, with nodeInfo, /.well-known/nodeinfo
// answer 404 too: a server the channel cannot tell.
func (s *Server) HideSoftware(nodeInfo bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hideInInstance, s.noNodeInfo = true, nodeInfo
}

// OmitRateLimitHeaders makes the answers carry no X-RateLimit headers (a
// 429 still says when to retry), as servers that keep no such count, or a
// proxy that drops them.
func (s *Server) OmitRateLimitHeaders() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noRateHeaders = true
}

// CountURLsInFull makes the server report perURL as its
// characters_reserved_per_url but count URLs at their full length, as
// GoToSocial does.
func (s *Server) CountURLsInFull(perURL int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fullURLs, s.perURL = true, perURL
}

// SetMediaLimits sets the longest image description in characters
// (default 1500) and the largest image in bytes (default 16 MiB).
func (s *Server) SetMediaLimits(description, imageSize int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.descLimit, s.imageSizeLimit = description, imageSize
}

// SetMediaProcessing makes the next uploads be processed in the background:
// they answer 202, and GET /api/v1/media/:id answers 206 polls times
// before the media is ready. 0 (the default) processes them at once (200).
func (s *Server) SetMediaProcessing(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.processingPolls = polls
}

// SetRateLimits changes the limits per account; a zero field is no limit.
// The default is Mastodon's: 300 requests per 5 minutes, 30 media uploads
// per 30 minutes, 300 statuses per 3 hours.
func (s *Server) SetRateLimits(l RateLimits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
}

// Throttled counts the requests the fake refused with a 429 of its own
// rate limits (not those of FailNext).
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// DisableInstanceV2 makes /api/v2/instance answer 404, as servers older
// than Mastodon 4.0 do.
func (s *Server) DisableInstanceV2() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.noV2 = true
}

// FailNext makes the next n status posts answer status with header and
// body (a JSON {"error": …} with the status text when body is empty),
// before anything else is checked, as a proxy or rate limiter would.
func (s *Server) FailNext(n int, status int, header http.Header, body string) {
	s.FailNextOn("POST /api/v1/statuses", n, status, header, body)
}

// FailNextOn is FailNext for the requests whose "METHOD /path" starts with
// route, such as "POST /api/v2/media" or "GET /api/v1/media/".
func (s *Server) FailNextOn(route string, n int, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{route, status, header.Clone(), body})
	}
}

// DropAfterAccept makes the next n valid status posts be published and then
// their connection closed without any answer, as when a crash or a network
// failure loses the answer after the request arrived.
func (s *Server) DropAfterAccept(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops += n
}

// Statuses returns what was published, oldest first.
func (s *Server) Statuses() []Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.statuses)
	for i := range out {
		out[i].MediaIDs = slices.Clone(out[i].MediaIDs)
	}
	return out
}

// Media returns the media uploaded, oldest first.
func (s *Server) Media() []Media {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Media, len(s.media))
	for i, m := range s.media {
		out[i] = *m
	}
	return out
}

// Requests counts the requests made to path, whatever their answer.
func (s *Server) Requests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[path]
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests[r.URL.Path]++
	var fail *failure
	route := r.Method + " " + r.URL.Path
	for i, f := range s.failures {
		if strings.HasPrefix(route, f.route) {
			fail = &f
			s.failures = slices.Delete(s.failures, i, i+1)
			break
		}
	}
	s.mu.Unlock()

	if fail != nil {
		for k, vs := range fail.header {
			w.Header()[k] = vs
		}
		body := fail.body
		if body == "" {
			body = errorBody(http.StatusText(fail.status))
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(fail.status)
		fmt.Fprint(w, body)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		// nodeinfo: public, and not counted in the API's limits.
		s.mu.Lock()
		hidden := s.noNodeInfo
		s.mu.Unlock()
		if _, pattern := s.mux.Handler(r); pattern == "" || hidden {
			writeError(w, http.StatusNotFound, "Record not found")
			return
		}
		s.mux.ServeHTTP(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		writeError(w, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	s.mu.Lock()
	ok := s.admit(w, "requests", s.limits.Requests, 5*time.Minute)
	if ok && r.Method == http.MethodPost && r.URL.Path == "/api/v2/media" {
		ok = s.admit(w, "media", s.limits.Media, 30*time.Minute)
	}
	s.mu.Unlock()
	if !ok {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// admit counts one more call of the family in its window, as Mastodon's
// rate limiter does (windows aligned on multiples of their length), and
// sets the X-RateLimit headers to this family's when it has less left than
// the one they name already, as Mastodon names the most used of the limits
// a request counts in. Over the limit it answers 429, naming this family,
// and returns false. s.mu must be held.
func (s *Server) admit(w http.ResponseWriter, family string, limit int, period time.Duration) bool {
	if limit <= 0 {
		return true
	}
	now := s.now()
	window := now.Unix() / int64(period/time.Second)
	key := family + ":" + strconv.FormatInt(window, 10)
	reset := time.Unix((window+1)*int64(period/time.Second), 0).UTC()
	h := w.Header()
	name := func(remaining int) {
		if s.noRateHeaders {
			return
		}
		if was, err := strconv.Atoi(h.Get("X-RateLimit-Remaining")); err == nil && was < remaining {
			return
		}
		h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
		h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
		h.Set("X-RateLimit-Reset", reset.Format(timeFormat))
	}
	if s.windows[key] >= limit {
		h.Del("X-RateLimit-Remaining")
		name(0)
		if s.noRateHeaders {
			h.Set("Retry-After", strconv.Itoa(int(reset.Sub(now).Seconds()+0.999)))
		}
		s.throttled++
		writeError(w, http.StatusTooManyRequests, "Too many requests")
		return false
	}
	s.windows[key]++
	name(limit - s.windows[key])
	return true
}

func (s *Server) postStatus(w http.ResponseWriter, r *http.Request) {
	p, err := readStatusParams(r, false)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	key := r.Header.Get("Idempotency-Key")
	if i, ok := s.byKey[key]; ok && key != "" && s.now().Sub(s.statuses[i].CreatedAt) < idempotencyTTL {
		s.answerStatus(w, s.statuses[i])
		return
	}
	visibility := "public"
	if p.Visibility != nil {
		visibility = *p.Visibility
	}
	switch {
	case strings.TrimSpace(p.Status) == "" && len(p.MediaIDs) == 0:
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		return
	case !slices.Contains([]string{"public", "unlisted", "private", "direct"}, visibility):
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Visibility is not included in the list")
		return
	case p.Language != nil && !validLanguage(*p.Language):
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("mastodontest: language %q is not an ISO 639 code (Mastodon would post in another)", *p.Language))
		return
	case s.tooLong(deref(p.SpoilerText), p.Status):
		s.refuseTooLong(w)
		return
	case p.InReplyToID != "" && !slices.ContainsFunc(s.statuses, func(st Status) bool { return st.ID == p.InReplyToID }):
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	media, status, msg := s.attachable(p.MediaIDs, "")
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	if !s.admit(w, "statuses", s.limits.Statuses, 3*time.Hour) {
		return
	}
	id := strconv.FormatInt(113500000000000000+int64(len(s.statuses))+1, 10)
	st := Status{
		ID:             id,
		URL:            s.srv.URL + "/@" + Username + "/" + id,
		URI:            s.srv.URL + "/users/" + Username + "/statuses/" + id,
		Text:           p.Status,
		Content:        renderContent(p.Status),
		SpoilerText:    deref(p.SpoilerText),
		Visibility:     visibility,
		Language:       deref(p.Language),
		Sensitive:      (p.Sensitive != nil && *p.Sensitive) || deref(p.SpoilerText) != "",
		MediaIDs:       p.MediaIDs,
		InReplyToID:    p.InReplyToID,
		IdempotencyKey: key,
		CreatedAt:      s.now().UTC(),
	}
	for _, m := range media {
		m.StatusID = id
	}
	s.statuses = append(s.statuses, st)
	if key != "" {
		s.byKey[key] = len(s.statuses) - 1
	}
	s.answerStatus(w, st)
}

// tooLong checks a status against the limit, counted as the software
// counts. s.mu must be held.
func (s *Server) tooLong(spoiler, text string) bool {
	return s.statusLength(spoiler, text) > s.maxChars
}

// statusLength counts a status as the software does. s.mu must be held.
func (s *Server) statusLength(spoiler, text string) int {
	switch s.software {
	case GoToSocial:
		return GoToSocialLength(spoiler, text)
	case Pleroma, Akkoma:
		return PleromaLength(spoiler, text)
	}
	perURL := s.perURL
	if s.fullURLs {
		perURL = -1
	}
	return StatusLength(spoiler, text, perURL)
}

// refuseTooLong answers a status over the limit as the software does.
// s.mu must be held.
func (s *Server) refuseTooLong(w http.ResponseWriter) {
	switch s.software {
	case GoToSocial:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("Bad Request: text with spoiler exceed max chars (%d)", s.maxChars))
	case Pleroma, Akkoma:
		writeError(w, http.StatusUnprocessableEntity, "The status is over the character limit")
	default:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: Text character limit of %d exceeded", s.maxChars))
	}
}

// attachable finds the media to attach to the status statusID ("" for a
// new one), or the error Mastodon answers. s.mu must be held.
func (s *Server) attachable(ids []string, statusID string) ([]*Media, int, string) {
	if len(ids) > maxMediaAttachments {
		return nil, http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: You can attach at most %d media", maxMediaAttachments)
	}
	var out []*Media
	var missing []string
	for _, id := range ids {
		i := slices.IndexFunc(s.media, func(m *Media) bool { return m.ID == id })
		if i < 0 || (s.media[i].StatusID != "" && s.media[i].StatusID != statusID) {
			missing = append(missing, id)
			continue
		}
		out = append(out, s.media[i])
	}
	if len(missing) > 0 {
		return nil, http.StatusUnprocessableEntity, "Validation failed: media attachments not found: " + strings.Join(missing, ", ")
	}
	for _, m := range out {
		if !m.Processed {
			return nil, http.StatusUnprocessableEntity, "Cannot attach files that have not finished processing. Try again in a moment!"
		}
	}
	return out, 0, ""
}

// answerStatus writes st, or drops the connection when told to.
func (s *Server) answerStatus(w http.ResponseWriter, st Status) {
	if s.drops > 0 {
		s.drops--
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	writeJSON(w, http.StatusOK, s.statusJSON(st))
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) (int, bool) {
	i := slices.IndexFunc(s.statuses, func(st Status) bool { return st.ID == r.PathValue("id") })
	if i < 0 {
		writeError(w, http.StatusNotFound, "Record not found")
		return 0, false
	}
	return i, true
}

func (s *Server) getStatus(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.status(w, r); ok {
		writeJSON(w, http.StatusOK, s.statusJSON(s.statuses[i]))
	}
}

func (s *Server) getSource(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.status(w, r); ok {
		st := s.statuses[i]
		writeJSON(w, http.StatusOK, map[string]string{"id": st.ID, "text": st.Text, "spoiler_text": st.SpoilerText})
	}
}

// putStatus edits a status as Mastodon's UpdateStatusService does: the
// text always, the content warning, sensitivity and language when given,
// and the media as listed (none when media_ids is absent).
func (s *Server) putStatus(w http.ResponseWriter, r *http.Request) {
	p, err := readStatusParams(r, true)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.status(w, r)
	if !ok {
		return
	}
	st := s.statuses[i]
	spoiler := st.SpoilerText
	if p.SpoilerText != nil {
		spoiler = *p.SpoilerText
	}
	switch {
	case strings.TrimSpace(p.Status) == "" && len(p.MediaIDs) == 0:
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		return
	case p.Language != nil && !validLanguage(*p.Language):
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("mastodontest: language %q is not an ISO 639 code (Mastodon would keep another)", *p.Language))
		return
	case s.tooLong(spoiler, p.Status):
		s.refuseTooLong(w)
		return
	}
	media, status, msg := s.attachable(p.MediaIDs, st.ID)
	if status != 0 {
		writeError(w, status, msg)
		return
	}
	for _, m := range s.media {
		if m.StatusID == st.ID && !slices.Contains(media, m) {
			m.StatusID = ""
		}
	}
	for _, m := range media {
		m.StatusID = st.ID
	}
	st.Text, st.Content, st.MediaIDs = p.Status, renderContent(p.Status), p.MediaIDs
	if p.SpoilerText != nil || p.Sensitive != nil {
		st.SpoilerText = spoiler
		st.Sensitive = (p.Sensitive != nil && *p.Sensitive) || spoiler != ""
	}
	if p.Language != nil {
		st.Language = *p.Language
	}
	st.EditedAt = s.now().UTC()
	st.Edits++
	s.statuses[i] = st
	writeJSON(w, http.StatusOK, s.statusJSON(st))
}

type statusParams struct {
	Status      string   `json:"status"`
	Visibility  *string  `json:"visibility"`
	Language    *string  `json:"language"`
	SpoilerText *string  `json:"spoiler_text"`
	Sensitive   *bool    `json:"sensitive"`
	MediaIDs    []string `json:"media_ids"`
	InReplyToID string   `json:"in_reply_to_id"`
}

// readStatusParams reads a JSON or form body, refusing parameters the fake
// does not implement, and, for an edit, those an edit cannot change.
func readStatusParams(r *http.Request, edit bool) (statusParams, error) {
	var p statusParams
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			return p, fmt.Errorf("mastodontest: reading the JSON body: %w", err)
		}
	} else {
		if err := r.ParseMultipartForm(1 << 20); err != nil && err != http.ErrNotMultipart {
			return p, fmt.Errorf("mastodontest: reading the form: %w", err)
		}
		for name, vs := range r.PostForm {
			v := vs[len(vs)-1]
			switch name {
			case "status":
				p.Status = v
			case "visibility":
				p.Visibility = &v
			case "language":
				p.Language = &v
			case "spoiler_text":
				p.SpoilerText = &v
			case "in_reply_to_id":
				p.InReplyToID = v
			case "media_ids[]":
				p.MediaIDs = vs
			case "sensitive":
				b, err := strconv.ParseBool(v)
				if err != nil {
					return p, fmt.Errorf("mastodontest: sensitive: %q is not a boolean", v)
				}
				p.Sensitive = &b
			default:
				return p, fmt.Errorf("mastodontest: unknown or unsupported parameter %q", name)
			}
		}
	}
	if edit {
		switch {
		case p.Visibility != nil:
			return p, fmt.Errorf("mastodontest: an edit cannot change the visibility (Mastodon ignores it)")
		case p.InReplyToID != "":
			return p, fmt.Errorf("mastodontest: an edit cannot change in_reply_to_id (Mastodon ignores it)")
		}
	}
	return p, nil
}

// languageCode is an ISO 639-1 or 639-3 code, or one of the regional
// variants Mastodon knows.
var languageCode = regexp.MustCompile(`^(?:[a-z]{2,3}|es-AR|es-MX|fr-CA|pt-BR|pt-PT|sr-Latn|zh-CN|zh-HK|zh-TW)$`)

func validLanguage(tag string) bool { return tag == "" || languageCode.MatchString(tag) }

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// postMedia takes an upload as POST /api/v2/media does: a multipart file
// (an image, by its magic number, within the size limit) and an optional
// description within the description limit. It answers 200 with the
// media, or 202 without its url while it is processing.
func (s *Server) postMedia(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	sizeLimit, descLimit := s.imageSizeLimit, s.descLimit
	s.mu.Unlock()
	r.Body = http.MaxBytesReader(w, r.Body, int64(sizeLimit)+1<<20)
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "mastodontest: reading the multipart form: "+err.Error())
		return
	}
	for name := range r.MultipartForm.Value {
		if name != "description" && name != "focus" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("mastodontest: unknown or unsupported parameter %q", name))
			return
		}
	}
	for name := range r.MultipartForm.File {
		if name != "file" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("mastodontest: unknown or unsupported parameter %q", name))
			return
		}
	}
	file, _, err := r.FormFile("file")
	if err != nil {
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: File can't be blank")
		return
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		writeError(w, http.StatusBadRequest, "mastodontest: reading the file: "+err.Error())
		return
	}
	description := r.FormValue("description")
	contentType := sniffImage(data)
	switch {
	case len(data) > sizeLimit:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: File file size must be less than %d bytes", sizeLimit))
		return
	case contentType == "":
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: File content type is invalid, File is invalid")
		return
	case utf8.RuneCountInString(description) > descLimit:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: Description is too long (maximum is %d characters)", descLimit))
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Media{
		ID:          strconv.FormatInt(113600000000000000+int64(len(s.media))+1, 10),
		ContentType: contentType, Size: len(data), Description: description,
		Processed: s.processingPolls == 0, pollsLeft: s.processingPolls,
	}
	s.media = append(s.media, m)
	if m.Processed {
		writeJSON(w, http.StatusOK, s.mediaJSON(m))
	} else {
		writeJSON(w, http.StatusAccepted, s.mediaJSON(m))
	}
}

// getMedia answers GET /api/v1/media/:id as Mastodon does: only for media
// not yet attached; 206 while processing, 200 once processed.
func (s *Server) getMedia(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.media, func(m *Media) bool { return m.ID == r.PathValue("id") })
	if i < 0 || s.media[i].StatusID != "" {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	m := s.media[i]
	if !m.Processed {
		if m.pollsLeft > 0 {
			m.pollsLeft--
			writeJSON(w, http.StatusPartialContent, s.mediaJSON(m))
			return
		}
		m.Processed = true
	}
	writeJSON(w, http.StatusOK, s.mediaJSON(m))
}

// sniffImage names the image types Mastodon takes by their magic number.
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

type mediaJSON struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	URL         *string        `json:"url"`
	PreviewURL  string         `json:"preview_url"`
	RemoteURL   *string        `json:"remote_url"`
	TextURL     *string        `json:"text_url"`
	Meta        map[string]any `json:"meta"`
	Description *string        `json:"description"`
	Blurhash    string         `json:"blurhash"`
}

func (s *Server) mediaJSON(m *Media) mediaJSON {
	j := mediaJSON{
		ID: m.ID, Type: "image", Meta: map[string]any{},
		PreviewURL: s.srv.URL + "/system/media_attachments/files/small/" + m.ID + ".jpg",
		Blurhash:   "UBL_:rOpGG-oBUNG,qRj2so|=eE1w^n4S5NH",
	}
	if m.Processed {
		u := s.srv.URL + "/system/media_attachments/files/original/" + m.ID + ".jpg"
		j.URL = &u
	}
	if m.Description != "" {
		j.Description = &m.Description
	}
	return j
}

func (s *Server) verifyCredentials(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.accountJSON())
}

func (s *Server) accountStatuses(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("id") != AccountID {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	limit := 20
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 {
		limit = min(n, 40)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []statusJSON{}
	for i := len(s.statuses) - 1; i >= 0 && len(out) < limit; i-- {
		out = append(out, s.statusJSON(s.statuses[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) instanceV2(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noV2 {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	doc := map[string]any{
		"domain":        strings.TrimPrefix(s.srv.URL, "http://"),
		"title":         "mastodontest",
		"version":       s.versionString(),
		"configuration": s.configurationJSON(),
	}
	if src := s.sourceURL(); src != "" {
		doc["source_url"] = src
	}
	if s.software == GoToSocial {
		doc["account_domain"] = doc["domain"]
	}
	writeJSON(w, http.StatusOK, doc)
}

func (s *Server) instanceV1(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	doc := map[string]any{
		"uri":           strings.TrimPrefix(s.srv.URL, "http://"),
		"title":         "mastodontest",
		"version":       s.versionString(),
		"configuration": s.configurationJSON(),
	}
	switch s.software {
	case GoToSocial:
		doc["max_toot_chars"] = s.maxChars
		doc["account_domain"] = doc["uri"]
	case Pleroma, Akkoma:
		// Pleroma's own fields, and no configuration.
		doc["max_toot_chars"] = s.maxChars
		doc["description_limit"] = s.descLimit
		doc["upload_limit"] = s.imageSizeLimit
		delete(doc, "configuration")
		doc["pleroma"] = map[string]any{"metadata": map[string]any{"features": []string{"pleroma_api", "mastodon_api"}}}
	}
	writeJSON(w, http.StatusOK, doc)
}

// versionString is the version the instance documents give: a bare
// number when the software is hidden. s.mu must be held.
func (s *Server) versionString() string {
	switch s.software {
	case GoToSocial:
		return GoToSocialVersion
	case Pleroma, Akkoma:
		if s.hideInInstance {
			return "2.7.2"
		}
		name := map[Software]string{Pleroma: "Pleroma " + PleromaVersion, Akkoma: "Akkoma " + AkkomaVersion}[s.software]
		return "2.7.2 (compatible; " + name + ")"
	}
	if s.noV2 {
		return "3.5.3"
	}
	return MastodonVersion
}

// sourceURL is the source_url the instance documents give, "" when the
// software is hidden. s.mu must be held.
func (s *Server) sourceURL() string {
	if s.hideInInstance {
		return ""
	}
	switch s.software {
	case Mastodon:
		return "https://github.com/mastodon/mastodon"
	case GoToSocial:
		return "https://github.com/superseriousbusiness/gotosocial"
	}
	return ""
}

// nodeInfoLinks answers /.well-known/nodeinfo, which points to the
// document.
func (s *Server) nodeInfoLinks(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"links": []map[string]string{
		{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0", "href": s.srv.URL + "/nodeinfo/2.0"},
	}})
}

// nodeInfo answers the nodeinfo document: the software's name and version.
func (s *Server) nodeInfo(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	version := map[Software]string{Mastodon: s.versionString(), GoToSocial: GoToSocialVersion, Pleroma: PleromaVersion, Akkoma: AkkomaVersion}[s.software]
	writeJSON(w, http.StatusOK, map[string]any{
		"version":           "2.0",
		"software":          map[string]string{"name": string(s.software), "version": version},
		"protocols":         []string{"activitypub"},
		"openRegistrations": false,
		"usage":             map[string]any{"users": map[string]int{"total": 1}},
	})
}

func (s *Server) configurationJSON() map[string]any {
	return map[string]any{
		"statuses": map[string]any{
			"max_characters":              s.maxChars,
			"max_media_attachments":       maxMediaAttachments,
			"characters_reserved_per_url": s.perURL,
		},
		"media_attachments": map[string]any{
			"description_limit": s.descLimit,
			"image_size_limit":  s.imageSizeLimit,
		},
	}
}

type accountJSON struct {
	ID          string `json:"id"`
	Username    string `json:"username"`
	Acct        string `json:"acct"`
	DisplayName string `json:"display_name"`
	URL         string `json:"url"`
	CreatedAt   string `json:"created_at"`
}

func (s *Server) accountJSON() accountJSON {
	return accountJSON{
		ID: AccountID, Username: Username, Acct: Username, DisplayName: "Syndicate",
		URL: s.srv.URL + "/@" + Username, CreatedAt: "2022-11-01T00:00:00.000Z",
	}
}

type statusJSON struct {
	ID               string      `json:"id"`
	CreatedAt        string      `json:"created_at"`
	EditedAt         *string     `json:"edited_at"`
	InReplyToID      *string     `json:"in_reply_to_id"`
	Sensitive        bool        `json:"sensitive"`
	SpoilerText      string      `json:"spoiler_text"`
	Visibility       string      `json:"visibility"`
	Language         *string     `json:"language"`
	URI              string      `json:"uri"`
	URL              string      `json:"url"`
	Content          string      `json:"content"`
	Account          accountJSON `json:"account"`
	Reblog           *statusJSON `json:"reblog"`
	MediaAttachments []mediaJSON `json:"media_attachments"`
	Mentions         []any       `json:"mentions"`
	Tags             []any       `json:"tags"`
	Emojis           []any       `json:"emojis"`
}

const timeFormat = "2006-01-02T15:04:05.000Z"

// statusJSON renders st. s.mu must be held.
func (s *Server) statusJSON(st Status) statusJSON {
	nullable := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	var edited string
	if !st.EditedAt.IsZero() {
		edited = st.EditedAt.Format(timeFormat)
	}
	media := []mediaJSON{}
	for _, id := range st.MediaIDs {
		if i := slices.IndexFunc(s.media, func(m *Media) bool { return m.ID == id }); i >= 0 {
			media = append(media, s.mediaJSON(s.media[i]))
		}
	}
	return statusJSON{
		ID: st.ID, CreatedAt: st.CreatedAt.Format(timeFormat), EditedAt: nullable(edited),
		InReplyToID: nullable(st.InReplyToID), Sensitive: st.Sensitive, SpoilerText: st.SpoilerText,
		Visibility: st.Visibility, Language: nullable(st.Language), URI: st.URI, URL: st.URL,
		Content: st.Content, Account: s.accountJSON(),
		MediaAttachments: media, Mentions: []any{}, Tags: []any{}, Emojis: []any{},
	}
}

// renderContent renders a status text as Mastodon does: paragraphs, <br />
// for single line breaks, and URLs as links whose text is split into spans.
func renderContent(text string) string {
	var b strings.Builder
	for _, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		b.WriteString("<p>")
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				b.WriteString("<br />")
			}
			pos := 0
			for _, u := range length.URLs(line) {
				b.WriteString(html.EscapeString(line[pos:u.Start]))
				b.WriteString(linkHTML(line[u.Start:u.End]))
				pos = u.End
			}
			b.WriteString(html.EscapeString(line[pos:]))
		}
		b.WriteString("</p>")
	}
	return b.String()
}

func linkHTML(url string) string {
	scheme, rest, _ := strings.Cut(url, "://")
	shown, hidden := rest, ""
	class := ""
	if r := []rune(rest); len(r) > 30 {
		shown, hidden, class = string(r[:30]), string(r[30:]), "ellipsis"
	}
	return fmt.Sprintf(`<a href="%s" target="_blank" rel="nofollow noopener" translate="no">`+
		`<span class="invisible">%s://</span><span class="%s">%s</span><span class="invisible">%s</span></a>`,
		html.EscapeString(url), html.EscapeString(scheme), class, html.EscapeString(shown), html.EscapeString(hidden))
}

func errorBody(message string) string {
	b, _ := json.Marshal(map[string]string{"error": message})
	return string(b)
}

func writeError(w http.ResponseWriter, status int, message string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, errorBody(message))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
