package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/config"
	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
)

// desk is the dashboard's view of the daemon (web.Desk): the engine that
// runs, its store and the configuration. Every action goes through the
// engine, as the command line's do, so both have the same effect.
type desk struct {
	engine *syndicate.Engine
	store  syndicate.Store
	cfg    *config.Config
	// cli runs the subscriber import and export exactly as the command
	// line does.
	cli *cli
	// entries render an article's entry in each email channel's digest.
	entries map[string]entryRenderer
	now     func() time.Time

	countsMu sync.Mutex
	counts   []web.ListCounts // subscriber counts, kept a little while
	countsAt time.Time
}

type entryRenderer interface {
	RenderEntry(syndicate.Article) (syndicate.Rendering, error)
}

// subscriberCountsFor is how long the overview's subscriber counts are
// reused: counting a large list reads all of it.
const subscriberCountsFor = 30 * time.Second

// recentDeliveries is how many of a channel's newest deliveries the
// overview reads for its last success and its failures of the day.
const recentDeliveries = 200

// digestsShown is how many of each email channel's digests the overview
// shows.
const digestsShown = 5

// sessionKeyMeta names the dashboard's session key in the store.
const sessionKeyMeta = "dashboard_session_key"

var _ web.Desk = (*desk)(nil)

// newDesk builds the dashboard's desk over a running engine.
func (c *cli) newDesk(cfg *config.Config, engine *syndicate.Engine) (*desk, error) {
	d := &desk{engine: engine, store: engine.Store, cfg: cfg, cli: c, entries: map[string]entryRenderer{}, now: c.env.Now}
	for i := range cfg.Channels {
		ch := &cfg.Channels[i]
		if !isEmailChannel(cfg, ch.ID) {
			continue
		}
		mailer, err := newEmailChannel(cfg, ch, nil, c.log, c.env.Now)
		if err != nil {
			return nil, configError{fmt.Errorf("channels[%d] (%s): %w", i, ch.ID, err)}
		}
		d.entries[ch.ID] = mailer
	}
	return d, nil
}

// dashboard builds what the daemon serves as the dashboard, or nil when
// it is off: without an admin token, and in a dry run that writes nothing.
func (c *cli) dashboard(ctx context.Context, cfg *config.Config, engine *syndicate.Engine, rehearsing bool) (*web.Dashboard, error) {
	if cfg.AdminToken.Value() == "" {
		return nil, nil
	}
	if c.opts.dryRun && !rehearsing {
		c.log.Info("dry run: the dashboard is off")
		return nil, nil
	}
	dk, err := c.newDesk(cfg, engine)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	key, err := sessionKey(ctx, engine.Store)
	if err != nil {
		return nil, err
	}
	return &web.Dashboard{
		Desk:            dk,
		SessionKey:      key,
		SessionLifetime: cmp.Or(cfg.Dashboard.SessionLifetime.Std(), web.DefaultSessionLifetime),
		SecureCookies:   strings.HasPrefix(cfg.PublicURL, "https://"),
		Location:        cfg.Location(),
		Now:             c.env.Now,
	}, nil
}

// sessionKey returns the key the dashboard signs its sessions with (with
// the admin token): generated on first start and kept in the store, so
// sessions survive a restart.
func sessionKey(ctx context.Context, store syndicate.Store) ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("dashboard session key: %w", err)
	}
	kept, err := store.EnsureMeta(ctx, sessionKeyMeta, base64.RawURLEncoding.EncodeToString(b))
	if err != nil {
		return nil, fmt.Errorf("keep the dashboard session key: %w", err)
	}
	return []byte(kept), nil
}

func (d *desk) channelType(id string) string {
	if ch, ok := d.cfg.Channel(id); ok {
		return ch.Type
	}
	return ""
}

func (d *desk) channelInfo(id string, paused map[string]time.Time) web.ChannelInfo {
	info := web.ChannelInfo{ID: id, Type: d.channelType(id)}
	_, info.Paused = paused[id]
	if ch, ok := d.cfg.Channel(id); ok {
		info.Review = ch.Review
	}
	if t, ok := d.engine.Targets[id]; ok {
		info.EditOnUpdate = t.EditOnUpdate && t.Editor != nil
		info.TakesText = t.TextChecker != nil
	}
	return info
}

// redactedURL is a feed URL without the user and password it may carry.
func redactedURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	u.User = nil
	return u.String()
}

