package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

// Subscriptions is what the subscription pages ask of subscribe.Service.
type Subscriptions interface {
	Subscribe(ctx context.Context, list, email, name, clientIP string) error
	Confirm(ctx context.Context, token string) (syndicate.Subscriber, error)
	Unsubscribe(ctx context.Context, token string) (syndicate.Subscriber, error)
	Inspect(token string) (subscribe.Link, error)
}

// SubscribePages configure the subscription pages: GET and POST
// /subscribe, GET /confirm/{token}, GET and POST /unsubscribe/{token}.
type SubscribePages struct {
	Service Subscriptions
	// Lists maps each list one may subscribe to to its language (en, es,
	// es-AR…). A page about a list speaks its language, English or Spanish
	// (English for any other); a page about no list in particular follows
	// the browser's Accept-Language.
	Lists map[string]string
	// ClientIPHeader names the header a trusted reverse proxy puts the
	// client's address in: X-Forwarded-For (its last address is taken) or
	// another holding one address (X-Real-IP). Empty: the address of the
	// connection. Without a proxy it must stay empty, or clients could
	// choose the address their requests are counted under.
	ClientIPHeader string
}

//go:embed templates/subscribe.html
var subscribeTemplates embed.FS

// maxFormBytes caps the body of the pages' POSTs: a form of two fields, or
// the one-click body.
const maxFormBytes = 64 << 10

type subscribeHandler struct {
	SubscribePages
	tmpl *template.Template
	log  *slog.Logger
}

func (p *SubscribePages) register(mux *http.ServeMux, log *slog.Logger) {
	h := &subscribeHandler{
		SubscribePages: *p,
		tmpl:           template.Must(template.ParseFS(subscribeTemplates, "templates/subscribe.html")),
		log:            log,
	}
	mux.HandleFunc("GET /subscribe", h.form)
	mux.HandleFunc("POST /subscribe", h.subscribe)
	mux.HandleFunc("GET /confirm/{token}", h.confirm)
	mux.HandleFunc("GET /unsubscribe/{token}", h.unsubscribePage)
	mux.HandleFunc("POST /unsubscribe/{token}", h.unsubscribe)
}

// page is what the templates are given.
type page struct {
	T        *pageText
	Title    string
	Body     string // "form", "unsubscribe" or "message"
	Message  string
	AgainURL string // a link to the form, on pages about a spent link

	Lists []listOption
	Email string
	Error string
}

type listOption struct {
	Name, Lang, Label string
	Selected          bool
}

// textOfList is the language of the pages about list, or, for a list not
// configured (any more), the browser's.
func (h *subscribeHandler) textOfList(list string, r *http.Request) *pageText {
	if lang, ok := h.Lists[list]; ok {
		if t, ok := textFor(lang); ok {
			return t
		}
		return &english
	}
	return acceptLanguage(r.Header.Get("Accept-Language"))
}

