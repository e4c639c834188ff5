// Package netguard keeps the fetches that a feed's content asks for (its
// images, the WebSub hub it advertises, where its redirects lead) from
// reaching into the network the daemon runs in: an address that resolves
// to loopback, a private range, link-local, shared (CGNAT) or unspecified
// space is refused, unless it is on one of the origins the operator named.
//
// The check is made on the address actually connected to, in the dialer's
// Control hook, so that neither a redirect nor a DNS answer that changes
// between a look-up and the connection (DNS rebinding) gets around it.
//
// It imports nothing of the project, so the channels and the feed reader
// can all use it.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Key is the configuration key that lifts the guard, named in refusals.
const Key = "allow_private_networks"

// RefusedError is a connection refused because its address is not public.
type RefusedError struct {
	// Host is the host the request named ("" when unknown).
	Host string
	// Addr is the address it resolved to.
	Addr netip.Addr
	// Kind says what kind of address it is: "loopback", "private",
	// "link-local", "shared (CGNAT)", "unspecified", "multicast" or
	// "reserved".
	Kind string
}

func (e *RefusedError) Error() string {
	host := e.Host
	if host == "" {
		host = e.Addr.String()
	}
	return fmt.Sprintf("%s resolves to a private address (%s, %s; %s: false)", host, e.Addr, e.Kind, Key)
}

// Options configure a Guard.
type Options struct {
	// Origins are URLs whose origin (scheme, host and port) is always
	// allowed, whatever it resolves to: the feeds the operator configured,
	// beside which a site's images usually live. A URL that is not an
	// absolute http(s) one (a file: feed) adds nothing.
	Origins []string
	// LookupNetIP resolves a host when a request goes through a proxy, so
	// that its target can still be checked (the proxy itself, named by the
	// environment, is allowed). nil means net.DefaultResolver.LookupNetIP.
	LookupNetIP func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Guard refuses connections to addresses that are not public, except to
// the origins it allows. A nil *Guard allows everything: it is what
// allow_private_networks: true builds.
type Guard struct {
	origins map[string]bool
	lookup  func(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// New returns a Guard that allows the origins of opt.Origins.
func New(opt Options) *Guard {
	g := &Guard{origins: map[string]bool{}, lookup: opt.LookupNetIP}
	for _, raw := range opt.Origins {
		if o, ok := Origin(raw); ok {
			g.origins[o] = true
		}
	}
	if g.lookup == nil {
		g.lookup = net.DefaultResolver.LookupNetIP
	}
	return g
}

// Origin returns the origin of an absolute http(s) URL as
// "scheme://host:port", lower-case, with the default port made explicit.
func Origin(rawURL string) (string, bool) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", false
	}
	return originOf(u)
}

func originOf(u *url.URL) (string, bool) {
	scheme := strings.ToLower(u.Scheme)
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if (scheme != "http" && scheme != "https") || host == "" {
		return "", false
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if scheme == "https" {
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port), true
}

// Allows reports whether a request to u goes unchecked: the guard is off
// (nil), or u is on an allowed origin.
func (g *Guard) Allows(u *url.URL) bool {
	if g == nil {
		return true
	}
	o, ok := originOf(u)
	return ok && g.origins[o]
}

// Classify says what kind of non-public address a is ("loopback",
// "private", …), or "" for a public unicast address.
func Classify(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "reserved"
	case a.IsUnspecified(), a.Is4() && thisNetwork.Contains(a):
		return "unspecified"
	case a.IsLoopback():
		return "loopback"
	case a.IsPrivate():
		return "private"
	case a.IsLinkLocalUnicast():
		return "link-local"
	case sharedSpace.Contains(a):
		return "shared (CGNAT)"
	case a.IsMulticast():
		return "multicast"
	case !a.IsGlobalUnicast():
		return "reserved" // 255.255.255.255 and the like
	case a.Is6() && nat64.Contains(a):
		// 64:ff9b::a.b.c.d reaches the IPv4 address through a NAT64
		// gateway: it is what the IPv4 address is.
		b := a.As16()
		return Classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	}
	return ""
}

var (
	sharedSpace = netip.MustParsePrefix("100.64.0.0/10") // RFC 6598, carrier-grade NAT
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")     // "this network": reaches the host itself
	nat64       = netip.MustParsePrefix("64:ff9b::/96")  // RFC 6052
)

// allowedKey marks a context whose dials are not checked: the request is
// on an allowed origin, or the dial is to the proxy.
type allowedKey struct{}

// Control is a net.Dialer ControlContext hook: it refuses the connection
// with a *RefusedError when the address is not public, unless ctx comes
// from a request to an allowed origin. A nil Guard allows everything.
func (g *Guard) Control(ctx context.Context, network, address string, _ syscall.RawConn) error {
	if g == nil {
		return nil
	}
	if allowed, _ := ctx.Value(allowedKey{}).(bool); allowed {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Kind: "reserved"} // not an IP address: never expected
	}
	if kind := Classify(ap.Addr()); kind != "" {
		return &RefusedError{Addr: ap.Addr().Unmap(), Kind: kind}
	}
	return nil
}

