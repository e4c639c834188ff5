package syndicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// uncertainWindow is how long a platform with idempotency keys (Mastodon)
// remembers one; past it, a re-send could duplicate.
const uncertainWindow = time.Hour

// DeliverResult says how a channel's queue was left.
type DeliverResult struct {
	Attempted int
	// Waiting is set when the queue stopped on a retryable failure: the
	// channel is not tried again before NextAttempt.
	Waiting     bool
	NextAttempt time.Time
	// Elsewhere is set when another process holds the channel's queue
	// (another replica delivers it): nothing was sent here.
	Elsewhere bool
}

// Deliver sends a channel's due deliveries, oldest article first. It stops
// at the first retryable failure, so the queue keeps its order and a
// struggling platform is not hammered; a permanent failure does not stop it.
func (e *Engine) Deliver(ctx context.Context, channelID string) (DeliverResult, error) {
	t, ok := e.Targets[channelID]
	if !ok {
		return DeliverResult{}, fmt.Errorf("unknown channel %q", channelID)
	}
	var res DeliverResult
	for ctx.Err() == nil {
		if paused, err := e.paused(ctx, channelID); err != nil || paused {
			return res, err
		}
		if until, held := e.channelWaits(channelID); held {
			// The platform asked to wait (a 429, a 5xx): the deliveries
			// behind the one refused wait too, however often the queue is
			// woken.
			res.Waiting, res.NextAttempt = true, until
			return res, nil
		}
		if held, err := e.holdChannel(ctx, channelID); err != nil || !held {
			res.Elsewhere = err == nil
			return res, err
		}
		due, err := e.Store.DueDeliveries(ctx, channelID, e.now(), 50)
		if err != nil {
			return res, fmt.Errorf("channel %q: list due deliveries: %w", channelID, err)
		}
		if len(due) == 0 {
			return res, nil
		}
		for _, d := range due {
			if ctx.Err() != nil {
				return res, nil
			}
			if held, err := e.holdChannel(ctx, channelID); err != nil || !held {
				res.Elsewhere = err == nil
				return res, err // its lease lapsed: the rest is for the holder
			}
			if e.DryRun {
				a, err := e.Store.Article(ctx, d.ArticleID)
				if err != nil {
					return res, fmt.Errorf("delivery %d: load article: %w", d.ID, err)
				}
				e.printRendering(channelID, Post{DeliveryID: d.ID, Article: a, IdempotencyKey: IdempotencyKey(channelID, a)})
				continue
			}
			after, attempted, err := e.attempt(ctx, t, d)
			if err != nil {
				return res, err
			}
			if !attempted {
				continue
			}
			res.Attempted++
			if after.State == StatePending {
				e.channelWait.Store(channelID, after.NextAttempt)
				res.Waiting, res.NextAttempt = true, after.NextAttempt
				return res, nil
			}
		}
		if e.DryRun {
			return res, nil
		}
	}
	return res, nil
}

// attempt makes one send of d and records its outcome. The row moves to
// sending before the request and to its outcome after it, so a crash in
// between leaves a trace that Recover resolves. attempted is false when no
// send was made: the row was taken by someone else, or an earlier attempt
// turned out to have gone through.
func (e *Engine) attempt(ctx context.Context, t Target, d Delivery) (after Delivery, attempted bool, err error) {
	a, err := e.Store.Article(ctx, d.ArticleID)
	if err != nil {
		return d, false, fmt.Errorf("delivery %d: load article: %w", d.ID, err)
	}
	log := e.log().With("channel", t.ID, "delivery", d.ID, "feed", a.FeedID, "article", a.Key)
	if found, err := e.alreadyPosted(ctx, t, d, a); err != nil || found {
		return d, false, err
	}

	sending := d
	sending.State, sending.Attempts, sending.SendingSince, sending.UpdatedAt = StateSending, d.Attempts+1, e.now(), e.now()
	sending.Owner = e.owner()
	if err := e.Store.UpdateDelivery(ctx, sending, StatePending); err != nil {
		if errors.Is(err, ErrConflict) {
			return d, false, nil // an editor or another worker took it
		}
		return d, false, fmt.Errorf("delivery %d: mark sending: %w", d.ID, err)
	}

	// Neither the send nor its record is cut by shutdown.
	sendCtx, cancel := detached(ctx, e.sendTimeout())
	defer cancel()
	start := e.now()
	receipt, sendErr := t.Channel.Send(sendCtx, Post{DeliveryID: d.ID, Article: a, IdempotencyKey: IdempotencyKey(t.ID, a), Override: d.Override})
	took := e.now().Sub(start)

	done := e.outcome(t, sending, receipt, sendErr)
	err = e.writeThroughBusy(ctx, fmt.Sprintf("delivery %d: %s", d.ID, done.State), func(ctx context.Context) error {
		return e.Store.UpdateDelivery(ctx, done, StateSending)
	})
	if err != nil {
		return done, true, fmt.Errorf("delivery %d: record %s: %w", d.ID, done.State, err)
	}
	e.recordAttempt(sendCtx, Attempt{DeliveryID: d.ID, At: start, Took: took, State: done.State, Error: done.LastError})
	e.observer().Attempted(t.ID, done.State, took)
	e.runStats.deliveryEnded(done.State)

	switch done.State {
	case StateSent:
		log.Info("delivered", "attempt", done.Attempts, "remote_url", done.RemoteURL)
		if receipt.Warning != "" {
			log.Warn("delivered with a warning", slog.String("warning", receipt.Warning))
		}
	case StatePending:
		log.Warn("send failed, will retry", "attempt", done.Attempts, "next_attempt", done.NextAttempt, slog.String("error", done.LastError))
	default:
		log.Error("send failed", "state", done.State, "attempt", done.Attempts, slog.String("error", done.LastError))
	}
	return done, true, nil
}

