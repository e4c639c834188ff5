package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/web"
)

// fakeDesk is a Desk over a few articles and deliveries in memory; it
// records every change asked of it.
type fakeDesk struct {
	mu         sync.Mutex
	now        time.Time
	articles   map[int64]syndicate.Article
	deliveries map[int64]syndicate.Delivery
	channels   map[string]web.ChannelInfo
	paused     map[string]bool
	subs       []syndicate.Subscriber
	attempts   map[int64][]syndicate.Attempt
	digests    map[int64]syndicate.Digest
	messages   map[int64][]syndicate.DigestMessage // by digest, in subscriber order
	digestAsks []digestAsk                         // every DigestMessages called
	acts       []act                               // every Act called
	changes    []string                            // every change made, in order
	statusAsks []web.StatusQuery
}

type digestAsk struct {
	id            int64
	states        []syndicate.RecipientState
	limit, offset int
}

type act struct {
	id     int64
	action web.Action
	text   *string
}

// Telegram's limit, as the fake checks a rewritten text.
const fakeTelegramLimit = 60

func newFakeDesk(now time.Time) *fakeDesk {
	d := &fakeDesk{
		now: now,
		articles: map[int64]syndicate.Article{
			1: {ID: 1, FeedID: "blog", Key: "k1", Title: "Mass strike in Kazakhstan", Link: "https://blog.example/strike", Summary: "The lead.",
				ImageURL: "https://blog.example/strike.jpg", ImageCaption: "Strikers", Categories: []string{"Kazakhstan"}, Published: now.Add(-2 * time.Hour),
				Related: []syndicate.Link{{Title: "Earlier", URL: "https://blog.example/earlier"}}},
			2: {ID: 2, FeedID: "blog", Key: "k2", Title: "Second <article>", Link: "https://blog.example/second", Published: now.Add(-time.Hour)},
		},
		deliveries: map[int64]syndicate.Delivery{
			11: {ID: 11, ArticleID: 1, ChannelID: "mastodon", State: syndicate.StateFailed, LastError: "422 Validation failed: Text character limit of 500 exceeded", Attempts: 4},
			12: {ID: 12, ArticleID: 1, ChannelID: "telegram", State: syndicate.StateReview},
			13: {ID: 13, ArticleID: 1, ChannelID: "digest", State: syndicate.StateSent, RemoteID: "digest:7"},
			21: {ID: 21, ArticleID: 2, ChannelID: "mastodon", State: syndicate.StateSent, RemoteID: "109", RemoteURL: "https://social.example/@blog/109"},
			22: {ID: 22, ArticleID: 2, ChannelID: "telegram", State: syndicate.StateHeld},
			23: {ID: 23, ArticleID: 2, ChannelID: "digest", State: syndicate.StateUncertain},
		},
		channels: map[string]web.ChannelInfo{
			"mastodon": {ID: "mastodon", Type: "mastodon", EditOnUpdate: true, TakesText: true},
			"telegram": {ID: "telegram", Type: "telegram", TakesText: true},
			"digest":   {ID: "digest", Type: "email"},
		},
		paused: map[string]bool{},
		subs: []syndicate.Subscriber{
			{ID: 1, List: "en", Email: "ana@example.org", State: syndicate.SubscriberConfirmed},
			{ID: 2, List: "en", Email: "bo@example.net", State: syndicate.SubscriberUnsubscribed},
		},
		digests: map[int64]syndicate.Digest{
			7: {ID: 7, ChannelID: "digest", Period: "2026-11-23T08:00", Articles: []int64{1, 2}, CreatedAt: now.Add(-time.Hour), FinishedAt: now.Add(-50 * time.Minute)},
		},
		messages: map[int64][]syndicate.DigestMessage{
			7: {
				digestMessage(7, 1, "ana@example.org", syndicate.RecipientUncertain, 1, "interrupted: the daemon stopped during the SMTP transaction", now),
				digestMessage(7, 2, "bo@example.net", syndicate.RecipientFailed, 1, "550 5.1.1 <bo@example.net>: mailbox <unavailable>", now),
				digestMessage(7, 3, "cy@example.org", syndicate.RecipientSent, 1, "", now),
				digestMessage(7, 4, "dee@example.org", syndicate.RecipientDeferred, 2, "451 try again later", now),
				digestMessage(7, 5, "eve@example.org", syndicate.RecipientUncertain, 1, "interrupted", now),
			},
		},
		attempts: map[int64][]syndicate.Attempt{
			11: {{DeliveryID: 11, At: now.Add(-time.Minute), Took: 80 * time.Millisecond, State: syndicate.StateFailed, Error: "422 Validation failed"}},
		},
	}
	return d
}

