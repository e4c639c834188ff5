package web

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Dashboard configures the editor's dashboard: the overview at /, the
// articles, the article pages with their previews and actions, the
// subscribers, and the read-only API at /api/v1/status. It is served only
// when the admin token is set; without it every one of its paths answers
// 404.
type Dashboard struct {
	Desk Desk
	// SessionKey, kept by the command in the store, signs the sessions
	// with the admin token, so they survive a restart; nil: a key random
	// to the process (sessions end with it).
	SessionKey []byte
	// SessionLifetime is how long a sign-in lasts (default 12 h).
	SessionLifetime time.Duration
	// SecureCookies marks the cookies Secure: the dashboard is reached over
	// https (public_url).
	SecureCookies bool
	// Location is the zone times are shown in; nil: UTC.
	Location *time.Location
	// RefreshSeconds is how often the pages reload themselves while no
	// form is being filled (with JavaScript on); default 30, negative: off.
	RefreshSeconds int
	Now            func() time.Time
}

//go:embed templates/dashboard/*.html
var dashboardTemplates embed.FS

//go:embed static
var dashboardStatic embed.FS

// articlesPerPage is the size of a page of /articles.
const articlesPerPage = 50

// digestMessagesPerPage is the size of a page of a digest's messages.
const digestMessagesPerPage = 100

// subscribersShown caps the addresses a search shows.
const subscribersShown = 200

// maxImportBytes caps an uploaded CSV file of subscribers.
const maxImportBytes = 64 << 20

// dashboardCSP allows no inline script or style; images come from the
// articles' own sites.
const dashboardCSP = "default-src 'self'; img-src 'self' https: http: data:; object-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

type dashboard struct {
	Dashboard
	adminToken string
	log        *slog.Logger
	sessions   *sessions
	logins     *loginLimiter
	pages      map[string]*template.Template
}

func (o *Dashboard) register(mux *http.ServeMux, adminToken string, log *slog.Logger) error {
	d := &dashboard{Dashboard: *o, adminToken: adminToken, log: log}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	if d.RefreshSeconds == 0 {
		d.RefreshSeconds = 30
	}
	var err error
	if d.sessions, err = newSessions(adminToken, o.SessionKey, o.SessionLifetime, o.SecureCookies, d.Now); err != nil {
		return err
	}
	d.logins = newLoginLimiter(d.Now)
	d.pages = map[string]*template.Template{}
	for _, name := range []string{"login", "overview", "articles", "article", "digest", "subscribers", "message"} {
		t, err := template.New(name).Funcs(d.funcs()).ParseFS(dashboardTemplates, "templates/dashboard/layout.html", "templates/dashboard/"+name+".html")
		if err != nil {
			return fmt.Errorf("dashboard template %s: %w", name, err)
		}
		d.pages[name] = t
	}
	static, err := fs.Sub(dashboardStatic, "static")
	if err != nil {
		return fmt.Errorf("dashboard assets: %w", err)
	}
	files := http.FileServerFS(static)

	mux.Handle("GET /static/", d.headers(http.StripPrefix("/static/", staticCache(files))))
	mux.Handle("GET /login", d.headers(http.HandlerFunc(d.loginForm)))
	mux.Handle("POST /login", d.headers(http.HandlerFunc(d.login)))
	mux.Handle("POST /logout", d.headers(d.action(d.logout)))
	mux.Handle("GET /{$}", d.headers(d.page(d.overview)))
	mux.Handle("POST /channels/{id}/{op}", d.headers(d.action(d.pause)))
	mux.Handle("GET /articles", d.headers(d.page(d.articles)))
	mux.Handle("GET /articles/{id}", d.headers(d.page(d.article)))
	mux.Handle("POST /deliveries/{id}/{action}", d.headers(d.action(d.act)))
	mux.Handle("GET /digests/{id}", d.headers(d.page(d.digest)))
	mux.Handle("POST /digests/{id}/{action}", d.headers(d.action(d.digestAct)))
	mux.Handle("GET /subscribers", d.headers(d.page(d.subscribers)))
	mux.Handle("GET /subscribers/export", d.headers(d.page(d.exportSubscribers)))
	mux.Handle("POST /subscribers/remove", d.headers(d.action(d.removeSubscriber)))
	mux.Handle("POST /subscribers/import", d.headers(d.action(d.importSubscribers)))
	mux.Handle("GET /api/v1/status", d.headers(http.HandlerFunc(d.status)))
	return nil
}