// channelWaits reports whether the channel's queue waits, after a
// retryable failure, until the time its refused delivery is due again.
func (e *Engine) channelWaits(channelID string) (until time.Time, waits bool) {
	v, ok := e.channelWait.Load(channelID)
	if !ok {
		return time.Time{}, false
	}
	until = v.(time.Time)
	return until, e.now().Before(until)
}

// nextDue is when the channel's queue has work next: its earliest pending
// delivery, but not before the wait a platform asked for.
func (e *Engine) nextDue(ctx context.Context, channelID string) (time.Time, bool, error) {
	next, ok, err := e.Store.NextDue(ctx, channelID)
	if until, waits := e.channelWaits(channelID); err == nil && ok && waits && until.After(next) {
		next = until
	}
	return next, ok, err
}

// alreadyPosted guards a retry that comes after the platform forgot the
// idempotency key of the earlier attempt (an hour, for Mastodon): the
// earlier request may have gone through without its answer, so a channel
// that can look for the post does so first. Found, the delivery is sent.
func (e *Engine) alreadyPosted(ctx context.Context, t Target, d Delivery, a Article) (bool, error) {
	resolver := t.Resolver
	if resolver == nil || d.Attempts == 0 || d.SendingSince.IsZero() || e.now().Sub(d.SendingSince) < uncertainWindow {
		return false, nil
	}
	rctx, cancel := context.WithTimeout(ctx, e.sendTimeout())
	defer cancel()
	r, found, err := resolver.Resolve(rctx, Post{DeliveryID: d.ID, Article: a, IdempotencyKey: IdempotencyKey(t.ID, a)}, d.SendingSince)
	if err != nil || !found {
		return false, nil // not found, or cannot tell: the new attempt goes ahead
	}
	sent := d
	sent.State, sent.RemoteID, sent.RemoteURL, sent.LastError, sent.UpdatedAt = StateSent, r.RemoteID, r.URL, "", e.now()
	if err := e.Store.UpdateDelivery(ctx, sent, StatePending); err != nil && !errors.Is(err, ErrConflict) {
		return false, fmt.Errorf("delivery %d: record sent: %w", d.ID, err)
	}
	e.log().Info("an earlier attempt had gone through", "channel", t.ID, "delivery", d.ID, "remote_url", r.URL)
	return true, nil
}

// outcome turns a send's result into the delivery's next state.
func (e *Engine) outcome(t Target, d Delivery, r Receipt, sendErr *SendError) Delivery {
	now := e.now()
	d.UpdatedAt = now
	if sendErr == nil {
		d.State, d.RemoteID, d.RemoteURL, d.LastError, d.NextAttempt = StateSent, r.RemoteID, r.URL, r.Warning, time.Time{}
		return d
	}
	d.LastError = sendErr.Error()
	kind, retryAfter := sendErr.Kind, sendErr.RetryAfter
	switch {
	case kind == Permanent:
		d.State = StateFailed
	case kind == Uncertain:
		d.State = StateUncertain
	case d.Attempts >= t.Retry.MaxAttempts:
		d.State = StateFailed
		d.LastError = fmt.Sprintf("gave up after %d attempts: %s", d.Attempts, d.LastError)
	default:
		d.State = StatePending
		d.NextAttempt = now.Add(t.Retry.Backoff(d.Attempts, e.jitter()))
		if retryAfter.After(d.NextAttempt) {
			d.NextAttempt = retryAfter
		}
	}
	return d
}

func (e *Engine) jitter() float64 {
	if e.Jitter != nil {
		return e.Jitter()
	}
	return 0
}

func (e *Engine) sendTimeout() time.Duration {
	if e.SendTimeout > 0 {
		return e.SendTimeout
	}
	return 2 * time.Minute
}

