// Package telegramtest is a fake Telegram Bot API server for tests, here and
// in end-to-end tests elsewhere. It answers like the real one for the methods
// syndicate uses (getMe, getChat, getChatMember, sendMessage, sendPhoto,
// editMessageText, editMessageCaption): the same routes, the same JSON, the
// same error codes and descriptions, and a parser of parse_mode HTML that
// refuses what Telegram refuses. It counts lengths after parsing in UTF-16
// (text 4096, caption 1024), checks the chat and the bot's rights in it,
// fetches a photo given by URL and checks that it is an image (from
// loopback addresses only: tests never reach the network), follows
// replies (reply_parameters, reply_to_message_id), refuses an edit that
// changes nothing, and injects failures: any answer (FailNext), 429 with
// retry_after (FloodWait), a group upgraded to a supergroup (MigrateChat),
// an answer lost after the message was taken (DropAfterAccept).
//
// Where it departs from Telegram it is stricter, so mistakes show in tests:
// an unknown parameter is refused (Telegram ignores it), a "&" that does not
// start a character reference is refused (Telegram keeps it), and
// parse_mode Markdown or MarkdownV2 is refused as not implemented.
package telegramtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels/telegram/internal/tghtml"
)

// BotUsername is the username getMe reports.
const BotUsername = "syndicate_test_bot"

// Message is a message the server accepted, as it was sent.
type Message struct {
	ID     int
	Method string // sendMessage or sendPhoto
	Chat   string // as given to AddChat
	// Text is the text or caption as sent, before parsing.
	Text      string
	ParseMode string
	// Plain is the text as Telegram shows it: tags removed, entities
	// decoded, surrounding white space trimmed.
	Plain string
	// Options holds every other parameter as sent (link_preview_options,
	// reply_markup, disable_notification, message_thread_id, …), JSON
	// values as their JSON text.
	Options map[string]string
	// Photo is the photo parameter for a URL or file id; PhotoUpload the
	// bytes of an uploaded one; PhotoFetched the bytes the server fetched
	// from the URL.
	Photo        string
	PhotoUpload  []byte
	PhotoFetched []byte
	// ReplyTo is the message this one answers (reply_parameters or
	// reply_to_message_id), 0 when none.
	ReplyTo int
	Date    time.Time
	Edits   int // how many times editMessageText/Caption changed it
}

// Server is a fake Bot API server. Its methods are safe for concurrent use.
type Server struct {
	t     testing.TB
	token string
	botID int64
	srv   *httptest.Server
	// fetcher fetches the photos given by URL.
	fetcher *http.Client

	mu       sync.Mutex
	chats    []*chat
	messages []*stored
	calls    map[string]int
	failures []failure
	drops    int
}

type chat struct {
	name      string // as given to AddChat
	id        int64
	username  string
	kind      string // channel, supergroup, private
	botStatus string
	// canPost is false for an administrator of a channel without the
	// right to post, or a restricted member of a group.
	canPost    bool
	migratedTo int64 // the supergroup this group became
	nextID     int
}

type stored struct {
	Message
	chat     *chat
	entities []tghtml.Entity
	markup   string
	edited   time.Time
}

type failure struct {
	status int
	body   string
}

// NewServer starts a server that accepts token; it stops when the test ends.
func NewServer(t testing.TB, token string) *Server {
	t.Helper()
	if token == "" {
		t.Fatal("telegramtest: empty token")
	}
	s := &Server{t: t, token: token, botID: botID(token), calls: map[string]int{}, fetcher: loopbackClient()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	t.Cleanup(s.fetcher.CloseIdleConnections)
	return s
}

// URL is the base URL to configure as api_url.
func (s *Server) URL() string { return s.srv.URL }

// Close stops the server before the test ends (to test a refused connection).
func (s *Server) Close() { s.srv.Close() }

// AddChat makes a chat known: "@name" is a public channel, a numeric id
// starting with -100 a private channel, another negative id a supergroup,
// a positive one a private chat. The bot is an administrator allowed to post.
// Requests for any other chat fail with "Bad Request: chat not found".
func (s *Server) AddChat(name string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &chat{name: name, kind: "channel", botStatus: "administrator", canPost: true}
	if u, ok := strings.CutPrefix(name, "@"); ok {
		c.username = u
		c.id = -1001000000000 - int64(len(s.chats))
	} else {
		id, err := strconv.ParseInt(name, 10, 64)
		if err != nil {
			s.t.Fatalf("telegramtest: AddChat: want @name or a numeric id, got %q", name)
		}
		c.id = id
		switch {
		case id > 0:
			c.kind = "private"
			c.botStatus = "member"
		case !strings.HasPrefix(name, "-100"):
			c.kind = "supergroup"
		}
	}
	s.chats = append(s.chats, c)
}

// SetBotStatus changes the bot's membership in a known chat: "administrator"
// (may post), "member" (may post in groups only), "left" or "kicked".
func (s *Server) SetBotStatus(chatName, status string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chatNamed(chatName).botStatus = status
}

// SetCanPost takes away (or gives back) the bot's right to post in a known
// chat while it stays an administrator (of a channel) or a member (of a
// group, then "restricted").
func (s *Server) SetCanPost(chatName string, can bool) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chatNamed(chatName)
	c.canPost = can
	switch {
	case c.kind != "channel" && !can:
		c.botStatus = "restricted"
	case c.botStatus == "restricted" && can:
		c.botStatus = "member"
	}
}

