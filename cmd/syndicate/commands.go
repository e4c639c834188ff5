package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/metrics"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
	"github.com/syndicate-daemon/syndicate/syndicate/websub"
)

func cmdRun(ctx context.Context, c *cli) error {
	cfg, err := c.loadConfig(c.opts.dryRun)
	if err != nil {
		return err
	}
	if err := c.demoNeedsDryRun(cfg); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, c.opts.dryRun)
	if err != nil {
		return err
	}
	defer store.Close()

	// A rehearsal is built as a real run, over a throwaway store, and
	// then its channels are made to print instead of sending.
	rehearsing := isRehearsal(c.opts.dryRun, store)
	dryRun := c.opts.dryRun && !rehearsing
	reg := prometheus.NewRegistry()
	engine, err := c.engineFor(ctx, cfg, store, dryRun, c.env.Stdout, metrics.New(reg, store))
	if err != nil {
		return err
	}
	var rehearsal *rehearsal
	if rehearsing {
		rehearsal = c.rehearse(engine, cfg)
		c.log.Info("dry run: nothing is sent; what would be is printed, and recorded in a temporary store removed at exit")
	}

	pages, _, err := c.subscriptionPages(ctx, cfg, store, dryRun, rehearsal)
	if err != nil {
		return err
	}
	dashboard, err := c.dashboard(ctx, cfg, engine, rehearsing)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	var hubs web.WebSub
	if cfg.PublicURL != "" && !c.opts.dryRun { // a rehearsal subscribes to no hub either
		sub := &websub.Subscriber{Store: store, CallbackBase: cfg.PublicURL, Client: netGuard(cfg).Client(30 * time.Second), Poll: engine.PollNow, Now: c.env.Now, Log: c.log}
		engine.Hubs, hubs = sub, sub
	}
	srv := limitServer(&http.Server{
		Handler: web.Handler(web.Options{
			Daemon: engine, Gatherer: reg, AdminToken: cfg.AdminToken.Value(), WebSub: hubs, Subscribe: pages, Dashboard: dashboard, Log: c.log,
		}),
	}, defaultServerLimits(), c.log)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	c.log.Info("listening", "addr", ln.Addr().String())
	if rehearsal != nil {
		rehearsal.banner(cfg, ln.Addr().String(), pages != nil)
	}

	runErr := engine.Run(ctx)

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		c.log.Warn("HTTP server shutdown", slog.Any("error", err))
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(runErr, fmt.Errorf("HTTP server: %w", err))
	}
	return runErr
}

func cmdOnce(ctx context.Context, c *cli) error {
	cfg, err := c.loadConfig(c.opts.dryRun)
	if err != nil {
		return err
	}
	if err := c.demoNeedsDryRun(cfg); err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, c.opts.dryRun)
	if err != nil {
		return err
	}
	defer store.Close()
	rehearsing := isRehearsal(c.opts.dryRun, store)
	engine, err := c.engineFor(ctx, cfg, store, c.opts.dryRun && !rehearsing, c.env.Stdout, nil)
	if err != nil {
		return err
	}
	var rehearsal *rehearsal
	if rehearsing {
		rehearsal = c.rehearse(engine, cfg)
	}
	report, err := engine.Once(ctx, c.opts.maxWait)
	if err != nil {
		return err
	}
	if rehearsal != nil {
		rehearsal.showDigests(ctx, engine, c.env.Now())
	}
	for _, err := range report.FeedErrorsSorted() {
		fmt.Fprintf(c.env.Stderr, "feed error: %v\n", err)
	}
	if report.Held > 0 {
		fmt.Fprintf(c.env.Stderr, "%d deliveries held by the flood guard: see `syndicate status --state held`, then retry or skip them\n", report.Held)
	}
	if report.Review > 0 {
		fmt.Fprintf(c.env.Stderr, "%d deliveries wait in review: see `syndicate status --state review`, then approve or skip them\n", report.Review)
	}
	for _, id := range slices.Sorted(maps.Keys(report.Paused)) {
		fmt.Fprintf(c.env.Stderr, "channel %s is paused: %d deliveries wait for `syndicate resume %s`\n", id, report.Paused[id], id)
	}
	if report.Waiting > 0 {
		fmt.Fprintf(c.env.Stderr, "%d deliveries wait for a later retry\n", report.Waiting)
	}
	if report.Failed > 0 || report.Uncertain > 0 {
		fmt.Fprintf(c.env.Stderr, "%d deliveries failed and %d are uncertain in this run: see `syndicate status`\n", report.Failed, report.Uncertain)
	}
	printDigestReport(c, report)
	if !report.OK() {
		return failedError{"once: not everything went through"}
	}
	return nil
}

