// Package websub subscribes the daemon to the WebSub hubs its feeds
// advertise (W3C WebSub), answers the hubs' verification requests, and
// turns each authentic content delivery into an immediate poll of the feed.
// Polling on schedule goes on as the safety net.
package websub

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Subscription states.
const (
	statePending = "pending"
	stateActive  = "active"
)

// Store keeps the subscriptions.
type Store interface {
	Subscription(ctx context.Context, feedID string) (syndicate.Subscription, error)
	SaveSubscription(ctx context.Context, s syndicate.Subscription) error
	DeleteSubscription(ctx context.Context, feedID string) error
}

// Subscriber is a WebSub subscriber for every feed of the daemon.
type Subscriber struct {
	Store Store
	// CallbackBase is the public URL under which the hub reaches us; the
	// callback of a feed is CallbackBase + "/websub/" + feed id.
	CallbackBase string
	Client       *http.Client
	// Lease is the lease asked of the hub (default 7 days); a subscription
	// is renewed at the first poll after nine tenths of the lease the hub
	// granted have passed.
	Lease time.Duration
	// Poll asks the daemon to poll a feed now.
	Poll func(feedID string) bool
	Now  func() time.Time
	Log  *slog.Logger
}

func (s *Subscriber) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Subscriber) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return 7 * 24 * time.Hour
}

func (s *Subscriber) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// pendingPatience is how long a subscription request waits for the hub's
// verification before it is asked again.
const pendingPatience = 10 * time.Minute

// Advertised implements syndicate.HubWatcher: it subscribes when the feed
// advertises a hub we are not subscribed to, renews a lease that is
// running out, and forgets a subscription the feed no longer advertises.
func (s *Subscriber) Advertised(ctx context.Context, feedID, hub, self string) {
	log := s.log().With("feed", feedID, "hub", hub)
	sub, err := s.Store.Subscription(ctx, feedID)
	found := err == nil
	if err != nil && !errors.Is(err, syndicate.ErrNotFound) {
		log.Error("websub: load subscription", slog.Any("error", err))
		return
	}
	switch {
	case hub == "" && found:
		s.unsubscribe(ctx, sub)
		return
	case hub == "":
		return
	case self == "":
		log.Warn("websub: the feed names a hub but not itself (rel=self): not subscribing")
		return
	}
	if found && sub.Hub == hub && sub.Topic == self {
		now := s.now()
		granted := sub.LeaseUntil.Sub(sub.UpdatedAt) // set together at verification
		if sub.State == stateActive && sub.LeaseUntil.Sub(now) > granted/10 {
			return
		}
		if sub.State == statePending && now.Sub(sub.UpdatedAt) < pendingPatience {
			return
		}
	}
	if found && (sub.Hub != hub || sub.Topic != self) {
		s.unsubscribe(ctx, sub)
	}
	if err := s.subscribe(ctx, feedID, hub, self); err != nil {
		log.Error("websub: subscribe", slog.Any("error", err))
		return
	}
	log.Info("websub: subscription requested", "topic", self)
}

func (s *Subscriber) callback(feedID string) string {
	return strings.TrimRight(s.CallbackBase, "/") + "/websub/" + url.PathEscape(feedID)
}

func (s *Subscriber) subscribe(ctx context.Context, feedID, hub, topic string) error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("make a secret: %w", err)
	}
	sub := syndicate.Subscription{FeedID: feedID, Hub: hub, Topic: topic, Secret: hex.EncodeToString(secret),
		State: statePending, UpdatedAt: s.now()}
	if err := s.Store.SaveSubscription(ctx, sub); err != nil {
		return fmt.Errorf("save subscription: %w", err)
	}
	return s.request(ctx, hub, url.Values{
		"hub.mode":          {"subscribe"},
		"hub.topic":         {topic},
		"hub.callback":      {s.callback(feedID)},
		"hub.secret":        {sub.Secret},
		"hub.lease_seconds": {strconv.Itoa(int(s.lease().Seconds()))},
	})
}

