// Package config reads syndicate's YAML configuration: the schema, its
// defaults, strict decoding (unknown keys are errors), secrets given inline,
// as ${ENV_VAR} or in files, and validation whose messages name the key.
package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/schema"
)

// TypeEmail is the type of a digest channel, the one type config knows
// itself: lists, schedules and the subscription form depend on it. The
// types that post article by article come in Options.Channels.
const TypeEmail = "email"

// Values of a channel's on_update.
const (
	OnUpdateIgnore = "ignore"
	OnUpdateEdit   = "edit"
)

// Config is a whole configuration file, decoded, with defaults applied.
type Config struct {
	Store      string // "sqlite:PATH" or "postgres://…"; see StoreDSN
	Listen     string // host:port
	PublicURL  string // absolute http(s) URL without a trailing slash; "" when not set
	Timezone   string // an IANA zone name; see Location
	AdminToken Secret // empty: the admin endpoints are off
	Secret     Secret // signs links in emails; empty: the daemon keeps a generated one
	UserAgent  string // appended to the daemon's own User-Agent
	// AllowPrivateNetworks lets what feed content names (images, WebSub
	// hubs, redirects away from a feed's origin) be fetched from loopback,
	// private, link-local and shared addresses; false refuses it.
	AllowPrivateNetworks bool
	// MaxConcurrentPolls bounds the feeds fetched at once (0: four a
	// CPU, at most 64).
	MaxConcurrentPolls int
	// Demo marks a demonstration configuration (deploy/demo.yaml): it only
	// runs as a dry run, which prints its admin_token at start.
	Demo     bool
	Feeds    []Feed
	Channels []Channel

	// Subscribe is the subscribe: block, the public form's rate limits.
	Subscribe Subscribe
	// Dashboard is the dashboard: block.
	Dashboard Dashboard

	// Warnings are notes that do not stop the daemon, such as a secret left
	// empty under Options.MissingSecretsOK.
	Warnings []string

	meta *meta
}

// Feed is one entry of feeds.
type Feed struct {
	ID         string
	URL        string
	Language   string // "" when not set
	Schedule   string // cron spec, see ParseSchedule
	Backfill   int
	FloodLimit int
	To         []string // channel ids
	Filter     Filter
	Timeout    Duration // per fetch
	MaxBytes   int64
	// MaxItems is how many of a document's items a poll reads: the
	// newest by date (else the first), the rest skipped with a warning.
	MaxItems int
	Review   bool // new deliveries wait for an editor's approval
}

// Dashboard holds the editor's dashboard settings.
type Dashboard struct {
	// SessionLifetime is how long a sign-in lasts (default 12 h).
	SessionLifetime Duration
}

// Filter selects which of a feed's articles are delivered.
type Filter struct {
	IncludeCategories []string
	ExcludeCategories []string
	Match             string // regular expression on the title; "" matches all

	re *regexp.Regexp
}

// MatchRegexp returns Match compiled, or nil when Match is empty or the
// configuration has not been validated.
func (f Filter) MatchRegexp() *regexp.Regexp { return f.re }

// Channel is one entry of channels: the keys every channel has, and
// either Email (a digest) or Settings (a type of Options.Channels).
type Channel struct {
	ID       string
	Type     string // TypeEmail or the Name of one of Options.Channels
	Template string // text/template source; "" uses the channel's own
	OnUpdate string // OnUpdateIgnore or OnUpdateEdit
	Timeout  Duration
	Retry    Retry
	Review   bool // new deliveries wait for an editor's approval

	Settings ChannelSettings // the type's own keys; nil for email
	Email    *Email
}

// Retry is a channel's retry budget.
type Retry struct {
	MaxAttempts int
	MinBackoff  Duration
	MaxBackoff  Duration
}

// Email holds the keys of an email (digest) channel.
type Email struct {
	List     string
	Schedule string // cron spec, see ParseSchedule
	From     string
	Subject  string // text/template source
	// Language of the digest's own words and dates ("en", "es"); "" means
	// the list's name when it is a language, else the routed feeds' one.
	Language string
	SMTP     SMTP
	DKIM     *DKIM // nil: messages are not signed
}

// SMTP is how an email channel reaches its mail server.
type SMTP struct {
	Host        string
	Port        int
	TLS         string // starttls, tls or none
	Username    string
	Password    Secret
	Connections int // SMTP connections used side by side
	Rate        int // messages per second over all connections; 0: no cap
}