func cmdCheck(ctx context.Context, c *cli) error {
	cfg, err := c.loadConfig(false)
	if err != nil {
		return err
	}
	targets, err := buildTargets(cfg, c, nil)
	if err != nil {
		return err
	}
	if _, err := buildFeeds(cfg, targets); err != nil {
		return err
	}
	// Email channels are built to be checked; with --online, each connects
	// to its SMTP server and authenticates.
	if _, err := c.checkEmailChannels(ctx, cfg, false); err != nil {
		return err
	}
	fmt.Fprintf(c.env.Stdout, "%s: configuration ok (%d feeds, %d channels)\n", c.opts.config, len(cfg.Feeds), len(cfg.Channels))
	if !c.opts.online {
		return nil
	}
	failed := 0
	if msg, err := probeStore(ctx, cfg); err != nil {
		failed++
		fmt.Fprintf(c.env.Stdout, "store: FAIL: %v\n", err)
	} else {
		fmt.Fprintf(c.env.Stdout, "store: ok, %s\n", msg)
	}
	reader := newReader(cfg, c)
	for _, f := range cfg.Feeds {
		res, err := reader.Read(ctx, syndicate.FeedSource{ID: f.ID, URL: f.URL, Language: f.Language}, syndicate.Validators{})
		if err != nil {
			failed++
			fmt.Fprintf(c.env.Stdout, "feed %s: FAIL: %v\n", f.ID, err)
			continue
		}
		fmt.Fprintf(c.env.Stdout, "feed %s: ok, %d items\n", f.ID, len(res.Articles))
	}
	for _, ch := range cfg.Channels {
		t, ok := targets[ch.ID]
		if !ok {
			continue // email channels: below
		}
		if t.Checker == nil {
			continue
		}
		msg, err := t.Checker.Check(ctx)
		if err != nil {
			failed++
			fmt.Fprintf(c.env.Stdout, "channel %s: FAIL: %v\n", ch.ID, err)
			continue
		}
		fmt.Fprintf(c.env.Stdout, "channel %s: ok, %s\n", ch.ID, msg)
	}
	emailFailed, err := c.checkEmailChannels(ctx, cfg, true)
	if err != nil {
		return err
	}
	failed += emailFailed
	if failed > 0 {
		return failedError{fmt.Sprintf("%d checks failed", failed)}
	}
	return nil
}

func cmdPreview(ctx context.Context, c *cli) error {
	cfg, err := c.loadConfig(true)
	if err != nil {
		return err
	}
	targets, err := buildTargets(cfg, c, nil)
	if err != nil {
		return err
	}
	feeds, err := buildFeeds(cfg, targets)
	if err != nil {
		return err
	}
	if c.opts.limit < 1 {
		return usagef("--limit must be at least 1")
	}
	renderers, err := c.previewRenderers(cfg, targets)
	if err != nil {
		return err
	}
	if c.opts.channel != "" {
		if _, ok := renderers[c.opts.channel]; !ok {
			return usagef("--channel: no channel %q in %s", c.opts.channel, c.opts.config)
		}
	}
	reader := newReader(cfg, c)
	found, failed := false, 0
	for _, f := range feeds {
		if c.opts.feed != "" && f.Source.ID != c.opts.feed {
			continue
		}
		found = true
		res, err := reader.Read(ctx, f.Source, syndicate.Validators{})
		if err != nil {
			failed++
			fmt.Fprintf(c.env.Stderr, "feed %s: %v\n", f.Source.ID, err)
			continue
		}
		articles := syndicate.Newest(res.Articles, c.opts.limit)
		for _, ch := range f.To {
			if c.opts.channel != "" && ch != c.opts.channel {
				continue
			}
			for _, a := range articles {
				if !f.Filter.Allows(a) {
					continue
				}
				pr, ok := renderers[ch]
				if !ok {
					continue // routed to a channel that is not configured: check says so
				}
				r, err := pr.render(syndicate.Post{Article: a, IdempotencyKey: syndicate.IdempotencyKey(ch, a)})
				if err != nil {
					failed++
					fmt.Fprintf(c.env.Stderr, "%s → %s: %q: %v\n", f.Source.ID, ch, a.Title, err)
					continue
				}
				fmt.Fprintf(c.env.Stdout, "%s\n", renderingBlock(f.Source.ID+" → "+ch, pr.kind, a, r))
			}
		}
	}
	if c.opts.feed != "" && !found {
		return usagef("--feed: no feed %q in %s", c.opts.feed, c.opts.config)
	}
	if failed > 0 {
		return failedError{"preview: some feeds or posts failed"}
	}
	return nil
}