// Recover settles deliveries left in state sending by a process that
// stopped mid-send: its own earlier run, or another replica that died. A
// channel that can look for the post (Resolver) marks it sent when found,
// or re-sends within the idempotency window; any other becomes uncertain
// and waits for an editor. A send of a process that may still be running
// is left to it until its lease ends (deliveryLease after it began). Run
// calls it at start and then every leaseSweep; call it before any sending.
func (e *Engine) Recover(ctx context.Context) error {
	if e.DryRun {
		return nil
	}
	stuck, err := e.Store.ListDeliveries(ctx, DeliveryFilter{States: []State{StateSending}})
	if err != nil {
		return fmt.Errorf("recover: list interrupted deliveries: %w", err)
	}
	for _, v := range stuck {
		if !e.stoppedOwner(v.Owner) && e.now().Before(v.SendingSince.Add(e.deliveryLease())) {
			continue // its process may still be sending it
		}
		d := e.resolve(ctx, v)
		if err := e.Store.UpdateDelivery(ctx, d, StateSending); err != nil && !errors.Is(err, ErrConflict) {
			return fmt.Errorf("recover delivery %d: %w", v.ID, err)
		}
		e.runStats.deliveryEnded(d.State)
		e.log().Warn("interrupted send settled", "delivery", v.ID, "channel", v.ChannelID,
			"article", v.Article.Key, "state", d.State, slog.String("reason", d.LastError))
	}
	return nil
}

// deliveryLease is how long a send is left to the process that began it:
// the send's own bound, and a minute to record its outcome.
func (e *Engine) deliveryLease() time.Duration { return e.sendTimeout() + time.Minute }

func (e *Engine) resolve(ctx context.Context, v DeliveryView) Delivery {
	d := v.Delivery
	d.UpdatedAt = e.now()
	t := e.Targets[d.ChannelID]
	if t.Resendable {
		d.State, d.NextAttempt, d.LastError = StatePending, time.Time{}, "interrupted; sending again (the channel finds the post if it went out)"
		return d
	}
	resolver := t.Resolver
	if resolver == nil {
		d.State, d.LastError = StateUncertain, "interrupted after the request may have left; check the channel, then retry, skip or mark-sent"
		return d
	}
	post := Post{DeliveryID: d.ID, Article: v.Article, IdempotencyKey: IdempotencyKey(d.ChannelID, v.Article)}
	rctx, cancel := context.WithTimeout(ctx, e.sendTimeout())
	defer cancel()
	r, found, err := resolver.Resolve(rctx, post, d.SendingSince)
	switch {
	case err != nil:
		d.State, d.LastError = StateUncertain, "interrupted; could not check whether the post went out: "+err.Error()
	case found:
		d.State, d.RemoteID, d.RemoteURL, d.LastError = StateSent, r.RemoteID, r.URL, ""
	case e.now().Sub(d.SendingSince) < uncertainWindow:
		d.State, d.NextAttempt, d.LastError = StatePending, time.Time{}, "interrupted; not found on the channel, re-sending with the same idempotency key"
	default:
		d.State, d.LastError = StateUncertain, "interrupted over an hour ago and not found on the channel"
	}
	return d
}

// editUpdated edits the posts already sent of articles that changed, on
// the channels that edit on update. An edit is tried once: a failure is
// logged and kept in the delivery's last error, and the post stays as it
// was.
func (e *Engine) editUpdated(ctx context.Context, updated []Article) {
	for _, a := range updated {
		views, err := e.Store.ListDeliveries(ctx, DeliveryFilter{ArticleID: a.ID, States: []State{StateSent}})
		if err != nil {
			e.log().Error("edit: list deliveries", "feed", a.FeedID, "article", a.Key, slog.Any("error", err))
			continue
		}
		for _, v := range views {
			t := e.Targets[v.ChannelID]
			if !t.EditOnUpdate || t.Editor == nil {
				continue
			}
			_, _ = e.edit(ctx, t.ID, t.Editor, v.Delivery, a) // logged and recorded inside
		}
	}
}

// edit changes a sent post to show a as it is now, and records the
// outcome (a failed edit leaves the delivery sent, with the error).
func (e *Engine) edit(ctx context.Context, channelID string, editor Editor, d Delivery, a Article) (Delivery, error) {
	log := e.log().With("channel", channelID, "delivery", d.ID, "feed", a.FeedID, "article", a.Key)
	editCtx, cancel := detached(ctx, e.sendTimeout())
	defer cancel()
	r, editErr := editor.Edit(editCtx, Post{DeliveryID: d.ID, Article: a, IdempotencyKey: IdempotencyKey(channelID, a), Override: d.Override},
		Receipt{RemoteID: d.RemoteID, URL: d.RemoteURL})
	if editErr != nil {
		d.LastError = "edit failed: " + editErr.Error()
		log.Error("edit failed", slog.String("error", editErr.Error()))
	} else {
		d.LastError = r.Warning
		if r.RemoteID != "" {
			d.RemoteID, d.RemoteURL = r.RemoteID, r.URL
		}
		log.Info("post edited", "remote_url", d.RemoteURL)
	}
	d.UpdatedAt = e.now()
	if err := e.Store.UpdateDelivery(editCtx, d, StateSent); err != nil {
		log.Error("edit: record", slog.Any("error", err))
		return d, errors.Join(editErr, fmt.Errorf("delivery %d: record the edit: %w", d.ID, err))
	}
	return d, editErr
}