// DKIM signs an email channel's messages.
type DKIM struct {
	Domain   string
	Selector string
	// KeyFile is the path of the private key in PEM: RSA (PKCS#1 or
	// PKCS#8) or Ed25519 (PKCS#8); it is read when the channel is built.
	KeyFile string
}

// Options tunes how a configuration is read.
type Options struct {
	// LookupEnv resolves ${VAR} in secret fields; os.LookupEnv in production.
	// When nil, no variable is set.
	LookupEnv func(string) (string, bool)
	// MissingSecretsOK: dry-run and preview need no credentials: an unset ${VAR}
	// or unreadable *_file leaves the secret empty and adds a Warning instead of a Problem.
	MissingSecretsOK bool
	// Channels are the types of channel that post article by article,
	// besides email; a type: that is none of them is refused.
	Channels []ChannelType
	// BaseDir is where a feed given as a relative file path is looked for:
	// Load sets it to the directory of the configuration file; empty means
	// the working directory.
	BaseDir string
}

// meta is what decoding learnt about the file and validation needs.
type meta struct {
	positions *schema.Positions // nil for a Config built in code
	types     []string          // the names of Options.Channels
	loc       *time.Location
}

// Load reads the file at path and parses it. A file that cannot be read is a
// plain error; an invalid one is Problems.
func Load(path string, opt Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	if opt.BaseDir == "" {
		opt.BaseDir = filepath.Dir(path)
	}
	return Parse(data, opt)
}

// Parse decodes data strictly, expands secrets, applies defaults and
// validates. Every problem found is returned at once, as Problems.
func Parse(data []byte, opt Options) (*Config, error) {
	root, probs := schema.ParseYAML(data)
	if probs != nil {
		return nil, probs
	}
	d := &decoder{Decoder: &schema.Decoder{LookupEnv: opt.LookupEnv, MissingSecretsOK: opt.MissingSecretsOK}, opt: opt}
	cfg := d.config(root)
	if d.Exhausted() {
		return nil, Problems{{Msg: fmt.Sprintf("the document is too large once its aliases are expanded (over %d nodes)", schema.MaxVisits)}}
	}
	if d.stop {
		return nil, Problems(d.Problems())
	}
	cfg.meta = &meta{positions: d.Positions(), types: typeNames(opt.Channels)}
	d.localFeeds(cfg)
	if err := d.Finish(cfg.validate()); err != nil {
		return nil, err
	}
	cfg.Warnings = append(d.Warnings(), unusedChannels(cfg)...)
	return cfg, nil
}

// Location returns the time zone of Timezone (UTC when it is empty or invalid).
func (c *Config) Location() *time.Location {
	if c.meta != nil && c.meta.loc != nil {
		return c.meta.loc
	}
	if loc, err := time.LoadLocation(c.Timezone); err == nil {
		return loc
	}
	return time.UTC
}

// StoreDSN splits Store into a driver, "sqlite" or "postgres", and what that
// driver opens: the SQLite file path as written, or the PostgreSQL URL.
func (c *Config) StoreDSN() (driver, dsn string) {
	if path, ok := strings.CutPrefix(c.Store, "sqlite:"); ok {
		return "sqlite", path
	}
	return "postgres", c.Store
}

// Feed returns the feed with that id.
func (c *Config) Feed(id string) (*Feed, bool) {
	for i := range c.Feeds {
		if c.Feeds[i].ID == id {
			return &c.Feeds[i], true
		}
	}
	return nil, false
}

// Channel returns the channel with that id.
func (c *Config) Channel(id string) (*Channel, bool) {
	for i := range c.Channels {
		if c.Channels[i].ID == id {
			return &c.Channels[i], true
		}
	}
	return nil, false
}

func unusedChannels(c *Config) []string {
	used := map[string]bool{}
	for _, f := range c.Feeds {
		for _, id := range f.To {
			used[id] = true
		}
	}
	var notes []string
	for i, ch := range c.Channels {
		if !used[ch.ID] {
			notes = append(notes, fmt.Sprintf("channels[%d]: no feed sends to %q", i, ch.ID))
		}
	}
	return notes
}

func typeNames(types []ChannelType) []string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = t.Name
	}
	return names
}