func (d *fakeDesk) info(id int64) (web.DeliveryInfo, bool) {
	del, ok := d.deliveries[id]
	if !ok {
		return web.DeliveryInfo{}, false
	}
	ch := d.channels[del.ChannelID]
	ch.Paused = d.paused[ch.ID]
	return web.DeliveryInfo{Delivery: del, Channel: ch}, true
}

func (d *fakeDesk) Overview(context.Context) (web.Overview, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	o := web.Overview{
		Feeds: []web.FeedStatus{{ID: "blog", URL: "https://blog.example/feed", LastPollAt: d.now.Add(-time.Minute), LastOKAt: d.now.Add(-time.Minute), NextPollAt: d.now.Add(4 * time.Minute), WebSub: "active", WebSubLeaseUntil: d.now.Add(240 * time.Hour)},
			{ID: "broken", URL: "https://broken.example/feed", LastPollAt: d.now.Add(-time.Minute), LastError: "HTTP 500", Failures: 3, BackingOff: true, NextPollAt: d.now.Add(time.Hour)}},
		Digests: []web.DigestChannelStatus{{ChannelID: "digest", List: "en", NextAt: d.now.Add(24 * time.Hour), NextArticles: 1,
			Recent: []web.DigestSummary{{ID: 7, Period: "2026-11-23T08:00", Articles: 1, CreatedAt: d.now.Add(-time.Hour), FinishedAt: d.now.Add(-50 * time.Minute),
				Counts: map[syndicate.RecipientState]int{syndicate.RecipientSent: 41, syndicate.RecipientDeferred: 1}}}}},
		Lists: []web.ListCounts{{List: "en", Counts: map[syndicate.SubscriberState]int{syndicate.SubscriberConfirmed: 1, syndicate.SubscriberUnsubscribed: 1}}},
	}
	for _, id := range []string{"mastodon", "telegram", "digest"} {
		counts := map[syndicate.State]int{}
		for _, del := range d.deliveries {
			if del.ChannelID == id {
				counts[del.State]++
			}
		}
		o.Channels = append(o.Channels, web.ChannelStatus{ID: id, Type: d.channels[id].Type, Paused: d.paused[id], Counts: counts, LastSuccess: d.now.Add(-time.Hour)})
	}
	return o, nil
}

func (d *fakeDesk) Articles(_ context.Context, q web.ArticleQuery) (web.ArticlePage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := web.ArticlePage{Feeds: []string{"blog"}, Channels: []string{"mastodon", "telegram", "digest"}}
	for _, id := range []int64{2, 1} {
		a := d.articles[id]
		if q.Text != "" && !strings.Contains(strings.ToLower(a.Title), strings.ToLower(q.Text)) {
			continue
		}
		row := web.ArticleRow{Article: a}
		for _, did := range slices.Sorted(maps.Keys(d.deliveries)) {
			if del := d.deliveries[did]; del.ArticleID == id {
				row.Badges = append(row.Badges, web.Badge{Delivery: del, Digest: web.DigestOf(del)})
			}
		}
		p.Rows = append(p.Rows, row)
	}
	p.Total = len(p.Rows)
	return p, nil
}

func (d *fakeDesk) Article(_ context.Context, id int64) (web.ArticleDetail, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	a, ok := d.articles[id]
	if !ok {
		return web.ArticleDetail{}, web.NotFound(fmt.Errorf("no article %d", id))
	}
	out := web.ArticleDetail{Article: a}
	for _, did := range slices.Sorted(maps.Keys(d.deliveries)) {
		if d.deliveries[did].ArticleID != id {
			continue
		}
		info, _ := d.info(did)
		det := web.DeliveryDetail{DeliveryInfo: info, Attempts: d.attempts[did]}
		switch info.Channel.Type {
		case "mastodon":
			det.Preview = web.Preview{Rendering: syndicate.Rendering{Text: a.Title + "\n\n" + a.Link + "\n\n#Kazakhstan", Format: "text", Length: 60, Limit: 500, Image: a.ImageURL}, ImageAlt: a.ImageCaption}
		case "telegram":
			text := "<b>" + a.Title + "</b>\n<i>lead</i> <script>alert(1)</script>"
			if info.Delivery.Override != "" {
				text = info.Delivery.Override
			}
			det.Preview = web.Preview{Rendering: syndicate.Rendering{Text: text, Format: "html", Length: 30, Limit: fakeTelegramLimit, Image: a.ImageURL},
				ImageAlt: a.ImageCaption, Button: "Read the article", ButtonURL: a.Link}
		default:
			det.Preview = web.Preview{Rendering: syndicate.Rendering{Text: a.Title + "\n" + a.Link, Format: "text", Length: 40}}
		}
		out.Deliveries = append(out.Deliveries, det)
	}
	return out, nil
}

