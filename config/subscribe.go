package config

import (
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/schema"
)

// Subscribe holds the keys of the top-level subscribe: block: the rate
// limits of the public subscription form, and where the client's address
// is read from behind a reverse proxy.
type Subscribe struct {
	PerIP         int      // requests a client address may make in IPWindow; 0: no limit
	IPWindow      Duration // the sliding window of PerIP
	PerAddress    int      // confirmation mails one email address may get in AddressWindow; 0: no limit
	AddressWindow Duration // the sliding window of PerAddress
	// ClientIPHeader names the header a reverse proxy puts the client's
	// address in (X-Forwarded-For: its last address; any other: its whole
	// value); "" takes the address of the connection.
	ClientIPHeader string
}

func (d *decoder) subscribe(o *schema.Object) Subscribe {
	s := Subscribe{PerIP: 5, IPWindow: Duration(time.Hour), PerAddress: 3, AddressWindow: Duration(24 * time.Hour)}
	so := d.Sub(o, "subscribe")
	if so == nil {
		return s
	}
	d.Int(so, "per_ip", &s.PerIP)
	d.Duration(so, "ip_window", &s.IPWindow)
	d.Int(so, "per_address", &s.PerAddress)
	d.Duration(so, "address_window", &s.AddressWindow)
	d.Str(so, "client_ip_header", &s.ClientIPHeader)
	d.UnknownKeys(so, nil)
	return s
}

func (v checker) subscribe(s Subscribe) {
	v.AtLeast("subscribe.per_ip", int64(s.PerIP), 0)
	if s.PerIP > 0 {
		v.Positive("subscribe.ip_window", s.IPWindow)
	}
	v.AtLeast("subscribe.per_address", int64(s.PerAddress), 0)
	if s.PerAddress > 0 {
		v.Positive("subscribe.address_window", s.AddressWindow)
	}
	if h := s.ClientIPHeader; h != "" && !isHeaderName(h) {
		v.Add("subscribe.client_ip_header", "must be a header name such as X-Forwarded-For or X-Real-IP (got %q)", h)
	} else if strings.EqualFold(h, "Forwarded") {
		v.Add("subscribe.client_ip_header", "Forwarded (RFC 7239) is not read: have the proxy set X-Forwarded-For or X-Real-IP")
	}
}

// isHeaderName reports whether s is an HTTP field name (RFC 9110 token).
func isHeaderName(s string) bool {
	for _, r := range s {
		if r >= 0x80 || !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r)) {
			return false
		}
	}
	return s != ""
}
