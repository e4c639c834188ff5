package web_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
)

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type sentMail struct {
	sub syndicate.Subscriber
	url string
}

// outbox is the ConfirmationSender of the tests.
type outbox struct {
	mu    sync.Mutex
	mails []sentMail
}

func (o *outbox) SendConfirmation(_ context.Context, s syndicate.Subscriber, u string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.mails = append(o.mails, sentMail{s, u})
	return nil
}

func (o *outbox) count() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.mails)
}

func (o *outbox) last(t *testing.T) sentMail {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.mails) == 0 {
		t.Fatal("no confirmation was mailed")
	}
	return o.mails[len(o.mails)-1]
}

// subscribeSite is the daemon's HTTP surface with the subscription pages,
// over a real SQLite store, on loopback.
type subscribeSite struct {
	t      *testing.T
	srv    *httptest.Server
	store  *sqlite.Store
	outbox *outbox
	clock  *testClock
	svc    *subscribe.Service
}

type siteConfig struct {
	limits   *subscribe.Limits
	ipHeader string
	lists    map[string]string
}

func newSubscribeSite(t *testing.T, cfg siteConfig) *subscribeSite {
	t.Helper()
	if cfg.lists == nil {
		cfg.lists = map[string]string{"en": "en", "es": "es"}
	}
	if cfg.limits == nil {
		cfg.limits = &subscribe.Limits{}
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &subscribeSite{t: t, store: st, outbox: &outbox{}, clock: &testClock{t: time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)}}
	mux := http.NewServeMux()
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	var lists []string
	for l := range cfg.lists {
		lists = append(lists, l)
	}
	s.svc, err = subscribe.New(subscribe.Options{
		Store: st, Sender: s.outbox, PublicURL: s.srv.URL, Secret: []byte("web-test-secret-0123456789"),
		Lists: lists, Limits: cfg.limits, Now: s.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle("/", web.Handler(web.Options{
		Daemon: &daemon{ready: true}, Gatherer: prometheus.NewRegistry(),
		Subscribe: &web.SubscribePages{Service: s.svc, Lists: cfg.lists, ClientIPHeader: cfg.ipHeader},
	}))
	return s
}

type response struct {
	status int
	header http.Header
	body   string
}

// noRedirects is a client that shows redirects instead of following them.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (s *subscribeSite) do(method, path, contentType string, body io.Reader, header ...string) response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.srv.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Add(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (s *subscribeSite) get(path string, header ...string) response {
	s.t.Helper()
	return s.do("GET", path, "", nil, header...)
}

func (s *subscribeSite) post(path string, form url.Values, header ...string) response {
	s.t.Helper()
	return s.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), header...)
}

func (s *subscribeSite) subscribe(list, email string, header ...string) response {
	s.t.Helper()
	return s.post("/subscribe", url.Values{"email": {email}, "list": {list}, "website": {""}}, header...)
}

func (s *subscribeSite) state(list, email string) syndicate.SubscriberState {
	s.t.Helper()
	sub, err := s.store.Subscriber(s.t.Context(), list, email)
	if err != nil {
		return ""
	}
	return sub.State
}

func (s *subscribeSite) add(list, email string, state syndicate.SubscriberState) syndicate.Subscriber {
	s.t.Helper()
	sub, _, err := s.store.AddSubscriber(s.t.Context(), syndicate.Subscriber{List: list, Email: email, State: state})
	if err != nil {
		s.t.Fatal(err)
	}
	return sub
}

func pathOf(t *testing.T, u string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Path
}

func tamper(path string) string {
	i := strings.LastIndexByte(path, '.') - 3
	c := "A"
	if path[i] == 'A' {
		c = "B"
	}
	return path[:i] + c + path[i+1:]
}