func (d *fakeDesk) Delivery(_ context.Context, id int64) (web.DeliveryInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	info, ok := d.info(id)
	if !ok {
		return info, web.NotFound(fmt.Errorf("no delivery %d", id))
	}
	return info, nil
}

// check refuses, as Telegram would, a text over the limit or with a tag
// it does not know.
func check(text string) error {
	if len(text) > fakeTelegramLimit {
		return web.Invalid(fmt.Errorf("the text is refused: %d characters, over Telegram's %d", len(text), fakeTelegramLimit))
	}
	if strings.Contains(text, "<div") {
		return web.Invalid(fmt.Errorf("the text is refused: Bad Request: can't parse entities: Unsupported start tag \"div\""))
	}
	return nil
}

func (d *fakeDesk) Act(_ context.Context, id int64, a web.Action, text *string) (syndicate.Delivery, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.acts = append(d.acts, act{id, a, text})
	del, ok := d.deliveries[id]
	if !ok {
		return del, web.NotFound(fmt.Errorf("no delivery %d", id))
	}
	if text != nil {
		if err := check(*text); err != nil {
			return del, err
		}
		del.Override = *text
	}
	switch a {
	case web.ActionApprove, web.ActionRetry, web.ActionRelease, web.ActionSendNow, web.ActionSendAgain:
		del.State = syndicate.StatePending
	case web.ActionSkip, web.ActionDrop:
		del.State = syndicate.StateSkipped
	case web.ActionMarkSent:
		del.State = syndicate.StateSent
	case web.ActionPushEdit:
	}
	d.deliveries[id] = del
	d.changes = append(d.changes, fmt.Sprintf("%d %s", id, a))
	return del, nil
}

func (d *fakeDesk) CheckText(_ context.Context, id int64, text string) (syndicate.Rendering, error) {
	if err := check(text); err != nil {
		return syndicate.Rendering{}, err
	}
	return syndicate.Rendering{Text: text, Format: "html", Length: len(text), Limit: fakeTelegramLimit}, nil
}

func (d *fakeDesk) SetPaused(_ context.Context, id string, paused bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.channels[id]; !ok {
		return web.NotFound(fmt.Errorf("no channel %q", id))
	}
	d.paused[id] = paused
	d.changes = append(d.changes, fmt.Sprintf("%s paused=%v", id, paused))
	return nil
}

func (d *fakeDesk) Subscribers(_ context.Context, q web.SubscriberQuery) (web.SubscriberPage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	p := web.SubscriberPage{Browsed: q.Email != ""}
	counts := map[syndicate.SubscriberState]int{}
	for _, s := range d.subs {
		counts[s.State]++
		if q.Email != "" && strings.Contains(strings.ToLower(s.Email), strings.ToLower(q.Email)) {
			p.Found = append(p.Found, s)
		}
	}
	p.Lists = []web.ListCounts{{List: "en", Counts: counts}}
	return p, nil
}

func (d *fakeDesk) RemoveSubscriber(_ context.Context, list, email string) (syndicate.Subscriber, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i, s := range d.subs {
		if s.List == list && strings.EqualFold(s.Email, email) {
			d.subs[i].State = syndicate.SubscriberUnsubscribed
			d.changes = append(d.changes, "unsubscribe "+s.Email)
			return d.subs[i], nil
		}
	}
	return syndicate.Subscriber{}, web.NotFound(fmt.Errorf("%s is not on the list %s", email, list))
}

func (d *fakeDesk) ExportSubscribers(_ context.Context, list string, w io.Writer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"email", "name", "list", "state", "subscribed_at"})
	for _, s := range d.subs {
		_ = cw.Write([]string{s.Email, s.Name, s.List, string(s.State), ""})
	}
	cw.Flush()
	return cw.Error()
}

