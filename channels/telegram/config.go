package telegram

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultAPIURL is where the Bot API lives when Config.APIURL is empty.
const DefaultAPIURL = "https://api.telegram.org"

// Defaults of the optional settings.
const (
	DefaultTimeout     = 30 * time.Second
	DefaultPerMinute   = 20
	DefaultMinInterval = time.Second
)

// Config is one Telegram channel: a bot posting to one chat.
type Config struct {
	ID string // the channel's id in the configuration, for messages
	// APIURL is the Bot API base: requests go to {APIURL}/bot{token}/{method}.
	// Default DefaultAPIURL.
	APIURL   string
	BotToken string
	Chat     string // "@name" or a numeric id such as -1001234567890
	// Silent sends without a notification sound.
	Silent bool
	// MessageThreadID posts into a forum topic when not zero.
	MessageThreadID int
	// Template overrides the embedded default text/template (see
	// TemplateData for what it is given).
	Template string
	// Timeout bounds each HTTP request. Default 30s.
	Timeout time.Duration
	// PerMinute and MinInterval pace the posts to the chat: at most
	// PerMinute in any minute and at least MinInterval apart, so at the
	// defaults (20, 1s) one post every 3 s. Zero means the default; a
	// negative value lifts that bound (for benchmarks against a local
	// server).
	PerMinute   int
	MinInterval time.Duration
	// Transport carries the requests; nil means http.DefaultTransport.
	// Whether a request was written is learnt from net/http/httptrace: a
	// RoundTripper that neither is nor wraps an *http.Transport (with the
	// request's context) makes every failed send uncertain.
	Transport http.RoundTripper
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// withDefaults returns cfg with its defaults filled in, or every problem
// found, each naming its setting.
func (cfg Config) withDefaults() (Config, error) {
	var errs []error
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	cfg.APIURL = strings.TrimRight(cfg.APIURL, "/")
	if u, err := url.Parse(cfg.APIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("api_url %q: want an http or https URL", cfg.APIURL))
	}
	// An empty token is allowed: dry runs and previews render without one,
	// and Send and Check refuse to call the API without it.
	switch {
	case strings.ContainsAny(cfg.BotToken, "/?#% \t\r\n"):
		// It becomes part of the URL path.
		errs = append(errs, errors.New("bot_token: contains characters a Telegram token never has"))
	}
	if err := checkChat(cfg.Chat); err != nil {
		errs = append(errs, err)
	}
	if cfg.MessageThreadID < 0 {
		errs = append(errs, fmt.Errorf("message_thread_id %d: must not be negative", cfg.MessageThreadID))
	}
	if cfg.Timeout < 0 {
		errs = append(errs, fmt.Errorf("timeout %v: must not be negative", cfg.Timeout))
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.PerMinute == 0 {
		cfg.PerMinute = DefaultPerMinute
	}
	if cfg.MinInterval == 0 {
		cfg.MinInterval = DefaultMinInterval
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(errs) > 0 {
		return cfg, fmt.Errorf("telegram channel %q: %w", cfg.ID, errors.Join(errs...))
	}
	return cfg, nil
}

func checkChat(chat string) error {
	if chat == "" {
		return errors.New("chat: required")
	}
	if name, ok := strings.CutPrefix(chat, "@"); ok {
		if name == "" || strings.IndexFunc(name, func(r rune) bool {
			return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
		}) >= 0 {
			return fmt.Errorf("chat %q: a username has only letters, digits and _", chat)
		}
		return nil
	}
	if _, err := strconv.ParseInt(chat, 10, 64); err != nil {
		return fmt.Errorf("chat %q: want @name or a numeric id such as -1001234567890", chat)
	}
	return nil
}

// interval is the least time between two posts that honours both bounds:
// one token every interval, with a bucket of one, never allows more than
// PerMinute in a minute.
func (cfg Config) interval() time.Duration {
	var d time.Duration
	if cfg.PerMinute > 0 {
		d = time.Minute / time.Duration(cfg.PerMinute)
	}
	if cfg.MinInterval > d {
		d = cfg.MinInterval
	}
	return d
}