func (h *subscribeHandler) render(w http.ResponseWriter, status int, p page) {
	var buf bytes.Buffer
	if err := h.tmpl.ExecuteTemplate(&buf, "page", p); err != nil {
		h.log.Error("subscribe: page", slog.Any("error", err))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Language", p.T.Lang)
	hd.Set("Cache-Control", "no-store")
	// The links carry tokens: never let them leak through a Referer.
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hd.Set("Vary", "Accept-Language")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (h *subscribeHandler) message(w http.ResponseWriter, status int, t *pageText, title, msg, againList string) {
	p := page{T: t, Title: title, Body: "message", Message: msg}
	if againList != "" {
		p.AgainURL = "../subscribe?list=" + url.QueryEscape(againList)
	}
	h.render(w, status, p)
}

// formPage is the subscription form, in the language of the list chosen
// (?list=, or the one posted), else of the browser, preselecting a list
// of that language.
func (h *subscribeHandler) formPage(r *http.Request, chosen, email, problem string) page {
	names := make([]string, 0, len(h.Lists))
	for name := range h.Lists {
		names = append(names, name)
	}
	slices.Sort(names)
	if _, ok := h.Lists[chosen]; !ok && len(names) == 1 {
		chosen = names[0]
	}
	t := h.textOfList(chosen, r)
	if _, ok := h.Lists[chosen]; !ok {
		chosen = ""
		for _, name := range names {
			if lt, _ := textFor(h.Lists[name]); lt == t {
				chosen = name
				break
			}
		}
	}
	// Two lists of one language are told apart by their names.
	perLang := map[*pageText]int{}
	for _, name := range names {
		lt, ok := textFor(h.Lists[name])
		if !ok {
			lt = &english
		}
		perLang[lt]++
	}
	p := page{T: t, Title: t.SubscribeTitle, Body: "form", Email: email, Error: problem}
	for _, name := range names {
		lt, ok := textFor(h.Lists[name])
		label := name
		if ok && perLang[lt] == 1 {
			label = lt.LangName
		} else if ok {
			label = lt.LangName + " (" + name + ")"
		}
		lang := h.Lists[name]
		if !ok {
			lang = ""
		}
		p.Lists = append(p.Lists, listOption{Name: name, Lang: lang, Label: label, Selected: name == chosen})
	}
	return p
}

func (h *subscribeHandler) form(w http.ResponseWriter, r *http.Request) {
	if len(h.Lists) == 0 {
		http.NotFound(w, r)
		return
	}
	h.render(w, http.StatusOK, h.formPage(r, r.URL.Query().Get("list"), "", ""))
}

// parseBody reads a urlencoded or multipart form of at most maxFormBytes.
func parseBody(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		return r.ParseMultipartForm(maxFormBytes)
	}
	return r.ParseForm()
}

func (h *subscribeHandler) subscribe(w http.ResponseWriter, r *http.Request) {
	if len(h.Lists) == 0 {
		http.NotFound(w, r)
		return
	}
	if err := parseBody(w, r); err != nil {
		h.render(w, http.StatusBadRequest, h.formPage(r, "", "", ""))
		return
	}
	list, email := r.FormValue("list"), r.PostFormValue("email")
	if len(h.Lists) == 1 && list == "" {
		for name := range h.Lists {
			list = name
		}
	}
	t := h.textOfList(list, r)
	sent := func() {
		h.message(w, http.StatusOK, t, t.SentTitle, t.SentBody, "")
	}
	if r.PostFormValue("website") != "" {
		// A bot filled the field humans do not see: it is told what
		// everyone is told, and nothing happens.
		h.log.Info("subscribe: honeypot filled; request ignored", "list", list)
		sent()
		return
	}
	err := h.Service.Subscribe(r.Context(), list, email, r.PostFormValue("name"), h.clientIP(r))
	var limited *subscribe.RateLimitError
	switch {
	case err == nil:
		sent()
	case errors.Is(err, subscribe.ErrUnknownList):
		h.render(w, http.StatusBadRequest, h.formPage(r, "", email, t.ChooseList))
	case errors.Is(err, subscribe.ErrInvalidAddress):
		h.render(w, http.StatusBadRequest, h.formPage(r, list, email, t.BadAddress))
	case errors.As(err, &limited) && limited.Scope == subscribe.ScopeAddress:
		// That address has had its share of mail today: answered as
		// usual, so the form neither bombs an inbox nor tells anything.
		sent()
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(int(max(time.Second, limited.RetryAfter.Round(time.Second))/time.Second)))
		h.message(w, http.StatusTooManyRequests, t, t.LimitedTitle, t.LimitedBody, "")
	default:
		h.log.Error("subscribe: request failed", "list", list, slog.Any("error", err))
		h.message(w, http.StatusServiceUnavailable, t, t.ErrorTitle, t.ErrorBody, "")
	}
}

