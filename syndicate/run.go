package syndicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Report is the outcome of Once.
type Report struct {
	FeedErrors map[string]error // feeds that could not be read
	Failed     int              // deliveries that ended failed in this run
	Uncertain  int              // deliveries that ended uncertain in this run
	Held       int              // deliveries held in the ledger, waiting for an editor
	Review     int              // deliveries waiting in review for an editor's approval
	Paused     map[string]int   // paused channels, with the deliveries waiting for them
	Waiting    int              // deliveries whose next retry falls after max-wait
	// DigestErrors are the email channels whose digest could not be made
	// or sent (the mail server unreachable, say).
	DigestErrors map[string]error
	// Recipients counts the digest messages of this run by outcome;
	// uncertain ones include those a crash left in flight.
	Recipients map[RecipientState]int
}

// OK reports whether every feed was read, no delivery ended failed or
// uncertain, every digest due went out and no digest message is uncertain;
// held, in review, paused and still-scheduled deliveries, and digest messages refused by the
// server for one address (failed) or for now (deferred), are reported, not
// failures.
func (r Report) OK() bool {
	return len(r.FeedErrors) == 0 && r.Failed == 0 && r.Uncertain == 0 &&
		len(r.DigestErrors) == 0 && r.Recipients[RecipientUncertain] == 0
}

// Once polls every feed, delivers everything due, and returns. A retry due
// within maxWait of the start is waited for and made in the same run.
func (e *Engine) Once(ctx context.Context, maxWait time.Duration) (Report, error) {
	if err := e.Recover(ctx); err != nil {
		return Report{}, err
	}
	deadline := e.now().Add(maxWait)

	var wg sync.WaitGroup
	for _, f := range e.Feeds {
		wg.Go(func() {
			if _, err := e.Poll(ctx, f.Source.ID); err != nil {
				e.log().Error("poll failed", "feed", f.Source.ID, slog.Any("error", err))
			}
		})
	}
	wg.Wait()

	errs := make(chan error, len(e.Targets))
	for id := range e.Targets {
		wg.Go(func() { errs <- e.drain(ctx, id, deadline) })
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	if err := errors.Join(all...); err != nil {
		return Report{}, err
	}
	_ = e.CheckDigests(ctx, true) // failures are in the report
	return e.report(ctx)
}

// drain delivers a channel's queue, waiting for retries due before deadline.
func (e *Engine) drain(ctx context.Context, channelID string, deadline time.Time) error {
	defer e.releaseChannel(ctx, channelID)
	for {
		res, err := e.Deliver(ctx, channelID)
		if err != nil {
			return err
		}
		if res.Elsewhere {
			e.log().Info("channel left to the process that is delivering it", "channel", channelID)
			return nil
		}
		if paused, err := e.paused(ctx, channelID); e.DryRun || paused || err != nil {
			return err // a paused channel's queue waits for Resume
		}
		next, ok, err := e.nextDue(ctx, channelID)
		if err != nil {
			return fmt.Errorf("channel %q: next due: %w", channelID, err)
		}
		if !ok || next.After(deadline) {
			return nil
		}
		if err := sleepUntil(ctx, next, e.now()); err != nil {
			return nil // interrupted: what is left stays pending
		}
	}
}

func (e *Engine) report(ctx context.Context) (Report, error) {
	r := Report{FeedErrors: map[string]error{}}
	e.runStats.mu.Lock()
	for id, err := range e.runStats.feedErrs {
		if err != nil {
			r.FeedErrors[id] = err
		}
	}
	r.Failed, r.Uncertain = e.runStats.failed, e.runStats.uncertain
	for _, f := range e.Feeds {
		if _, polled := e.runStats.feedErrs[f.Source.ID]; !polled {
			r.FeedErrors[f.Source.ID] = fmt.Errorf("feed %q was not polled", f.Source.ID)
		}
	}
	e.runStats.mu.Unlock()
	counts, err := e.Store.CountDeliveries(ctx)
	if err != nil {
		return r, fmt.Errorf("count deliveries: %w", err)
	}
	paused, err := e.Store.PausedChannels(ctx)
	if err != nil {
		return r, fmt.Errorf("paused channels: %w", err)
	}
	r.Paused = map[string]int{}
	for id := range e.Targets {
		r.Held += counts[id][StateHeld]
		r.Review += counts[id][StateReview]
		if _, ok := paused[id]; ok {
			r.Paused[id] = counts[id][StatePending]
			continue
		}
		r.Waiting += counts[id][StatePending]
	}
	for id := range e.Digests {
		r.Held += counts[id][StateHeld]
		r.Review += counts[id][StateReview]
		if _, ok := paused[id]; ok {
			r.Paused[id] = counts[id][StatePending]
		}
	}
	e.digestReport(&r)
	return r, nil
}

// FeedErrorsSorted lists the feed errors in feed order, for printing.
func (r Report) FeedErrorsSorted() []error {
	ids := make([]string, 0, len(r.FeedErrors))
	for id := range r.FeedErrors {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]error, len(ids))
	for i, id := range ids {
		out[i] = r.FeedErrors[id]
	}
	return out
}

