package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var _ syndicate.SubscriberStore = (*Store)(nil)

const subscriberColumns = `id, list, email, name, state, created_at, confirmed_at, unsubscribed_at`

// emailKey is what makes an address unique on a list: the whole address
// lower-cased, as Go does it (SQLite's lower() knows ASCII only).
func emailKey(email string) string { return strings.ToLower(email) }

func validSubscriberState(st syndicate.SubscriberState) bool {
	switch st {
	case syndicate.SubscriberPending, syndicate.SubscriberConfirmed, syndicate.SubscriberUnsubscribed:
		return true
	}
	return false
}

type rowScanner interface{ Scan(dest ...any) error }

func scanSubscriber(r rowScanner) (syndicate.Subscriber, error) {
	var sub syndicate.Subscriber
	var state string
	var created, confirmed, unsubscribed int64
	if err := r.Scan(&sub.ID, &sub.List, &sub.Email, &sub.Name, &state, &created, &confirmed, &unsubscribed); err != nil {
		return syndicate.Subscriber{}, err
	}
	sub.State = syndicate.SubscriberState(state)
	sub.CreatedAt, sub.ConfirmedAt, sub.UnsubscribedAt = goTime(created), goTime(confirmed), goTime(unsubscribed)
	return sub, nil
}

// AddSubscriber creates the address in sub.State unless the list already
// has it, in any case and any state; see syndicate.SubscriberStore.
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
	var stored syndicate.Subscriber
	var created bool
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			INSERT INTO subscribers (list, email, email_key, name, state, created_at, confirmed_at, unsubscribed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (list, email_key) DO NOTHING`,
			sub.List, sub.Email, emailKey(sub.Email), sub.Name, string(sub.State),
			dbTime(sub.CreatedAt), dbTime(sub.ConfirmedAt), dbTime(sub.UnsubscribedAt))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		created = n == 1
		stored, err = scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberColumns+`
			FROM subscribers WHERE list = ? AND email_key = ?`, sub.List, emailKey(sub.Email)))
		return err
	})
	if err != nil {
		return syndicate.Subscriber{}, false, fmt.Errorf("add subscriber to list %q: %w", sub.List, err)
	}
	return stored, created, nil
}

// Subscriber finds an address on a list, case-insensitively.
func (s *Store) Subscriber(ctx context.Context, list, email string) (syndicate.Subscriber, error) {
	sub, err := scanSubscriber(s.r.QueryRowContext(ctx, `SELECT `+subscriberColumns+`
		FROM subscribers WHERE list = ? AND email_key = ?`, list, emailKey(email)))
	if errors.Is(err, sql.ErrNoRows) {
		err = syndicate.ErrNotFound
	}
	if err != nil {
		return syndicate.Subscriber{}, fmt.Errorf("read subscriber of list %q: %w", list, err)
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
		stamp = ", confirmed_at = ?2"
	case syndicate.SubscriberUnsubscribed:
		stamp = ", unsubscribed_at = ?2"
	}
	var stored syndicate.Subscriber
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subscribers SET state = ?1`+stamp+`
			WHERE list = ?3 AND email_key = ?4`, string(state), dbTime(at), list, emailKey(email))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return syndicate.ErrNotFound
		}
		stored, err = scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberColumns+`
			FROM subscribers WHERE list = ? AND email_key = ?`, list, emailKey(email)))
		return err
	})
	if err != nil {
		return syndicate.Subscriber{}, fmt.Errorf("set subscriber state in list %q: %w", list, err)
	}
	return stored, nil
}

// Subscribers pages through a list in ID order.
func (s *Store) Subscribers(ctx context.Context, list string, state syndicate.SubscriberState, afterID int64, limit int) ([]syndicate.Subscriber, error) {
	q := `SELECT ` + subscriberColumns + ` FROM subscribers WHERE list = ? AND id > ?`
	args := []any{list, afterID}
	if state != "" {
		q += ` AND state = ?`
		args = append(args, string(state))
	}
	q += ` ORDER BY id`
	if limit > 0 {
		q += ` LIMIT ?`
		args = append(args, limit)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list subscribers of %q: %w", list, err)
	}
	defer rows.Close()
	var out []syndicate.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, fmt.Errorf("list subscribers of %q: %w", list, err)
		}
		out = append(out, sub)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list subscribers of %q: %w", list, err)
	}
	return out, nil
}