// headers sets what every dashboard answer carries.
func (d *dashboard) headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", dashboardCSP)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

func staticCache(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		h.ServeHTTP(w, r)
	})
}

// signedIn is a request with a session.
type signedIn struct {
	w    http.ResponseWriter
	r    *http.Request
	sess session
}

// page guards a page: without a session, the visitor is sent to sign in
// and brought back after.
func (d *dashboard) page(h func(signedIn)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := d.sessions.read(r)
		if !ok {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(signedIn{w, r, sess})
	})
}

// action guards a state-changing request: a POST with a session and the
// session's CSRF token, else 403 and nothing is done.
func (d *dashboard) action(h func(signedIn)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, ok := d.sessions.read(r)
		if !ok {
			text(w, http.StatusForbidden, "not signed in: sign in at /login")
			return
		}
		limit := int64(maxFormBytes)
		if r.URL.Path == "/subscribers/import" {
			limit = maxImportBytes
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		var err error
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			err = r.ParseMultipartForm(8 << 20)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			text(w, http.StatusBadRequest, "unreadable form: "+err.Error())
			return
		}
		if !d.sessions.validCSRF(sess, r.PostFormValue("csrf")) {
			text(w, http.StatusForbidden, "missing or wrong CSRF token: reload the page and try again")
			return
		}
		h(signedIn{w, r, sess})
	})
}

// view is what every page's template is given.
type view struct {
	Title    string
	Section  string // overview, articles, subscribers
	CSRF     string
	SignedIn bool
	Refresh  int // seconds; 0: no auto-refresh
	Notice   string
	Problem  string
	Data     any
}