// unsubscribe forgets the subscription first, so the hub's verification of
// the unsubscription finds none and is confirmed.
func (s *Subscriber) unsubscribe(ctx context.Context, sub syndicate.Subscription) {
	log := s.log().With("feed", sub.FeedID, "hub", sub.Hub)
	if err := s.Store.DeleteSubscription(ctx, sub.FeedID); err != nil {
		log.Error("websub: forget subscription", slog.Any("error", err))
		return
	}
	err := s.request(ctx, sub.Hub, url.Values{
		"hub.mode":     {"unsubscribe"},
		"hub.topic":    {sub.Topic},
		"hub.callback": {s.callback(sub.FeedID)},
	})
	if err != nil {
		log.Warn("websub: unsubscribe", slog.Any("error", err))
		return
	}
	log.Info("websub: unsubscribed", "topic", sub.Topic)
}

func (s *Subscriber) request(ctx context.Context, hub string, form url.Values) error {
	client := s.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("hub %s: %w", hub, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("hub %s: %w", hub, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("hub %s answered %s: %s", hub, resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

// Verify answers a hub's verification request (GET on the callback): the
// challenge and 200 when it confirms what we asked, 404 otherwise.
func (s *Subscriber) Verify(ctx context.Context, feedID string, q url.Values) (body string, status int) {
	log := s.log().With("feed", feedID)
	sub, err := s.Store.Subscription(ctx, feedID)
	found := err == nil
	if err != nil && !errors.Is(err, syndicate.ErrNotFound) {
		log.Error("websub: load subscription", slog.Any("error", err))
		return "", http.StatusInternalServerError
	}
	switch q.Get("hub.mode") {
	case "subscribe":
		if !found || q.Get("hub.topic") != sub.Topic {
			return "", http.StatusNotFound
		}
		lease, err := strconv.Atoi(q.Get("hub.lease_seconds"))
		if err != nil || lease <= 0 {
			lease = int(s.lease().Seconds())
		}
		sub.State, sub.LeaseUntil, sub.UpdatedAt = stateActive, s.now().Add(time.Duration(lease)*time.Second), s.now()
		if err := s.Store.SaveSubscription(ctx, sub); err != nil {
			log.Error("websub: save subscription", slog.Any("error", err))
			return "", http.StatusInternalServerError
		}
		log.Info("websub: subscription verified", "hub", sub.Hub, "lease_until", sub.LeaseUntil)
		return q.Get("hub.challenge"), http.StatusOK
	case "unsubscribe":
		if found && q.Get("hub.topic") == sub.Topic {
			return "", http.StatusNotFound // we still want it
		}
		return q.Get("hub.challenge"), http.StatusOK
	case "denied":
		if found {
			log.Warn("websub: the hub denied the subscription", "hub", sub.Hub, "reason", q.Get("hub.reason"))
			if err := s.Store.DeleteSubscription(ctx, feedID); err != nil {
				log.Error("websub: forget subscription", slog.Any("error", err))
			}
		}
		return "", http.StatusOK
	}
	return "", http.StatusBadRequest
}

// ErrBadSignature is returned by Deliver for content whose X-Hub-Signature
// does not match the subscription's secret: it is ignored.
var ErrBadSignature = errors.New("websub: X-Hub-Signature does not match")

// Deliver takes a content delivery (POST on the callback). Authentic
// content triggers a poll of the feed; the body itself is not trusted
// beyond that, so the feed is read with its usual checks.
func (s *Subscriber) Deliver(ctx context.Context, feedID string, body []byte, signature string) error {
	sub, err := s.Store.Subscription(ctx, feedID)
	if err != nil {
		return fmt.Errorf("websub: feed %q: no subscription: %w", feedID, err)
	}
	if !validSignature(sub.Secret, body, signature) {
		return ErrBadSignature
	}
	if s.Poll != nil {
		s.Poll(feedID)
	}
	return nil
}

// validSignature checks "method=hex" against an HMAC of body.
func validSignature(secret string, body []byte, header string) bool {
	method, sum, ok := strings.Cut(header, "=")
	if !ok || secret == "" {
		return false
	}
	var h func() hash.Hash
	switch strings.ToLower(method) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		return false
	}
	want, err := hex.DecodeString(sum)
	if err != nil {
		return false
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write(body)
	return hmac.Equal(mac.Sum(nil), want)
}