func sleepUntil(ctx context.Context, t, now time.Time) error {
	return sleepCtx(ctx, t.Sub(now))
}

// daemon is the state of a running Engine.
type daemon struct {
	wake     map[string]chan struct{} // channel id → worker wake-up
	requests *pollRequests            // feeds to poll now
}

// Run is the daemon: it settles interrupted sends, polls every feed at once
// and then on its schedule, and keeps one delivery worker per channel, so a
// failing channel never holds up another. It returns when ctx is cancelled,
// after in-flight sends are recorded.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Recover(ctx); err != nil {
		return err
	}
	d := &daemon{wake: map[string]chan struct{}{}, requests: newPollRequests()}
	for id := range e.Targets {
		d.wake[id] = make(chan struct{}, 1)
	}

	var workers sync.WaitGroup
	for id := range e.Targets {
		workers.Go(func() { e.worker(ctx, id, d.wake[id]) })
	}

	c := cron.New(cron.WithChain(cron.Recover(cronLogger{e.log()})))
	for _, f := range e.Feeds {
		if f.Schedule != nil {
			c.Schedule(f.Schedule, cron.FuncJob(func() {
				if sleepCtx(ctx, ScheduleOffset(f.Source.ID, f.Schedule, e.now())) == nil {
					// Every replica fires: the first to poll serves them all.
					since := e.now().Add(-schedulePeriod(f.Schedule, e.now()) / 2)
					e.pollAndWake(ctx, d, f.Source.ID, func(ctx context.Context, id string) (PollResult, error) {
						return e.pollFiring(ctx, id, since)
					})
				}
			}))
		}
	}
	c.Start()
	e.running.Store(d)
	workers.Go(func() {
		for range e.Store.Changes(ctx) {
			e.wakeAll() // another process decided something
			e.WakeDigests()
		}
	})
	e.requests.Store(d.requests)
	e.ready.Store(true)
	e.log().Info("daemon started", "feeds", len(e.Feeds), "channels", len(e.Targets), "dry_run", e.DryRun)

	var firstPolls sync.WaitGroup
	for _, f := range e.Feeds {
		firstPolls.Add(1)
		workers.Go(func() { defer firstPolls.Done(); e.pollAndWake(ctx, d, f.Source.ID, e.pollScheduled) })
	}
	if e.AfterFirstPolls != nil {
		workers.Go(func() {
			firstPolls.Wait()
			if ctx.Err() == nil {
				e.AfterFirstPolls(ctx)
			}
		})
	}
	workers.Go(func() { e.digestLoop(ctx) })
	if !e.DryRun {
		workers.Go(func() { e.sweepLoop(ctx) })
	}
	for {
		select {
		case <-d.requests.signal:
			for _, id := range d.requests.take() {
				workers.Go(func() { e.pollAndWake(ctx, d, id, e.pollAsked) })
			}
			continue
		case <-ctx.Done():
		}
		break
	}

	e.ready.Store(false)
	e.running.Store(nil)
	e.requests.Store(nil)
	<-c.Stop().Done()
	workers.Wait()
	e.log().Info("daemon stopped")
	return nil
}

