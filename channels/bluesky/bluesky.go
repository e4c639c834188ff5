// Package bluesky posts articles to a Bluesky account through the AT
// Protocol's own Go SDK, github.com/bluesky-social/indigo: its xrpc
// client and the generated com.atproto and app.bsky calls and records.
// It wraps the SDK's gaps thinly: sessions are created and refreshed here
// (the PDS answers an expired token with 400 ExpiredToken), answers are
// classified for the engine (429 after its Retry-After or ratelimit-reset,
// 5xx retryable), the account's budgets are paced (see limits),
// and the featured image is scaled down to what its use allows.
//
// Exactly once rests on Bluesky's own record keys: every delivery has a
// key of its own, fixed before its first attempt (see recordKey), and
// every attempt first asks for the record under it. Found, the post was
// made; not found, it is created under that key. A send is therefore safe
// to repeat, and an interrupted one is never left uncertain.
package bluesky

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	comatproto "github.com/bluesky-social/indigo/api/atproto"
	"github.com/bluesky-social/indigo/xrpc"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// collection is the NSID of a post record.
const collection = "app.bsky.feed.post"

// Channel is a Bluesky account. It is safe for concurrent use.
type Channel struct {
	cfg      Config
	http     *http.Client
	images   channels.ImageFetcher
	renderer *renderer

	limits *limits

	mu      sync.Mutex // guards session; held while a session is made
	session *xrpc.AuthInfo
}

// New parses the template and builds the channel. It makes no network call.
func New(cfg Config) (*Channel, error) {
	cfg = cfg.withDefaults()
	r, err := newRenderer(cfg.ID, cfg)
	if err != nil {
		return nil, fmt.Errorf("bluesky channel %q: template: %w", cfg.ID, err)
	}
	l := newLimits()
	return &Channel{
		cfg:      cfg,
		limits:   l,
		http:     &http.Client{Transport: watchLimits{base: cfg.Transport, l: l, now: cfg.Now}, Timeout: cfg.Timeout},
		images:   channels.ImageFetcher{Client: &http.Client{Transport: cfg.ImageTransport, Timeout: cfg.Timeout}, UserAgent: cfg.UserAgent},
		renderer: r,
	}, nil
}

// Render returns the post as Send would make it, with its link facets
// and its card. It makes no network call.
func (c *Channel) Render(p syndicate.Post) (syndicate.Rendering, error) {
	out, err := c.renderer.render(p.Article)
	return out.rendering(), err
}

// CheckText renders the post with the editor's text as Send would post
// it (facets found in it as in any post), refusing what Bluesky would.
func (c *Channel) CheckText(p syndicate.Post) (syndicate.Rendering, error) {
	out, err := c.plan(p)
	return out.rendering(), err
}

// plan is the post Send makes: the rendering, or the editor's text.
func (c *Channel) plan(p syndicate.Post) (post, error) {
	text := strings.TrimSpace(p.Override)
	if text == "" {
		return c.renderer.render(p.Article)
	}
	out := c.renderer.shape(p.Article, text)
	return out, out.check()
}

// errNoPassword refuses an API call of a channel built without one.
var errNoPassword = errors.New("bluesky: no app_password configured")

// Send posts the article as an app.bsky.feed.post record under the
// delivery's own key, unless a record is there already, which it then
// returns. Its errors are *syndicate.SendError: 429 is retryable at the
// later of its Retry-After and ratelimit-reset, 5xx and lost answers retryable (the next attempt finds
// the record if it was made), other refusals permanent with the server's
// error and message. A featured image that cannot be had or used does not
// stop the post: it goes without, and Receipt.Warning says why.
func (c *Channel) Send(ctx context.Context, p syndicate.Post) (syndicate.Receipt, *syndicate.SendError) {
	if c.cfg.AppPassword == "" {
		return syndicate.Receipt{}, channels.Permanent(errNoPassword)
	}
	rkey := recordKey(p)
	var r syndicate.Receipt
	err := c.withSession(ctx, func(x *xrpc.Client, did string) error {
		found, err := c.existing(ctx, x, did, rkey)
		if err != nil || found != nil {
			if found != nil {
				r = *found
			}
			return err
		}
		r, err = c.create(ctx, x, did, rkey, p)
		return err
	})
	if err != nil {
		return syndicate.Receipt{}, c.sendError("posting", err)
	}
	return r, nil
}

// existing returns the receipt of the record under rkey, or nil when there
// is none.
func (c *Channel) existing(ctx context.Context, x *xrpc.Client, did, rkey string) (*syndicate.Receipt, error) {
	out, err := comatproto.RepoGetRecord(ctx, x, "", collection, did, rkey)
	if isXRPC(err, "RecordNotFound") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looking for the record %s: %w", rkey, err)
	}
	r := receipt(did, rkey)
	r.RemoteID = out.Uri
	return &r, nil
}

