package syndicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// The editor's desk: what the dashboard and the command line do to the
// ledger through the engine. Each decision is a row in the store, so it
// holds whichever process makes it; the engine wakes its own workers at
// once, and a running daemon elsewhere sees it through the store's Changes.

// ErrNotEditable is returned by PushEdit for a delivery whose channel
// cannot edit, or is not set to (on_update: edit).
var ErrNotEditable = errors.New("the channel does not edit sent posts (on_update: edit)")

// inReview reports whether new deliveries of feed f to channel ch wait for
// an editor.
func (e *Engine) inReview(f Feed, ch string) bool {
	if f.Review {
		return true
	}
	if t, ok := e.Targets[ch]; ok {
		return t.Review
	}
	if t, ok := e.Digests[ch]; ok {
		return t.Review
	}
	return false
}

// paused reports whether the channel is paused.
func (e *Engine) paused(ctx context.Context, channelID string) (bool, error) {
	p, err := e.Store.PausedChannels(ctx)
	if err != nil {
		return false, fmt.Errorf("channel %q: read pauses: %w", channelID, err)
	}
	_, paused := p[channelID]
	return paused, nil
}

// recordAttempt keeps the attempt for the article page; losing it loses
// history only, never a delivery, so a failure is logged and not returned.
func (e *Engine) recordAttempt(ctx context.Context, a Attempt) {
	if err := e.Store.RecordAttempt(ctx, a); err != nil {
		e.log().Warn("record attempt", "delivery", a.DeliveryID, slog.Any("error", err))
	}
}

// Wake makes a running daemon's worker of the channel look at its queue
// now; it does nothing when the daemon does not run here.
func (e *Engine) Wake(channelID string) {
	d := e.running.Load()
	if d == nil {
		return
	}
	if w, ok := d.wake[channelID]; ok {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// wakeAll wakes every worker (after another process wrote to the store).
func (e *Engine) wakeAll() {
	for id := range e.Targets {
		e.Wake(id)
	}
}

// Decide applies an editor's decision to a delivery and wakes its channel.
func (e *Engine) Decide(ctx context.Context, id int64, dec Decision) (Delivery, error) {
	d, err := Decide(ctx, e.Store, id, dec, e.now())
	if err == nil {
		e.Wake(d.ChannelID)
	}
	return d, err
}

// Approve sends a delivery that waits in review. With text, the editor's
// rewrite becomes the delivery's override, once the channel has checked
// it as the platform would (too long, markup it refuses: refused, nothing
// saved).
func (e *Engine) Approve(ctx context.Context, id int64, text *string) (Delivery, error) {
	d, err := e.Store.Delivery(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Delivery{}, fmt.Errorf("delivery %d: no such delivery", id)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("delivery %d: %w", id, err)
	}
	if d.State != StateReview {
		return d, fmt.Errorf("delivery %d is %s: approve applies only to deliveries in review", id, d.State)
	}
	if text != nil {
		if _, err := e.CheckText(ctx, d, *text); err != nil {
			return d, err
		}
		d.Override = *text
	}
	d.State, d.NextAttempt, d.LastError, d.UpdatedAt = StatePending, time.Time{}, "", e.now()
	if err := e.Store.UpdateDelivery(ctx, d, StateReview); err != nil {
		return d, fmt.Errorf("delivery %d: approve: %w", id, err)
	}
	e.Wake(d.ChannelID)
	return d, nil
}

// CheckText renders delivery d with text as its override, as the channel
// would send it, and returns the platform's refusal when it would refuse
// it. An empty text means the channel's own rendering.
func (e *Engine) CheckText(ctx context.Context, d Delivery, text string) (Rendering, error) {
	t, ok := e.Targets[d.ChannelID]
	if !ok {
		return Rendering{}, fmt.Errorf("delivery %d: channel %q takes no rewritten text", d.ID, d.ChannelID)
	}
	a, err := e.Store.Article(ctx, d.ArticleID)
	if err != nil {
		return Rendering{}, fmt.Errorf("delivery %d: load article: %w", d.ID, err)
	}
	post := Post{DeliveryID: d.ID, Article: a, IdempotencyKey: IdempotencyKey(t.ID, a), Override: text}
	if text == "" {
		return t.Channel.Render(post)
	}
	if t.TextChecker == nil {
		return Rendering{}, fmt.Errorf("delivery %d: channel %q takes no rewritten text", d.ID, d.ChannelID)
	}
	r, err := t.TextChecker.CheckText(post)
	if err != nil {
		return r, fmt.Errorf("the text is refused: %w", err)
	}
	return r, nil
}

// Render shows a delivery's post as it will be, or was, sent: with its
// override, if an editor wrote one.
func (e *Engine) Render(ctx context.Context, d Delivery) (Rendering, error) {
	t, ok := e.Targets[d.ChannelID]
	if !ok {
		return Rendering{}, fmt.Errorf("delivery %d: channel %q is not a configured post channel", d.ID, d.ChannelID)
	}
	a, err := e.Store.Article(ctx, d.ArticleID)
	if err != nil {
		return Rendering{}, fmt.Errorf("delivery %d: load article: %w", d.ID, err)
	}
	post := Post{DeliveryID: d.ID, Article: a, IdempotencyKey: IdempotencyKey(t.ID, a), Override: d.Override}
	if d.Override != "" && t.TextChecker != nil {
		return t.TextChecker.CheckText(post)
	}
	return t.Channel.Render(post)
}

// PushEdit edits a sent post to show the article as it is now (its
// channel must be set to on_update: edit).
func (e *Engine) PushEdit(ctx context.Context, id int64) (Delivery, error) {
	d, err := e.Store.Delivery(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Delivery{}, fmt.Errorf("delivery %d: no such delivery", id)
	}
	if err != nil {
		return Delivery{}, fmt.Errorf("delivery %d: %w", id, err)
	}
	if d.State != StateSent || d.RemoteID == "" {
		return d, fmt.Errorf("delivery %d is %s: only a sent post can be edited", id, d.State)
	}
	t := e.Targets[d.ChannelID]
	if !t.EditOnUpdate || t.Editor == nil {
		return d, fmt.Errorf("delivery %d (%s): %w", id, d.ChannelID, ErrNotEditable)
	}
	a, err := e.Store.Article(ctx, d.ArticleID)
	if err != nil {
		return d, fmt.Errorf("delivery %d: load article: %w", id, err)
	}
	return e.edit(ctx, t.ID, t.Editor, d, a)
}

// SetPaused pauses or resumes a channel. While paused nothing is sent to
// it: its deliveries wait as they are, and an email channel sends no
// digest message after those in flight.
func (e *Engine) SetPaused(ctx context.Context, channelID string, paused bool) error {
	_, isTarget := e.Targets[channelID]
	_, isDigest := e.Digests[channelID]
	if !isTarget && !isDigest {
		return fmt.Errorf("no channel %q", channelID)
	}
	if err := e.Store.SetPaused(ctx, channelID, paused); err != nil {
		return fmt.Errorf("channel %q: %w", channelID, err)
	}
	e.Wake(channelID)
	return nil
}
