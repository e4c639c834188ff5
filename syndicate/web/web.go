// Package web is the daemon's HTTP surface: health, readiness, metrics, the
// publish hook that polls a feed at once, the WebSub callback, the
// subscription pages, and the editor's dashboard with its read-only API.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Daemon is what the handlers ask of the running pipeline.
type Daemon interface {
	Ready() bool
	// FeedID finds a feed by its id or, when byURL, by its configured URL.
	FeedID(idOrURL string, byURL bool) (string, bool)
	// PollNow asks for a poll of the feed; false when the daemon is not
	// running.
	PollNow(feedID string) bool
}

// WebSub is the subscriber side of WebSub.
type WebSub interface {
	Verify(ctx context.Context, feedID string, q url.Values) (body string, status int)
	Deliver(ctx context.Context, feedID string, body []byte, signature string) error
}

// Options configure the handler.
type Options struct {
	Daemon   Daemon
	Gatherer prometheus.Gatherer
	// AdminToken guards the admin endpoints; empty turns them off.
	AdminToken string
	WebSub     WebSub // nil: no WebSub callback
	Log        *slog.Logger
	// Subscribe serves the subscription pages (/subscribe, /confirm/…,
	// /unsubscribe/…); nil: none.
	Subscribe *SubscribePages
	// Dashboard serves the editor's dashboard and /api/v1/status, when
	// AdminToken is set; nil: none.
	Dashboard *Dashboard
}

// maxDeliveryBytes caps a WebSub content delivery, as the feed size cap does.
const maxDeliveryBytes = 10 << 20

// Handler serves /healthz, /readyz, /metrics, /hooks/ping and /websub/{feed}.
func Handler(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		text(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if !o.Daemon.Ready() {
			text(w, http.StatusServiceUnavailable, "not ready")
			return
		}
		text(w, http.StatusOK, "ok")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(o.Gatherer, promhttp.HandlerOpts{}))
	mux.HandleFunc("/hooks/ping", o.ping)
	if o.WebSub != nil {
		mux.HandleFunc("GET /websub/{feed}", o.websubVerify)
		mux.HandleFunc("POST /websub/{feed}", o.websubDeliver)
	}
	if o.Subscribe != nil {
		o.Subscribe.register(mux, o.Log)
	}
	if o.Dashboard != nil && o.AdminToken != "" {
		if err := o.Dashboard.register(mux, o.AdminToken, o.Log); err != nil {
			panic(err) // the embedded templates do not parse: a bug the tests catch
		}
	}
	return mux
}

// ping is the site's publish hook: POST /hooks/ping?feed=ID (or ?url=)
// with the admin token answers 202 at once and polls the feed now.
func (o Options) ping(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		text(w, http.StatusMethodNotAllowed, "use POST")
		return
	}
	if o.AdminToken == "" {
		text(w, http.StatusForbidden, "the admin endpoints are off: set admin_token in the configuration")
		return
	}
	if !o.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="syndicate"`)
		text(w, http.StatusUnauthorized, "missing or wrong bearer token")
		return
	}
	q := r.URL.Query()
	key, byURL := q.Get("feed"), false
	if key == "" {
		key, byURL = q.Get("url"), true
	}
	if key == "" {
		text(w, http.StatusBadRequest, "name the feed: ?feed=ID or ?url=FEED_URL")
		return
	}
	feedID, ok := o.Daemon.FeedID(key, byURL)
	if !ok {
		text(w, http.StatusNotFound, "no such feed")
		return
	}
	if !o.Daemon.PollNow(feedID) {
		text(w, http.StatusServiceUnavailable, "not ready")
		return
	}
	o.Log.Info("ping: polling now", "feed", feedID)
	text(w, http.StatusAccepted, "polling "+feedID)
}

// authorized compares the bearer token in constant time (of hashes, so
// not even the length leaks).
func (o Options) authorized(r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return false
	}
	got, want := sha256.Sum256([]byte(strings.TrimSpace(token))), sha256.Sum256([]byte(o.AdminToken))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func (o Options) websubVerify(w http.ResponseWriter, r *http.Request) {
	feedID, ok := o.Daemon.FeedID(r.PathValue("feed"), false)
	if !ok {
		text(w, http.StatusNotFound, "no such feed")
		return
	}
	body, status := o.WebSub.Verify(r.Context(), feedID, r.URL.Query())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func (o Options) websubDeliver(w http.ResponseWriter, r *http.Request) {
	feedID, ok := o.Daemon.FeedID(r.PathValue("feed"), false)
	if !ok {
		text(w, http.StatusNotFound, "no such feed")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDeliveryBytes))
	if err != nil {
		text(w, http.StatusRequestEntityTooLarge, "content too large")
		return
	}
	err = o.WebSub.Deliver(r.Context(), feedID, body, r.Header.Get("X-Hub-Signature"))
	if err != nil {
		// Acknowledged all the same, as WebSub allows: the content is ignored.
		o.Log.Warn("websub: content ignored", "feed", feedID, slog.Any("reason", err))
	}
	text(w, http.StatusAccepted, "ok")
}

func text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body+"\n")
}
