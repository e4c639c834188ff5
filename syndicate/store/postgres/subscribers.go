package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

const subscriberColumns = `id, list, email, name, state, created_at, confirmed_at, unsubscribed_at`

// emailKey is what makes an address unique on a list: the whole address
// lower-cased, as Go does it, whatever the database's locale would.
func emailKey(email string) string { return strings.ToLower(email) }

func validSubscriberState(st syndicate.SubscriberState) bool {
	switch st {
	case syndicate.SubscriberPending, syndicate.SubscriberConfirmed, syndicate.SubscriberUnsubscribed:
		return true
	}
	return false
}

func scanSubscriber(r scanner) (syndicate.Subscriber, error) {
	var sub syndicate.Subscriber
	var state string
	var created, confirmed, unsubscribed time.Time
	if err := r.Scan(&sub.ID, &sub.List, &sub.Email, &sub.Name, &state, &created, &confirmed, &unsubscribed); err != nil {
		return syndicate.Subscriber{}, err
	}
	sub.State = syndicate.SubscriberState(state)
	sub.CreatedAt, sub.ConfirmedAt, sub.UnsubscribedAt = goTime(created), goTime(confirmed), goTime(unsubscribed)
	return sub, nil
}

// AddSubscriber creates the address in sub.State unless the list already
// has it, in any case and any state; see syndicate.SubscriberStore. Of
// several processes adding one address at once, one inserts it; the
// others wait for it to commit, and read it.
func (s *Store) AddSubscriber(ctx context.Context, sub syndicate.Subscriber) (syndicate.Subscriber, bool, error) {
	if sub.State == "" {
		sub.State = syndicate.SubscriberPending
	}
	switch {
	case sub.List == "":
		return syndicate.Subscriber{}, false, errors.New("add subscriber: empty list")
	case sub.Email == "":
		return syndicate.Subscriber{}, false, fmt.Errorf("add subscriber to list %q: empty email", sub.List)
	case !validSubscriberState(sub.State):
		return syndicate.Subscriber{}, false, fmt.Errorf("add subscriber to list %q: unknown state %q", sub.List, sub.State)
	}
	if sub.CreatedAt.IsZero() {
		sub.CreatedAt = s.now()
	}
	if sub.State == syndicate.SubscriberConfirmed && sub.ConfirmedAt.IsZero() {
		sub.ConfirmedAt = sub.CreatedAt
	}
	if sub.State == syndicate.SubscriberUnsubscribed && sub.UnsubscribedAt.IsZero() {
		sub.UnsubscribedAt = sub.CreatedAt
	}
	var (
		stored  syndicate.Subscriber
		created bool
	)
	err := s.tx(ctx, func(tx pgx.Tx) error {
		var err error
		stored, err = scanSubscriber(tx.QueryRow(ctx, `
			INSERT INTO subscribers (list, email, email_key, name, state, created_at, confirmed_at, unsubscribed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (list, email_key) DO NOTHING
			RETURNING `+subscriberColumns,
			sub.List, sub.Email, emailKey(sub.Email), sub.Name, string(sub.State),
			sub.CreatedAt, sub.ConfirmedAt, sub.UnsubscribedAt))
		created = err == nil
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		stored, err = scanSubscriber(tx.QueryRow(ctx, `SELECT `+subscriberColumns+`
			FROM subscribers WHERE list = $1 AND email_key = $2`, sub.List, emailKey(sub.Email)))
		return err
	})
	if err != nil {
		return syndicate.Subscriber{}, false, fmt.Errorf("add subscriber to list %q: %w", sub.List, err)
	}
	return stored, created, nil
}

// Subscriber finds an address on a list, case-insensitively.
func (s *Store) Subscriber(ctx context.Context, list, email string) (syndicate.Subscriber, error) {
	sub, err := scanSubscriber(s.pool.QueryRow(ctx, `SELECT `+subscriberColumns+`
		FROM subscribers WHERE list = $1 AND email_key = $2`, list, emailKey(email)))
	if err != nil {
		return syndicate.Subscriber{}, fmt.Errorf("read subscriber of list %q: %w", list, s.busy(ctx, notFound(err)))
	}
	return sub, nil
}

// SetSubscriberState moves an address to state, stamping the time of a
// confirmation or an unsubscription.
func (s *Store) SetSubscriberState(ctx context.Context, list, email string, state syndicate.SubscriberState, at time.Time) (syndicate.Subscriber, error) {
	if !validSubscriberState(state) {
		return syndicate.Subscriber{}, fmt.Errorf("set subscriber state in list %q: unknown state %q", list, state)
	}
	if at.IsZero() {
		at = s.now()
	}
	stamp := ""
	switch state {
	case syndicate.SubscriberConfirmed:
		stamp = ", confirmed_at = $2"
	case syndicate.SubscriberUnsubscribed:
		stamp = ", unsubscribed_at = $2"
	}
	sub, err := scanSubscriber(s.pool.QueryRow(ctx, `UPDATE subscribers SET state = $1`+stamp+`
		WHERE list = $3 AND email_key = $4 AND $2::timestamptz IS NOT NULL
		RETURNING `+subscriberColumns, string(state), at, list, emailKey(email)))
	if err != nil {
		return syndicate.Subscriber{}, fmt.Errorf("set subscriber state in list %q: %w", list, s.busy(ctx, notFound(err)))
	}
	return sub, nil
}

// Subscribers pages through a list in ID order.
func (s *Store) Subscribers(ctx context.Context, list string, state syndicate.SubscriberState, afterID int64, limit int) ([]syndicate.Subscriber, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriberColumns+` FROM subscribers
		WHERE list = $1 AND id > $2 AND ($3::text = '' OR state = $3)
		ORDER BY id LIMIT $4`, list, afterID, string(state), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("list subscribers of %q: %w", list, s.busy(ctx, err))
	}
	out, err := collectSubscribers(rows)
	if err != nil {
		return nil, fmt.Errorf("list subscribers of %q: %w", list, s.busy(ctx, err))
	}
	return out, nil
}

func collectSubscribers(rows pgx.Rows) ([]syndicate.Subscriber, error) {
	defer rows.Close()
	var out []syndicate.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}
