package web_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
)

const dashToken = "the-admin-token-of-the-dashboard"

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type dashSite struct {
	t     *testing.T
	desk  *fakeDesk
	clock *clock
	srv   *httptest.Server
	opts  web.Dashboard
}

func newDashSite(t *testing.T, configure ...func(*web.Dashboard)) *dashSite {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	s := &dashSite{t: t, desk: newFakeDesk(clk.Now()), clock: clk}
	s.opts = web.Dashboard{Desk: s.desk, SessionKey: []byte("a-session-key-kept-in-the-store"), Now: clk.Now, Location: time.UTC}
	for _, c := range configure {
		c(&s.opts)
	}
	s.srv = httptest.NewServer(s.handler(dashToken))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *dashSite) handler(token string) http.Handler {
	opts := s.opts
	return web.Handler(web.Options{Daemon: &daemon{ready: true}, Gatherer: prometheus.NewRegistry(), AdminToken: token, Dashboard: &opts})
}

// visitor is a browser without JavaScript: cookies kept, redirects not
// followed.
type visitor struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (s *dashSite) visitor() *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: s.t, base: s.srv.URL, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	code   int
	header http.Header
	body   string
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{resp.StatusCode, resp.Header, string(b)}
}

func (v *visitor) get(path string) page {
	v.t.Helper()
	req, _ := http.NewRequest("GET", v.base+path, nil)
	return v.do(req)
}

func (v *visitor) post(path string, form url.Values) page {
	v.t.Helper()
	req, _ := http.NewRequest("POST", v.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", p.body)
	}
	return m[1]
}

// signIn signs in and returns the session's CSRF token.
func (v *visitor) signIn() string {
	v.t.Helper()
	form := v.get("/login")
	p := v.post("/login", url.Values{"csrf": {csrfOf(v.t, form)}, "token": {dashToken}, "next": {"/"}})
	if p.code != http.StatusSeeOther || p.header.Get("Location") != "/" {
		v.t.Fatalf("sign in: %d %s\n%s", p.code, p.header.Get("Location"), p.body)
	}
	home := v.get("/")
	if home.code != http.StatusOK {
		v.t.Fatalf("overview after sign-in: %d", home.code)
	}
	return csrfOf(v.t, home)
}

var (
	dashboardPages = []string{"/", "/articles", "/articles?state=failed", "/articles/1", "/digests/7", "/digests/7?state=all",
		"/subscribers", "/subscribers?list=en&email=ana", "/subscribers/export?list=en"}
	dashboardPosts = []string{"/logout", "/channels/mastodon/pause", "/channels/mastodon/resume", "/deliveries/11/retry", "/deliveries/12/approve",
		"/deliveries/12/check", "/deliveries/22/release", "/deliveries/23/mark-sent", "/digests/7/resend", "/digests/7/mark-sent",
		"/subscribers/remove", "/subscribers/import"}
)

func TestWithoutAdminTokenTheDashboardIsNotThere(t *testing.T) {
	s := newDashSite(t)
	srv := httptest.NewServer(s.handler(""))
	defer srv.Close()
	v := s.visitor()
	v.base = srv.URL
	for _, path := range append([]string{"/login", "/api/v1/status", "/static/dashboard.css"}, dashboardPages...) {
		if p := v.get(path); p.code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, p.code)
		}
	}
	for _, path := range append([]string{"/login"}, dashboardPosts...) {
		if p := v.post(path, url.Values{}); p.code != http.StatusNotFound && p.code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: %d, want 404", path, p.code)
		}
	}
	if p := v.post("/hooks/ping?feed=blog", nil); p.code != http.StatusForbidden {
		t.Errorf("ping without admin token: %d, want 403 as before", p.code)
	}
}

func TestWithoutSessionPagesSendToSignInAndPostsAreRefused(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	for _, path := range dashboardPages {
		p := v.get(path)
		want := "/login?next=" + url.QueryEscape(path)
		if p.code != http.StatusSeeOther || p.header.Get("Location") != want {
			t.Errorf("GET %s: %d → %q, want 303 → %q", path, p.code, p.header.Get("Location"), want)
		}
		if strings.Contains(p.body, "ana@example.org") {
			t.Errorf("GET %s shows an address without a session", path)
		}
	}
	// Even with a well-formed CSRF token from someone else's session.
	other := s.visitor()
	token := other.signIn()
	for _, path := range dashboardPosts {
		p := v.post(path, url.Values{"csrf": {token}, "list": {"en"}, "email": {"ana@example.org"}, "text": {"x"}})
		if p.code != http.StatusForbidden {
			t.Errorf("POST %s without a session: %d, want 403", path, p.code)
		}
	}
	if ch := s.desk.snapshot(); len(ch) != 0 {
		t.Fatalf("requests without a session changed %v", ch)
	}
	if len(s.desk.acts) != 0 {
		t.Fatalf("requests without a session reached the desk: %v", s.desk.acts)
	}
}

