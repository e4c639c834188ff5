// Package mastodontest is a fake Mastodon server for tests. It answers the
// part of the API the syndicate channel uses as Mastodon does, and refuses
// what Mastodon refuses: a missing or wrong token, a blank status, a status
// over the character limit (counted as Mastodon counts), an unknown
// visibility. It honours Idempotency-Key, and can be told to fail the next
// status posts, or to publish them and drop the connection unanswered.
//
// It is stricter than Mastodon in one way: a status post with a parameter
// the fake does not implement is refused (400), so a test never passes by a
// parameter being silently ignored.
package mastodontest

import (
	"encoding/json"
	"fmt"
	"html"
	"mime"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The account the token belongs to.
const (
	AccountID = "109000000000000001"
	Username  = "syndicate"
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
}

// Server is the fake. It is safe for concurrent use.
type Server struct {
	srv   *httptest.Server
	mux   *http.ServeMux
	token string

	mu       sync.Mutex
	maxChars int
	noV2     bool
	statuses []Status
	byKey    map[string]int // idempotency key → index in statuses
	failures []failure
	drops    int
	requests map[string]int
}

type failure struct {
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
		mux:      http.NewServeMux(),
		token:    token,
		maxChars: 500,
		byKey:    map[string]int{},
		requests: map[string]int{},
	}
	s.mux.HandleFunc("POST /api/v1/statuses", s.postStatus)
	s.mux.HandleFunc("GET /api/v1/accounts/verify_credentials", s.verifyCredentials)
	s.mux.HandleFunc("GET /api/v1/accounts/{id}/statuses", s.accountStatuses)
	s.mux.HandleFunc("GET /api/v2/instance", s.instanceV2)
	s.mux.HandleFunc("GET /api/v1/instance", s.instanceV1)
	s.srv = httptest.NewServer(s)
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the base URL of the instance.
func (s *Server) URL() string { return s.srv.URL }

// SetMaxCharacters sets the instance's status limit (default 500).
func (s *Server) SetMaxCharacters(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxChars = n
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
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status, header.Clone(), body})
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
	return slices.Clone(s.statuses)
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
	if r.Method == http.MethodPost && r.URL.Path == "/api/v1/statuses" && len(s.failures) > 0 {
		fail = &s.failures[0]
		s.failures = s.failures[1:]
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
	if r.Header.Get("Authorization") != "Bearer "+s.token {
		writeError(w, http.StatusUnauthorized, "The access token is invalid")
		return
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) postStatus(w http.ResponseWriter, r *http.Request) {
	p, err := readStatusParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()

	key := r.Header.Get("Idempotency-Key")
	if i, ok := s.byKey[key]; ok && key != "" && time.Since(s.statuses[i].CreatedAt) < idempotencyTTL {
		s.answerStatus(w, s.statuses[i])
		return
	}
	switch {
	case strings.TrimSpace(p.Status) == "" && len(p.MediaIDs) == 0:
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Text can't be blank")
		return
	case !slices.Contains([]string{"public", "unlisted", "private", "direct"}, p.Visibility):
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: Visibility is not included in the list")
		return
	case Length(p.SpoilerText+p.Status, 23) > s.maxChars:
		writeError(w, http.StatusUnprocessableEntity, fmt.Sprintf("Validation failed: Text character limit of %d exceeded", s.maxChars))
		return
	case len(p.MediaIDs) > 0: // the fake has no media endpoint
		writeError(w, http.StatusUnprocessableEntity, "Validation failed: media attachments not found: "+strings.Join(p.MediaIDs, ", "))
		return
	case p.InReplyToID != "" && !slices.ContainsFunc(s.statuses, func(st Status) bool { return st.ID == p.InReplyToID }):
		writeError(w, http.StatusNotFound, "Record not found")
		return
	}
	id := strconv.FormatInt(113500000000000000+int64(len(s.statuses))+1, 10)
	st := Status{
		ID:             id,
		URL:            s.srv.URL + "/@" + Username + "/" + id,
		URI:            s.srv.URL + "/users/" + Username + "/statuses/" + id,
		Text:           p.Status,
		Content:        renderContent(p.Status),
		SpoilerText:    p.SpoilerText,
		Visibility:     p.Visibility,
		Language:       p.Language,
		Sensitive:      p.Sensitive,
		InReplyToID:    p.InReplyToID,
		IdempotencyKey: key,
		CreatedAt:      time.Now().UTC(),
	}
	s.statuses = append(s.statuses, st)
	if key != "" {
		s.byKey[key] = len(s.statuses) - 1
	}
	s.answerStatus(w, st)
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

type statusParams struct {
	Status      string   `json:"status"`
	Visibility  string   `json:"visibility"`
	Language    string   `json:"language"`
	SpoilerText string   `json:"spoiler_text"`
	Sensitive   bool     `json:"sensitive"`
	MediaIDs    []string `json:"media_ids"`
	InReplyToID string   `json:"in_reply_to_id"`
}

// readStatusParams reads a JSON or form body, refusing parameters the fake
// does not implement.
func readStatusParams(r *http.Request) (statusParams, error) {
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
				p.Visibility = v
			case "language":
				p.Language = v
			case "spoiler_text":
				p.SpoilerText = v
			case "in_reply_to_id":
				p.InReplyToID = v
			case "media_ids[]":
				p.MediaIDs = vs
			case "sensitive":
				b, err := strconv.ParseBool(v)
				if err != nil {
					return p, fmt.Errorf("mastodontest: sensitive: %q is not a boolean", v)
				}
				p.Sensitive = b
			default:
				return p, fmt.Errorf("mastodontest: unknown or unsupported parameter %q", name)
			}
		}
	}
	if p.Visibility == "" {
		p.Visibility = "public"
	}
	return p, nil
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
	writeJSON(w, http.StatusOK, map[string]any{
		"domain":        strings.TrimPrefix(s.srv.URL, "http://"),
		"title":         "mastodontest",
		"version":       "4.3.0",
		"configuration": s.configurationJSON(),
	})
}