// confirm follows a confirmation link. A HEAD request (a link checker)
// only tells whether the link is valid.
func (h *subscribeHandler) confirm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	link, err := h.Service.Inspect(token)
	if err == nil && link.Kind != subscribe.LinkConfirm {
		err = subscribe.ErrInvalidToken
	}
	var sub syndicate.Subscriber
	if err == nil && r.Method != http.MethodHead {
		sub, err = h.Service.Confirm(r.Context(), token)
	}
	t := h.textOfList(link.List, r)
	switch {
	case err == nil:
		h.message(w, http.StatusOK, t, t.ConfirmedTitle, fmt.Sprintf(t.ConfirmedBody, addressOf(sub, link)), "")
	case errors.Is(err, subscribe.ErrExpired):
		h.message(w, http.StatusGone, t, t.ExpiredTitle, t.ExpiredBody, link.List)
	case errors.Is(err, subscribe.ErrInvalidToken):
		h.message(w, http.StatusBadRequest, t, t.InvalidTitle, t.InvalidBody, h.knownList(link.List))
	default:
		h.log.Error("subscribe: confirmation failed", "list", link.List, slog.Any("error", err))
		h.message(w, http.StatusServiceUnavailable, t, t.ErrorTitle, t.ErrorBody, "")
	}
}

// unsubscribePage shows the one button that unsubscribes: following the
// link changes nothing, so mail scanners that fetch every link
// unsubscribe nobody.
func (h *subscribeHandler) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	link, err := h.Service.Inspect(r.PathValue("token"))
	if err == nil && link.Kind != subscribe.LinkUnsubscribe {
		err = subscribe.ErrInvalidToken
	}
	t := h.textOfList(link.List, r)
	if err != nil {
		h.message(w, http.StatusBadRequest, t, t.InvalidTitle, t.InvalidBody, "")
		return
	}
	h.render(w, http.StatusOK, page{T: t, Title: t.UnsubscribeTitle, Body: "unsubscribe", Message: fmt.Sprintf(t.UnsubscribeBody, link.Email)})
}

// unsubscribe is the page's button and RFC 8058's one-click POST (body
// List-Unsubscribe=One-Click, urlencoded or multipart): the signed link is
// the authority, so neither cookie nor login is asked for, and the answer
// is a 200, never a redirect.
func (h *subscribeHandler) unsubscribe(w http.ResponseWriter, r *http.Request) {
	oneClick := parseBody(w, r) == nil && r.PostFormValue("List-Unsubscribe") == "One-Click"
	link, _ := h.Service.Inspect(r.PathValue("token"))
	t := h.textOfList(link.List, r)
	sub, err := h.Service.Unsubscribe(r.Context(), r.PathValue("token"))
	switch {
	case err == nil:
		h.log.Info("subscribe: unsubscribe request", "list", sub.List, "subscriber", sub.ID, "one_click", oneClick)
		h.message(w, http.StatusOK, t, t.UnsubscribedTitle, fmt.Sprintf(t.UnsubscribedBody, sub.Email), "")
	case errors.Is(err, subscribe.ErrInvalidToken), errors.Is(err, subscribe.ErrExpired):
		h.message(w, http.StatusBadRequest, t, t.InvalidTitle, t.InvalidBody, "")
	default:
		h.log.Error("subscribe: unsubscribe failed", "list", link.List, slog.Any("error", err))
		h.message(w, http.StatusServiceUnavailable, t, t.ErrorTitle, t.ErrorBody, "")
	}
}

func (h *subscribeHandler) knownList(list string) string {
	if _, ok := h.Lists[list]; ok {
		return list
	}
	return ""
}

func addressOf(s syndicate.Subscriber, l subscribe.Link) string {
	if s.Email != "" {
		return s.Email
	}
	return l.Email
}

// clientIP is the address the rate limits count the request under.
func (h *subscribeHandler) clientIP(r *http.Request) string {
	if h.ClientIPHeader != "" {
		v := ""
		if lines := r.Header.Values(h.ClientIPHeader); len(lines) > 0 {
			v = lines[len(lines)-1]
		}
		if strings.EqualFold(h.ClientIPHeader, "X-Forwarded-For") {
			// The proxy appends the address it saw: the last one. Those
			// before it are whatever the client wrote.
			if i := strings.LastIndexByte(v, ','); i >= 0 {
				v = v[i+1:]
			}
		}
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
