package subscribe_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

type fixture struct {
	clock  *clock
	store  *memStore
	sender *sender
	svc    *subscribe.Service
}

func newFixture(t *testing.T, limits *subscribe.Limits) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), store: &memStore{}, sender: &sender{}}
	svc, err := subscribe.New(subscribe.Options{
		Store: f.store, Sender: f.sender, PublicURL: "http://127.0.0.1:8080", Secret: secret,
		Lists: []string{"en", "es"}, Limits: limits, Now: f.clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func noLimits() *subscribe.Limits { return &subscribe.Limits{} }

func (f *fixture) subscribe(t *testing.T, list, email, ip string) {
	t.Helper()
	if err := f.svc.Subscribe(t.Context(), list, email, "", ip); err != nil {
		t.Fatalf("Subscribe(%q, %q): %v", list, email, err)
	}
}

// lastToken is the token of the last confirmation mailed.
func (f *fixture) lastToken(t *testing.T) string {
	t.Helper()
	mails := f.sender.sent()
	if len(mails) == 0 {
		t.Fatal("no confirmation mailed")
	}
	token, ok := strings.CutPrefix(mails[len(mails)-1].url, "http://127.0.0.1:8080/confirm/")
	if !ok {
		t.Fatalf("confirmation URL %q", mails[len(mails)-1].url)
	}
	return token
}

func (f *fixture) state(t *testing.T, list, email string) syndicate.SubscriberState {
	t.Helper()
	s, ok := f.store.get(list, email)
	if !ok {
		return ""
	}
	return s.State
}

func TestDoubleOptIn(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	if err := f.svc.Subscribe(ctx, "es", " María@Example.ORG ", "María", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	sub, ok := f.store.get("es", "maría@example.org")
	if !ok || sub.State != syndicate.SubscriberPending || sub.Email != "María@example.org" || sub.Name != "María" {
		t.Fatalf("stored %+v, %v; want pending María@example.org", sub, ok)
	}
	mails := f.sender.sent()
	if len(mails) != 1 || mails[0].sub.ID != sub.ID || mails[0].sub.List != "es" {
		t.Fatalf("mails %+v", mails)
	}

	got, err := f.svc.Confirm(ctx, f.lastToken(t))
	if err != nil || got.State != syndicate.SubscriberConfirmed || !got.ConfirmedAt.Equal(f.clock.Now()) {
		t.Fatalf("Confirm = %+v, %v", got, err)
	}
	// Following the link again changes nothing.
	f.clock.Advance(time.Hour)
	if again, err := f.svc.Confirm(ctx, f.lastToken(t)); err != nil || again != got {
		t.Errorf("Confirm again = %+v, %v; want %+v", again, err, got)
	}

	unsub := f.svc.UnsubscribeURL(got)
	token, ok := strings.CutPrefix(unsub, "http://127.0.0.1:8080/unsubscribe/")
	if !ok {
		t.Fatalf("UnsubscribeURL = %q", unsub)
	}
	gone, err := f.svc.Unsubscribe(ctx, token)
	if err != nil || gone.State != syndicate.SubscriberUnsubscribed || !gone.UnsubscribedAt.Equal(f.clock.Now()) {
		t.Fatalf("Unsubscribe = %+v, %v", gone, err)
	}
	f.clock.Advance(time.Hour)
	if again, err := f.svc.Unsubscribe(ctx, token); err != nil || again != gone {
		t.Errorf("Unsubscribe again = %+v, %v; want %+v", again, err, gone)
	}
	// The old confirmation link, still within 48 h, does not bring it back.
	if _, err := f.svc.Confirm(ctx, f.lastToken(t)); !errors.Is(err, subscribe.ErrExpired) {
		t.Errorf("Confirm with a link older than the unsubscription: %v, want ErrExpired", err)
	}
	if st := f.state(t, "es", "maría@example.org"); st != syndicate.SubscriberUnsubscribed {
		t.Errorf("state %s, want unsubscribed", st)
	}

	// Subscribing anew mails a new link; the address stays unsubscribed
	// until it is followed.
	f.subscribe(t, "es", "MARÍA@example.org", "192.0.2.1")
	if st := f.state(t, "es", "maría@example.org"); st != syndicate.SubscriberUnsubscribed {
		t.Errorf("state after a new request %s, want unsubscribed until confirmed", st)
	}
	back, err := f.svc.Confirm(ctx, f.lastToken(t))
	if err != nil || back.State != syndicate.SubscriberConfirmed || back.ID != sub.ID {
		t.Errorf("Confirm of the new link = %+v, %v", back, err)
	}
}

// A request for an address that is new, pending, confirmed or
// unsubscribed gets the same answer and the same mail.
func TestSubscribeSameOutcomeWhateverTheAddress(t *testing.T) {
	f := newFixture(t, noLimits())
	ctx := t.Context()
	for _, s := range []syndicate.Subscriber{
		{List: "en", Email: "pending@example.org", State: syndicate.SubscriberPending},
		{List: "en", Email: "confirmed@example.org", State: syndicate.SubscriberConfirmed},
		{List: "en", Email: "gone@example.org", State: syndicate.SubscriberUnsubscribed},
	} {
		if _, _, err := f.store.AddSubscriber(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	for i, email := range []string{"new@example.org", "pending@example.org", "confirmed@example.org", "gone@example.org"} {
		before := f.state(t, "en", email)
		err := f.svc.Subscribe(ctx, "en", email, "", "192.0.2.1")
		if err != nil {
			t.Errorf("Subscribe(%s): %v", email, err)
		}
		if n := len(f.sender.sent()); n != i+1 {
			t.Errorf("after %s: %d mails, want %d", email, n, i+1)
		}
		if after := f.state(t, "en", email); before != "" && after != before {
			t.Errorf("%s: %s became %s by a mere request", email, before, after)
		}
	}
	if st := f.state(t, "en", "new@example.org"); st != syndicate.SubscriberPending {
		t.Errorf("new address: %s, want pending", st)
	}
	// The confirmed one follows its link: still confirmed.
	mails := f.sender.sent()
	token := strings.TrimPrefix(mails[2].url, "http://127.0.0.1:8080/confirm/")
	if s, err := f.svc.Confirm(ctx, token); err != nil || s.State != syndicate.SubscriberConfirmed {
		t.Errorf("Confirm of a confirmed address = %+v, %v", s, err)
	}
}

func TestSubscribeRefusals(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	tests := []struct {
		list, email, name string
		want              error
	}{
		{"fr", "jane@example.org", "", subscribe.ErrUnknownList},
		{"", "jane@example.org", "", subscribe.ErrUnknownList},
		{"en", "not an address", "", subscribe.ErrInvalidAddress},
		{"en", "jane@example.org\r\nBcc: victim@example.net", "", subscribe.ErrInvalidAddress},
		{"en", "jane@example.org", "Jane\r\nBcc: victim@example.net", subscribe.ErrInvalidAddress},
	}
	for _, tt := range tests {
		if err := f.svc.Subscribe(ctx, tt.list, tt.email, tt.name, "192.0.2.1"); !errors.Is(err, tt.want) {
			t.Errorf("Subscribe(%q, %q, %q): %v, want %v", tt.list, tt.email, tt.name, err, tt.want)
		}
	}
	if f.store.count() != 0 || len(f.sender.sent()) != 0 {
		t.Errorf("refused requests stored %d addresses and sent %d mails", f.store.count(), len(f.sender.sent()))
	}
	// Refused requests do not count against the client's limit.
	for i := range 5 {
		f.subscribe(t, "en", fmt.Sprintf("r%d@example.org", i), "192.0.2.1")
	}
}

func TestSubscribeRateLimitPerIP(t *testing.T) {
	f := newFixture(t, &subscribe.Limits{PerIP: 5, IPWindow: time.Hour})
	ctx := t.Context()
	for i := range 5 {
		f.subscribe(t, "en", fmt.Sprintf("r%d@example.org", i), "192.0.2.1")
		f.clock.Advance(time.Minute)
	}
	err := f.svc.Subscribe(ctx, "en", "r5@example.org", "", "192.0.2.1")
	var rl *subscribe.RateLimitError
	if !errors.As(err, &rl) || !errors.Is(err, subscribe.ErrRateLimited) || rl.Scope != subscribe.ScopeIP {
		t.Fatalf("sixth request in the hour: %v, want a per-IP RateLimitError", err)
	}
	if rl.RetryAfter != 55*time.Minute {
		t.Errorf("RetryAfter = %s, want 55m (when the first request leaves the window)", rl.RetryAfter)
	}
	if _, ok := f.store.get("en", "r5@example.org"); ok {
		t.Error("a refused request stored its address")
	}
	// The same client in another notation, and its IPv6 neighbours, share
	// the limit; other clients have their own.
	if err := f.svc.Subscribe(ctx, "en", "r5@example.org", "", "::ffff:192.0.2.1"); !errors.Is(err, subscribe.ErrRateLimited) {
		t.Errorf("IPv4-mapped address of a limited client: %v", err)
	}
	f.subscribe(t, "en", "r5@example.org", "192.0.2.2")
	for i := range 5 {
		f.subscribe(t, "en", fmt.Sprintf("v6-%d@example.org", i), fmt.Sprintf("2001:db8:1:2::%x", i+1))
	}
	if err := f.svc.Subscribe(ctx, "en", "v6-5@example.org", "", "2001:db8:1:2:ffff::1"); !errors.Is(err, subscribe.ErrRateLimited) {
		t.Errorf("sixth request from the same /64: %v", err)
	}
	f.subscribe(t, "en", "v6-5@example.org", "2001:db8:1:3::1")

	// Once the first request has left the window, one more is allowed.
	f.clock.Advance(55 * time.Minute)
	f.subscribe(t, "en", "r6@example.org", "192.0.2.1")
	if err := f.svc.Subscribe(ctx, "en", "r7@example.org", "", "192.0.2.1"); !errors.Is(err, subscribe.ErrRateLimited) {
		t.Errorf("a second one: %v, want ErrRateLimited", err)
	}
}

func TestSubscribeRateLimitPerAddress(t *testing.T) {
	f := newFixture(t, &subscribe.Limits{PerIP: 100, IPWindow: time.Hour, PerAddress: 3, AddressWindow: 24 * time.Hour})
	ctx := t.Context()
	// From three clients, to both lists, in any case: one address.
	for i, email := range []string{"victim@example.org", "VICTIM@example.org", "Victim@EXAMPLE.org"} {
		f.subscribe(t, []string{"en", "es"}[i%2], email, fmt.Sprintf("192.0.2.%d", i+1))
		f.clock.Advance(time.Hour)
	}
	err := f.svc.Subscribe(ctx, "es", "victim@example.org", "", "198.51.100.7")
	var rl *subscribe.RateLimitError
	if !errors.As(err, &rl) || rl.Scope != subscribe.ScopeAddress || rl.RetryAfter != 21*time.Hour {
		t.Fatalf("fourth request for the address: %v, want a per-address RateLimitError (retry in 21h)", err)
	}
	if n := len(f.sender.sent()); n != 3 {
		t.Errorf("%d mails to the address, want 3", n)
	}
	f.subscribe(t, "es", "other@example.org", "198.51.100.7")
	f.clock.Advance(21 * time.Hour)
	f.subscribe(t, "es", "victim@example.org", "198.51.100.7")
}

// The limits remember a bounded number of requests: beyond it they refuse
// rather than forget.
func TestRateLimitMemoryIsBounded(t *testing.T) {
	f := newFixture(t, &subscribe.Limits{PerIP: 5, IPWindow: time.Hour, MaxTracked: 3})
	for i := range 3 {
		f.subscribe(t, "en", fmt.Sprintf("r%d@example.org", i), fmt.Sprintf("192.0.2.%d", i+1))
	}
	err := f.svc.Subscribe(t.Context(), "en", "r3@example.org", "", "192.0.2.4")
	var rl *subscribe.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != time.Hour {
		t.Fatalf("a request beyond MaxTracked: %v, want refused for an hour", err)
	}
	f.clock.Advance(time.Hour)
	f.subscribe(t, "en", "r3@example.org", "192.0.2.4")
}

func TestDefaultLimits(t *testing.T) {
	if d := subscribe.DefaultLimits(); d.PerIP != 5 || d.IPWindow != time.Hour || d.PerAddress != 3 || d.AddressWindow != 24*time.Hour {
		t.Errorf("DefaultLimits = %+v", d)
	}
	f := newFixture(t, nil) // nil: the defaults
	for i := range 5 {
		f.subscribe(t, "en", fmt.Sprintf("r%d@example.org", i), "192.0.2.1")
	}
	if err := f.svc.Subscribe(t.Context(), "en", "r5@example.org", "", "192.0.2.1"); !errors.Is(err, subscribe.ErrRateLimited) {
		t.Errorf("sixth request with the default limits: %v", err)
	}
}

func TestSubscribeSendFailures(t *testing.T) {
	f := newFixture(t, nil)
	f.sender.fail = errors.New("smtp: 421 try later")
	err := f.svc.Subscribe(t.Context(), "en", "jane@example.org", "", "192.0.2.1")
	if err == nil || !strings.Contains(err.Error(), "421") {
		t.Errorf("Subscribe with a failing sender: %v", err)
	}
	if st := f.state(t, "en", "jane@example.org"); st != syndicate.SubscriberPending {
		t.Errorf("state %q, want pending", st)
	}

	svc, err := subscribe.New(subscribe.Options{Store: &memStore{}, Secret: secret, Lists: []string{"en"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Subscribe(t.Context(), "en", "jane@example.org", "", "192.0.2.1"); !errors.Is(err, subscribe.ErrNoSender) {
		t.Errorf("Subscribe without a sender: %v, want ErrNoSender", err)
	}
	if _, err := svc.Add(t.Context(), "en", "jane@example.org", "", false); !errors.Is(err, subscribe.ErrNoSender) {
		t.Errorf("Add pending without a sender: %v, want ErrNoSender", err)
	}
	if a, err := svc.Add(t.Context(), "en", "jane@example.org", "", true); err != nil || !a.Created {
		t.Errorf("Add confirmed without a sender: %+v, %v", a, err)
	}
}

func TestConfirmAndUnsubscribeRefuseBadLinks(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	f.subscribe(t, "en", "jane@example.org", "192.0.2.1")
	confirm := f.lastToken(t)
	sub, _ := f.store.get("en", "jane@example.org")
	unsub := f.svc.Links().UnsubscribeToken(sub)
	stranger := f.svc.Links().UnsubscribeToken(syndicate.Subscriber{List: "en", Email: "never@example.org"})

	for name, c := range map[string]struct {
		fn    func(context.Context, string) (syndicate.Subscriber, error)
		token string
		want  error
	}{
		"confirm with an unsubscribe token": {f.svc.Confirm, unsub, subscribe.ErrInvalidToken},
		"unsubscribe with a confirm token":  {f.svc.Unsubscribe, confirm, subscribe.ErrInvalidToken},
		"confirm tampered":                  {f.svc.Confirm, confirm[:len(confirm)-2] + "AA", subscribe.ErrInvalidToken},
		"unsubscribe tampered":              {f.svc.Unsubscribe, "x" + unsub, subscribe.ErrInvalidToken},
		"unsubscribe of an unknown address": {f.svc.Unsubscribe, stranger, subscribe.ErrInvalidToken},
	} {
		if _, err := c.fn(ctx, c.token); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if st := f.state(t, "en", "jane@example.org"); st != syndicate.SubscriberPending {
		t.Errorf("state after refused links: %s, want pending", st)
	}
	f.clock.Advance(48 * time.Hour)
	if _, err := f.svc.Confirm(ctx, confirm); !errors.Is(err, subscribe.ErrExpired) {
		t.Errorf("confirm after 48 h: %v, want ErrExpired", err)
	}
	if st := f.state(t, "en", "jane@example.org"); st != syndicate.SubscriberPending {
		t.Errorf("state after an expired link: %s, want pending", st)
	}
	// A pending address may unsubscribe too (the link in its confirmation).
	if s, err := f.svc.Unsubscribe(ctx, unsub); err != nil || s.State != syndicate.SubscriberUnsubscribed {
		t.Errorf("Unsubscribe of a pending address = %+v, %v", s, err)
	}

	f.store.fail = errors.New("disk full")
	if _, err := f.svc.Unsubscribe(ctx, unsub); err == nil || errors.Is(err, subscribe.ErrInvalidToken) {
		t.Errorf("Unsubscribe with a failing store: %v, want the store's error", err)
	}
}

func TestAdd(t *testing.T) {
	f := newFixture(t, nil)
	ctx := t.Context()
	add := func(email string, confirmed bool) subscribe.Added {
		t.Helper()
		a, err := f.svc.Add(ctx, "en", email, "", confirmed)
		if err != nil {
			t.Fatalf("Add(%q, %v): %v", email, confirmed, err)
		}
		return a
	}
	if a := add("Jane <jane@Example.org>", false); !a.Created || !a.Mailed || a.Subscriber.State != syndicate.SubscriberPending || a.Subscriber.Name != "Jane" || a.Subscriber.Email != "jane@example.org" {
		t.Errorf("Add new pending = %+v", a)
	}
	if a := add("jane@example.org", false); a.Created || !a.Mailed {
		t.Errorf("Add pending again = %+v, want a new link mailed", a)
	}
	if a := add("jane@example.org", true); a.Created || !a.Confirmed || a.Mailed || a.Subscriber.State != syndicate.SubscriberConfirmed {
		t.Errorf("Add --confirmed of a pending address = %+v, want it confirmed", a)
	}
	if a := add("jane@example.org", false); a.Created || a.Mailed || a.Subscriber.State != syndicate.SubscriberConfirmed {
		t.Errorf("Add of a confirmed address = %+v, want it left as is", a)
	}
	if a := add("new@example.org", true); !a.Created || a.Mailed || a.Subscriber.State != syndicate.SubscriberConfirmed {
		t.Errorf("Add --confirmed new = %+v", a)
	}
	if _, err := f.store.SetSubscriberState(ctx, "en", "new@example.org", syndicate.SubscriberUnsubscribed, f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	for _, confirmed := range []bool{false, true} {
		if a := add("new@example.org", confirmed); a.Created || a.Mailed || a.Subscriber.State != syndicate.SubscriberUnsubscribed {
			t.Errorf("Add(confirmed %v) of an unsubscribed address = %+v, want it left as is", confirmed, a)
		}
	}
	if n := len(f.sender.sent()); n != 2 {
		t.Errorf("%d mails, want 2", n)
	}
	if _, err := f.svc.Add(ctx, "en", "bad\r\n@example.org", "", true); !errors.Is(err, subscribe.ErrInvalidAddress) {
		t.Errorf("Add of a bad address: %v", err)
	}
}