func (d *dashboard) render(w http.ResponseWriter, status int, name string, v view) {
	var buf bytes.Buffer
	if err := d.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		d.log.Error("dashboard: render", "page", name, slog.Any("error", err))
		text(w, http.StatusInternalServerError, "internal error")
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func (d *dashboard) viewFor(s signedIn, title, section string) view {
	return view{Title: title, Section: section, CSRF: d.sessions.csrfToken(s.sess), SignedIn: true}
}

// fail shows the editor an error: theirs (ErrInvalid, as it is), a
// missing thing (404), or the daemon's (logged; a generic page).
func (d *dashboard) fail(s signedIn, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong on the server; the log says what."
	switch {
	case errors.Is(err, ErrNotFound):
		status, msg = http.StatusNotFound, err.Error()
	case errors.Is(err, ErrInvalid):
		status, msg = http.StatusUnprocessableEntity, err.Error()
	default:
		d.log.Error("dashboard", "path", s.r.URL.Path, slog.Any("error", err))
	}
	v := d.viewFor(s, http.StatusText(status), "")
	v.Problem = msg
	d.render(s.w, status, "message", v)
}

// safeNext is where to go after signing in: a path of this site only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}

type loginData struct {
	Token string // the form's CSRF token
	Next  string
}

func (d *dashboard) loginForm(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	if _, ok := d.sessions.read(r); ok {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	d.showLogin(w, r, http.StatusOK, next, "")
}

func (d *dashboard) showLogin(w http.ResponseWriter, r *http.Request, status int, next, problem string) {
	token, err := d.sessions.loginToken(w, r)
	if err != nil {
		d.log.Error("dashboard: sign-in form", slog.Any("error", err))
		text(w, http.StatusInternalServerError, "internal error")
		return
	}
	d.render(w, status, "login", view{Title: "Sign in", Problem: problem, Data: loginData{Token: token, Next: next}})
}

func (d *dashboard) login(w http.ResponseWriter, r *http.Request) {
	if err := parseBody(w, r); err != nil {
		text(w, http.StatusBadRequest, "unreadable form")
		return
	}
	next := safeNext(r.PostFormValue("next"))
	if !validLoginToken(r, r.PostFormValue("csrf")) {
		d.showLogin(w, r, http.StatusForbidden, next, "The sign-in form had expired. Please try again.")
		return
	}
	addr := remoteHost(r)
	if !d.logins.allowed(addr) {
		d.log.Warn("dashboard: sign-in refused, too many failures", "addr", addr)
		d.showLogin(w, r, http.StatusTooManyRequests, next, "Too many failed sign-ins from this address; wait a few minutes.")
		return
	}
	if !tokenMatches(r.PostFormValue("token"), d.adminToken) {
		d.logins.failed(addr)
		d.log.Warn("dashboard: wrong admin token", "addr", addr)
		d.showLogin(w, r, http.StatusUnauthorized, next, "That is not the admin token.")
		return
	}
	if _, err := d.sessions.start(w); err != nil {
		d.log.Error("dashboard: sign-in", slog.Any("error", err))
		text(w, http.StatusInternalServerError, "internal error")
		return
	}
	d.log.Info("dashboard: signed in", "addr", addr)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (d *dashboard) logout(s signedIn) {
	d.sessions.end(s.w, s.sess)
	http.Redirect(s.w, s.r, "/login", http.StatusSeeOther)
}

func (d *dashboard) overview(s signedIn) {
	o, err := d.Desk.Overview(s.r.Context())
	if err != nil {
		d.fail(s, err)
		return
	}
	v := d.viewFor(s, "Overview", "overview")
	v.Data, v.Refresh = o, d.refresh()
	q := s.r.URL.Query()
	for _, ch := range o.Channels {
		switch ch.ID {
		case q.Get("paused"):
			v.Notice = "Channel " + ch.ID + " is paused: nothing is sent to it until it is resumed."
		case q.Get("resumed"):
			v.Notice = "Channel " + ch.ID + " is resumed."
		}
	}
	d.render(s.w, http.StatusOK, "overview", v)
}

func (d *dashboard) refresh() int { return max(d.RefreshSeconds, 0) }

// pause is POST /channels/{id}/pause or /resume.
func (d *dashboard) pause(s signedIn) {
	id, op := s.r.PathValue("id"), s.r.PathValue("op")
	if op != "pause" && op != "resume" {
		text(s.w, http.StatusNotFound, "no such action")
		return
	}
	if err := d.Desk.SetPaused(s.r.Context(), id, op == "pause"); err != nil {
		d.fail(s, err)
		return
	}
	d.log.Info("dashboard: channel "+op+"d", "channel", id)
	http.Redirect(s.w, s.r, "/?"+url.Values{op + "d": {id}}.Encode()+"#channel-"+url.PathEscape(id), http.StatusSeeOther)
}

// articlesData is the article list's page.
type articlesData struct {
	ArticlePage
	Feed, Channel, State, Text string
	States                     []syndicate.State
	From, To                   int
	PrevURL, NextURL           string
}

func (d *dashboard) articles(s signedIn) {
	q := s.r.URL.Query()
	data := articlesData{Feed: q.Get("feed"), Channel: q.Get("channel"), State: q.Get("state"), Text: strings.TrimSpace(q.Get("q")), States: syndicate.States}
	query := ArticleQuery{Feed: data.Feed, Channel: data.Channel, Text: data.Text, Limit: articlesPerPage}
	if data.State != "" {
		if !slices.Contains(syndicate.States, syndicate.State(data.State)) {
			d.fail(s, Invalid(fmt.Errorf("no state %q", data.State)))
			return
		}
		query.States = []syndicate.State{syndicate.State(data.State)}
	}
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	query.Offset = (page - 1) * articlesPerPage
	p, err := d.Desk.Articles(s.r.Context(), query)
	if err != nil {
		d.fail(s, err)
		return
	}
	data.ArticlePage = p
	if len(p.Rows) > 0 {
		data.From, data.To = query.Offset+1, query.Offset+len(p.Rows)
	}
	link := func(page int) string {
		v := url.Values{}
		for k, val := range map[string]string{"feed": data.Feed, "channel": data.Channel, "state": data.State, "q": data.Text} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return "/articles"
		}
		return "/articles?" + v.Encode()
	}
	if page > 1 {
		data.PrevURL = link(page - 1)
	}
	if query.Offset+len(p.Rows) < p.Total {
		data.NextURL = link(page + 1)
	}
	v := d.viewFor(s, "Articles", "articles")
	v.Data, v.Refresh = data, d.refresh()
	d.render(s.w, http.StatusOK, "articles", v)
}

// deliveryView is one delivery of the article page, with its actions and
// the state of its review form.
type deliveryView struct {
	DeliveryDetail
	Actions []Action
	Digest  int64
	// Draft is the review text box's content, Original what it was
	// filled with (the text unchanged means the channel's own).
	Draft, Original string
	// Checked is the rewritten text as the platform would take it, after
	// Check.
	Checked *syndicate.Rendering
	Problem string // what was refused, for this delivery
	Done    string // the action just taken
}

// Editable reports whether the review form is shown.
func (v deliveryView) Editable() bool {
	return v.Delivery.State == syndicate.StateReview && v.Channel.TakesText
}

type articleData struct {
	Article    syndicate.Article
	Deliveries []deliveryView
}

// articleForm is what a POST to a delivery carried back to its page.
type articleForm struct {
	deliveryID int64
	draft      string
	checked    *syndicate.Rendering
	problem    string
}

func (d *dashboard) article(s signedIn) {
	id, err := strconv.ParseInt(s.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		d.fail(s, NotFound(fmt.Errorf("no article %q", s.r.PathValue("id"))))
		return
	}
	var form articleForm
	q := s.r.URL.Query()
	if did, err := strconv.ParseInt(q.Get("delivery"), 10, 64); err == nil {
		form.deliveryID = did
	}
	done := Action(q.Get("done")).Label()
	d.showArticle(s, http.StatusOK, id, form, done)
}

func (d *dashboard) showArticle(s signedIn, status int, id int64, form articleForm, done string) {
	a, err := d.Desk.Article(s.r.Context(), id)
	if err != nil {
		d.fail(s, err)
		return
	}
	data := articleData{Article: a.Article}
	refresh := d.refresh()
	for _, dd := range a.Deliveries {
		dv := deliveryView{DeliveryDetail: dd, Actions: ActionsFor(dd.Delivery, dd.Channel), Digest: DigestOf(dd.Delivery)}
		dv.Original = dd.Delivery.Override
		if dv.Original == "" {
			dv.Original = dd.Preview.Rendering.Text
		}
		dv.Draft = dv.Original
		if dd.Delivery.ID == form.deliveryID {
			if form.draft != "" || form.problem != "" || form.checked != nil {
				dv.Draft, dv.Checked, dv.Problem = form.draft, form.checked, form.problem
				refresh = 0
			}
			dv.Done = done
		}
		data.Deliveries = append(data.Deliveries, dv)
	}
	v := d.viewFor(s, a.Article.Title, "articles")
	v.Data, v.Refresh = data, refresh
	d.render(s.w, status, "article", v)
}

// act is POST /deliveries/{id}/{action}: one of the actions, or check
// (the review text checked, nothing saved).
func (d *dashboard) act(s signedIn) {
	ctx := s.r.Context()
	id, err := strconv.ParseInt(s.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		d.fail(s, NotFound(fmt.Errorf("no delivery %q", s.r.PathValue("id"))))
		return
	}
	name := Action(s.r.PathValue("action"))
	if name.Label() == "" && name != "check" {
		d.fail(s, NotFound(fmt.Errorf("no action %q", name)))
		return
	}
	info, err := d.Desk.Delivery(ctx, id)
	if err != nil {
		d.fail(s, err)
		return
	}
	articleID := info.Delivery.ArticleID
	form := articleForm{deliveryID: id}
	draft, hasDraft := s.r.PostForm["text"]
	if hasDraft {
		form.draft = strings.ReplaceAll(draft[0], "\r\n", "\n")
	}
	if name == "check" {
		if info.Delivery.State != syndicate.StateReview || !info.Channel.TakesText {
			d.fail(s, Invalid(fmt.Errorf("delivery %d is %s on %s: there is no text to check", id, info.Delivery.State, info.Channel.ID)))
			return
		}
		r, err := d.Desk.CheckText(ctx, id, form.draft)
		status := http.StatusOK
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				d.fail(s, err)
				return
			}
			form.problem, status = err.Error(), http.StatusUnprocessableEntity
		} else {
			form.checked = &r
		}
		d.showArticle(s, status, articleID, form, "")
		return
	}
	if !slices.Contains(ActionsFor(info.Delivery, info.Channel), name) {
		form.problem = fmt.Sprintf("%s does not apply to delivery %d: it is %s.", name.Label(), id, info.Delivery.State)
		d.showArticle(s, http.StatusConflict, articleID, form, "")
		return
	}
	var text *string
	if name == ActionApprove && hasDraft && info.Channel.TakesText {
		original := strings.ReplaceAll(s.r.PostFormValue("original"), "\r\n", "\n")
		if form.draft != "" && form.draft != original {
			text = &form.draft
		}
	}
	after, err := d.Desk.Act(ctx, id, name, text)
	if err != nil {
		if !errors.Is(err, ErrInvalid) {
			d.fail(s, err)
			return
		}
		form.problem = err.Error()
		d.showArticle(s, http.StatusUnprocessableEntity, articleID, form, "")
		return
	}
	d.log.Info("dashboard: "+name.Label(), "delivery", id, "channel", after.ChannelID, "state", string(after.State), "rewritten", text != nil)
	target := fmt.Sprintf("/articles/%d?done=%s&delivery=%d#delivery-%d", articleID, url.QueryEscape(string(name)), id, id)
	http.Redirect(s.w, s.r, target, http.StatusSeeOther)
}