func (d *desk) Overview(ctx context.Context) (web.Overview, error) {
	now := d.now()
	es := d.store
	paused, err := es.PausedChannels(ctx)
	if err != nil {
		return web.Overview{}, fmt.Errorf("overview: paused channels: %w", err)
	}
	var o web.Overview
	for _, f := range d.cfg.Feeds {
		fs, err := d.feedStatus(ctx, f, now)
		if err != nil {
			return o, err
		}
		o.Feeds = append(o.Feeds, fs)
	}
	counts, err := d.store.CountDeliveries(ctx)
	if err != nil {
		return o, fmt.Errorf("overview: count deliveries: %w", err)
	}
	for _, ch := range d.cfg.Channels {
		cs := web.ChannelStatus{ID: ch.ID, Type: ch.Type, Review: ch.Review, Counts: counts[ch.ID], PausedSince: paused[ch.ID]}
		_, cs.Paused = paused[ch.ID]
		if cs.Counts == nil {
			cs.Counts = map[syndicate.State]int{}
		}
		if isEmailChannel(d.cfg, ch.ID) {
			ds, err := d.digestStatus(ctx, ch, now)
			if err != nil {
				return o, err
			}
			ds.Paused = cs.Paused
			for _, dg := range ds.Recent {
				if !dg.FinishedAt.IsZero() && dg.FinishedAt.After(cs.LastSuccess) {
					cs.LastSuccess = dg.FinishedAt
				}
				if dg.CreatedAt.After(now.Add(-24 * time.Hour)) {
					cs.FailedAttempts24h += dg.Counts[syndicate.RecipientFailed]
				}
			}
			o.Digests = append(o.Digests, ds)
		} else if cs.LastSuccess, cs.FailedAttempts24h, err = d.activity(ctx, es, ch.ID, now); err != nil {
			return o, err
		}
		o.Channels = append(o.Channels, cs)
	}
	if o.Lists, err = d.subscriberCounts(ctx, now); err != nil {
		return o, err
	}
	return o, nil
}

func (d *desk) feedStatus(ctx context.Context, f config.Feed, now time.Time) (web.FeedStatus, error) {
	st, err := d.store.FeedState(ctx, f.ID)
	if err != nil {
		return web.FeedStatus{}, fmt.Errorf("overview: feed %s: %w", f.ID, err)
	}
	fs := web.FeedStatus{
		ID: f.ID, URL: redactedURL(f.URL), LastPollAt: st.LastPollAt, LastOKAt: st.LastOKAt, LastError: st.LastError,
		Failures: st.Failures, Gone: st.GoneURL != "" && st.GoneURL == f.URL, Review: f.Review,
	}
	if st.MovedFrom == f.URL && st.MovedTo != "" {
		fs.MovedTo = redactedURL(st.MovedTo)
	}
	for _, ef := range d.engine.Feeds {
		if ef.Source.ID == f.ID && ef.Schedule != nil {
			fs.NextPollAt = ef.Schedule.Next(now)
		}
	}
	if st.NextPollAt.After(now) && st.NextPollAt.After(fs.NextPollAt) {
		fs.NextPollAt, fs.BackingOff = st.NextPollAt, true
	}
	sub, err := d.store.Subscription(ctx, f.ID)
	switch {
	case errors.Is(err, syndicate.ErrNotFound):
	case err != nil:
		return fs, fmt.Errorf("overview: feed %s: WebSub subscription: %w", f.ID, err)
	default:
		fs.WebSub, fs.WebSubHub, fs.WebSubLeaseUntil = sub.State, redactedURL(sub.Hub), sub.LeaseUntil
	}
	return fs, nil
}

// activity is a channel's last success and the attempts of the last 24
// hours that did not end sent, read from its newest deliveries and from
// those still open (an old article retried today).
func (d *desk) activity(ctx context.Context, es syndicate.EditorStore, channelID string, now time.Time) (last time.Time, failed int, err error) {
	recent, err := d.store.ListDeliveries(ctx, syndicate.DeliveryFilter{ChannelID: channelID, Limit: recentDeliveries})
	if err != nil {
		return last, 0, fmt.Errorf("overview: channel %s: %w", channelID, err)
	}
	open, err := d.store.ListDeliveries(ctx, syndicate.DeliveryFilter{ChannelID: channelID,
		States: []syndicate.State{syndicate.StatePending, syndicate.StateSending, syndicate.StateFailed, syndicate.StateUncertain}})
	if err != nil {
		return last, 0, fmt.Errorf("overview: channel %s: %w", channelID, err)
	}
	since := now.Add(-24 * time.Hour)
	seen := map[int64]bool{}
	for _, v := range append(recent, open...) {
		if seen[v.ID] {
			continue
		}
		seen[v.ID] = true
		if v.State == syndicate.StateSent && v.UpdatedAt.After(last) {
			last = v.UpdatedAt
		}
		if v.UpdatedAt.Before(since) || (v.Attempts == 0 && v.State != syndicate.StateSent) {
			continue // no attempt since
		}
		attempts, err := es.Attempts(ctx, v.ID)
		if err != nil {
			return last, 0, fmt.Errorf("overview: channel %s: %w", channelID, err)
		}
		for _, a := range attempts {
			if !a.At.Before(since) && a.State != syndicate.StateSent {
				failed++
			}
		}
	}
	return last, failed, nil
}