// create makes the record of p under rkey.
func (c *Channel) create(ctx context.Context, x *xrpc.Client, did, rkey string, p syndicate.Post) (syndicate.Receipt, error) {
	planned, err := c.plan(p)
	if err != nil {
		return syndicate.Receipt{}, channels.Permanent(fmt.Errorf("bluesky channel %q: rendering %q: %w", c.cfg.ID, p.Article.Title, err))
	}
	if err := c.limits.wait(c.cfg.Now(), planned.Image != ""); err != nil {
		return syndicate.Receipt{}, err // before the image is uploaded
	}
	rec, warning, err := c.record(ctx, x, planned)
	if err != nil {
		return syndicate.Receipt{}, err
	}
	validate := true
	out, err := comatproto.RepoCreateRecord(ctx, x, &comatproto.RepoCreateRecord_Input{
		Collection: collection, Repo: did, Rkey: &rkey, Validate: &validate, Record: rec,
	})
	if err != nil {
		return syndicate.Receipt{}, fmt.Errorf("creating the record %s: %w", rkey, err)
	}
	r := receipt(did, rkey)
	r.RemoteID, r.Warning = out.Uri, warning
	return r, nil
}

// receipt is the receipt of the post under rkey: its at:// URI and its
// page, by the account's DID (a handle can change).
func receipt(did, rkey string) syndicate.Receipt {
	return syndicate.Receipt{
		RemoteID: "at://" + did + "/" + collection + "/" + rkey,
		URL:      "https://bsky.app/profile/" + did + "/post/" + rkey,
	}
}

// Check creates a session and resolves the handle, for check --online.
func (c *Channel) Check(ctx context.Context) (string, error) {
	if c.cfg.AppPassword == "" {
		return "", errNoPassword
	}
	var msg string
	err := c.withSession(ctx, func(x *xrpc.Client, did string) error {
		out, err := comatproto.IdentityResolveHandle(ctx, x, c.cfg.Handle)
		if err != nil {
			return fmt.Errorf("resolving the handle %s: %w", c.cfg.Handle, err)
		}
		if out.Did != did {
			return fmt.Errorf("the handle %s resolves to %s, not to the session's account %s", c.cfg.Handle, out.Did, did)
		}
		msg = fmt.Sprintf("authenticated as @%s (%s) on %s", c.cfg.Handle, did, c.cfg.Service)
		return nil
	})
	if err != nil {
		return "", c.redact(err)
	}
	return msg, nil
}

// recordKey is the delivery's own record key: a TID, as posts must have,
// fixed by what the delivery already is (when its article was first seen,
// and its id), so that every attempt, in any process, uses the same one,
// and two deliveries never share one. Its timestamp is the article's
// first sight, to the second, plus the delivery id's last six digits as
// microseconds; the id's higher digits are its clock id.
func recordKey(p syndicate.Post) string {
	seen := p.Article.FirstSeen.Unix()
	if seen < 0 {
		seen = 0
	}
	id := max(p.DeliveryID, 0)
	micros := uint64(seen)*1_000_000 + uint64(id%1_000_000)
	clockID := uint64(id/1_000_000) % 1024
	return encodeTID(micros<<10 | clockID)
}

// tidAlphabet is base32-sortable, the alphabet of TIDs.
const tidAlphabet = "234567abcdefghijklmnopqrstuvwxyz"

// encodeTID writes v (its top bit clear) as the 13 characters of a TID.
func encodeTID(v uint64) string {
	v &^= 1 << 63
	var b [13]byte
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = tidAlphabet[v&31]
		v >>= 5
	}
	return string(b[:])
}

// sendError classifies an error of a send for the engine: 429 retryable
// when the PDS said, other 4xx permanent, the rest (5xx, lost answers)
// retryable, for the next attempt finds the record if this one made it.
func (c *Channel) sendError(doing string, err error) *syndicate.SendError {
	var se *syndicate.SendError
	if errors.As(err, &se) {
		return &syndicate.SendError{Kind: se.Kind, RetryAfter: se.RetryAfter, Err: c.redact(err)}
	}
	out := &syndicate.SendError{Kind: syndicate.Retryable}
	var xe *xrpc.Error
	if errors.As(err, &xe) {
		var reset time.Time
		if xe.StatusCode == http.StatusTooManyRequests {
			reset = c.limits.throttledUntil(c.cfg.Now()) // Retry-After, which the SDK drops, or ratelimit-reset
			if xe.Ratelimit != nil && xe.Ratelimit.Reset.After(reset) {
				reset = xe.Ratelimit.Reset
			}
		}
		classified := channels.StatusError(xe.StatusCode, reset, nil)
		out.Kind, out.RetryAfter = classified.Kind, classified.RetryAfter
		if isXRPC(err, "BlobNotFound") {
			out.Kind = syndicate.Retryable // the PDS deleted the image meanwhile: the next attempt uploads it anew
		}
	}
	out.Err = fmt.Errorf("bluesky channel %q: %s: %w", c.cfg.ID, doing, c.redact(err))
	return out
}

// redact keeps the app password and the tokens out of err's text.
func (c *Channel) redact(err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.redactLocked(err)
}

func (c *Channel) redactLocked(err error) error {
	secrets := []string{c.cfg.AppPassword.Value()}
	if s := c.session; s != nil {
		secrets = append(secrets, s.AccessJwt, s.RefreshJwt)
	}
	return channels.RedactError(err, secrets...)
}

// isXRPC reports whether err is the XRPC error name ("RecordNotFound").
func isXRPC(err error, name string) bool {
	var xe *xrpc.XRPCError
	return errors.As(err, &xe) && xe.ErrStr == name
}