// decidable are the states of the digest messages an editor decides on.
var decidable = []syndicate.RecipientState{syndicate.RecipientUncertain, syndicate.RecipientFailed}

// digestData is the digest page.
type digestData struct {
	DigestPage
	// State is the filter: "" for uncertain or failed, "all", or one
	// state.
	State            string
	States           []syndicate.RecipientState // every state, for the filter and the counts
	Decidable        []syndicate.RecipientState // the states the actions take
	Chosen           []syndicate.RecipientState // the states ticked in the form
	From, To         int
	PrevURL, NextURL string
}

// Waiting is how many of the digest's messages wait for a decision.
func (d digestData) Waiting() int {
	return d.Counts[syndicate.RecipientUncertain] + d.Counts[syndicate.RecipientFailed]
}

// FilterName says which messages the filter shows.
func (d digestData) FilterName() string {
	switch d.State {
	case "":
		return "uncertain or failed"
	case "all":
		return "in any state"
	}
	return d.State
}

// digestFilter reads the digest page's state filter.
func digestFilter(filter string) ([]syndicate.RecipientState, error) {
	switch filter {
	case "":
		return decidable, nil
	case "all":
		return nil, nil
	}
	if !slices.Contains(syndicate.RecipientStates, syndicate.RecipientState(filter)) {
		return nil, Invalid(fmt.Errorf("no message state %q (one of %v)", filter, syndicate.RecipientStates))
	}
	return []syndicate.RecipientState{syndicate.RecipientState(filter)}, nil
}

