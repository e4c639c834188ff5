package bluesky

import (
	"context"
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
	if stale != nil {
		refresher := c.client(&xrpc.AuthInfo{AccessJwt: stale.RefreshJwt})
		out, err := comatproto.ServerRefreshSession(ctx, refresher)
		if err == nil {
			c.session = &xrpc.AuthInfo{AccessJwt: out.AccessJwt, RefreshJwt: out.RefreshJwt, Handle: out.Handle, Did: out.Did}
			return c.session, nil
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
	c.session = &xrpc.AuthInfo{AccessJwt: out.AccessJwt, RefreshJwt: out.RefreshJwt, Handle: out.Handle, Did: out.Did}
	return c.session, nil
}

// client is an XRPC client of the PDS, authenticated by s when not nil.
func (c *Channel) client(s *xrpc.AuthInfo) *xrpc.Client {
	ua := c.cfg.UserAgent
	return &xrpc.Client{Client: c.http, Host: c.cfg.Service, Auth: s, UserAgent: &ua}
}
