// Package subscribe is double opt-in for the email lists: the signed
// confirm and unsubscribe links, address checks, the rate limits of the
// public form, and the Service the web pages and the command line use.
//
// A subscription request stores the address as pending (an address
// already on the list keeps its state) and mails a confirmation link that
// expires after ConfirmTTL; following it confirms the address. Every
// digest carries an unsubscribe link that never expires. Links are
// HMAC-signed: checking one needs the secret, not the database.
package subscribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// ConfirmationSender mails a confirmation link; the email channel
// implements it.
type ConfirmationSender interface {
	SendConfirmation(ctx context.Context, s syndicate.Subscriber, confirmURL string) error
}

var (
	// ErrUnknownList is a list that no email channel sends to.
	ErrUnknownList = errors.New("unknown list")
	// ErrNoSender is returned when a confirmation should be mailed but the
	// Service has no ConfirmationSender.
	ErrNoSender = errors.New("no way to send confirmation emails")
	// ErrRateLimited is matched by every *RateLimitError.
	ErrRateLimited = errors.New("too many subscription requests")
)

// Scope is what a rate limit counts.
type Scope string

const (
	ScopeIP      Scope = "ip"      // one client address
	ScopeAddress Scope = "address" // one email address
)

// RateLimitError is a request refused by a rate limit.
type RateLimitError struct {
	Scope      Scope
	RetryAfter time.Duration // until the next request would be allowed
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many subscription requests from this %s: try again in %s", e.Scope, e.RetryAfter.Round(time.Second))
}

func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// Options configure a Service.
type Options struct {
	Store syndicate.SubscriberStore
	// Sender mails confirmations; nil makes Subscribe, and Add of a
	// pending address, fail with ErrNoSender.
	Sender ConfirmationSender
	// PublicURL is the base of the links; Secret signs them (see
	// LinkSecret).
	PublicURL string
	Secret    []byte
	// Lists are those one may subscribe to: the lists of the email
	// channels.
	Lists []string
	// Limits of Subscribe; nil means DefaultLimits.
	Limits *Limits
	Now    func() time.Time // nil: time.Now
	Log    *slog.Logger     // nil: discard
}