func digestID(s signedIn) (int64, error) {
	id, err := strconv.ParseInt(s.r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, NotFound(fmt.Errorf("no digest %q", s.r.PathValue("id")))
	}
	return id, nil
}

// digest is GET /digests/{id}: the digest, its messages counted by state,
// and a page of those in the states filtered, with the editor's actions.
func (d *dashboard) digest(s signedIn) {
	id, err := digestID(s)
	if err != nil {
		d.fail(s, err)
		return
	}
	q := s.r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	notice := ""
	if n, err := strconv.Atoi(q.Get("changed")); err == nil {
		var from []syndicate.RecipientState
		for _, st := range strings.Split(q.Get("from"), ",") {
			if slices.Contains(syndicate.RecipientStates, syndicate.RecipientState(st)) {
				from = append(from, syndicate.RecipientState(st))
			}
		}
		notice = digestNotice(DigestAction(q.Get("done")), id, n, from)
	}
	d.showDigest(s, http.StatusOK, id, q.Get("state"), max(page, 1), nil, notice, "")
}

func (d *dashboard) showDigest(s signedIn, status int, id int64, filter string, page int, chosen []syndicate.RecipientState, notice, problem string) {
	states, err := digestFilter(filter)
	if err != nil {
		d.fail(s, err)
		return
	}
	offset := (page - 1) * digestMessagesPerPage
	p, err := d.Desk.DigestMessages(s.r.Context(), id, states, digestMessagesPerPage, offset)
	if err != nil {
		d.fail(s, err)
		return
	}
	if len(chosen) == 0 {
		chosen = []syndicate.RecipientState{syndicate.RecipientUncertain}
	}
	data := digestData{DigestPage: p, State: filter, States: syndicate.RecipientStates, Decidable: decidable, Chosen: chosen}
	if len(p.Messages) > 0 {
		data.From, data.To = offset+1, offset+len(p.Messages)
	}
	link := func(page int) string {
		v := url.Values{}
		if filter != "" {
			v.Set("state", filter)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		target := fmt.Sprintf("/digests/%d", id)
		if len(v) > 0 {
			target += "?" + v.Encode()
		}
		return target + "#messages"
	}
	if page > 1 {
		data.PrevURL = link(page - 1)
	}
	if offset+len(p.Messages) < p.Total {
		data.NextURL = link(page + 1)
	}
	v := d.viewFor(s, fmt.Sprintf("Digest %d", id), "overview")
	v.Data, v.Notice, v.Problem = data, notice, problem
	if problem == "" {
		v.Refresh = d.refresh()
	}
	d.render(s.w, status, "digest", v)
}

// digestNotice says what an action on a digest's messages did.
func digestNotice(a DigestAction, id int64, changed int, from []syndicate.RecipientState) string {
	if a.Label() == "" {
		return ""
	}
	if len(from) == 0 {
		from = []syndicate.RecipientState{syndicate.RecipientUncertain}
	}
	if changed == 0 {
		return fmt.Sprintf("%s: digest %d has no %s message to change; nothing was done.", a.Label(), id, joinStates(from, " or "))
	}
	n := fmt.Sprintf("%d messages", changed)
	if changed == 1 {
		n = "1 message"
	}
	if a == DigestMarkSent {
		return fmt.Sprintf("Mark sent: %s of digest %d recorded as sent; they are not mailed again.", n, id)
	}
	msg := fmt.Sprintf("Resend: %s of digest %d will be mailed again now.", n, id)
	if slices.Contains(from, syndicate.RecipientUncertain) {
		msg += " An uncertain message may have reached its recipient already: it may then arrive twice."
	}
	return msg
}

func joinStates(states []syndicate.RecipientState, sep string) string {
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = string(st)
	}
	return strings.Join(names, sep)
}