func (s *Server) instanceV1(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	version := "4.3.0"
	if s.noV2 {
		version = "3.5.3"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"uri":           strings.TrimPrefix(s.srv.URL, "http://"),
		"title":         "mastodontest",
		"version":       version,
		"configuration": s.configurationJSON(),
	})
}

func (s *Server) configurationJSON() map[string]any {
	return map[string]any{
		"statuses": map[string]any{
			"max_characters":              s.maxChars,
			"max_media_attachments":       4,
			"characters_reserved_per_url": 23,
		},
		"media_attachments": map[string]any{
			"description_limit": 1500,
			"image_size_limit":  16777216,
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
	MediaAttachments []any       `json:"media_attachments"`
	Mentions         []any       `json:"mentions"`
	Tags             []any       `json:"tags"`
	Emojis           []any       `json:"emojis"`
}

func (s *Server) statusJSON(st Status) statusJSON {
	nullable := func(v string) *string {
		if v == "" {
			return nil
		}
		return &v
	}
	return statusJSON{
		ID: st.ID, CreatedAt: st.CreatedAt.Format("2006-01-02T15:04:05.000Z"),
		InReplyToID: nullable(st.InReplyToID), Sensitive: st.Sensitive, SpoilerText: st.SpoilerText,
		Visibility: st.Visibility, Language: nullable(st.Language), URI: st.URI, URL: st.URL,
		Content: st.Content, Account: s.accountJSON(),
		MediaAttachments: []any{}, Mentions: []any{}, Tags: []any{}, Emojis: []any{},
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
			for _, u := range urlSpans(line) {
				b.WriteString(html.EscapeString(line[pos:u[0]]))
				b.WriteString(linkHTML(line[u[0]:u[1]]))
				pos = u[1]
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