func TestSubscribeRoutes(t *testing.T) {
	s := newSubscribeSite(t, siteConfig{})
	confirmed := s.add("en", "confirmed@example.org", syndicate.SubscriberConfirmed)
	unsub := pathOf(t, s.svc.UnsubscribeURL(confirmed))
	pending := s.add("en", "pending@example.org", syndicate.SubscriberPending)
	confirm := pathOf(t, s.svc.ConfirmURL(pending))
	expiring := s.add("en", "late@example.org", syndicate.SubscriberPending)
	expired := pathOf(t, s.svc.ConfirmURL(expiring))
	s.clock.Advance(48 * time.Hour)
	confirm2 := pathOf(t, s.svc.ConfirmURL(pending))

	tests := []struct {
		name, method, path, body string
		header                   []string
		status                   int
		contains                 []string
		state                    func() bool
	}{
		{name: "form", method: "GET", path: "/subscribe", status: 200, contains: []string{
			`<html lang="en">`, `<form method="post"`, `<label for="email">Email address</label>`, `type="email" id="email" name="email"`,
			`<label for="list">Newsletter</label>`, `<option value="en" lang="en" selected>English</option>`, `<option value="es" lang="es">Español</option>`,
			`name="website"`, `<button type="submit">Subscribe</button>`}},
		{name: "form of a list", method: "GET", path: "/subscribe?list=es", status: 200, contains: []string{
			`<html lang="es">`, `Suscríbete por correo`, `<option value="es" lang="es" selected>Español</option>`}},
		{name: "form in the browser's language", method: "GET", path: "/subscribe", header: []string{"Accept-Language", "de-DE, es-AR;q=0.9, en;q=0.5"},
			status: 200, contains: []string{`<html lang="es">`, `<option value="es" lang="es" selected>`}},
		{name: "subscribe", method: "POST", path: "/subscribe", body: "email=new%40example.org&list=en&website=", status: 200,
			contains: []string{"Check your inbox"}, state: func() bool { return s.state("en", "new@example.org") == syndicate.SubscriberPending }},
		{name: "subscribe, bad address", method: "POST", path: "/subscribe", body: "email=%3Cscript%3E&list=en", status: 400,
			contains: []string{`role="alert"`, "Enter a valid email address", `value="&lt;script&gt;"`, `aria-invalid="true"`}},
		{name: "subscribe, header injection", method: "POST", path: "/subscribe", body: "email=a%40example.org%0D%0ABcc%3A+b%40example.org&list=en", status: 400,
			contains: []string{"Enter a valid email address"}, state: func() bool { return s.state("en", "a@example.org") == "" }},
		{name: "subscribe, unknown list", method: "POST", path: "/subscribe", body: "email=x%40example.org&list=fr", status: 400,
			contains: []string{"Choose a newsletter."}, state: func() bool { return s.state("fr", "x@example.org") == "" }},
		{name: "subscribe, PUT", method: "PUT", path: "/subscribe", status: 405},
		{name: "confirm", method: "GET", path: confirm2, status: 200, contains: []string{"Subscription confirmed", "pending@example.org will receive"},
			state: func() bool { return s.state("en", "pending@example.org") == syndicate.SubscriberConfirmed }},
		{name: "confirm, expired", method: "GET", path: expired, status: 410, contains: []string{"This link has expired", `href="../subscribe?list=en"`},
			state: func() bool { return s.state("en", "late@example.org") == syndicate.SubscriberPending }},
		{name: "confirm, expired link of a confirmed address", method: "GET", path: confirm, status: 410},
		{name: "confirm, tampered", method: "GET", path: tamper(confirm2), status: 400, contains: []string{"This link is not valid"}},
		{name: "confirm, garbage", method: "GET", path: "/confirm/hello", status: 400},
		{name: "confirm with an unsubscribe link", method: "GET", path: "/confirm/" + strings.TrimPrefix(unsub, "/unsubscribe/"), status: 400,
			state: func() bool { return s.state("en", "confirmed@example.org") == syndicate.SubscriberConfirmed }},
		{name: "unsubscribe page", method: "GET", path: unsub, status: 200, contains: []string{"Stop sending the newsletter to confirmed@example.org?", `<form method="post">`},
			state: func() bool { return s.state("en", "confirmed@example.org") == syndicate.SubscriberConfirmed }},
		{name: "unsubscribe page, tampered", method: "GET", path: tamper(unsub), status: 400, contains: []string{"This link is not valid"}},
		{name: "unsubscribe page of a confirm link", method: "GET", path: "/unsubscribe/" + strings.TrimPrefix(confirm2, "/confirm/"), status: 400},
		{name: "unsubscribe, tampered", method: "POST", path: tamper(unsub), body: "List-Unsubscribe=One-Click", status: 400,
			state: func() bool { return s.state("en", "confirmed@example.org") == syndicate.SubscriberConfirmed }},
		{name: "unsubscribe", method: "POST", path: unsub, body: "List-Unsubscribe=One-Click", status: 200, contains: []string{"You are unsubscribed"},
			state: func() bool { return s.state("en", "confirmed@example.org") == syndicate.SubscriberUnsubscribed }},
		{name: "unsubscribe again", method: "POST", path: unsub, status: 200, contains: []string{"You are unsubscribed"}},
		{name: "unsubscribe, DELETE", method: "DELETE", path: unsub, status: 405},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body io.Reader
			ct := ""
			if tt.body != "" {
				body, ct = strings.NewReader(tt.body), "application/x-www-form-urlencoded"
			}
			r := s.do(tt.method, tt.path, ct, body, tt.header...)
			if r.status != tt.status {
				t.Fatalf("status %d, want %d\n%s", r.status, tt.status, r.body)
			}
			for _, want := range tt.contains {
				if !strings.Contains(r.body, want) {
					t.Errorf("page lacks %q:\n%s", want, r.body)
				}
			}
			if tt.state != nil && !tt.state() {
				t.Error("the subscriber is not in the state it should be")
			}
			if r.status != 405 {
				checkPage(t, r)
			}
		})
	}
}