// digestAct is POST /digests/{id}/resend or /mark-sent: the form's
// states (uncertain when none is ticked) and, when some are ticked, only
// those addresses, as `digest resend|mark-sent` takes them.
func (d *dashboard) digestAct(s signedIn) {
	id, err := digestID(s)
	if err != nil {
		d.fail(s, err)
		return
	}
	a := DigestAction(s.r.PathValue("action"))
	if a.Label() == "" {
		d.fail(s, NotFound(fmt.Errorf("no action %q on a digest", s.r.PathValue("action"))))
		return
	}
	view := s.r.PostFormValue("view")
	if _, err := digestFilter(view); err != nil {
		view = ""
	}
	var states []syndicate.RecipientState
	for _, st := range s.r.PostForm["state"] {
		if !slices.Contains(syndicate.RecipientStates, syndicate.RecipientState(st)) {
			d.fail(s, Invalid(fmt.Errorf("no message state %q (one of %v)", st, syndicate.RecipientStates)))
			return
		}
		if !slices.Contains(states, syndicate.RecipientState(st)) {
			states = append(states, syndicate.RecipientState(st))
		}
	}
	var addresses []string
	for _, addr := range s.r.PostForm["address"] {
		if addr = strings.TrimSpace(addr); addr != "" {
			addresses = append(addresses, addr)
		}
	}
	report, err := d.Desk.DigestAct(s.r.Context(), id, a, states, addresses)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			d.showDigest(s, http.StatusUnprocessableEntity, id, view, 1, states, "", err.Error())
			return
		}
		d.fail(s, err)
		return
	}
	from := states
	if len(from) == 0 {
		from = []syndicate.RecipientState{syndicate.RecipientUncertain}
	}
	d.log.Info("dashboard: digest "+a.Label(), "digest", id, "states", fmt.Sprint(from), "changed", report.Changed,
		"chosen", len(addresses), "missing", len(report.Missing))
	if len(report.Missing) > 0 {
		problem := fmt.Sprintf("No %s message in digest %d for %s.", joinStates(from, " or "), id, strings.Join(report.Missing, ", "))
		status := http.StatusOK
		if report.Changed == 0 {
			status = http.StatusConflict
		}
		d.showDigest(s, status, id, view, 1, states, digestNotice(a, id, report.Changed, from), problem)
		return
	}
	v := url.Values{"done": {string(a)}, "changed": {strconv.Itoa(report.Changed)}, "from": {joinStates(from, ",")}}
	if view != "" {
		v.Set("state", view)
	}
	http.Redirect(s.w, s.r, fmt.Sprintf("/digests/%d?%s", id, v.Encode()), http.StatusSeeOther)
}