func (d *desk) digestStatus(ctx context.Context, ch config.Channel, now time.Time) (web.DigestChannelStatus, error) {
	out := web.DigestChannelStatus{ChannelID: ch.ID, List: ch.Email.List}
	due, err := d.store.DueDeliveries(ctx, ch.ID, now, 0)
	if err != nil {
		return out, fmt.Errorf("overview: digest %s: pending articles: %w", ch.ID, err)
	}
	out.NextArticles = len(due)
	if t, ok := d.engine.Digests[ch.ID]; ok && t.Schedule != nil {
		last, _, seen, err := d.store.DigestClock(ctx, ch.ID)
		if err != nil {
			return out, fmt.Errorf("overview: digest %s: %w", ch.ID, err)
		}
		if !seen {
			last = now
		}
		out.NextAt = t.Schedule.Next(last)
		if out.NextAt.Before(now) {
			out.NextAt = now // due: it goes out at the next check
		}
	}
	list, err := d.store.Digests(ctx, ch.ID, digestsShown)
	if err != nil {
		return out, fmt.Errorf("overview: digests of %s: %w", ch.ID, err)
	}
	for _, dg := range list {
		n, err := d.store.RecipientCounts(ctx, dg.ID)
		if err != nil {
			return out, fmt.Errorf("overview: digest %d of %s: %w", dg.ID, ch.ID, err)
		}
		out.Recent = append(out.Recent, web.DigestSummary{ID: dg.ID, Period: dg.Period, Articles: len(dg.Articles), CreatedAt: dg.CreatedAt, FinishedAt: dg.FinishedAt, Counts: n})
	}
	return out, nil
}

