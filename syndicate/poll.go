package syndicate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// ErrPollDeferred is returned when a feed asked not to be polled yet
// (Retry-After) or a poll of it is already running.
var ErrPollDeferred = errors.New("poll deferred")

// errPolledElsewhere is wrapped with ErrPollDeferred when another process
// polls the feed or already polled it for this firing of its schedule.
var errPolledElsewhere = errors.New("polled by another process")

// feedPollLease bounds how long a poll holds its feed against other
// processes: a fetch, its parse and its record take far less.
const feedPollLease = 5 * time.Minute

// PollResult says what one poll found.
type PollResult struct {
	NotModified bool
	New         int // articles never seen before
	Deliveries  []PlannedDelivery
}

// PlannedDelivery is a delivery a poll decided to create.
type PlannedDelivery struct {
	Article Article
	Channel string
	State   State
}

// ErrFeedGone is returned for a feed whose URL answered 410 Gone: it is
// not polled again until its url changes in the config.
var ErrFeedGone = errors.New("feed gone")

// Poll reads one feed now, records what is new, and plans its deliveries.
// Only a server's Retry-After and a 410 Gone hold it back; the backoff
// after failed polls does not (once and a ping poll on request).
func (e *Engine) Poll(ctx context.Context, feedID string) (PollResult, error) {
	return e.pollFeed(ctx, feedID, false, time.Time{})
}

// pollScheduled is a poll on the feed's schedule: it also waits out the
// backoff after failed polls, so a broken feed is not hammered.
func (e *Engine) pollScheduled(ctx context.Context, feedID string) (PollResult, error) {
	return e.pollFeed(ctx, feedID, true, time.Time{})
}

// pollFiring is a poll for one firing of the feed's schedule, which every
// replica's scheduler fires: it is skipped when any process polled the
// feed after since.
func (e *Engine) pollFiring(ctx context.Context, feedID string, since time.Time) (PollResult, error) {
	return e.pollFeed(ctx, feedID, true, since)
}

// feedLock keeps polls of one feed from overlapping; a poll asked for
// while one runs is made right after it, not dropped.
type feedLock struct {
	mu    sync.Mutex
	again atomic.Bool
}

func (e *Engine) pollFeed(ctx context.Context, feedID string, scheduled bool, since time.Time) (PollResult, error) {
	f, ok := e.feed(feedID)
	if !ok {
		return PollResult{}, fmt.Errorf("unknown feed %q", feedID)
	}
	v, _ := e.polling.LoadOrStore(feedID, &feedLock{})
	l := v.(*feedLock)
	l.again.Store(true)
	var total PollResult
	var err error
	polled := false
	for l.again.Load() && l.mu.TryLock() {
		for l.again.Swap(false) {
			var res PollResult
			res, err = e.pollOnce(ctx, f, scheduled, since)
			since = time.Time{} // a poll asked for meanwhile is made
			total.New += res.New
			total.Deliveries = append(total.Deliveries, res.Deliveries...)
			total.NotModified = res.NotModified
			polled = true
		}
		l.mu.Unlock()
	}
	if !polled {
		return PollResult{}, fmt.Errorf("feed %q: a poll is running; it polls again when done: %w", feedID, ErrPollDeferred)
	}
	return total, err
}

func (e *Engine) pollOnce(ctx context.Context, f Feed, scheduled bool, since time.Time) (PollResult, error) {
	slots := e.slots()
	if !slots.acquire(ctx) {
		return PollResult{}, fmt.Errorf("feed %q: stopped while waiting for a poll slot: %w", f.Source.ID, ctx.Err())
	}
	defer slots.release()
	state, lease, err := e.startPoll(ctx, f.Source.ID)
	if err != nil {
		return PollResult{}, err
	}
	if lease.Name != "" {
		// Released with the poll's record; this is for a poll that ends
		// before it, or whose record failed.
		defer func() {
			if !lease.released {
				e.releaseLease(ctx, lease.Name)
			}
		}()
	}
	start := e.now() // after the wait: a slot's wait is not the feed's
	res, result, err := e.poll(ctx, f, state, &lease, start, scheduled, since)
	e.observer().Polled(f.Source.ID, result, e.now().Sub(start))
	e.runStats.feedResult(f.Source.ID, err) // deferred too: the feed was not read
	return res, err
}

// pollLease is the feed's lease a poll holds: released in the poll's
// record, or after the poll when it wrote none.
type pollLease struct {
	HeldLease
	released bool
}

