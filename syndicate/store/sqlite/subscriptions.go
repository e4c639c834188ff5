package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Subscription returns the WebSub subscription of the feed, or ErrNotFound.
func (s *Store) Subscription(ctx context.Context, feedID string) (syndicate.Subscription, error) {
	sub := syndicate.Subscription{FeedID: feedID}
	var lease, updated int64
	err := s.r.QueryRowContext(ctx, `
		SELECT hub, topic, secret, state, lease_until, updated_at
		FROM subscriptions WHERE feed_id = ?`, feedID).
		Scan(&sub.Hub, &sub.Topic, &sub.Secret, &sub.State, &lease, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		err = syndicate.ErrNotFound
	}
	if err != nil {
		return syndicate.Subscription{}, fmt.Errorf("read subscription of feed %q: %w", feedID, err)
	}
	sub.LeaseUntil, sub.UpdatedAt = goTime(lease), goTime(updated)
	return sub, nil
}

// SaveSubscription creates or replaces the subscription of sub.FeedID. A
// zero UpdatedAt takes the store's clock.
func (s *Store) SaveSubscription(ctx context.Context, sub syndicate.Subscription) error {
	if sub.FeedID == "" {
		return errors.New("save subscription: empty feed id")
	}
	if sub.UpdatedAt.IsZero() {
		sub.UpdatedAt = s.now()
	}
	_, err := s.w.ExecContext(ctx, `
		INSERT INTO subscriptions (feed_id, hub, topic, secret, state, lease_until, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (feed_id) DO UPDATE SET
			hub = excluded.hub,
			topic = excluded.topic,
			secret = excluded.secret,
			state = excluded.state,
			lease_until = excluded.lease_until,
			updated_at = excluded.updated_at`,
		sub.FeedID, sub.Hub, sub.Topic, sub.Secret, sub.State, dbTime(sub.LeaseUntil), dbTime(sub.UpdatedAt))
	if err != nil {
		return fmt.Errorf("save subscription of feed %q: %w", sub.FeedID, err)
	}
	return nil
}

// DeleteSubscription forgets the subscription of the feed; deleting one
// that is not there is not an error.
func (s *Store) DeleteSubscription(ctx context.Context, feedID string) error {
	if _, err := s.w.ExecContext(ctx, `DELETE FROM subscriptions WHERE feed_id = ?`, feedID); err != nil {
		return fmt.Errorf("delete subscription of feed %q: %w", feedID, err)
	}
	return nil
}