func (d *fakeDesk) ImportSubscribers(_ context.Context, list string, r io.Reader, confirmed bool) (web.ImportReport, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	rows, err := csv.NewReader(r).ReadAll()
	if err != nil {
		return web.ImportReport{}, web.Invalid(err)
	}
	state := syndicate.SubscriberPending
	if confirmed {
		state = syndicate.SubscriberConfirmed
	}
	added, kept := 0, 0
	for _, row := range rows[1:] {
		known := slices.ContainsFunc(d.subs, func(s syndicate.Subscriber) bool { return strings.EqualFold(s.Email, row[0]) })
		if known {
			kept++
			continue
		}
		added++
		d.subs = append(d.subs, syndicate.Subscriber{ID: int64(len(d.subs) + 1), List: list, Email: row[0], State: state})
		d.changes = append(d.changes, "import "+row[0]+" "+string(state))
	}
	return web.ImportReport{Summary: fmt.Sprintf("list %s: %d addresses added (%s), %d already on the list and left as they were, 0 bad rows", list, added, state, kept)}, nil
}

func (d *fakeDesk) Status(_ context.Context, q web.StatusQuery) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.statusAsks = append(d.statusAsks, q)
	if q.States == "bogus" {
		return nil, web.Invalid(fmt.Errorf("unknown state %q", q.States))
	}
	return map[string]any{"feeds": []string{"blog"}, "deliveries": []any{}, "digests": []any{}}, nil
}

// snapshot is the desk's changes so far.
func (d *fakeDesk) snapshot() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.changes)
}

func (d *fakeDesk) delivery(id int64) syndicate.Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.deliveries[id]
}

func digestMessage(digest, sub int64, email string, st syndicate.RecipientState, attempts int, lastError string, now time.Time) syndicate.DigestMessage {
	return syndicate.DigestMessage{Email: email, Recipient: syndicate.Recipient{DigestID: digest, SubscriberID: sub, State: st,
		Attempts: attempts, LastError: lastError, UpdatedAt: now.Add(-50 * time.Minute)}}
}

func (d *fakeDesk) DigestMessages(_ context.Context, id int64, states []syndicate.RecipientState, limit, offset int) (web.DigestPage, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.digestAsks = append(d.digestAsks, digestAsk{id, slices.Clone(states), limit, offset})
	dg, ok := d.digests[id]
	if !ok {
		return web.DigestPage{}, web.NotFound(fmt.Errorf("no digest %d", id))
	}
	p := web.DigestPage{Digest: dg, List: "en", Counts: map[syndicate.RecipientState]int{}}
	var match []syndicate.DigestMessage
	for _, m := range d.messages[id] {
		p.Counts[m.State]++
		if len(states) == 0 || slices.Contains(states, m.State) {
			match = append(match, m)
		}
	}
	p.Total = len(match)
	offset = min(offset, len(match))
	p.Messages = match[offset:min(offset+limit, len(match))]
	return p, nil
}

// DigestAct follows the command's rules: uncertain by default, uncertain
// or failed (and deferred for mark-sent), the addresses narrowing.
func (d *fakeDesk) DigestAct(_ context.Context, id int64, a web.DigestAction, states []syndicate.RecipientState, addresses []string) (web.DigestActReport, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.digests[id]; !ok {
		return web.DigestActReport{}, web.NotFound(fmt.Errorf("no digest %d", id))
	}
	if len(states) == 0 {
		states = []syndicate.RecipientState{syndicate.RecipientUncertain}
	}
	for _, st := range states {
		if st != syndicate.RecipientUncertain && st != syndicate.RecipientFailed && !(a == web.DigestMarkSent && st == syndicate.RecipientDeferred) {
			return web.DigestActReport{}, web.Invalid(fmt.Errorf("%s messages are not for an editor to %s (uncertain or failed ones are)", st, a))
		}
	}
	to := syndicate.RecipientDeferred
	if a == web.DigestMarkSent {
		to = syndicate.RecipientSent
	}
	wanted := map[string]bool{}
	for _, addr := range addresses {
		wanted[strings.ToLower(addr)] = true
	}
	missing := maps.Clone(wanted)
	var report web.DigestActReport
	for i, m := range d.messages[id] {
		if !slices.Contains(states, m.State) || (len(wanted) > 0 && !wanted[m.Email]) {
			continue
		}
		delete(missing, m.Email)
		d.messages[id][i].State = to
		report.Changed++
		d.changes = append(d.changes, fmt.Sprintf("digest %d %s %s", id, m.Email, to))
	}
	report.Missing = slices.Sorted(maps.Keys(missing))
	return report, nil
}

func (d *fakeDesk) message(digest int64, email string) syndicate.DigestMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, m := range d.messages[digest] {
		if m.Email == email {
			return m
		}
	}
	return syndicate.DigestMessage{}
}