var (
	labelFor = regexp.MustCompile(`<label for="([^"]+)"`)
	inputID  = regexp.MustCompile(`<(?:input|select)[^>]* id="([^"]+)"`)
	visible  = regexp.MustCompile(`<(?:input|select)\b([^>]*)>`)
)

// checkPage checks what every subscription page must be: HTML in a
// declared language, without script, cookie or redirect, not cached and
// not leaking its URL, every visible field labelled.
func checkPage(t *testing.T, r response) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	for _, h := range []string{"Set-Cookie", "Location"} {
		if v := r.header.Get(h); v != "" {
			t.Errorf("%s: %s", h, v)
		}
	}
	if r.header.Get("Referrer-Policy") != "no-referrer" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", r.header)
	}
	if !regexp.MustCompile(`<html lang="(en|es)">`).MatchString(r.body) || !strings.Contains(r.body, "<title>") || !strings.Contains(r.body, "<h1>") {
		t.Errorf("page without lang, title or heading:\n%s", r.body)
	}
	if strings.Contains(strings.ToLower(r.body), "<script") {
		t.Error("page has a script")
	}
	labels := map[string]bool{}
	for _, m := range labelFor.FindAllStringSubmatch(r.body, -1) {
		labels[m[1]] = true
	}
	for _, m := range visible.FindAllStringSubmatch(r.body, -1) {
		if strings.Contains(m[1], `type="hidden"`) {
			continue
		}
		id := inputID.FindStringSubmatch(m[0])
		if id == nil || !labels[id[1]] {
			t.Errorf("field without a label: %s", m[0])
		}
	}
}

// A request about an address that is new, pending, confirmed or
// unsubscribed gets the same page.
func TestSubscribeAnswersAlikeWhateverTheAddress(t *testing.T) {
	s := newSubscribeSite(t, siteConfig{})
	s.add("en", "pending@example.org", syndicate.SubscriberPending)
	s.add("en", "confirmed@example.org", syndicate.SubscriberConfirmed)
	s.add("en", "gone@example.org", syndicate.SubscriberUnsubscribed)
	var first response
	for i, email := range []string{"new@example.org", "pending@example.org", "confirmed@example.org", "gone@example.org"} {
		r := s.subscribe("en", email)
		if i == 0 {
			first = r
		}
		if r.status != first.status || r.body != first.body {
			t.Errorf("%s: %d\n%s\nwant as for a new address: %d\n%s", email, r.status, r.body, first.status, first.body)
		}
	}
	if s.state("en", "gone@example.org") != syndicate.SubscriberUnsubscribed || s.state("en", "confirmed@example.org") != syndicate.SubscriberConfirmed {
		t.Error("a request changed the state of a known address")
	}
}

func TestHoneypot(t *testing.T) {
	s := newSubscribeSite(t, siteConfig{})
	human := s.subscribe("en", "human@example.org")
	bot := s.post("/subscribe", url.Values{"email": {"bot-victim@example.org"}, "list": {"en"}, "website": {"https://spam.example"}})
	if bot.status != human.status || bot.body != human.body {
		t.Errorf("the honeypot page differs from the usual one: %d\n%s", bot.status, bot.body)
	}
	if s.state("en", "bot-victim@example.org") != "" || s.outbox.count() != 1 {
		t.Errorf("a filled honeypot stored or mailed the address (%d mails)", s.outbox.count())
	}
	// The field is there, empty, and hidden from people and screen readers.
	form := s.get("/subscribe").body
	if !regexp.MustCompile(`<div class="hp" aria-hidden="true">\s*<label for="website">[^<]+</label>\s*<input type="text" id="website" name="website" value="" tabindex="-1" autocomplete="off">`).MatchString(form) {
		t.Errorf("honeypot field not found:\n%s", form)
	}
}