type subscribersData struct {
	SubscriberPage
	List, Email string
	Report      *ImportReport
}

func (d *dashboard) subscribers(s signedIn) {
	q := s.r.URL.Query()
	notice := ""
	if removed := q.Get("removed"); removed != "" {
		notice = removed + " is unsubscribed from the list " + q.Get("list") + "."
	}
	d.showSubscribers(s, http.StatusOK, q.Get("list"), strings.TrimSpace(q.Get("email")), notice, "", nil)
}

func (d *dashboard) showSubscribers(s signedIn, status int, list, email, notice, problem string, report *ImportReport) {
	p, err := d.Desk.Subscribers(s.r.Context(), SubscriberQuery{List: list, Email: email, Limit: subscribersShown})
	if err != nil && !errors.Is(err, ErrInvalid) {
		d.fail(s, err)
		return
	}
	if err != nil {
		problem, status = err.Error(), http.StatusUnprocessableEntity
	}
	v := d.viewFor(s, "Subscribers", "subscribers")
	v.Notice, v.Problem = notice, problem
	if list == "" && len(p.Lists) > 0 {
		list = p.Lists[0].List
	}
	v.Data = subscribersData{SubscriberPage: p, List: list, Email: email, Report: report}
	d.render(s.w, status, "subscribers", v)
}

