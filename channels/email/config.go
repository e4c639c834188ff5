// Package email is the digest channel: it renders one email per digest
// (multipart/alternative, plain text and HTML with inline CSS) and mails
// it to every subscriber of a list through SMTP, with go-mail v0.8.1.
//
// The message is rendered and encoded once per digest; each recipient's
// copy is the encoded parts with only the lines that carry the personal
// unsubscribe link encoded anew, and a few headers of its own, built while
// it is sent. A few SMTP connections run side by side, each carrying many
// messages (no NOOP before each one, no RSET after a success, MAIL FROM,
// RCPT TO and DATA in one round trip when the server offers PIPELINING,
// each message in one write), paced by a shared rate.
package email

import (
	"crypto"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// TLS policies of Config.TLS. There is no default: an SMTP relay on port
// 25 of the same host and a submission server on 587 want different ones.
const (
	// TLSStartTLS connects in plain text and upgrades with STARTTLS,
	// which the server must offer (port 587).
	TLSStartTLS = "starttls"
	// TLSImplicit speaks TLS from the first byte (port 465).
	TLSImplicit = "tls"
	// TLSNone never encrypts: a relay on the same machine, or tests.
	TLSNone = "none"
)

// Defaults of the optional settings.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultConnections = 4
	DefaultSubject     = "{{.Title}} — digest"
	DefaultLanguage    = "en"
)

// Config is one email channel.
type Config struct {
	ID   string // the channel's id in the configuration, for messages
	List string // the subscriber list it mails
	// Language of the digest's own words and dates: "en" or "es"; other
	// languages fall back to English. Empty: DefaultLanguage.
	Language string
	// From is the sender, "News <news@example.org>" or an address; it is
	// also the envelope sender, where bounces go.
	From string
	// Subject is a text/template executed with SubjectData. Empty:
	// DefaultSubject.
	Subject string
	// PublicURL is the daemon's public base URL; its host names the list
	// in List-Id (<list.host>).
	PublicURL string
	// UnsubscribeURL is a subscriber's one-click unsubscribe link, for the
	// List-Unsubscribe header and the link at the foot of the digest.
	// Required to send digests (a channel that only mails confirmations
	// may go without).
	UnsubscribeURL func(syndicate.Subscriber) string
	// UnsubscribeMailto is the address of the mailto: alternative of
	// List-Unsubscribe; empty means unsubscribe@ the sender's domain.
	UnsubscribeMailto string

	Host     string
	Port     int
	TLS      string // TLSStartTLS, TLSImplicit or TLSNone; required
	Username string // AUTH is used only when set
	Password string
	// TLSConfig replaces the default TLS settings (its ServerName is set
	// to Host when empty); for a private CA.
	TLSConfig *tls.Config
	// HELO is the name given in EHLO; empty means the machine's host name.
	HELO string
	// Timeout bounds the connection and each SMTP command. Default 30s.
	Timeout time.Duration
	// Connections is how many SMTP connections a digest uses side by
	// side. Default DefaultConnections.
	Connections int
	// Rate caps the messages per second over all connections; 0 means no
	// cap.
	Rate float64
	// DKIM, when set, signs every message; the signed headers include both
	// List-Unsubscribe headers.
	DKIM *DKIM

	// Location is the zone of the dates in the digest; nil means UTC.
	Location *time.Location
	// Log receives what the operator should know; nil discards it.
	Log *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// DKIM is a signing key.
type DKIM struct {
	Domain   string        // d=
	Selector string        // s=, the DNS record <selector>._domainkey.<domain>
	Key      crypto.Signer // an RSA or Ed25519 private key
}

// withDefaults returns cfg with its defaults filled in, or every problem
// found, each naming its setting.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if cfg.List == "" {
		errs = append(errs, errors.New("list: required"))
	}
	if cfg.Language == "" {
		cfg.Language = DefaultLanguage
	}
	if from, err := mail.ParseAddress(cfg.From); err != nil {
		errs = append(errs, fmt.Errorf("from %q: %v", cfg.From, err))
	} else if _, domain, ok := strings.Cut(from.Address, "@"); !ok || domain == "" {
		errs = append(errs, fmt.Errorf("from %q: no domain", cfg.From))
	}
	if cfg.Subject == "" {
		cfg.Subject = DefaultSubject
	}
	if cfg.PublicURL != "" {
		if u, err := url.Parse(cfg.PublicURL); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("public_url %q: want an absolute URL", cfg.PublicURL))
		}
	}
	if strings.ContainsAny(cfg.UnsubscribeMailto, "<>?\r\n ") {
		errs = append(errs, fmt.Errorf("unsubscribe mailto %q: want a bare address", cfg.UnsubscribeMailto))
	}
	if cfg.Host == "" {
		errs = append(errs, errors.New("smtp.host: required"))
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp.port %d: want 1 to 65535", cfg.Port))
	}
	switch cfg.TLS {
	case TLSStartTLS, TLSImplicit, TLSNone:
	default:
		errs = append(errs, fmt.Errorf("smtp.tls %q: want starttls, tls or none", cfg.TLS))
	}
	if cfg.Username == "" && cfg.Password != "" {
		errs = append(errs, errors.New("smtp.username: required with a password"))
	}
	switch {
	case cfg.Timeout < 0:
		errs = append(errs, fmt.Errorf("timeout %v: must not be negative", cfg.Timeout))
	case cfg.Timeout == 0:
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.Connections < 0:
		errs = append(errs, fmt.Errorf("smtp.connections %d: must not be negative", cfg.Connections))
	case cfg.Connections == 0:
		cfg.Connections = DefaultConnections
	}
	if cfg.Rate < 0 {
		errs = append(errs, fmt.Errorf("smtp.rate %v: must not be negative", cfg.Rate))
	}
	if d := cfg.DKIM; d != nil && (d.Domain == "" || d.Selector == "" || d.Key == nil) {
		errs = append(errs, errors.New("dkim: domain, selector and key are all required"))
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := errors.Join(errs...); err != nil {
		return cfg, fmt.Errorf("email channel %q: %w", cfg.ID, err)
	}
	return cfg, nil
}