func TestSubscribeRateLimits(t *testing.T) {
	limits := &subscribe.Limits{PerIP: 5, IPWindow: time.Hour, PerAddress: 3, AddressWindow: 24 * time.Hour}
	t.Run("per client address", func(t *testing.T) {
		s := newSubscribeSite(t, siteConfig{limits: limits})
		for i := range 5 {
			if r := s.subscribe("en", fmt.Sprintf("r%d@example.org", i)); r.status != 200 {
				t.Fatalf("request %d: %d", i, r.status)
			}
		}
		s.clock.Advance(20 * time.Minute)
		r := s.subscribe("en", "r5@example.org")
		if r.status != 429 || r.header.Get("Retry-After") != "2400" || !strings.Contains(r.body, "Too many requests") {
			t.Fatalf("sixth request: %d, Retry-After %q\n%s", r.status, r.header.Get("Retry-After"), r.body)
		}
		checkPage(t, r)
		// Without client_ip_header, a forged X-Forwarded-For changes nothing.
		if r := s.subscribe("en", "r5@example.org", "X-Forwarded-For", "203.0.113.9"); r.status != 429 {
			t.Errorf("with a forged X-Forwarded-For: %d, want 429", r.status)
		}
		if s.outbox.count() != 5 || s.state("en", "r5@example.org") != "" {
			t.Errorf("%d mails; refused address stored: %v", s.outbox.count(), s.state("en", "r5@example.org"))
		}
		s.clock.Advance(40 * time.Minute)
		if r := s.subscribe("en", "r5@example.org"); r.status != 200 {
			t.Errorf("after the window: %d", r.status)
		}
	})
	t.Run("behind a proxy", func(t *testing.T) {
		s := newSubscribeSite(t, siteConfig{limits: limits, ipHeader: "X-Forwarded-For"})
		for i := range 5 {
			s.subscribe("en", fmt.Sprintf("r%d@example.org", i), "X-Forwarded-For", "198.51.100.1, 192.0.2.7")
		}
		// The client's own part of the header is not trusted: the last
		// address, the one the proxy saw, is counted.
		if r := s.subscribe("en", "r5@example.org", "X-Forwarded-For", "10.9.9.9, 192.0.2.7"); r.status != 429 {
			t.Errorf("same client behind the proxy: %d, want 429", r.status)
		}
		if r := s.subscribe("en", "r5@example.org", "X-Forwarded-For", "192.0.2.8"); r.status != 200 {
			t.Errorf("another client behind the proxy: %d, want 200", r.status)
		}
	})
	t.Run("per email address", func(t *testing.T) {
		s := newSubscribeSite(t, siteConfig{limits: limits, ipHeader: "X-Real-IP"})
		var pages []response
		for i := range 6 {
			pages = append(pages, s.subscribe([]string{"en", "es"}[i%2], "Victim@example.org", "X-Real-IP", fmt.Sprintf("192.0.2.%d", i+1)))
		}
		for i, r := range pages {
			want := pages[i%2] // the same page, in the list's language
			if r.status != 200 || r.body != want.body {
				t.Errorf("request %d: %d, want the usual page\n%s", i, r.status, r.body)
			}
		}
		if n := s.outbox.count(); n != 3 {
			t.Errorf("%d confirmations to one address in a day, want 3", n)
		}
	})
}

func TestOneClickUnsubscribe(t *testing.T) {
	s := newSubscribeSite(t, siteConfig{})
	multipartBody := func() (string, io.Reader) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		if err := w.WriteField("List-Unsubscribe", "One-Click"); err != nil {
			t.Fatal(err)
		}
		w.Close()
		return w.FormDataContentType(), &b
	}
	for _, enc := range []string{"form-urlencoded", "multipart"} {
		t.Run(enc, func(t *testing.T) {
			email := enc + "@example.org"
			sub := s.add("en", email, syndicate.SubscriberConfirmed)
			path := pathOf(t, s.svc.UnsubscribeURL(sub))
			// A mail scanner fetching the link changes nothing.
			for range 3 {
				if r := s.get(path); r.status != 200 {
					t.Fatalf("GET: %d", r.status)
				}
			}
			if st := s.state("en", email); st != syndicate.SubscriberConfirmed {
				t.Fatalf("after GETs: %s, want still confirmed", st)
			}
			ct, body := "application/x-www-form-urlencoded", io.Reader(strings.NewReader("List-Unsubscribe=One-Click"))
			if enc == "multipart" {
				ct, body = multipartBody()
			}
			r := s.do("POST", path, ct, body)
			if r.status != 200 {
				t.Fatalf("one-click POST: %d\n%s", r.status, r.body)
			}
			checkPage(t, r)
			if st := s.state("en", email); st != syndicate.SubscriberUnsubscribed {
				t.Errorf("after the one-click POST: %s", st)
			}
		})
	}
}