func (d *dashboard) removeSubscriber(s signedIn) {
	list, email := s.r.PostFormValue("list"), s.r.PostFormValue("email")
	sub, err := d.Desk.RemoveSubscriber(s.r.Context(), list, email)
	if err != nil {
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
			d.showSubscribers(s, http.StatusUnprocessableEntity, list, email, "", err.Error(), nil)
			return
		}
		d.fail(s, err)
		return
	}
	d.log.Info("dashboard: subscriber removed", "list", list)
	http.Redirect(s.w, s.r, "/subscribers?"+url.Values{"list": {list}, "email": {email}, "removed": {sub.Email}}.Encode(), http.StatusSeeOther)
}

func (d *dashboard) exportSubscribers(s signedIn) {
	list := s.r.URL.Query().Get("list")
	var buf bytes.Buffer
	if err := d.Desk.ExportSubscribers(s.r.Context(), list, &buf); err != nil {
		d.fail(s, err)
		return
	}
	hd := s.w.Header()
	hd.Set("Content-Type", "text/csv; charset=utf-8")
	hd.Set("Cache-Control", "no-store")
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": "subscribers-" + list + ".csv"}))
	_, _ = s.w.Write(buf.Bytes())
}

func (d *dashboard) importSubscribers(s signedIn) {
	list := s.r.PostFormValue("list")
	file, _, err := s.r.FormFile("file")
	if err != nil {
		d.showSubscribers(s, http.StatusUnprocessableEntity, list, "", "", "Choose a CSV file to import.", nil)
		return
	}
	defer file.Close()
	report, err := d.Desk.ImportSubscribers(s.r.Context(), list, file, s.r.PostFormValue("confirmed") == "yes")
	if err != nil {
		if errors.Is(err, ErrInvalid) || errors.Is(err, ErrNotFound) {
			d.showSubscribers(s, http.StatusUnprocessableEntity, list, "", "", err.Error(), &report)
			return
		}
		d.fail(s, err)
		return
	}
	d.log.Info("dashboard: subscribers imported", "list", list, "report", report.Summary)
	d.showSubscribers(s, http.StatusOK, list, "", report.Summary, "", &report)
}

// status is GET /api/v1/status: the document of `status --json`, for
// scripts holding the admin token.
func (d *dashboard) status(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !tokenMatches(token, d.adminToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="syndicate"`)
		jsonError(w, http.StatusUnauthorized, "missing or wrong bearer token")
		return
	}
	q := r.URL.Query()
	sq := StatusQuery{Feed: q.Get("feed"), Channel: q.Get("channel"), States: q.Get("state")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			jsonError(w, http.StatusBadRequest, "limit: not a whole number ≥ 0")
			return
		}
		sq.Limit = n
	}
	doc, err := d.Desk.Status(r.Context(), sq)
	if err != nil {
		if errors.Is(err, ErrInvalid) {
			jsonError(w, http.StatusBadRequest, err.Error())
			return
		}
		d.log.Error("api: status", slog.Any("error", err))
		jsonError(w, http.StatusInternalServerError, "internal error")
		return
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ") // as status --json prints it
	if err := enc.Encode(doc); err != nil {
		d.log.Error("api: status", slog.Any("error", err))
		jsonError(w, http.StatusInternalServerError, "internal error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// Invalid marks err as the editor's to correct (ErrInvalid), keeping its
// message.
func Invalid(err error) error {
	if err == nil {
		return nil
	}
	return invalidError{err}
}

type invalidError struct{ err error }

func (e invalidError) Error() string        { return e.err.Error() }
func (e invalidError) Unwrap() error        { return e.err }
func (e invalidError) Is(target error) bool { return target == ErrInvalid }

// NotFound marks err as naming something that does not exist
// (ErrNotFound), keeping its message.
func NotFound(err error) error {
	if err == nil {
		return nil
	}
	return notFoundError{err}
}

type notFoundError struct{ err error }

func (e notFoundError) Error() string        { return e.err.Error() }
func (e notFoundError) Unwrap() error        { return e.err }
func (e notFoundError) Is(target error) bool { return target == ErrNotFound }