// statusJSON is the shape of `status --json`, a contract with scripts:
// fields are added, never changed or removed.
type statusJSON struct {
	Feeds      []feedJSON     `json:"feeds"`
	Deliveries []deliveryJSON `json:"deliveries"`
	Digests    []digestJSON   `json:"digests"`
	// Messages are those of the digest of --digest (counts stay in
	// Digests[].Recipients).
	Messages []messageJSON `json:"messages,omitempty"`

	emailChannels []emailChannelStatus // for the text output
}

// emailChannelStatus names an email channel shown, with or without
// digests.
type emailChannelStatus struct{ id, list string }

type feedJSON struct {
	ID         string     `json:"id"`
	LastPollAt *time.Time `json:"last_poll_at,omitempty"`
	LastOKAt   *time.Time `json:"last_ok_at,omitempty"`
	LastError  string     `json:"last_error,omitempty"`
	Failures   int        `json:"failures"`
}

type deliveryJSON struct {
	ID          int64      `json:"id"`
	State       string     `json:"state"`
	Channel     string     `json:"channel"`
	Feed        string     `json:"feed"`
	ArticleKey  string     `json:"article_key"`
	Title       string     `json:"title"`
	Link        string     `json:"link,omitempty"`
	Published   *time.Time `json:"published,omitempty"`
	Attempts    int        `json:"attempts"`
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	RemoteID    string     `json:"remote_id,omitempty"`
	RemoteURL   string     `json:"remote_url,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// digestJSON is one digest of an email channel, with its messages
// counted by state.
type digestJSON struct {
	ID         int64          `json:"id"`
	Channel    string         `json:"channel"`
	List       string         `json:"list"`
	Period     string         `json:"period"`
	Articles   int            `json:"articles"`
	CreatedAt  time.Time      `json:"created_at"`
	Finished   bool           `json:"finished"`
	FinishedAt *time.Time     `json:"finished_at,omitempty"`
	Recipients recipientsJSON `json:"recipients"`
}

// recipientsJSON counts a digest's messages by state; every state is
// always present.
type recipientsJSON struct {
	Sent      int `json:"sent"`
	Deferred  int `json:"deferred"`
	Failed    int `json:"failed"`
	Uncertain int `json:"uncertain"`
	Sending   int `json:"sending"`
	Claimed   int `json:"claimed"` // taken to mail, its transaction not begun
}

// statusDigests is how many of its newest digests status shows per email
// channel.
const statusDigests = 10

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func cmdStatus(ctx context.Context, c *cli) error {
	cfg, err := c.loadConfig(true)
	if err != nil {
		return err
	}
	states, err := parseStates(c.opts.states)
	if err != nil {
		return usagef("--state: %v", err)
	}
	store, err := openStore(ctx, cfg, false)
	if err != nil {
		return err
	}
	defer store.Close()

	out, err := buildStatus(ctx, cfg, store, statusFilter{feed: c.opts.feed, channel: c.opts.channel, states: states, limit: c.opts.limit})
	if err != nil {
		return err
	}
	if c.opts.digest != 0 {
		if out.Messages, err = c.digestMessages(ctx, cfg, store); err != nil {
			return err
		}
	} else if c.opts.recipients != "" {
		return usagef("--recipients goes with --digest")
	}
	if c.opts.json {
		enc := json.NewEncoder(c.env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if err := printStatus(c, out); err != nil || c.opts.digest == 0 {
		return err
	}
	return printMessages(c, c.opts.digest, out.Messages)
}

// statusFilter narrows the status document: the flags of `status`, or
// the query parameters of GET /api/v1/status.
type statusFilter struct {
	feed, channel string
	states        []syndicate.State
	limit         int // at most this many deliveries, the newest; 0: all
}

// parseStates reads a comma-separated list of delivery states.
func parseStates(list string) ([]syndicate.State, error) {
	var states []syndicate.State
	for _, s := range strings.Split(list, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		if !slices.Contains(syndicate.States, syndicate.State(s)) {
			return nil, fmt.Errorf("unknown state %q", s)
		}
		states = append(states, syndicate.State(s))
	}
	return states, nil
}

// buildStatus builds the document of `status --json` (and of the
// dashboard's API).
func buildStatus(ctx context.Context, cfg *config.Config, store syndicate.Store, f statusFilter) (statusJSON, error) {
	var out statusJSON
	for _, feed := range cfg.Feeds {
		if f.feed != "" && feed.ID != f.feed {
			continue
		}
		st, err := store.FeedState(ctx, feed.ID)
		if err != nil {
			return out, fmt.Errorf("feed %s: %w", feed.ID, err)
		}
		out.Feeds = append(out.Feeds, feedJSON{ID: feed.ID, LastPollAt: optTime(st.LastPollAt), LastOKAt: optTime(st.LastOKAt), LastError: st.LastError, Failures: st.Failures})
	}
	views, err := store.ListDeliveries(ctx, syndicate.DeliveryFilter{FeedID: f.feed, ChannelID: f.channel, States: f.states})
	if err != nil {
		return out, fmt.Errorf("list deliveries: %w", err)
	}
	if f.limit > 0 && len(views) > f.limit {
		views = views[len(views)-f.limit:]
	}
	out.Deliveries = []deliveryJSON{}
	for _, v := range views {
		out.Deliveries = append(out.Deliveries, deliveryJSON{
			ID: v.ID, State: string(v.State), Channel: v.ChannelID, Feed: v.Article.FeedID, ArticleKey: v.Article.Key,
			Title: v.Article.Title, Link: v.Article.Link, Published: optTime(v.Article.Published), Attempts: v.Attempts,
			NextAttempt: optTime(v.NextAttempt), LastError: v.LastError, RemoteID: v.RemoteID, RemoteURL: v.RemoteURL, UpdatedAt: v.UpdatedAt,
		})
	}
	if out.emailChannels, out.Digests, err = digestStatus(ctx, cfg, store, f); err != nil {
		return out, err
	}
	return out, nil
}

// digestStatus returns the email channels that status shows (only the one
// of --channel; with --feed, those the feed goes to) and their newest
// digests, newest first, with their messages counted by state.
func digestStatus(ctx context.Context, cfg *config.Config, store syndicate.Store, f statusFilter) ([]emailChannelStatus, []digestJSON, error) {
	digests := []digestJSON{}
	var routed []string
	if f.feed != "" {
		for _, feed := range cfg.Feeds {
			if feed.ID == f.feed {
				routed = feed.To
			}
		}
	}
	var channels []emailChannelStatus
	for _, ch := range cfg.Channels {
		if !isEmailChannel(cfg, ch.ID) || (f.channel != "" && ch.ID != f.channel) ||
			(f.feed != "" && !slices.Contains(routed, ch.ID)) {
			continue
		}
		channels = append(channels, emailChannelStatus{id: ch.ID, list: ch.Email.List})
	}
	for _, ch := range channels {
		list, err := store.Digests(ctx, ch.id, statusDigests)
		if err != nil {
			return nil, nil, fmt.Errorf("digests of %s: %w", ch.id, err)
		}
		for _, d := range list {
			n, err := store.RecipientCounts(ctx, d.ID)
			if err != nil {
				return nil, nil, fmt.Errorf("digest %d of %s: %w", d.ID, ch.id, err)
			}
			digests = append(digests, digestJSON{
				ID: d.ID, Channel: ch.id, List: ch.list, Period: d.Period, Articles: len(d.Articles),
				CreatedAt: d.CreatedAt, Finished: !d.FinishedAt.IsZero(), FinishedAt: optTime(d.FinishedAt),
				Recipients: recipientsJSON{
					Sent: n[syndicate.RecipientSent], Deferred: n[syndicate.RecipientDeferred], Failed: n[syndicate.RecipientFailed],
					Uncertain: n[syndicate.RecipientUncertain], Sending: n[syndicate.RecipientSending],
					Claimed: n[syndicate.RecipientClaimed],
				},
			})
		}
	}
	return channels, digests, nil
}

func printStatus(c *cli, out statusJSON) error {
	w := tabwriter.NewWriter(c.env.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "FEED\tLAST POLL\tRESULT")
	for _, f := range out.Feeds {
		last, result := "never", "—"
		if f.LastPollAt != nil {
			last, result = f.LastPollAt.Local().Format("2006-01-02 15:04:05"), "ok"
		}
		if f.LastError != "" {
			result = fmt.Sprintf("error (%d in a row): %s", f.Failures, f.LastError)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", f.ID, last, result)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "ID\tSTATE\tCHANNEL\tFEED\tARTICLE\tDETAIL")
	for _, d := range out.Deliveries {
		detail := d.RemoteURL
		switch {
		case d.LastError != "":
			detail = d.LastError
		case detail == "" && strings.HasPrefix(d.RemoteID, "digest:"):
			detail = "in digest " + strings.TrimPrefix(d.RemoteID, "digest:")
		case d.State == string(syndicate.StatePending) && d.NextAttempt != nil:
			detail = "next attempt " + d.NextAttempt.Local().Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.State, d.Channel, d.Feed, clip(d.Title, 50), detail)
	}
	if len(out.emailChannels) > 0 {
		printDigests(w, out)
	}
	return w.Flush()
}

// printDigests prints each email channel's newest digests, one line each
// with its messages summed up, or that it has none yet.
func printDigests(w io.Writer, out statusJSON) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "DIGEST\tCHANNEL\tLIST\tPERIOD\tARTICLES\tCREATED\tFINISHED\tMESSAGES")
	for _, ch := range out.emailChannels {
		shown := false
		for _, d := range out.Digests {
			if d.Channel != ch.id {
				continue
			}
			shown = true
			finished := "no"
			if d.FinishedAt != nil {
				finished = d.FinishedAt.Local().Format("2006-01-02 15:04:05")
			}
			fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.ID, d.Channel, d.List, d.Period, d.Articles,
				d.CreatedAt.Local().Format("2006-01-02 15:04:05"), finished, d.Recipients.summary())
		}
		if !shown {
			fmt.Fprintf(w, "—\t%s\t%s\tno digest yet\n", ch.id, ch.list)
		}
	}
}

// summary is "2 sent, 1 deferred", or "none yet".
func (r recipientsJSON) summary() string {
	var parts []string
	for _, n := range []struct {
		n     int
		state syndicate.RecipientState
	}{
		{r.Sent, syndicate.RecipientSent}, {r.Deferred, syndicate.RecipientDeferred}, {r.Failed, syndicate.RecipientFailed},
		{r.Uncertain, syndicate.RecipientUncertain}, {r.Sending, syndicate.RecipientSending}, {r.Claimed, syndicate.RecipientClaimed},
	} {
		if n.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n.n, n.state))
		}
	}
	if len(parts) == 0 {
		return "none yet"
	}
	return strings.Join(parts, ", ")
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// decide applies an editor's decision to each delivery named.
func decide(dec syndicate.Decision) func(context.Context, *cli) error {
	return func(ctx context.Context, c *cli) error {
		ids, err := c.deliveryIDs()
		if err != nil {
			return err
		}
		cfg, err := c.loadConfig(true)
		if err != nil {
			return err
		}
		store, err := openStore(ctx, cfg, false)
		if err != nil {
			return err
		}
		defer store.Close()
		return c.forEach(ids, func(id int64) (syndicate.Delivery, error) {
			return syndicate.Decide(ctx, store, id, dec, c.env.Now())
		})
	}
}
