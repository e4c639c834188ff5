package config

import (
	"strings"
	"testing"
	"time"
)

func defaultSubscribe() Subscribe {
	return Subscribe{PerIP: 5, IPWindow: Duration(time.Hour), PerAddress: 3, AddressWindow: Duration(24 * time.Hour)}
}

func TestSubscribeBlock(t *testing.T) {
	cfg, err := Parse([]byte(minimal), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Subscribe != defaultSubscribe() {
		t.Errorf("subscribe defaults = %+v, want %+v", cfg.Subscribe, defaultSubscribe())
	}

	cfg, err = Parse([]byte(`
subscribe:
  per_ip: 20
  ip_window: 10m
  per_address: 0
  client_ip_header: X-Forwarded-For
`+minimal), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	want := Subscribe{PerIP: 20, IPWindow: Duration(10 * time.Minute), PerAddress: 0, AddressWindow: Duration(24 * time.Hour), ClientIPHeader: "X-Forwarded-For"}
	if cfg.Subscribe != want {
		t.Errorf("subscribe = %+v, want %+v", cfg.Subscribe, want)
	}

	// A limit that is off needs no window.
	if _, err := Parse([]byte("subscribe: {per_ip: 0, ip_window: 0s, per_address: 0, address_window: 0s}\n"+minimal), Options{Channels: testTypes}); err != nil {
		t.Errorf("limits off: %v", err)
	}

	for _, tt := range []struct{ yaml, want string }{
		{"subscribe: {per_ip: -1}", "subscribe.per_ip: must be at least 0 (got -1)"},
		{"subscribe: {per_address: -2}", "subscribe.per_address: must be at least 0 (got -2)"},
		{"subscribe: {ip_window: 0s}", "subscribe.ip_window: must be more than 0s (got 0s)"},
		{"subscribe: {address_window: 0s}", "subscribe.address_window: must be more than 0s (got 0s)"},
		{"subscribe: {ip_window: 5}", `subscribe.ip_window: must be a duration like "30s" or "1h30m" (got "5")`},
		{"subscribe: {client_ip_header: \"X Forwarded\"}", `subscribe.client_ip_header: must be a header name such as X-Forwarded-For or X-Real-IP (got "X Forwarded")`},
		{"subscribe: {client_ip_header: Forwarded}", "subscribe.client_ip_header: Forwarded (RFC 7239) is not read: have the proxy set X-Forwarded-For or X-Real-IP"},
		{"subscribe: {per_ipp: 3}", `subscribe.per_ipp: unknown key (did you mean "per_ip"?)`},
		{"subscribe: [a]", "subscribe: must be a mapping (got a list)"},
	} {
		_, err := Parse([]byte(tt.yaml+"\n"+minimal), Options{Channels: testTypes})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s:\n got %v\nwant %s", tt.yaml, err, tt.want)
		}
	}
}
