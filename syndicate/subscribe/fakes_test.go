package subscribe_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// memStore is a SubscriberStore in memory, with the semantics the
// conformance suite checks of real stores.
type memStore struct {
	mu   sync.Mutex
	subs []syndicate.Subscriber
	fail error // returned by every call when set
}

func (m *memStore) find(list, email string) int {
	return slices.IndexFunc(m.subs, func(s syndicate.Subscriber) bool {
		return s.List == list && strings.EqualFold(s.Email, email)
	})
}

func (m *memStore) AddSubscriber(_ context.Context, s syndicate.Subscriber) (syndicate.Subscriber, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return syndicate.Subscriber{}, false, m.fail
	}
	if s.List == "" || s.Email == "" {
		return syndicate.Subscriber{}, false, fmt.Errorf("empty list or email")
	}
	if i := m.find(s.List, s.Email); i >= 0 {
		return m.subs[i], false, nil
	}
	if s.State == "" {
		s.State = syndicate.SubscriberPending
	}
	if s.State == syndicate.SubscriberConfirmed && s.ConfirmedAt.IsZero() {
		s.ConfirmedAt = s.CreatedAt
	}
	if s.State == syndicate.SubscriberUnsubscribed && s.UnsubscribedAt.IsZero() {
		s.UnsubscribedAt = s.CreatedAt
	}
	s.ID = int64(len(m.subs) + 1)
	m.subs = append(m.subs, s)
	return s, true, nil
}

func (m *memStore) Subscriber(_ context.Context, list, email string) (syndicate.Subscriber, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return syndicate.Subscriber{}, m.fail
	}
	if i := m.find(list, email); i >= 0 {
		return m.subs[i], nil
	}
	return syndicate.Subscriber{}, syndicate.ErrNotFound
}

func (m *memStore) SetSubscriberState(_ context.Context, list, email string, st syndicate.SubscriberState, at time.Time) (syndicate.Subscriber, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return syndicate.Subscriber{}, m.fail
	}
	i := m.find(list, email)
	if i < 0 {
		return syndicate.Subscriber{}, syndicate.ErrNotFound
	}
	s := &m.subs[i]
	s.State = st
	switch st {
	case syndicate.SubscriberConfirmed:
		s.ConfirmedAt = at
	case syndicate.SubscriberUnsubscribed:
		s.UnsubscribedAt = at
	}
	return *s, nil
}

func (m *memStore) Subscribers(_ context.Context, list string, st syndicate.SubscriberState, after int64, limit int) ([]syndicate.Subscriber, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []syndicate.Subscriber
	for _, s := range m.subs {
		if s.List == list && s.ID > after && (st == "" || s.State == st) && (limit <= 0 || len(out) < limit) {
			out = append(out, s)
		}
	}
	return out, nil
}

func (m *memStore) get(list, email string) (syndicate.Subscriber, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if i := m.find(list, email); i >= 0 {
		return m.subs[i], true
	}
	return syndicate.Subscriber{}, false
}

func (m *memStore) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.subs)
}

type mail struct {
	sub syndicate.Subscriber
	url string
}

// sender records confirmations instead of mailing them.
type sender struct {
	mu    sync.Mutex
	mails []mail
	fail  error
}

func (s *sender) SendConfirmation(_ context.Context, sub syndicate.Subscriber, url string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.mails = append(s.mails, mail{sub, url})
	return nil
}

func (s *sender) sent() []mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mails)
}