// pollAsked is a poll asked for now (a ping, an editor). When another
// process is polling the feed, its fetch may have left before the change
// a ping announces, so the poll is made once that one has ended (asking
// again, less and less often, for as long as a poll's lease lasts).
func (e *Engine) pollAsked(ctx context.Context, feedID string) (PollResult, error) {
	deadline := e.now().Add(feedPollLease)
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		res, err := e.Poll(ctx, feedID)
		if !errors.Is(err, errPolledElsewhere) || e.now().After(deadline) {
			return res, err
		}
		if sleepCtx(ctx, wait) != nil {
			return res, err
		}
	}
}

// PollNow asks a running daemon to poll a feed now. It reports false when
// the daemon is not running or the feed is unknown.
func (e *Engine) PollNow(feedID string) bool {
	q := e.requests.Load()
	if q == nil {
		return false
	}
	if _, ok := e.feed(feedID); !ok {
		return false
	}
	q.add(feedID) // a set: a burst of pings is one poll, none is lost
	return true
}

// FeedID finds a configured feed by id or, when byURL, by its URL.
func (e *Engine) FeedID(idOrURL string, byURL bool) (string, bool) {
	for _, f := range e.Feeds {
		if (!byURL && f.Source.ID == idOrURL) || (byURL && f.Source.URL == idOrURL) {
			return f.Source.ID, true
		}
	}
	return "", false
}

// Ready reports whether the daemon has settled the ledger and its
// scheduler runs.
func (e *Engine) Ready() bool { return e.ready.Load() }

func (e *Engine) pollAndWake(ctx context.Context, d *daemon, feedID string, poll func(context.Context, string) (PollResult, error)) {
	res, err := poll(ctx, feedID)
	switch {
	case errors.Is(err, errPolledElsewhere):
		e.log().Debug("poll left to another process", "feed", feedID, slog.Any("reason", err))
	case errors.Is(err, ErrPollDeferred):
		e.log().Info("poll deferred", "feed", feedID, slog.Any("reason", err))
	case err != nil:
		e.log().Error("poll failed", "feed", feedID, slog.Any("error", err))
	}
	for _, p := range res.Deliveries {
		select {
		case d.wake[p.Channel] <- struct{}{}:
		default:
		}
	}
}

// worker delivers one channel's queue whenever woken or a retry falls due,
// while this process holds the queue's lease; otherwise it looks again
// every leaseRetry, to take the queue over should its holder stop.
func (e *Engine) worker(ctx context.Context, channelID string, wake <-chan struct{}) {
	defer e.releaseChannel(ctx, channelID)
	for {
		res, err := e.Deliver(ctx, channelID)
		if err != nil {
			e.log().Error("delivery failed", "channel", channelID, slog.Any("error", err))
		}
		if !e.waitForWork(ctx, channelID, wake, res.Elsewhere) {
			return
		}
	}
}

// leaseRetry is how often a process that does not hold a channel's queue
// checks whether its holder stopped.
const leaseRetry = 15 * time.Second

// waitForWork blocks until the channel is woken or its next retry is due
// (or, elsewhere, leaseRetry has passed); false when ctx ends.
func (e *Engine) waitForWork(ctx context.Context, channelID string, wake <-chan struct{}, elsewhere bool) bool {
	var due <-chan time.Time
	if elsewhere {
		timer := time.NewTimer(leaseRetry)
		defer timer.Stop()
		due = timer.C
	} else if !e.DryRun {
		next, ok, err := e.nextDue(ctx, channelID)
		if err != nil {
			e.log().Error("next due", "channel", channelID, slog.Any("error", err))
			next, ok = e.now().Add(time.Minute), true
		}
		if ok {
			timer := time.NewTimer(max(next.Sub(e.now()), 0))
			defer timer.Stop()
			due = timer.C
		}
	}
	select {
	case <-ctx.Done():
		return false
	case <-wake:
	case <-due:
	}
	return true
}

// leaseSweep is how often Run settles the sends of processes that
// stopped (a replica that died) once their leases ended.
const leaseSweep = time.Minute

func (e *Engine) sweepLoop(ctx context.Context) {
	t := time.NewTicker(leaseSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := e.Recover(ctx); err != nil && ctx.Err() == nil {
			e.log().Error("settle interrupted sends", slog.Any("error", err))
		}
		e.wakeAll() // what was settled to re-send is due now
	}
}

// cronLogger adapts slog to the logger cron.Recover wants.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, slog.Any("error", err))...)
}

// sleepCtx waits d, or until ctx ends (its error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
