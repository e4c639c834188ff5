package channels

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Deps is what the daemon gives every channel it builds besides the
// channel's own settings: the keys common to all channels, and the parts
// it shares with them. Each channel package's Build takes it.
type Deps struct {
	ID       string        // the channel's id
	Template string        // template: source; "" for the channel's own
	Timeout  time.Duration // bounds each request; 0 for the channel's default
	// UserAgent names the daemon in requests; "" for the channel's default.
	UserAgent string
	// ImageTransport fetches the featured images a feed names: one that
	// refuses the addresses a feed must not make the daemon reach.
	ImageTransport http.RoundTripper
	Now            func() time.Time
	Logger         *slog.Logger
	// Built are the channels built before this one, which a channel on
	// the same account may share its rate limits with.
	Built []syndicate.Channel
	// Vault keeps what a channel must remember between runs (a session's
	// refresh token); nil keeps nothing.
	Vault Vault
}

// Vault keeps a channel's secrets in the store, encrypted with the
// daemon's secret: what Save is given never reaches the store in clear.
type Vault interface {
	// Load returns the value saved under key; ok is false when there is
	// none, or when it cannot be read back (another secret made it).
	Load(ctx context.Context, key string) (value string, ok bool, err error)
	Save(ctx context.Context, key, value string) error
}