// subscriberCounts counts every list's addresses by state.
func (d *desk) subscriberCounts(ctx context.Context, now time.Time) ([]web.ListCounts, error) {
	lists := sortedKeys(subscriberLists(d.cfg))
	if len(lists) == 0 {
		return nil, nil
	}
	d.countsMu.Lock()
	defer d.countsMu.Unlock()
	if d.counts != nil && now.Sub(d.countsAt) < subscriberCountsFor && !now.Before(d.countsAt) {
		return d.counts, nil
	}
	subs := d.store
	var out []web.ListCounts
	for _, list := range lists {
		lc := web.ListCounts{List: list, Counts: map[syndicate.SubscriberState]int{}}
		err := eachSubscriber(ctx, subs, list, func(s syndicate.Subscriber) error {
			lc.Counts[s.State]++
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("count the subscribers of %s: %w", list, err)
		}
		out = append(out, lc)
	}
	d.counts, d.countsAt = out, now
	return out, nil
}

func (d *desk) forgetCounts() {
	d.countsMu.Lock()
	d.counts = nil
	d.countsMu.Unlock()
}

// channelOrder is the configured order of the channels, for the badges.
func (d *desk) channelOrder(id string) int {
	for i, ch := range d.cfg.Channels {
		if ch.ID == id {
			return i
		}
	}
	return len(d.cfg.Channels)
}

func (d *desk) Articles(ctx context.Context, q web.ArticleQuery) (web.ArticlePage, error) {
	es := d.store
	var p web.ArticlePage
	for _, f := range d.cfg.Feeds {
		p.Feeds = append(p.Feeds, f.ID)
	}
	for _, ch := range d.cfg.Channels {
		p.Channels = append(p.Channels, ch.ID)
	}
	views, total, err := es.ListArticles(ctx, syndicate.ArticleFilter{FeedID: q.Feed, ChannelID: q.Channel, States: q.States, Query: q.Text, Limit: q.Limit, Offset: q.Offset})
	if err != nil {
		return p, fmt.Errorf("articles: %w", err)
	}
	p.Total = total
	for _, v := range views {
		row := web.ArticleRow{Article: v.Article}
		ds := slices.Clone(v.Deliveries)
		slices.SortStableFunc(ds, func(a, b syndicate.Delivery) int { return d.channelOrder(a.ChannelID) - d.channelOrder(b.ChannelID) })
		for _, del := range ds {
			row.Badges = append(row.Badges, web.Badge{Delivery: del, Digest: web.DigestOf(del)})
		}
		p.Rows = append(p.Rows, row)
	}
	return p, nil
}

func (d *desk) Article(ctx context.Context, id int64) (web.ArticleDetail, error) {
	es := d.store
	a, err := d.store.Article(ctx, id)
	if errors.Is(err, syndicate.ErrNotFound) {
		return web.ArticleDetail{}, web.NotFound(fmt.Errorf("no article %d", id))
	}
	if err != nil {
		return web.ArticleDetail{}, fmt.Errorf("article %d: %w", id, err)
	}
	views, err := d.store.ListDeliveries(ctx, syndicate.DeliveryFilter{ArticleID: id})
	if err != nil {
		return web.ArticleDetail{}, fmt.Errorf("article %d: deliveries: %w", id, err)
	}
	paused, err := es.PausedChannels(ctx)
	if err != nil {
		return web.ArticleDetail{}, fmt.Errorf("article %d: paused channels: %w", id, err)
	}
	slices.SortStableFunc(views, func(x, y syndicate.DeliveryView) int {
		return d.channelOrder(x.ChannelID) - d.channelOrder(y.ChannelID)
	})
	out := web.ArticleDetail{Article: a}
	for _, v := range views {
		det := web.DeliveryDetail{DeliveryInfo: web.DeliveryInfo{Delivery: v.Delivery, Channel: d.channelInfo(v.ChannelID, paused)}}
		det.Preview = d.preview(ctx, v.Delivery, a)
		if det.Attempts, err = es.Attempts(ctx, v.ID); err != nil {
			return out, fmt.Errorf("article %d: %w", id, err)
		}
		out.Deliveries = append(out.Deliveries, det)
	}
	return out, nil
}

// preview renders the delivery's post as it will be, or was, sent.
func (d *desk) preview(ctx context.Context, del syndicate.Delivery, a syndicate.Article) web.Preview {
	p := web.Preview{ImageAlt: a.ImageCaption}
	var err error
	switch {
	case d.entries[del.ChannelID] != nil:
		p.Rendering, err = d.entries[del.ChannelID].RenderEntry(a)
	case d.engine.Targets[del.ChannelID].Channel != nil:
		p.Rendering, err = d.engine.Render(ctx, del)
	default:
		err = fmt.Errorf("the channel %q is no longer configured", del.ChannelID)
	}
	if err != nil {
		p.Error = err.Error()
	}
	p.Button, p.ButtonURL = p.Rendering.Button, p.Rendering.ButtonURL
	return p
}

func (d *desk) Delivery(ctx context.Context, id int64) (web.DeliveryInfo, error) {
	del, err := d.store.Delivery(ctx, id)
	if errors.Is(err, syndicate.ErrNotFound) {
		return web.DeliveryInfo{}, web.NotFound(fmt.Errorf("no delivery %d", id))
	}
	if err != nil {
		return web.DeliveryInfo{}, fmt.Errorf("delivery %d: %w", id, err)
	}
	es := d.store
	paused, err := es.PausedChannels(ctx)
	if err != nil {
		return web.DeliveryInfo{}, fmt.Errorf("delivery %d: paused channels: %w", id, err)
	}
	return web.DeliveryInfo{Delivery: del, Channel: d.channelInfo(del.ChannelID, paused)}, nil
}

// Act applies the action through the engine, as its command does. The
// engine's refusals (a delivery in another state, a text the platform
// would refuse, an edit the platform refused) are the editor's to read.
func (d *desk) Act(ctx context.Context, id int64, a web.Action, text *string) (syndicate.Delivery, error) {
	var (
		del syndicate.Delivery
		err error
	)
	switch a {
	case web.ActionApprove:
		del, err = d.engine.Approve(ctx, id, text)
	case web.ActionPushEdit:
		del, err = d.engine.PushEdit(ctx, id)
	default:
		dec, ok := a.Decision()
		if !ok {
			return del, web.Invalid(fmt.Errorf("no action %q", a))
		}
		del, err = d.engine.Decide(ctx, id, dec)
	}
	if err != nil {
		return del, web.Invalid(err)
	}
	return del, nil
}

func (d *desk) CheckText(ctx context.Context, id int64, text string) (syndicate.Rendering, error) {
	del, err := d.store.Delivery(ctx, id)
	if errors.Is(err, syndicate.ErrNotFound) {
		return syndicate.Rendering{}, web.NotFound(fmt.Errorf("no delivery %d", id))
	}
	if err != nil {
		return syndicate.Rendering{}, fmt.Errorf("delivery %d: %w", id, err)
	}
	r, err := d.engine.CheckText(ctx, del, text)
	if err != nil {
		return r, web.Invalid(err)
	}
	return r, nil
}

func (d *desk) SetPaused(ctx context.Context, channelID string, paused bool) error {
	if _, ok := d.cfg.Channel(channelID); !ok {
		return web.NotFound(fmt.Errorf("no channel %q", channelID))
	}
	return d.engine.SetPaused(ctx, channelID, paused)
}

// list checks that the list is one an email channel sends to.
func (d *desk) list(list string) error {
	if _, ok := subscriberLists(d.cfg)[list]; !ok {
		return web.NotFound(fmt.Errorf("no email channel has the list %q", list))
	}
	return nil
}

func (d *desk) Subscribers(ctx context.Context, q web.SubscriberQuery) (web.SubscriberPage, error) {
	var p web.SubscriberPage
	var err error
	if p.Lists, err = d.subscriberCounts(ctx, d.now()); err != nil {
		return p, err
	}
	needle := strings.ToLower(strings.TrimSpace(q.Email))
	if needle == "" {
		return p, nil
	}
	list := q.List
	if list == "" && len(p.Lists) > 0 {
		list = p.Lists[0].List
	}
	if err := d.list(list); err != nil {
		return p, web.Invalid(err)
	}
	subs := d.store
	p.Browsed = true
	limit := cmp.Or(q.Limit, 100)
	errEnough := errors.New("enough")
	err = eachSubscriber(ctx, subs, list, func(s syndicate.Subscriber) error {
		if !strings.Contains(strings.ToLower(s.Email), needle) {
			return nil
		}
		if len(p.Found) == limit {
			p.More = true
			return errEnough
		}
		p.Found = append(p.Found, s)
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return p, fmt.Errorf("search the list %s: %w", list, err)
	}
	return p, nil
}

// RemoveSubscriber unsubscribes an address as `subscribers remove` does.
func (d *desk) RemoveSubscriber(ctx context.Context, list, address string) (syndicate.Subscriber, error) {
	if err := d.list(list); err != nil {
		return syndicate.Subscriber{}, err
	}
	email, _, err := subscribe.ParseAddress(address)
	if err != nil {
		return syndicate.Subscriber{}, web.Invalid(fmt.Errorf("%q: %w", address, err))
	}
	subs := d.store
	s, err := subs.Subscriber(ctx, list, email)
	switch {
	case errors.Is(err, syndicate.ErrNotFound):
		return s, web.NotFound(fmt.Errorf("%s is not on the list %s", email, list))
	case err != nil:
		return s, fmt.Errorf("find %s on %s: %w", email, list, err)
	case s.State == syndicate.SubscriberUnsubscribed:
		return s, nil
	}
	defer d.forgetCounts()
	s, err = subs.SetSubscriberState(ctx, list, email, syndicate.SubscriberUnsubscribed, d.now())
	if err != nil {
		return s, fmt.Errorf("unsubscribe %s from %s: %w", email, list, err)
	}
	return s, nil
}

// subscribersCommand is the command line's subscribers command, over
// the given input and outputs, for the list.
func (d *desk) subscribersCommand(list string, confirmed bool, in io.Reader, out, errOut io.Writer) *cli {
	c := *d.cli
	c.opts = options{config: d.cli.opts.config, list: list, confirmed: confirmed}
	c.env.Stdin, c.env.Stdout, c.env.Stderr = in, out, errOut
	return &c
}

func (d *desk) ExportSubscribers(ctx context.Context, list string, w io.Writer) error {
	if err := d.list(list); err != nil {
		return err
	}
	subs := d.store
	return d.subscribersCommand(list, false, nil, w, io.Discard).exportSubscribers(ctx, subs)
}

// ImportSubscribers imports as `subscribers import` does, with its rules
// and its report.
func (d *desk) ImportSubscribers(ctx context.Context, list string, file io.Reader, confirmed bool) (web.ImportReport, error) {
	if err := d.list(list); err != nil {
		return web.ImportReport{}, err
	}
	subs := d.store
	defer d.forgetCounts()
	var out, problems bytes.Buffer
	err := d.subscribersCommand(list, confirmed, file, &out, &problems).importSubscribers(ctx, subs, "-")
	report := web.ImportReport{Summary: strings.TrimSpace(out.String())}
	for _, line := range strings.Split(strings.TrimSpace(problems.String()), "\n") {
		if line = strings.TrimPrefix(line, "standard input: "); line != "" {
			report.Problems = append(report.Problems, line)
		}
	}
	var failed failedError
	switch {
	case err == nil:
		return report, nil
	case errors.As(err, &failed) && report.Summary != "":
		return report, nil // some rows were bad: the good ones are in
	case errors.As(err, &failed):
		return report, web.Invalid(errors.New("nothing was imported: " + strings.Join(report.Problems, "; ")))
	default:
		return report, web.Invalid(fmt.Errorf("the import stopped: %s", strings.ReplaceAll(err.Error(), "standard input: ", "")))
	}
}

func (d *desk) Status(ctx context.Context, q web.StatusQuery) (any, error) {
	states, err := parseStates(q.States)
	if err != nil {
		return nil, web.Invalid(fmt.Errorf("state: %w", err))
	}
	return buildStatus(ctx, d.cfg, d.store, statusFilter{feed: q.Feed, channel: q.Channel, states: states, limit: q.Limit})
}

// digest finds a digest of a configured email channel.
func (d *desk) digest(ctx context.Context, id int64) (syndicate.DigestStore, syndicate.Digest, error) {
	ds := d.store
	dg, err := ds.Digest(ctx, id)
	if errors.Is(err, syndicate.ErrNotFound) {
		return ds, dg, web.NotFound(fmt.Errorf("no digest %d", id))
	}
	if err != nil {
		return ds, dg, fmt.Errorf("digest %d: %w", id, err)
	}
	if !isEmailChannel(d.cfg, dg.ChannelID) {
		return ds, dg, web.NotFound(fmt.Errorf("digest %d is of channel %s, which the configuration does not name as an email channel", id, dg.ChannelID))
	}
	return ds, dg, nil
}

// DigestMessages lists the messages as `status --digest N --recipients`
// does, a page of them.
func (d *desk) DigestMessages(ctx context.Context, id int64, states []syndicate.RecipientState, limit, offset int) (web.DigestPage, error) {
	ds, dg, err := d.digest(ctx, id)
	if err != nil {
		return web.DigestPage{}, err
	}
	p := web.DigestPage{Digest: dg}
	if ch, ok := d.cfg.Channel(dg.ChannelID); ok && ch.Email != nil {
		p.List = ch.Email.List
	}
	if p.Counts, err = ds.RecipientCounts(ctx, id); err != nil {
		return p, fmt.Errorf("digest %d: %w", id, err)
	}
	msgs, err := ds.DigestMessages(ctx, id, states)
	if err != nil {
		return p, err
	}
	p.Total = len(msgs)
	offset = min(max(offset, 0), len(msgs))
	end := len(msgs)
	if limit > 0 {
		end = min(offset+limit, end)
	}
	p.Messages = msgs[offset:end]
	return p, nil
}

// DigestAct decides on messages as `digest resend|mark-sent` does, with
// its rules, and has the messages sent again go at once.
func (d *desk) DigestAct(ctx context.Context, id int64, a web.DigestAction, states []syndicate.RecipientState, addresses []string) (web.DigestActReport, error) {
	if a != web.DigestResend && a != web.DigestMarkSent {
		return web.DigestActReport{}, web.NotFound(fmt.Errorf("no action %q on a digest", a))
	}
	from, err := decisionStates(string(a), states)
	if err != nil {
		return web.DigestActReport{}, web.Invalid(err)
	}
	ds, dg, err := d.digest(ctx, id)
	if err != nil {
		return web.DigestActReport{}, err
	}
	dec, err := decideMessages(ctx, ds, dg.ID, string(a), from, addresses)
	if err != nil {
		return web.DigestActReport{}, err
	}
	if dec.to == syndicate.RecipientDeferred && len(dec.changed) > 0 {
		d.engine.WakeDigests() // mailed again at once, not at the next digest check
	}
	return web.DigestActReport{Changed: len(dec.changed), Missing: dec.missing}, nil
}
