package syndicate

import (
	"context"
	"time"
)

// SubscriberState is where an address stands on a list.
type SubscriberState string

const (
	SubscriberPending      SubscriberState = "pending"      // waiting for the confirmation link
	SubscriberConfirmed    SubscriberState = "confirmed"    // receives the digests
	SubscriberUnsubscribed SubscriberState = "unsubscribed" // never mailed again unless it subscribes and confirms anew
)

// Subscriber is one address on one list.
type Subscriber struct {
	ID             int64
	List           string
	Email          string // as given (subscribe.ParseAddress lower-cases the domain); unique per list, case-insensitively
	Name           string
	State          SubscriberState
	CreatedAt      time.Time
	ConfirmedAt    time.Time
	UnsubscribedAt time.Time
}

// SubscriberStore keeps the email lists.
type SubscriberStore interface {
	// AddSubscriber creates the address in s.State: pending when empty,
	// confirmed, or unsubscribed (an import that keeps an opt-out). A zero
	// CreatedAt takes the store's clock; a confirmed (unsubscribed) address
	// with a zero ConfirmedAt (UnsubscribedAt) takes CreatedAt. s.ID is
	// ignored. An address already on the list, compared case-insensitively,
	// is left as it is, whatever its state and name (an import never
	// revives an unsubscribed address); created tells which happened, and
	// the stored subscriber is returned. An empty list or email, or an
	// unknown state, is an error.
	AddSubscriber(ctx context.Context, s Subscriber) (stored Subscriber, created bool, err error)
	// Subscriber finds an address on a list, case-insensitively, or
	// returns ErrNotFound.
	Subscriber(ctx context.Context, list, email string) (Subscriber, error)
	// SetSubscriberState moves an address (found case-insensitively; else
	// ErrNotFound) to state and returns it. Moving to confirmed stamps
	// ConfirmedAt, to unsubscribed UnsubscribedAt, with at (a zero at: the
	// store's clock); the other times are kept. Confirming an unsubscribed
	// address is how it subscribes anew.
	SetSubscriberState(ctx context.Context, list, email string, state SubscriberState, at time.Time) (Subscriber, error)
	// Subscribers pages through a list in ID order, after the given ID;
	// an empty state matches all; a limit of zero or less means no limit.
	Subscribers(ctx context.Context, list string, state SubscriberState, afterID int64, limit int) ([]Subscriber, error)
}