// startPoll takes the feed's lease, also from a holder that has stopped,
// and reads its state, in one transaction. A dry run writes nothing: it
// holds no lease.
func (e *Engine) startPoll(ctx context.Context, feedID string) (FeedState, pollLease, error) {
	if e.DryRun {
		st, err := e.Store.FeedState(ctx, feedID)
		if err != nil {
			return st, pollLease{}, fmt.Errorf("feed %q: load state: %w", feedID, err)
		}
		return st, pollLease{}, nil
	}
	now := e.now()
	claim := LeaseClaim{Name: feedLease(feedID), Owner: e.owner(), Now: now, Until: now.Add(feedPollLease)}
	var st FeedState
	var holder string
	// A busy store delays the poll; it does not drop it. Each try runs
	// under ctx: a poll not yet started is not worth a wait at shutdown.
	start := func(context.Context) error {
		var err error
		st, holder, err = e.Store.StartPoll(ctx, feedID, claim)
		return err
	}
	err := e.writeThroughBusy(ctx, fmt.Sprintf("feed %q: start poll", feedID), start)
	if err == nil && holder != claim.Owner && ownerStopped(holder, claim.Owner) {
		claim.Replacing = holder
		err = e.writeThroughBusy(ctx, fmt.Sprintf("feed %q: start poll", feedID), start)
	}
	if err != nil {
		return st, pollLease{}, fmt.Errorf("feed %q: %w", feedID, err)
	}
	if holder != claim.Owner {
		return st, pollLease{}, fmt.Errorf("feed %q: %w (%s): %w", feedID, errPolledElsewhere, holder, ErrPollDeferred)
	}
	return st, pollLease{HeldLease: HeldLease{Name: claim.Name, Owner: claim.Owner}}, nil
}

// recordPoll writes the poll's record, releasing its lease with it.
func (e *Engine) recordPoll(ctx context.Context, rec PollRecord, lease *pollLease) error {
	rec.Release = lease.HeldLease
	err := e.writeThroughBusy(ctx, fmt.Sprintf("feed %q: poll", rec.State.FeedID), func(ctx context.Context) error {
		return e.Store.RecordPoll(ctx, rec)
	})
	if err == nil && lease.Name != "" {
		lease.released = true
	}
	return err
}

// FeedBackoff is the wait before the next scheduled poll of a feed after
// failures consecutive failed polls: doubling from a minute, at most an hour.
func FeedBackoff(failures int) time.Duration {
	if failures <= 0 {
		return 0
	}
	return min(time.Minute<<min(failures-1, 10), time.Hour)
}

func (e *Engine) poll(ctx context.Context, f Feed, state FeedState, lease *pollLease, now time.Time, scheduled bool, since time.Time) (PollResult, string, error) {
	id := f.Source.ID
	if !since.IsZero() && state.LastPollAt.After(since) {
		return PollResult{}, "deferred", fmt.Errorf("feed %q: %w at %s for this firing of its schedule: %w",
			id, errPolledElsewhere, state.LastPollAt.Format(time.RFC3339), ErrPollDeferred)
	}
	if state.GoneURL != "" && state.GoneURL == f.Source.URL {
		return PollResult{}, "gone", fmt.Errorf("feed %q: %s answered 410 Gone; it is not polled until its url changes in the config: %w",
			id, redactURL(f.Source.URL), ErrFeedGone)
	}
	if now.Before(state.NextPollAt) {
		return PollResult{}, "deferred", fmt.Errorf("feed %q: the server asked to wait until %s: %w",
			id, state.NextPollAt.Format(time.RFC3339), ErrPollDeferred)
	}
	if next := state.LastPollAt.Add(FeedBackoff(state.Failures)); scheduled && now.Before(next) {
		return PollResult{}, "deferred", fmt.Errorf("feed %q: %d failed polls in a row, next try at %s: %w",
			id, state.Failures, next.Format(time.RFC3339), ErrPollDeferred)
	}
	src := f.Source
	if state.MovedFrom == f.Source.URL && state.MovedTo != "" {
		src.URL = state.MovedTo
	}
	state.LastPollAt = now

	fetched, readErr := e.Reader.Read(ctx, src, Validators{ETag: state.ETag, LastModified: state.LastModified})
	if readErr != nil {
		state.LastError = readErr.Error()
		state.Failures++
		var fe *FetchError
		if errors.As(readErr, &fe) {
			if !fe.RetryAfter.IsZero() {
				state.NextPollAt = fe.RetryAfter
			}
			if fe.Status == http.StatusGone {
				state.GoneURL = f.Source.URL
			}
		}
		if !e.DryRun {
			if err := e.recordPoll(ctx, PollRecord{State: state}, lease); err != nil {
				return PollResult{}, "error", errors.Join(readErr, fmt.Errorf("feed %q: save state: %w", id, err))
			}
		}
		return PollResult{}, "error", fmt.Errorf("feed %q: %w", id, readErr)
	}

	if fetched.PermanentURL != "" && fetched.PermanentURL != src.URL {
		state.MovedFrom, state.MovedTo = f.Source.URL, fetched.PermanentURL
		e.log().Warn("feed moved permanently: polling the new address; update its url in the config",
			"feed", id, "from", redactURL(f.Source.URL), "to", redactURL(fetched.PermanentURL))
	}
	if fetched.Truncated {
		e.log().Warn("feed document is cut short: kept its complete items", "feed", id, "items", len(fetched.Articles))
	}
	for _, w := range fetched.Warnings {
		e.log().Warn("feed read with a warning", "feed", id, slog.String("warning", w))
	}
	if e.Hubs != nil && !e.DryRun && (fetched.Hub != "" || !fetched.NotModified) {
		e.Hubs.Advertised(ctx, id, fetched.Hub, fetched.Self)
	}
	state.LastOKAt, state.LastError, state.Failures, state.NextPollAt = now, "", 0, time.Time{}
	state.ETag, state.LastModified = fetched.Validators.ETag, fetched.Validators.LastModified
	if fetched.NotModified {
		if !e.DryRun {
			if err := e.recordPoll(ctx, PollRecord{State: state}, lease); err != nil {
				return PollResult{}, "error", fmt.Errorf("feed %q: save state: %w", id, err)
			}
		}
		return PollResult{NotModified: true}, "not_modified", nil
	}

	rec, res, err := e.plan(ctx, f, fetched.Articles, now)
	if err != nil {
		return PollResult{}, "error", fmt.Errorf("feed %q: plan: %w", id, err)
	}
	rec.State = state
	if e.DryRun {
		e.printPlanned(res.Deliveries)
		return res, "ok", nil
	}
	if err := e.recordPoll(ctx, rec, lease); err != nil {
		return PollResult{}, "error", fmt.Errorf("feed %q: record poll: %w", id, err)
	}
	e.editUpdated(ctx, rec.Updated)
	for _, d := range res.Deliveries {
		e.log().Info("delivery planned", "feed", id, "channel", d.Channel, "article", d.Article.Key, "state", d.State)
	}
	if res.New > 0 {
		e.log().Info("feed polled", "feed", id, "new", res.New, "deliveries", len(res.Deliveries))
	}
	return res, "ok", nil
}