func TestSpanishPages(t *testing.T) {
	s := newSubscribeSite(t, siteConfig{lists: map[string]string{"en": "en", "es": "es-AR"}})
	r := s.subscribe("es", "lector@example.org", "Accept-Language", "en")
	if r.status != 200 || !strings.Contains(r.body, `<html lang="es">`) || !strings.Contains(r.body, "Revisa tu correo") {
		t.Fatalf("check-your-inbox page of a Spanish list:\n%s", r.body)
	}
	if r.header.Get("Content-Language") != "es" {
		t.Errorf("Content-Language %q", r.header.Get("Content-Language"))
	}
	r = s.get(pathOf(t, s.outbox.last(t).url))
	if r.status != 200 || !strings.Contains(r.body, "Suscripción confirmada") || !strings.Contains(r.body, "lector@example.org recibirá el boletín") {
		t.Fatalf("confirmed page:\n%s", r.body)
	}
	sub, err := s.store.Subscriber(t.Context(), "es", "lector@example.org")
	if err != nil {
		t.Fatal(err)
	}
	unsub := pathOf(t, s.svc.UnsubscribeURL(sub))
	r = s.get(unsub)
	if !strings.Contains(r.body, "¿Dejar de enviar el boletín a lector@example.org?") || !strings.Contains(r.body, `<button type="submit">Darme de baja</button>`) {
		t.Errorf("unsubscribe page:\n%s", r.body)
	}
	r = s.post(unsub, url.Values{"List-Unsubscribe": {"One-Click"}})
	if !strings.Contains(r.body, "Te has dado de baja") {
		t.Errorf("unsubscribed page:\n%s", r.body)
	}
	r = s.post("/subscribe", url.Values{"email": {"no es una dirección"}, "list": {"es"}})
	if r.status != 400 || !strings.Contains(r.body, "Escribe una dirección de correo válida") {
		t.Errorf("bad address page:\n%s", r.body)
	}
	// An invalid link says nothing of its list: the browser's language.
	if r := s.get("/confirm/nonsense", "Accept-Language", "es-ES,es;q=0.9"); r.status != 400 || !strings.Contains(r.body, "Este enlace no es válido") {
		t.Errorf("invalid link for a Spanish browser:\n%s", r.body)
	}
}

// A link checker's HEAD tells whether the link works without confirming.
func TestHeadDoesNotConfirm(t *testing.T) {
	s := newSubscribeSite(t, siteConfig{})
	sub := s.add("en", "head@example.org", syndicate.SubscriberPending)
	path := pathOf(t, s.svc.ConfirmURL(sub))
	if r := s.do("HEAD", path, "", nil); r.status != 200 {
		t.Errorf("HEAD: %d", r.status)
	}
	if st := s.state("en", "head@example.org"); st != syndicate.SubscriberPending {
		t.Errorf("after HEAD: %s, want pending", st)
	}
}

func TestSingleListFormHasNoChoice(t *testing.T) {
	s := newSubscribeSite(t, siteConfig{lists: map[string]string{"weekly": "es"}})
	r := s.get("/subscribe")
	if strings.Contains(r.body, "<select") || !strings.Contains(r.body, `<input type="hidden" name="list" value="weekly">`) || !strings.Contains(r.body, `lang="es"`) {
		t.Errorf("form of a single list:\n%s", r.body)
	}
	// A client that leaves the list out subscribes to the only one.
	if r := s.post("/subscribe", url.Values{"email": {"solo@example.org"}}); r.status != 200 || s.state("weekly", "solo@example.org") != syndicate.SubscriberPending {
		t.Errorf("without a list: %d %v", r.status, s.state("weekly", "solo@example.org"))
	}
}

func TestNoSubscriptionPagesWithoutTheOption(t *testing.T) {
	srv := httptest.NewServer(web.Handler(web.Options{Daemon: &daemon{ready: true}, Gatherer: prometheus.NewRegistry()}))
	defer srv.Close()
	for _, p := range []string{"/subscribe", "/confirm/x.y", "/unsubscribe/x.y"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
}
