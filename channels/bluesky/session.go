package bluesky

import (
	"context"
	"encoding/json"
	"fmt"

	comatproto "github.com/bluesky-social/indigo/api/atproto"
	"github.com/bluesky-social/indigo/xrpc"
)

// withSession runs call with a client of the channel's session, made on
// first use. When the PDS says the access token has expired (400
// ExpiredToken), the session is refreshed, or made anew when the refresh
// token is spent too, and call runs once more: every call of a send is
// safe to repeat.
func (c *Channel) withSession(ctx context.Context, call func(x *xrpc.Client, did string) error) error {
	s, err := c.currentSession(ctx, nil)
	if err != nil {
		return err
	}
	err = call(c.client(s), s.Did)
	if !isXRPC(err, "ExpiredToken") {
		return err
	}
	if s, err = c.currentSession(ctx, s); err != nil {
		return err
	}
	return call(c.client(s), s.Did)
}

// currentSession returns the channel's session. stale, when not nil, is a
// session whose access token expired: it is refreshed (unless another call
// did so already), or replaced when the refresh fails.
func (c *Channel) currentSession(ctx context.Context, stale *xrpc.AuthInfo) (*xrpc.AuthInfo, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != nil && c.session != stale {
		return c.session, nil
	}
	if c.session == nil && stale == nil {
		if kept := c.keptSession(ctx); kept != nil {
			c.session = kept // checked by its first use: an expired one is refreshed
			return kept, nil
		}
	}
	if stale != nil {
		refresher := c.client(&xrpc.AuthInfo{AccessJwt: stale.RefreshJwt})
		out, err := comatproto.ServerRefreshSession(ctx, refresher)
		if err == nil {
			return c.keep(ctx, &xrpc.AuthInfo{AccessJwt: out.AccessJwt, RefreshJwt: out.RefreshJwt, Handle: out.Handle, Did: out.Did})
		}
		if !isXRPC(err, "ExpiredToken") && !isXRPC(err, "InvalidToken") {
			return nil, fmt.Errorf("refreshing the session of %s: %w", c.cfg.Handle, err)
		}
		// The refresh token is spent or revoked: a new session.
	}
	out, err := comatproto.ServerCreateSession(ctx, c.client(nil), &comatproto.ServerCreateSession_Input{
		Identifier: c.cfg.Handle, Password: c.cfg.AppPassword.Value(),
	})
	if err != nil {
		return nil, fmt.Errorf("creating a session for %s: %w", c.cfg.Handle, err)
	}
	return c.keep(ctx, &xrpc.AuthInfo{AccessJwt: out.AccessJwt, RefreshJwt: out.RefreshJwt, Handle: out.Handle, Did: out.Did})
}

// vaultKey is where the channel's session is kept between runs: per
// channel, account and PDS, so that a changed handle or service starts
// afresh.
func (c *Channel) vaultKey() string {
	return "bluesky/" + c.cfg.ID + "/" + c.cfg.Handle + "@" + c.cfg.Service
}

// keep makes s the channel's session and saves it in the vault, so that
// the next run (once, from cron) refreshes it instead of making one:
// createSession is limited to 30 per 5 minutes and 300 a day.
func (c *Channel) keep(ctx context.Context, s *xrpc.AuthInfo) (*xrpc.AuthInfo, error) {
	c.session = s
	if c.cfg.Vault == nil {
		return s, nil
	}
	b, err := json.Marshal(s)
	if err == nil {
		err = c.cfg.Vault.Save(ctx, c.vaultKey(), string(b))
	}
	if err != nil {
		// The session works; only the next run pays for a new one.
		c.cfg.Logger.Warn("bluesky: the session could not be kept for the next run", "channel", c.cfg.ID, "error", c.redactLocked(err).Error())
	}
	return s, nil
}

// keptSession is the session an earlier run kept, or nil.
func (c *Channel) keptSession(ctx context.Context) *xrpc.AuthInfo {
	if c.cfg.Vault == nil {
		return nil
	}
	v, ok, err := c.cfg.Vault.Load(ctx, c.vaultKey())
	if err != nil || !ok {
		return nil
	}
	var s xrpc.AuthInfo
	if json.Unmarshal([]byte(v), &s) != nil || s.AccessJwt == "" || s.RefreshJwt == "" || s.Did == "" {
		return nil
	}
	return &s
}

// client is an XRPC client of the PDS, authenticated by s when not nil.
func (c *Channel) client(s *xrpc.AuthInfo) *xrpc.Client {
	ua := c.cfg.UserAgent
	return &xrpc.Client{Client: c.http, Host: c.cfg.Service, Auth: s, UserAgent: &ua}
}