// Dialer returns a copy of d (nil: 30 s timeout and keep-alive, as
// http.DefaultTransport's) whose connections the guard checks, after any
// Control hook d has.
func (g *Guard) Dialer(d *net.Dialer) *net.Dialer {
	var c net.Dialer
	if d != nil {
		c = *d
	} else {
		c = net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	}
	if g == nil {
		return &c
	}
	prevCtx, prev := c.ControlContext, c.Control
	c.Control = nil
	c.ControlContext = func(ctx context.Context, network, address string, raw syscall.RawConn) error {
		switch {
		case prevCtx != nil:
			if err := prevCtx(ctx, network, address, raw); err != nil {
				return err
			}
		case prev != nil:
			if err := prev(network, address, raw); err != nil {
				return err
			}
		}
		return g.Control(ctx, network, address, raw)
	}
	return &c
}

// Transport returns a copy of t (nil: of http.DefaultTransport) that dials
// with d (see Dialer) and checks every request it carries: each redirect
// followed is a request of its own, checked again. A nil Guard returns t
// unchanged (http.DefaultTransport for nil).
func (g *Guard) Transport(t *http.Transport, d *net.Dialer) http.RoundTripper {
	if t == nil {
		t = http.DefaultTransport.(*http.Transport)
	}
	if g == nil {
		return t
	}
	c := t.Clone()
	c.DialContext = g.Dialer(d).DialContext
	c.DialTLSContext = nil // a custom TLS dial would bypass the hook
	return &roundTripper{guard: g, base: c}
}

// Client returns an http.Client with the given timeout whose requests the
// guard checks. A nil Guard returns a plain one.
func (g *Guard) Client(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: g.Transport(nil, nil)}
}

type roundTripper struct {
	guard *Guard
	base  *http.Transport
}

func (rt *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	switch {
	case rt.guard.Allows(req.URL):
		ctx = context.WithValue(ctx, allowedKey{}, true)
	case rt.base.Proxy != nil:
		proxy, err := rt.base.Proxy(req)
		if err != nil {
			return nil, err
		}
		if proxy != nil {
			// The proxy connects, not us: check the target by name,
			// as well as can be done, and let the dial to the proxy
			// (named by the operator's environment) through.
			if err := rt.guard.checkHost(ctx, req.URL.Hostname()); err != nil {
				closeBody(req)
				return nil, err
			}
			ctx = context.WithValue(ctx, allowedKey{}, true)
		}
	}
	resp, err := rt.base.RoundTrip(req.WithContext(ctx))
	if refused := (*RefusedError)(nil); errors.As(err, &refused) {
		named := *refused
		named.Host = req.URL.Hostname()
		return nil, &named
	}
	return resp, err
}

// checkHost resolves host and refuses it when any of its addresses is not
// public.
func (g *Guard) checkHost(ctx context.Context, host string) error {
	if a, err := netip.ParseAddr(host); err == nil {
		if kind := Classify(a); kind != "" {
			return &RefusedError{Host: host, Addr: a.Unmap(), Kind: kind}
		}
		return nil
	}
	addrs, err := g.lookup(ctx, "ip", host)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", host, err)
	}
	for _, a := range addrs {
		if kind := Classify(a); kind != "" {
			return &RefusedError{Host: host, Addr: a.Unmap(), Kind: kind}
		}
	}
	return nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