func TestSignIn(t *testing.T) {
	s := newDashSite(t, func(d *web.Dashboard) { d.SecureCookies = true })
	v := s.visitor()
	form := v.get("/login?next=/articles/1")
	if form.code != http.StatusOK || !strings.Contains(form.body, `name="token"`) {
		t.Fatalf("sign-in form: %d\n%s", form.code, form.body)
	}
	formToken := csrfOf(t, form)

	noSession := func(what string) {
		t.Helper()
		if p := v.get("/"); p.code != http.StatusSeeOther {
			t.Fatalf("%s: signed in after all (%d)", what, p.code)
		}
	}
	p := v.post("/login", url.Values{"csrf": {formToken}, "token": {dashToken + "x"}})
	if p.code != http.StatusUnauthorized || !strings.Contains(p.body, "not the admin token") {
		t.Fatalf("wrong token: %d\n%s", p.code, p.body)
	}
	noSession("wrong token")
	p = v.post("/login", url.Values{"csrf": {formToken}, "token": {""}})
	if p.code != http.StatusUnauthorized {
		t.Fatalf("empty token: %d", p.code)
	}
	p = v.post("/login", url.Values{"csrf": {"forged-forged-forged-forged"}, "token": {dashToken}})
	if p.code != http.StatusForbidden {
		t.Fatalf("sign-in with a forged form token: %d", p.code)
	}
	noSession("forged form token")
	fresh := s.visitor() // no form cookie at all
	if p := fresh.post("/login", url.Values{"csrf": {formToken}, "token": {dashToken}}); p.code != http.StatusForbidden {
		t.Fatalf("sign-in without the form's cookie: %d", p.code)
	}

	p = v.post("/login", url.Values{"csrf": {formToken}, "token": {dashToken}, "next": {"/articles/1"}})
	if p.code != http.StatusSeeOther || p.header.Get("Location") != "/articles/1" {
		t.Fatalf("sign in: %d → %s", p.code, p.header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "syndicate_session" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || !cookie.Secure || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Fatalf("session cookie %+v: want HttpOnly, Secure, SameSite=Strict", cookie)
	}
	if strings.Contains(cookie.Value, dashToken) {
		t.Fatal("the cookie carries the admin token")
	}
	if p := v.get("/articles/1"); p.code != http.StatusOK {
		t.Fatalf("article after sign-in: %d", p.code)
	}
	// Signed in, the form sends to where one was going.
	if p := v.get("/login?next=/subscribers"); p.code != http.StatusSeeOther || p.header.Get("Location") != "/subscribers" {
		t.Fatalf("sign-in form while signed in: %d %s", p.code, p.header.Get("Location"))
	}
}

func TestSignInGoesNowhereElse(t *testing.T) {
	s := newDashSite(t)
	for _, next := range []string{"//evil.example/x", "https://evil.example/", `/\evil.example`, "javascript:alert(1)"} {
		v := s.visitor()
		form := v.get("/login")
		p := v.post("/login", url.Values{"csrf": {csrfOf(t, form)}, "token": {dashToken}, "next": {next}})
		if p.code != http.StatusSeeOther || p.header.Get("Location") != "/" {
			t.Errorf("next=%q: %d → %q, want /", next, p.code, p.header.Get("Location"))
		}
	}
}

func TestSignInIsRateLimited(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	token := csrfOf(t, v.get("/login"))
	for i := range 10 {
		if p := v.post("/login", url.Values{"csrf": {token}, "token": {"guess"}}); p.code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, p.code)
		}
	}
	if p := v.post("/login", url.Values{"csrf": {token}, "token": {dashToken}}); p.code != http.StatusTooManyRequests {
		t.Fatalf("after 10 failures: %d, want 429", p.code)
	}
	s.clock.Add(16 * time.Minute)
	if p := v.post("/login", url.Values{"csrf": {token}, "token": {dashToken}}); p.code != http.StatusSeeOther {
		t.Fatalf("after the window: %d", p.code)
	}
}

func TestSessionsEndSignOutAndSurviveARestart(t *testing.T) {
	s := newDashSite(t, func(d *web.Dashboard) { d.SessionLifetime = time.Hour })
	v := s.visitor()
	v.signIn()

	// A restart with the same key and token keeps the session.
	restarted := httptest.NewServer(s.handler(dashToken))
	defer restarted.Close()
	u, _ := url.Parse(s.srv.URL)
	cookies := v.client.Jar.Cookies(u)
	get := func(base string) int {
		req, _ := http.NewRequest("GET", base+"/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		return v.do(req).code
	}
	if code := get(restarted.URL); code != http.StatusOK {
		t.Fatalf("after a restart: %d", code)
	}
	// Another admin token ends every session.
	rotated := httptest.NewServer(s.handler(dashToken + "-rotated"))
	defer rotated.Close()
	if code := get(rotated.URL); code != http.StatusSeeOther {
		t.Fatalf("after the admin token changed: %d", code)
	}
	// Sessions end.
	s.clock.Add(59 * time.Minute)
	if p := v.get("/"); p.code != http.StatusOK {
		t.Fatalf("within the lifetime: %d", p.code)
	}
	s.clock.Add(2 * time.Minute)
	if p := v.get("/"); p.code != http.StatusSeeOther {
		t.Fatalf("after the lifetime: %d", p.code)
	}

	// Sign out: the cookie is dropped, and the session refused even if
	// it was kept.
	w := s.visitor()
	token := w.signIn()
	kept := w.client.Jar.Cookies(u)
	if p := w.post("/logout", url.Values{"csrf": {"wrong"}}); p.code != http.StatusForbidden {
		t.Fatalf("sign out without the CSRF token: %d", p.code)
	}
	if p := w.post("/logout", url.Values{"csrf": {token}}); p.code != http.StatusSeeOther || p.header.Get("Location") != "/login" {
		t.Fatalf("sign out: %d %s", p.code, p.header.Get("Location"))
	}
	if p := w.get("/"); p.code != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", p.code)
	}
	cookies = kept
	if code := get(s.srv.URL); code != http.StatusSeeOther {
		t.Fatalf("the signed-out session's cookie, replayed: %d", code)
	}
}