// MigrateChat turns a known group into a new supergroup, as Telegram does
// when a group is upgraded: requests to the old chat are refused with
// "Bad Request: group chat was upgraded to a supergroup chat" and
// parameters.migrate_to_chat_id, the new id, which it returns. The new
// chat is known by that id, with the bot's status unchanged.
func (s *Server) MigrateChat(chatName string) int64 {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.chatNamed(chatName)
	id := -1009000000000 - int64(len(s.chats))
	old.migratedTo = id
	s.chats = append(s.chats, &chat{name: strconv.FormatInt(id, 10), id: id, kind: "supergroup",
		botStatus: old.botStatus, canPost: old.canPost})
	return id
}

// FloodWait makes the next n requests answer 429 "Too Many Requests:
// retry after N" with parameters.retry_after.
func (s *Server) FloodWait(n, retryAfter int) {
	s.FailNext(n, http.StatusTooManyRequests, fmt.Sprintf(
		`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after %d","parameters":{"retry_after":%d}}`, retryAfter, retryAfter))
}

func (s *Server) chatNamed(name string) *chat {
	for _, c := range s.chats {
		if c.name == name {
			return c
		}
	}
	s.t.Fatalf("telegramtest: unknown chat %q", name)
	return nil
}

// FailNext makes the next n requests (to any known method, with the right
// token) answer status and body instead of being processed. A body that is
// not JSON is sent as text/html, as a proxy in front of Telegram would.
func (s *Server) FailNext(n int, status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failures = append(s.failures, failure{status: status, body: body})
	}
}

// DropAfterAccept makes the next n accepted sends or edits take effect and
// then closes the connection without answering, as when a crash or a network
// failure loses the answer after the request left.
func (s *Server) DropAfterAccept(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops += n
}

// Messages returns the accepted messages, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Message, 0, len(s.messages))
	for _, m := range s.messages {
		c := m.Message
		c.Options = make(map[string]string, len(m.Options))
		for k, v := range m.Options {
			c.Options[k] = v
		}
		c.PhotoUpload = append([]byte(nil), m.PhotoUpload...)
		c.PhotoFetched = append([]byte(nil), m.PhotoFetched...)
		out = append(out, c)
	}
	return out
}

// Calls counts the requests received for method (as in "sendMessage"),
// whatever their outcome.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// ParseHTML parses text as Telegram parses parse_mode HTML (tdlib's rules,
// which the server applies too) and returns the plain text, or the reason
// it is refused (what follows "can't parse entities: " in Telegram's
// answer). Like Telegram it accepts a "&" that starts no character
// reference.
func ParseHTML(s string) (plain string, err error) {
	plain, _, err = tghtml.Parse(s)
	return plain, err
}

func botID(token string) int64 {
	id, _, _ := strings.Cut(token, ":")
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > 0 {
		return n
	}
	return 1
}

// apiError is an answer with "ok": false.
type apiError struct {
	code       int
	desc       string
	migrateTo  int64
	retryAfter int
}

func badRequest(desc string) *apiError { return &apiError{code: 400, desc: "Bad Request: " + desc} }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	answer := map[string]any{"ok": false, "error_code": e.code, "description": e.desc}
	params := map[string]any{}
	if e.migrateTo != 0 {
		params["migrate_to_chat_id"] = e.migrateTo
	}
	if e.retryAfter != 0 {
		params["retry_after"] = e.retryAfter
	}
	if len(params) > 0 {
		answer["parameters"] = params
	}
	writeJSON(w, e.code, answer)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, name, found := strings.Cut(rest, "/")
	if !ok || !found {
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	if token != s.token {
		writeError(w, &apiError{code: 401, desc: "Unauthorized"})
		return
	}
	m, known := lookupMethod(name)
	s.mu.Lock()
	if !known {
		s.calls[name]++
		s.mu.Unlock()
		writeError(w, &apiError{code: 404, desc: "Not Found"})
		return
	}
	s.calls[m.name]++
	if len(s.failures) > 0 {
		f := s.failures[0]
		s.failures = s.failures[1:]
		s.mu.Unlock()
		if json.Valid([]byte(f.body)) {
			w.Header().Set("Content-Type", "application/json")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	s.mu.Unlock()

	req, perr := readRequest(r)
	if perr == nil {
		perr = req.checkKnown(m)
	}
	if perr != nil {
		writeError(w, perr)
		return
	}
	if m.name == "sendPhoto" {
		// Fetched before taking the lock, as Telegram fetches it.
		req.fetchPhoto(r.Context(), s.fetcher)
	}
	s.mu.Lock()
	result, aerr := m.handle(s, req)
	drop := aerr == nil && m.changes && s.drops > 0
	if drop {
		s.drops--
	}
	s.mu.Unlock()
	switch {
	case drop:
		hijackAndClose(w)
	case aerr != nil:
		writeError(w, aerr)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"ok": true, "result": result})
	}
}

func hijackAndClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