// plan decides, for one fetch, which articles are new, which are aliases or
// edits of known ones, and which deliveries to create: on an established
// (feed, channel) route every new article that passes the filter (held when
// there are more than FloodLimit); on a new route only the Backfill newest.
func (e *Engine) plan(ctx context.Context, f Feed, articles []Article, now time.Time) (PollRecord, PollResult, error) {
	id := f.Source.ID
	keys := make([]string, 0, len(articles))
	var links []string
	for _, a := range articles {
		keys = append(keys, a.Key)
		if a.LegacyKey != "" {
			keys = append(keys, a.LegacyKey)
		}
		if a.Link != "" {
			links = append(links, a.Link)
		}
	}
	known, err := e.Store.KnownKeys(ctx, id, keys)
	if err != nil {
		return PollRecord{}, PollResult{}, err
	}
	articles = withLegacyKeys(articles, known)
	knownLinks, err := e.Store.KnownLinks(ctx, id, links)
	if err != nil {
		return PollRecord{}, PollResult{}, err
	}
	routes, err := e.Store.Routes(ctx, id)
	if err != nil {
		return PollRecord{}, PollResult{}, err
	}

	var rec PollRecord
	var fresh []Article
	linkInBatch := map[string]bool{}
	for _, a := range articles {
		a.FeedID = id
		switch k, seen := known[a.Key]; {
		case seen:
			if k.Hash != a.Hash {
				a.ID = k.ID
				rec.Updated = append(rec.Updated, a)
			}
		case a.Link != "" && (knownLinks[a.Link].ID != 0 || linkInBatch[a.Link]):
			rec.Aliases = append(rec.Aliases, Alias{Key: a.Key, Link: a.Link})
		default:
			a.FirstSeen = now
			fresh = append(fresh, a)
			if a.Link != "" {
				linkInBatch[a.Link] = true
			}
		}
	}
	// Oldest first, so the store's IDs (and a channel's queue) follow age.
	sortOldestFirst(fresh)
	rec.Articles = fresh

	res := PollResult{New: len(fresh)}
	for _, ch := range f.To {
		var picked []Article
		state := StatePending
		if routes[ch] {
			picked = filter(fresh, f.Filter)
			if f.FloodLimit > 0 && len(picked) > f.FloodLimit {
				state = StateHeld
				e.log().Warn("flood guard: holding new articles until an editor releases them",
					"feed", id, "channel", ch, "new", len(picked), "flood_limit", f.FloodLimit)
			}
		} else {
			picked = Newest(filter(withFirstSeen(articles, known, now), f.Filter), f.Backfill)
			rec.Routes = append(rec.Routes, ch)
			e.log().Info("route baselined", "feed", id, "channel", ch, "items", len(articles), "backfill", len(picked))
		}
		if state == StatePending && e.inReview(f, ch) {
			state = StateReview
		}
		for _, a := range picked {
			rec.Deliveries = append(rec.Deliveries, NewDelivery{ArticleKey: a.Key, ChannelID: ch, State: state, SortTime: a.SortTime()})
			res.Deliveries = append(res.Deliveries, PlannedDelivery{Article: a, Channel: ch, State: state})
		}
	}
	return rec, res, nil
}