func TestSecurityHeaders(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	check := func(path string, p page) {
		t.Helper()
		h := p.header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: X-Frame-Options %q, Referrer-Policy %q", path, h.Get("X-Frame-Options"), h.Get("Referrer-Policy"))
		}
	}
	check("/login", v.get("/login"))
	check("/ without session", v.get("/"))
	v.signIn()
	for _, path := range append([]string{"/static/dashboard.css", "/static/dashboard.js"}, dashboardPages...) {
		p := v.get(path)
		if p.code != http.StatusOK {
			t.Errorf("GET %s: %d", path, p.code)
		}
		check(path, p)
		if strings.HasPrefix(path, "/static/") || strings.Contains(path, "export") {
			continue
		}
		if strings.Contains(p.body, "<script>") || regexp.MustCompile(`<script(?: [^>]*)?>[^<]`).MatchString(p.body) || strings.Contains(p.body, " onclick=") || strings.Contains(p.body, "style=") {
			t.Errorf("%s has inline script or style", path)
		}
		if strings.Contains(p.body, dashToken) {
			t.Errorf("%s shows the admin token", path)
		}
	}
}

func TestCSRF(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	token := v.signIn()
	other := s.visitor().signIn()
	for _, forged := range []string{"", "forged", other, token + "x", strings.ToUpper(token)} {
		for _, path := range dashboardPosts {
			form := url.Values{"list": {"en"}, "email": {"ana@example.org"}, "text": {"x"}}
			if forged != "" {
				form.Set("csrf", forged)
			}
			if p := v.post(path, form); p.code != http.StatusForbidden {
				t.Errorf("POST %s with CSRF token %q: %d, want 403", path, forged, p.code)
			}
		}
	}
	if ch := s.desk.snapshot(); len(ch) != 0 || len(s.desk.acts) != 0 {
		t.Fatalf("forged requests changed %v", ch)
	}
	if p := v.get("/"); p.code != http.StatusOK {
		t.Fatalf("still signed in: %d", p.code)
	}
	// A GET changes nothing either.
	if p := v.get("/deliveries/11/retry"); p.code != http.StatusNotFound && p.code != http.StatusMethodNotAllowed {
		t.Fatalf("GET of an action: %d", p.code)
	}
	if ch := s.desk.snapshot(); len(ch) != 0 {
		t.Fatalf("a GET changed %v", ch)
	}
}