// Service subscribes, confirms and unsubscribes addresses. It is safe for
// concurrent use.
type Service struct {
	store  syndicate.SubscriberStore
	sender ConfirmationSender
	links  *Links
	lists  []string
	byIP   *window
	byAddr *window
	now    func() time.Time
	log    *slog.Logger
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil {
		return nil, errors.New("subscribe: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	links, err := NewLinks(o.PublicURL, o.Secret, o.Now)
	if err != nil {
		return nil, err
	}
	lim := DefaultLimits()
	if o.Limits != nil {
		lim = *o.Limits
	}
	return &Service{
		store:  o.Store,
		sender: o.Sender,
		links:  links,
		lists:  slices.Clone(o.Lists),
		byIP:   newWindow(lim.PerIP, lim.IPWindow, lim.MaxTracked),
		byAddr: newWindow(lim.PerAddress, lim.AddressWindow, lim.MaxTracked),
		now:    o.Now,
		log:    o.Log,
	}, nil
}

// Links returns the links the Service makes, for the digest sender.
func (s *Service) Links() *Links { return s.links }

// ConfirmURL is Links().ConfirmURL.
func (s *Service) ConfirmURL(sub syndicate.Subscriber) string { return s.links.ConfirmURL(sub) }

// UnsubscribeURL is Links().UnsubscribeURL: the List-Unsubscribe URL.
func (s *Service) UnsubscribeURL(sub syndicate.Subscriber) string {
	return s.links.UnsubscribeURL(sub)
}

// Inspect checks a token without acting on it (the page shown before the
// unsubscribe button, the language of an error page); see Links.Parse.
func (s *Service) Inspect(token string) (Link, error) { return s.links.Parse(token) }

// KnownList reports whether one may subscribe to list.
func (s *Service) KnownList(list string) bool { return slices.Contains(s.lists, list) }

// Subscribe is a request of the public form. It checks the list and the
// address (ParseAddress; errors wrap ErrUnknownList or ErrInvalidAddress),
// applies the rate limits (a *RateLimitError: per client address first,
// then per email address), stores the address as pending unless it is on
// the list already (whatever its state: an unsubscribed address stays so
// until it confirms anew), and mails it a confirmation link.
//
// The outcome does not depend on whether the address was known: a
// pending, confirmed or unsubscribed address is mailed a link just as a
// new one is, so neither the answer nor its timing tells them apart.
// Following the link confirms the address, or leaves a confirmed one as
// it is.
func (s *Service) Subscribe(ctx context.Context, list, email, name, clientIP string) error {
	if !s.KnownList(list) {
		return fmt.Errorf("%w %q", ErrUnknownList, list)
	}
	addr, parsedName, err := ParseAddress(email)
	if err != nil {
		return err
	}
	if name, err = CleanName(name); err != nil {
		return err
	}
	if name == "" {
		name = parsedName
	}
	if s.sender == nil {
		return ErrNoSender
	}
	now := s.now()
	ip := ipKey(clientIP)
	if ok, wait := s.byIP.allow(ip, now); !ok {
		s.log.Warn("subscribe: rate limited", "list", list, "client", ip, "scope", ScopeIP)
		return &RateLimitError{Scope: ScopeIP, RetryAfter: wait}
	}
	if ok, wait := s.byAddr.allow(strings.ToLower(addr), now); !ok {
		s.log.Warn("subscribe: rate limited", "list", list, "client", ip, "scope", ScopeAddress)
		return &RateLimitError{Scope: ScopeAddress, RetryAfter: wait}
	}
	sub, created, err := s.store.AddSubscriber(ctx, syndicate.Subscriber{
		List: list, Email: addr, Name: name, State: syndicate.SubscriberPending, CreatedAt: now,
	})
	if err != nil {
		return err
	}
	if err := s.sender.SendConfirmation(ctx, sub, s.links.ConfirmURL(sub)); err != nil {
		return fmt.Errorf("send the confirmation to subscriber %d: %w", sub.ID, err)
	}
	s.log.Info("subscribe: confirmation sent", "list", list, "subscriber", sub.ID, "new", created, "state", sub.State)
	return nil
}

// Confirm follows a confirmation link: the address becomes confirmed (an
// address confirmed already stays as it is) and is returned. A link that
// is not valid is ErrInvalidToken; one past its expiry, or made before the
// address last unsubscribed, ErrExpired.
func (s *Service) Confirm(ctx context.Context, token string) (syndicate.Subscriber, error) {
	link, err := s.links.Parse(token)
	if err != nil {
		return syndicate.Subscriber{}, err
	}
	if link.Kind != LinkConfirm {
		return syndicate.Subscriber{}, ErrInvalidToken
	}
	sub, err := s.store.Subscriber(ctx, link.List, link.Email)
	if errors.Is(err, syndicate.ErrNotFound) {
		return syndicate.Subscriber{}, ErrInvalidToken
	}
	if err != nil {
		return syndicate.Subscriber{}, err
	}
	switch sub.State {
	case syndicate.SubscriberConfirmed:
		return sub, nil
	case syndicate.SubscriberUnsubscribed:
		if !sub.UnsubscribedAt.Before(link.issued()) {
			return syndicate.Subscriber{}, ErrExpired
		}
	}
	sub, err = s.store.SetSubscriberState(ctx, sub.List, sub.Email, syndicate.SubscriberConfirmed, s.now())
	if err != nil {
		return syndicate.Subscriber{}, err
	}
	s.log.Info("subscribe: confirmed", "list", sub.List, "subscriber", sub.ID)
	return sub, nil
}

// Unsubscribe follows an unsubscribe link: the address becomes
// unsubscribed (an address unsubscribed already stays as it is) and is
// returned. A link that is not valid, or names an address not on the
// list, is ErrInvalidToken.
func (s *Service) Unsubscribe(ctx context.Context, token string) (syndicate.Subscriber, error) {
	link, err := s.links.Parse(token)
	if err != nil {
		return syndicate.Subscriber{}, err
	}
	if link.Kind != LinkUnsubscribe {
		return syndicate.Subscriber{}, ErrInvalidToken
	}
	sub, err := s.store.Subscriber(ctx, link.List, link.Email)
	if errors.Is(err, syndicate.ErrNotFound) {
		return syndicate.Subscriber{}, ErrInvalidToken
	}
	if err != nil {
		return syndicate.Subscriber{}, err
	}
	if sub.State == syndicate.SubscriberUnsubscribed {
		return sub, nil
	}
	sub, err = s.store.SetSubscriberState(ctx, sub.List, sub.Email, syndicate.SubscriberUnsubscribed, s.now())
	if err != nil {
		return syndicate.Subscriber{}, err
	}
	s.log.Info("subscribe: unsubscribed", "list", sub.List, "subscriber", sub.ID)
	return sub, nil
}

// Added is what Add did.
type Added struct {
	Subscriber syndicate.Subscriber // as stored afterwards
	Created    bool                 // the address was new on the list
	Confirmed  bool                 // a pending address was confirmed by the operator
	Mailed     bool                 // a confirmation link was sent
}

// Add puts an address on a list on an operator's word (the command line):
// no rate limit, and the list need not be one of Options.Lists. A new
// address is stored pending and mailed a confirmation link or, with
// confirmed, stored confirmed. An address already pending is mailed a new
// link or, with confirmed, confirmed. A confirmed address is left as it is;
// so is an unsubscribed one, which is not mailed: only its owner can
// subscribe it again.
func (s *Service) Add(ctx context.Context, list, email, name string, confirmed bool) (Added, error) {
	addr, parsedName, err := ParseAddress(email)
	if err != nil {
		return Added{}, err
	}
	if name, err = CleanName(name); err != nil {
		return Added{}, err
	}
	if name == "" {
		name = parsedName
	}
	if !confirmed && s.sender == nil {
		return Added{}, ErrNoSender
	}
	state := syndicate.SubscriberPending
	if confirmed {
		state = syndicate.SubscriberConfirmed
	}
	now := s.now()
	sub, created, err := s.store.AddSubscriber(ctx, syndicate.Subscriber{List: list, Email: addr, Name: name, State: state, CreatedAt: now})
	if err != nil {
		return Added{}, err
	}
	out := Added{Subscriber: sub, Created: created}
	if sub.State != syndicate.SubscriberPending {
		return out, nil
	}
	if confirmed {
		out.Subscriber, err = s.store.SetSubscriberState(ctx, sub.List, sub.Email, syndicate.SubscriberConfirmed, now)
		out.Confirmed = err == nil
		return out, err
	}
	if err := s.sender.SendConfirmation(ctx, sub, s.links.ConfirmURL(sub)); err != nil {
		return out, fmt.Errorf("send the confirmation: %w", err)
	}
	out.Mailed = true
	return out, nil
}