// withLegacyKeys keys by its legacy key each article the store knows only
// under that key (recorded by an earlier version of the reader), so that
// it is found as the article it is rather than taken for a new one. Such
// an article claims the stored one: another article of the fetch whose own
// key happens to be that legacy key (two ids the earlier reader made one)
// is not the stored article; without a legacy key of its own it is left
// out, as the earlier reader left it out.
func withLegacyKeys(articles []Article, known map[string]KnownArticle) []Article {
	claimed := map[string]bool{}
	for _, a := range articles {
		if _, ok := known[a.Key]; !ok && a.LegacyKey != "" {
			if _, ok := known[a.LegacyKey]; ok {
				claimed[a.LegacyKey] = true
			}
		}
	}
	if len(claimed) == 0 {
		return articles
	}
	out := make([]Article, 0, len(articles))
	for _, a := range articles {
		_, keyKnown := known[a.Key]
		_, legacyKnown := known[a.LegacyKey]
		switch {
		case keyKnown && !claimed[a.Key]:
		case a.LegacyKey != "" && legacyKnown:
			a.Key = a.LegacyKey
		case claimed[a.Key]:
			continue
		}
		out = append(out, a)
	}
	return out
}

// withFirstSeen gives articles not yet recorded a FirstSeen for ordering.
func withFirstSeen(articles []Article, known map[string]KnownArticle, now time.Time) []Article {
	out := make([]Article, len(articles))
	for i, a := range articles {
		if _, ok := known[a.Key]; !ok && a.FirstSeen.IsZero() {
			a.FirstSeen = now
		}
		out[i] = a
	}
	return out
}

func filter(articles []Article, f Filter) []Article {
	var out []Article
	for _, a := range articles {
		if f.Allows(a) {
			out = append(out, a)
		}
	}
	return out
}

// sortOldestFirst orders by published date, then updated, then position in
// the feed (a later position is older: feeds list newest first).
func sortOldestFirst(articles []Article) {
	slices.SortStableFunc(articles, func(a, b Article) int {
		if c := compareTimes(a.Published, b.Published); c != 0 {
			return c
		}
		if c := compareTimes(a.Updated, b.Updated); c != 0 {
			return c
		}
		return cmp.Compare(b.Position, a.Position)
	})
}

// compareTimes orders two optional times; an absent one counts as newest,
// because undated items are usually the ones just published.
func compareTimes(a, b time.Time) int {
	switch {
	case a.IsZero() && b.IsZero():
		return 0
	case a.IsZero():
		return 1
	case b.IsZero():
		return -1
	}
	return a.Compare(b)
}

// Newest returns the n newest articles, oldest first.
func Newest(articles []Article, n int) []Article {
	if n <= 0 {
		return nil
	}
	sorted := slices.Clone(articles)
	sortOldestFirst(sorted)
	if len(sorted) > n {
		sorted = sorted[len(sorted)-n:]
	}
	return sorted
}

func (e *Engine) printPlanned(planned []PlannedDelivery) {
	for _, p := range planned {
		if p.State == StateHeld {
			e.dryRunf("[dry-run] %s: would hold %q (flood guard)\n\n", p.Channel, p.Article.Title)
			continue
		}
		e.printRendering(p.Channel, Post{Article: p.Article, IdempotencyKey: IdempotencyKey(p.Channel, p.Article)})
	}
}

func (e *Engine) printRendering(channelID string, post Post) {
	t, ok := e.Targets[channelID]
	if !ok {
		return
	}
	r, err := t.Channel.Render(post)
	if err != nil {
		e.log().Error("render failed", "channel", channelID, "article", post.Article.Key, slog.Any("error", err))
		return
	}
	if e.DryRunPrint != nil {
		e.printMu.Lock()
		defer e.printMu.Unlock()
		e.DryRunPrint(channelID, post.Article, r)
		return
	}
	e.dryRunf("[dry-run] %s would send (%d/%d, %s):\n%s\n\n", channelID, r.Length, r.Limit, r.Format, r.Text)
}

func (e *Engine) dryRunf(format string, args ...any) {
	if e.DryRunOut == nil {
		return
	}
	e.printMu.Lock()
	defer e.printMu.Unlock()
	fmt.Fprintf(e.DryRunOut, format, args...)
}

// redactURL hides the password of a feed URL with credentials, for logs.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}