func TestEachActionChangesExactlyTheDeliveryItNames(t *testing.T) {
	tests := []struct {
		id     int64
		action web.Action
		want   syndicate.State
	}{
		{11, web.ActionRetry, syndicate.StatePending},
		{11, web.ActionSkip, syndicate.StateSkipped},
		{12, web.ActionApprove, syndicate.StatePending},
		{12, web.ActionSkip, syndicate.StateSkipped},
		{21, web.ActionPushEdit, syndicate.StateSent},
		{22, web.ActionRelease, syndicate.StatePending},
		{22, web.ActionDrop, syndicate.StateSkipped},
		{23, web.ActionMarkSent, syndicate.StateSent},
		{23, web.ActionSendAgain, syndicate.StatePending},
		{23, web.ActionSkip, syndicate.StateSkipped},
	}
	for _, tt := range tests {
		t.Run(string(tt.action)+"-"+itoa(tt.id), func(t *testing.T) {
			s := newDashSite(t)
			v := s.visitor()
			token := v.signIn()
			before := map[int64]syndicate.Delivery{}
			for id := range s.desk.deliveries {
				before[id] = s.desk.delivery(id)
			}
			article := before[tt.id].ArticleID
			page := v.get("/articles/" + itoa(article))
			button := ">" + tt.action.Label() + "</button>"
			if !strings.Contains(page.body, `action="/deliveries/`+itoa(tt.id)+"/"+string(tt.action)+`"`) || !strings.Contains(page.body, button) {
				t.Fatalf("the article page has no %s button for delivery %d", tt.action.Label(), tt.id)
			}
			p := v.post("/deliveries/"+itoa(tt.id)+"/"+string(tt.action), url.Values{"csrf": {token}})
			if p.code != http.StatusSeeOther {
				t.Fatalf("%s: %d\n%s", tt.action, p.code, p.body)
			}
			if want := "/articles/" + itoa(article) + "?done=" + string(tt.action) + "&delivery=" + itoa(tt.id) + "#delivery-" + itoa(tt.id); p.header.Get("Location") != want {
				t.Fatalf("redirect %q, want %q", p.header.Get("Location"), want)
			}
			if ch := s.desk.snapshot(); !slices.Equal(ch, []string{itoa(tt.id) + " " + string(tt.action)}) {
				t.Fatalf("changes %v", ch)
			}
			for id, d := range before {
				after := s.desk.delivery(id)
				if id == tt.id {
					if after.State != tt.want {
						t.Errorf("delivery %d is %s, want %s", id, after.State, tt.want)
					}
					continue
				}
				if after != d {
					t.Errorf("delivery %d changed: %+v → %+v", id, d, after)
				}
			}
			// The page then shows the new state.
			shown := v.get(p.header.Get("Location"))
			if !strings.Contains(shown.body, `data-delivery="`+itoa(tt.id)+`" data-state="`+string(tt.want)+`"`) {
				t.Errorf("the page does not show delivery %d %s", tt.id, tt.want)
			}
			if !strings.Contains(shown.body, tt.action.Label()+": delivery "+itoa(tt.id)+" is now "+string(tt.want)) {
				t.Errorf("the page does not say what was done")
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestActionsThatDoNotApplyAreRefused(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	token := v.signIn()
	for _, tt := range []struct {
		path string
		code int
	}{
		{"/deliveries/11/release", http.StatusConflict},   // failed, not held
		{"/deliveries/21/retry", http.StatusConflict},     // sent
		{"/deliveries/13/push-edit", http.StatusConflict}, // digested
		{"/deliveries/12/mark-sent", http.StatusConflict}, // review
		{"/deliveries/11/launch", http.StatusNotFound},
		{"/deliveries/99/retry", http.StatusNotFound},
		{"/deliveries/x/retry", http.StatusNotFound},
	} {
		p := v.post(tt.path, url.Values{"csrf": {token}})
		if p.code != tt.code {
			t.Errorf("POST %s: %d, want %d", tt.path, p.code, tt.code)
		}
	}
	if ch := s.desk.snapshot(); len(ch) != 0 {
		t.Fatalf("refused actions changed %v", ch)
	}
}

func TestArticlesPage(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	v.signIn()
	p := v.get("/articles")
	for _, want := range []string{
		`data-article="1"`, `data-article="2"`,
		`data-delivery="11" data-state="failed" title="422 Validation failed: Text character limit of 500 exceeded"`,
		`data-delivery="13" data-state="sent" data-digest="7"`,
		`data-delivery="21" data-state="sent" href="https://social.example/@blog/109"`,
		`data-delivery="22" data-state="held"`,
		`data-delivery="12" data-state="review"`,
		`Second &lt;article&gt;`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the article list lacks %s", want)
		}
	}
	if strings.Index(p.body, `data-article="2"`) > strings.Index(p.body, `data-article="1"`) {
		t.Error("not newest first")
	}
	if p := v.get("/articles?q=strike"); strings.Contains(p.body, `data-article="2"`) || !strings.Contains(p.body, `data-article="1"`) {
		t.Error("the title search does not narrow the list")
	}
	if p := v.get("/articles?state=nonsense"); p.code != http.StatusUnprocessableEntity {
		t.Errorf("unknown state filter: %d", p.code)
	}
}

func TestArticlePageShowsEachChannelAsItPosts(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	v.signIn()
	p := v.get("/articles/1")
	for _, want := range []string{
		`class="toot-text">Mass strike in Kazakhstan`,
		`60 of 500 characters`,
		`<img class="toot-media" src="https://blog.example/strike.jpg" alt="Strikers">`,
		// Telegram's subset becomes formatting; anything else stays text.
		`<div class="tg-text"><strong>Mass strike in Kazakhstan</strong>`, `<em>lead</em> &lt;script&gt;alert(1)&lt;/script&gt;`,
		`<a class="tg-button" href="https://blog.example/strike" rel="noopener noreferrer">Read the article</a>`,
		`<img class="tg-photo" src="https://blog.example/strike.jpg"`,
		`class="entry-text">Mass strike in Kazakhstan`,
		"422 Validation failed", // the attempt
		`<textarea id="text-12" name="text"`,
		`Earlier</a>`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the article page lacks %s", want)
		}
	}
	// Buttons only where they apply: failed → Retry, Skip; review →
	// Approve (in the review form), Skip; digested → none.
	buttons := regexp.MustCompile(`action="/deliveries/(\d+)/([a-z-]+)"`).FindAllStringSubmatch(p.body, -1)
	var got []string
	for _, b := range buttons {
		got = append(got, b[1]+" "+b[2])
	}
	want := []string{"11 retry", "11 skip", "12 approve", "12 check", "12 skip"} // check: the review form's second button
	if !slices.Equal(got, want) {
		t.Errorf("forms %v, want %v", got, want)
	}
	if strings.Count(p.body, ">Approve</button>") != 1 {
		t.Error("Approve should be shown once, in the review form")
	}
	if p := v.get("/articles/9"); p.code != http.StatusNotFound {
		t.Errorf("unknown article: %d", p.code)
	}
}

func TestReviewRewriteIsCheckedAndRefusedTextSavesNothing(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	token := v.signIn()
	page := v.get("/articles/1")
	original := regexp.MustCompile(`name="original" value="([^"]*)"`).FindStringSubmatch(page.body)
	if original == nil {
		t.Fatal("no original text in the review form")
	}

	tooLong := strings.Repeat("word ", 20)
	p := v.post("/deliveries/12/approve", url.Values{"csrf": {token}, "text": {tooLong}, "original": {"x"}})
	if p.code != http.StatusUnprocessableEntity || !strings.Contains(p.body, "over Telegram&#39;s 60") {
		t.Fatalf("too long: %d\n%s", p.code, p.body)
	}
	if !strings.Contains(p.body, tooLong) {
		t.Error("the refused text is not kept in the box")
	}
	p = v.post("/deliveries/12/check", url.Values{"csrf": {token}, "text": {"<div>no</div>"}})
	if p.code != http.StatusUnprocessableEntity || !strings.Contains(p.body, "can&#39;t parse entities") {
		t.Fatalf("check of bad HTML: %d", p.code)
	}
	if d := s.desk.delivery(12); d.State != syndicate.StateReview || d.Override != "" {
		t.Fatalf("a refused text changed the delivery: %+v", d)
	}
	if ch := s.desk.snapshot(); len(ch) != 0 {
		t.Fatalf("changes %v", ch)
	}

	rewrite := "<b>Strike!</b>\r\nRead it."
	p = v.post("/deliveries/12/check", url.Values{"csrf": {token}, "text": {rewrite}})
	if p.code != http.StatusOK || !strings.Contains(p.body, "Checked: 23 of 60") || !strings.Contains(p.body, "<strong>Strike!</strong>") {
		t.Fatalf("check: %d\n%s", p.code, p.body)
	}
	p = v.post("/deliveries/12/approve", url.Values{"csrf": {token}, "text": {rewrite}, "original": {"the channel's own"}})
	if p.code != http.StatusSeeOther {
		t.Fatalf("approve: %d\n%s", p.code, p.body)
	}
	if d := s.desk.delivery(12); d.State != syndicate.StatePending || d.Override != "<b>Strike!</b>\nRead it." {
		t.Fatalf("approved: %+v", d)
	}

	// Approving the text as it was filled in keeps the channel's own.
	s2 := newDashSite(t)
	v2 := s2.visitor()
	token2 := v2.signIn()
	same := strings.ReplaceAll(htmlUnescape(original[1]), "\n", "\r\n")
	if p := v2.post("/deliveries/12/approve", url.Values{"csrf": {token2}, "text": {same}, "original": {htmlUnescape(original[1])}}); p.code != http.StatusSeeOther {
		t.Fatalf("approve unchanged: %d", p.code)
	}
	if a := s2.desk.acts; len(a) != 1 || a[0].text != nil {
		t.Fatalf("an unchanged text became an override: %+v", a)
	}
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&", "&#xA;", "\n", "&#10;", "\n").Replace(s)
}

func TestPauseAndResume(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	token := v.signIn()
	home := v.get("/")
	if !strings.Contains(home.body, `action="/channels/telegram/pause"`) || !strings.Contains(home.body, `aria-label="Pause telegram">Pause</button>`) {
		t.Fatal("no Pause button for telegram")
	}
	p := v.post("/channels/telegram/pause", url.Values{"csrf": {token}})
	if p.code != http.StatusSeeOther {
		t.Fatalf("pause: %d", p.code)
	}
	if ch := s.desk.snapshot(); !slices.Equal(ch, []string{"telegram paused=true"}) {
		t.Fatalf("changes %v", ch)
	}
	home = v.get(p.header.Get("Location"))
	if !strings.Contains(home.body, `data-channel="telegram" data-paused="true" class="paused"`) || !strings.Contains(home.body, "Channel telegram is paused") {
		t.Fatalf("the overview does not show telegram paused:\n%s", home.body)
	}
	if p := v.post("/channels/telegram/resume", url.Values{"csrf": {token}}); p.code != http.StatusSeeOther {
		t.Fatalf("resume: %d", p.code)
	}
	if p := v.post("/channels/nowhere/pause", url.Values{"csrf": {token}}); p.code != http.StatusNotFound {
		t.Fatalf("unknown channel: %d", p.code)
	}
	if p := v.post("/channels/telegram/explode", url.Values{"csrf": {token}}); p.code != http.StatusNotFound {
		t.Fatalf("unknown operation: %d", p.code)
	}
	if ch := s.desk.snapshot(); !slices.Equal(ch, []string{"telegram paused=true", "telegram paused=false"}) {
		t.Fatalf("changes %v", ch)
	}
}

func TestOverview(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	v.signIn()
	p := v.get("/")
	for _, want := range []string{
		`data-feed="blog"`, "active, lease until", `HTTP 500`, "backing off",
		`data-channel="mastodon" data-paused="false"`, `data-count="failed">1</b>`, `data-count="review">0</b>`,
		`data-digest="7"`, `<a href="/digests/7" aria-label="Digest 7">7</a>`, "<td>41</td><td>1</td>", "with 1 article so far", `data-list="en"`,
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the overview lacks %s", want)
		}
	}
	if !strings.Contains(p.body, `data-refresh="30"`) || !strings.Contains(p.body, `<script src="/static/dashboard.js" defer>`) {
		t.Error("no auto-refresh")
	}
}

func TestSubscribersPage(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	token := v.signIn()
	p := v.get("/subscribers")
	if strings.Contains(p.body, "ana@example.org") {
		t.Error("the page lists addresses before any search")
	}
	p = v.get("/subscribers?list=en&email=ANA")
	if !strings.Contains(p.body, `data-subscriber="ana@example.org"`) || !strings.Contains(p.body, `aria-label="Remove ana@example.org"`) {
		t.Fatalf("search:\n%s", p.body)
	}
	p = v.post("/subscribers/remove", url.Values{"csrf": {token}, "list": {"en"}, "email": {"ana@example.org"}})
	if p.code != http.StatusSeeOther {
		t.Fatalf("remove: %d", p.code)
	}
	if p := v.get(p.header.Get("Location")); !strings.Contains(p.body, "ana@example.org is unsubscribed") {
		t.Error("no notice of the removal")
	}
	if p := v.post("/subscribers/remove", url.Values{"csrf": {token}, "list": {"en"}, "email": {"nobody@example.org"}}); p.code != http.StatusUnprocessableEntity {
		t.Errorf("removing an unknown address: %d", p.code)
	}

	exp := v.get("/subscribers/export?list=en")
	if exp.header.Get("Content-Type") != "text/csv; charset=utf-8" || !strings.Contains(exp.header.Get("Content-Disposition"), "attachment") ||
		!strings.HasPrefix(exp.body, "email,name,list,state,subscribed_at\n") {
		t.Fatalf("export: %v\n%s", exp.header, exp.body)
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", token)
	_ = mw.WriteField("list", "en")
	_ = mw.WriteField("confirmed", "yes")
	fw, _ := mw.CreateFormFile("file", "list.csv")
	_, _ = io.WriteString(fw, "email\nbo@example.net\nnew@example.org\n")
	mw.Close()
	req, _ := http.NewRequest("POST", v.base+"/subscribers/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	p = v.do(req)
	if p.code != http.StatusOK || !strings.Contains(p.body, "1 addresses added (confirmed), 1 already on the list") {
		t.Fatalf("import: %d\n%s", p.code, p.body)
	}
	if ch := s.desk.snapshot(); !slices.Equal(ch, []string{"unsubscribe ana@example.org", "import new@example.org confirmed"}) {
		t.Fatalf("changes %v", ch)
	}
}

func TestStatusAPI(t *testing.T) {
	s := newDashSite(t)
	call := func(auth, query string) page {
		req, _ := http.NewRequest("GET", s.srv.URL+"/api/v1/status"+query, nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return s.visitor().do(req)
	}
	if p := call("", ""); p.code != http.StatusUnauthorized || p.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", p.code)
	}
	if p := call("Bearer "+dashToken+"x", ""); p.code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", p.code)
	}
	// A session cookie is not a bearer token.
	v := s.visitor()
	v.signIn()
	if p := v.get("/api/v1/status"); p.code != http.StatusUnauthorized {
		t.Fatalf("with a session only: %d", p.code)
	}
	p := call("Bearer "+dashToken, "?feed=blog&channel=mastodon&state=failed,held&limit=5")
	if p.code != http.StatusOK || p.header.Get("Content-Type") != "application/json" {
		t.Fatalf("status: %d %s", p.code, p.body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(p.body), &doc); err != nil || doc["feeds"] == nil {
		t.Fatalf("status document %q: %v", p.body, err)
	}
	if got := s.desk.statusAsks[len(s.desk.statusAsks)-1]; got != (web.StatusQuery{Feed: "blog", Channel: "mastodon", States: "failed,held", Limit: 5}) {
		t.Fatalf("query %+v", got)
	}
	if p := call("Bearer "+dashToken, "?state=bogus"); p.code != http.StatusBadRequest {
		t.Fatalf("bad state: %d", p.code)
	}
	if p := call("Bearer "+dashToken, "?limit=-1"); p.code != http.StatusBadRequest {
		t.Fatalf("bad limit: %d", p.code)
	}
}

func TestTelegramHTML(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"<b>bold</b> &amp; <i>it</i>", "<strong>bold</strong> &amp; <em>it</em>"},
		{`<a href="https://x.example/?a=1&amp;b=2">x</a>`, `<a href="https://x.example/?a=1&amp;b=2" rel="noopener noreferrer nofollow">x</a>`},
		{`<a href="javascript:alert(1)">x</a>`, `<a>x</a>`},
		{`<img src=x onerror=alert(1)>`, `&lt;img src=x onerror=alert(1)&gt;`},
		{`<b onclick="x">unclosed`, `<strong>unclosed</strong>`},
		{`<tg-spoiler>s</tg-spoiler> <span class="tg-spoiler">t</span>`, `<span class="tg-spoiler">s</span> <span class="tg-spoiler">t</span>`},
		{"<pre><code class=\"language-go\">x := 1</code></pre>", `<pre><code class="language-go">x := 1</code></pre>`},
		{`</b>stray<script>alert(1)</script>`, `stray&lt;script&gt;alert(1)&lt;/script&gt;`},
		{"line\nbreak", "line\nbreak"},
	} {
		if got := string(web.TelegramHTML(tt.in)); got != tt.want {
			t.Errorf("TelegramHTML(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestActionsFor(t *testing.T) {
	post := web.ChannelInfo{Type: "telegram", EditOnUpdate: true}
	mail := web.ChannelInfo{Type: "email"}
	for _, tt := range []struct {
		d    syndicate.Delivery
		ch   web.ChannelInfo
		want []web.Action
	}{
		{syndicate.Delivery{State: syndicate.StatePending}, post, []web.Action{web.ActionSendNow, web.ActionSkip}},
		{syndicate.Delivery{State: syndicate.StatePending}, mail, []web.Action{web.ActionSkip}},
		{syndicate.Delivery{State: syndicate.StateFailed}, post, []web.Action{web.ActionRetry, web.ActionSkip}},
		{syndicate.Delivery{State: syndicate.StateHeld}, post, []web.Action{web.ActionRelease, web.ActionDrop}},
		{syndicate.Delivery{State: syndicate.StateUncertain}, post, []web.Action{web.ActionMarkSent, web.ActionSendAgain, web.ActionSkip}},
		{syndicate.Delivery{State: syndicate.StateReview}, post, []web.Action{web.ActionApprove, web.ActionSkip}},
		{syndicate.Delivery{State: syndicate.StateSent, RemoteID: "5"}, post, []web.Action{web.ActionPushEdit}},
		{syndicate.Delivery{State: syndicate.StateSent, RemoteID: "5"}, web.ChannelInfo{Type: "telegram"}, nil},
		{syndicate.Delivery{State: syndicate.StateSent, RemoteID: "digest:3"}, web.ChannelInfo{Type: "email", EditOnUpdate: true}, nil},
		{syndicate.Delivery{State: syndicate.StateSending}, post, nil},
		{syndicate.Delivery{State: syndicate.StateSkipped}, post, nil},
	} {
		if got := web.ActionsFor(tt.d, tt.ch); !slices.Equal(got, tt.want) {
			t.Errorf("%s on %s: %v, want %v", tt.d.State, tt.ch.Type, got, tt.want)
		}
	}
	for a, want := range map[web.Action]syndicate.Decision{
		web.ActionRetry: syndicate.DecideRetry, web.ActionRelease: syndicate.DecideRetry, web.ActionSendNow: syndicate.DecideRetry, web.ActionSendAgain: syndicate.DecideRetry,
		web.ActionSkip: syndicate.DecideSkip, web.ActionDrop: syndicate.DecideSkip, web.ActionMarkSent: syndicate.DecideMarkSent,
	} {
		if got, ok := a.Decision(); !ok || got != want {
			t.Errorf("%s is %q, want %q", a, got, want)
		}
	}
	for _, a := range []web.Action{web.ActionApprove, web.ActionPushEdit} {
		if _, ok := a.Decision(); ok {
			t.Errorf("%s is a decision", a)
		}
	}
}

// shownMessages are the addresses of the digest page's messages, in order.
func shownMessages(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr data-message="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestDigestPage(t *testing.T) {
	s := newDashSite(t)
	v := s.visitor()
	v.signIn()
	p := v.get("/digests/7")
	if p.code != http.StatusOK {
		t.Fatalf("digest page: %d\n%s", p.code, p.body)
	}
	for _, want := range []string{
		"<h1>Digest 7", "<dd>digest, list en</dd>", "<dd>2026-11-23T08:00</dd>", "<dt>Articles</dt><dd>2</dd>",
		`data-count="uncertain">2</b>`, `data-count="failed">1</b>`, `data-count="sent">1</b>`, `data-count="deferred">1</b>`,
		`<tr data-message="bo@example.net" data-state="failed">`, "550 5.1.1 &lt;bo@example.net&gt;: mailbox &lt;unavailable&gt;",
		`<input type="checkbox" name="address" value="ana@example.org" form="decide" aria-label="Choose ana@example.org">`,
		`<form method="post" action="/digests/7/resend" id="decide"`, `formaction="/digests/7/mark-sent"`,
		`<input id="d-state-uncertain" name="state" type="checkbox" value="uncertain" checked>`,
		`<input id="d-state-failed" name="state" type="checkbox" value="failed">`,
		"may have reached its recipient already, and then arrives twice",
		"Messages 1–3 of 3 uncertain or failed",
	} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the digest page lacks %s", want)
		}
	}
	if got := shownMessages(p.body); !slices.Equal(got, []string{"ana@example.org", "bo@example.net", "eve@example.org"}) {
		t.Errorf("by default the page lists %v, want the uncertain and failed messages", got)
	}
	if got := s.desk.digestAsks[len(s.desk.digestAsks)-1]; got.id != 7 || got.limit != 100 || got.offset != 0 ||
		!slices.Equal(got.states, []syndicate.RecipientState{syndicate.RecipientUncertain, syndicate.RecipientFailed}) {
		t.Errorf("the page asked for %+v", got)
	}
	if strings.Contains(p.body, `value="cy@example.org"`) {
		t.Error("a sent message can be chosen")
	}

	// The state filter.
	for _, tt := range []struct {
		filter string
		want   []string
	}{
		{"sent", []string{"cy@example.org"}},
		{"deferred", []string{"dee@example.org"}},
		{"uncertain", []string{"ana@example.org", "eve@example.org"}},
		{"all", []string{"ana@example.org", "bo@example.net", "cy@example.org", "dee@example.org", "eve@example.org"}},
	} {
		p := v.get("/digests/7?state=" + tt.filter)
		if got := shownMessages(p.body); p.code != http.StatusOK || !slices.Equal(got, tt.want) {
			t.Errorf("state=%s: %d, %v, want %v", tt.filter, p.code, got, tt.want)
		}
		if !strings.Contains(p.body, `<option value="`+tt.filter+`" selected>`) {
			t.Errorf("state=%s: the filter does not show it chosen", tt.filter)
		}
	}
	if p := v.get("/digests/7?state=sent"); strings.Contains(p.body, `name="address" value="cy@example.org"`) {
		t.Error("a sent message can be chosen")
	}
	for path, want := range map[string]int{"/digests/7?state=bogus": http.StatusUnprocessableEntity, "/digests/9": http.StatusNotFound,
		"/digests/x": http.StatusNotFound, "/digests/0": http.StatusNotFound} {
		if p := v.get(path); p.code != want {
			t.Errorf("GET %s: %d, want %d", path, p.code, want)
		}
	}

	// A digest with nothing to decide has no actions.
	s.desk.messages[7] = s.desk.messages[7][2:3]
	if p := v.get("/digests/7?state=all"); strings.Contains(p.body, `id="decide"`) || strings.Contains(p.body, `name="address"`) {
		t.Error("actions are offered for a digest whose messages are all sent")
	}
}

func TestDigestPageIsPaged(t *testing.T) {
	s := newDashSite(t)
	var many []syndicate.DigestMessage
	for i := range int64(250) {
		many = append(many, digestMessage(8, i+1, "reader"+itoa(i+1)+"@example.org", syndicate.RecipientUncertain, 1, "interrupted", s.clock.Now()))
	}
	s.desk.digests[8] = syndicate.Digest{ID: 8, ChannelID: "digest", Period: "2026-11-30T08:00", CreatedAt: s.clock.Now()}
	s.desk.messages[8] = many
	v := s.visitor()
	v.signIn()
	p := v.get("/digests/8")
	if got := shownMessages(p.body); len(got) != 100 || got[0] != "reader1@example.org" {
		t.Fatalf("page 1 shows %d messages", len(got))
	}
	if !strings.Contains(p.body, "Messages 1–100 of 250") || !strings.Contains(p.body, `href="/digests/8?page=2#messages" rel="next"`) || strings.Contains(p.body, `rel="prev"`) {
		t.Errorf("page 1's summary and links:\n%s", p.body)
	}
	p = v.get("/digests/8?page=3")
	if got := shownMessages(p.body); len(got) != 50 || got[0] != "reader201@example.org" {
		t.Fatalf("page 3 shows %v", got)
	}
	if !strings.Contains(p.body, "Messages 201–250 of 250") || strings.Contains(p.body, `rel="next"`) || !strings.Contains(p.body, `href="/digests/8?page=2#messages" rel="prev"`) {
		t.Error("page 3's summary and links")
	}
	if got := s.desk.digestAsks[len(s.desk.digestAsks)-1]; got.limit != 100 || got.offset != 200 {
		t.Errorf("page 3 asked for %+v", got)
	}
	p = v.get("/digests/8?state=all&page=2")
	if !strings.Contains(p.body, `href="/digests/8?page=3&amp;state=all#messages" rel="next"`) {
		t.Error("the pages do not keep the filter")
	}
}

func TestDigestActions(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		form      url.Values
		code      int
		location  string
		changes   []string
		notice    string // on the page shown after
		noWarning bool   // the notice does not say a message may arrive twice
	}{
		{name: "resend-uncertain", path: "/digests/7/resend", form: url.Values{}, code: http.StatusSeeOther,
			location: "/digests/7?changed=2&done=resend&from=uncertain",
			changes:  []string{"digest 7 ana@example.org deferred", "digest 7 eve@example.org deferred"},
			notice:   "Resend: 2 messages of digest 7 will be mailed again now. An uncertain message may have reached its recipient already: it may then arrive twice."},
		{name: "resend-failed", path: "/digests/7/resend", form: url.Values{"state": {"failed"}, "view": {"all"}}, code: http.StatusSeeOther,
			location: "/digests/7?changed=1&done=resend&from=failed&state=all",
			changes:  []string{"digest 7 bo@example.net deferred"},
			notice:   "Resend: 1 message of digest 7 will be mailed again now.", noWarning: true},
		{name: "mark-sent-chosen", path: "/digests/7/mark-sent", form: url.Values{"state": {"uncertain", "failed"}, "address": {"bo@example.net", "eve@example.org"}},
			code: http.StatusSeeOther, location: "/digests/7?changed=2&done=mark-sent&from=uncertain%2Cfailed",
			changes: []string{"digest 7 bo@example.net sent", "digest 7 eve@example.org sent"},
			notice:  "Mark sent: 2 messages of digest 7 recorded as sent; they are not mailed again."},
		{name: "resend-none-left", path: "/digests/7/resend", form: url.Values{"state": {"uncertain"}, "address": {"cy@example.org"}}, code: http.StatusConflict,
			notice: "No uncertain message in digest 7 for cy@example.org."},
		{name: "resend-sent", path: "/digests/7/resend", form: url.Values{"state": {"sent"}}, code: http.StatusUnprocessableEntity,
			notice: "sent messages are not for an editor to resend"},
		{name: "mark-sent-deferred", path: "/digests/7/mark-sent", form: url.Values{"state": {"deferred"}}, code: http.StatusSeeOther,
			location: "/digests/7?changed=1&done=mark-sent&from=deferred", changes: []string{"digest 7 dee@example.org sent"}},
		{name: "unknown-state", path: "/digests/7/resend", form: url.Values{"state": {"bogus"}}, code: http.StatusUnprocessableEntity},
		{name: "unknown-digest", path: "/digests/9/resend", form: url.Values{}, code: http.StatusNotFound},
		{name: "unknown-action", path: "/digests/7/explode", form: url.Values{}, code: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newDashSite(t)
			v := s.visitor()
			tt.form.Set("csrf", v.signIn())
			p := v.post(tt.path, tt.form)
			if p.code != tt.code {
				t.Fatalf("POST %s: %d, want %d\n%s", tt.path, p.code, tt.code, p.body)
			}
			if loc := p.header.Get("Location"); loc != tt.location {
				t.Errorf("redirect %q, want %q", loc, tt.location)
			}
			if ch := s.desk.snapshot(); !slices.Equal(ch, tt.changes) {
				t.Errorf("changes %v, want %v", ch, tt.changes)
			}
			shown := p.body
			if tt.location != "" {
				shown = v.get(tt.location).body
			}
			if !strings.Contains(shown, html.EscapeString(tt.notice)) {
				t.Errorf("the page does not say %q:\n%s", tt.notice, shown)
			}
			if tt.noWarning && strings.Contains(shown, "it may then arrive twice") {
				t.Error("the notice warns of duplicates when no uncertain message was sent again")
			}
		})
	}

	// The page then shows the messages as they are.
	s := newDashSite(t)
	v := s.visitor()
	token := v.signIn()
	v.post("/digests/7/resend", url.Values{"csrf": {token}, "address": {"ana@example.org"}})
	if m := s.desk.message(7, "ana@example.org"); m.State != syndicate.RecipientDeferred {
		t.Fatalf("ana's message is %s", m.State)
	}
	if m := s.desk.message(7, "eve@example.org"); m.State != syndicate.RecipientUncertain {
		t.Fatalf("eve's message, not chosen, is %s", m.State)
	}
	if got := shownMessages(v.get("/digests/7").body); !slices.Equal(got, []string{"bo@example.net", "eve@example.org"}) {
		t.Errorf("after the resend the page lists %v", got)
	}
}
