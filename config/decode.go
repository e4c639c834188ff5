package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/syndicate-daemon/syndicate/schema"
)

// decoder reads syndicate's own keys with the schema decoder, which
// records every problem under its key path.
type decoder struct {
	*schema.Decoder
	opt  Options
	stop bool // the root is not a mapping: nothing else is worth checking
}

func (d *decoder) config(root *yaml.Node) *Config {
	c := &Config{Store: "sqlite:syndicate.db", Listen: "127.0.0.1:8080", Timezone: "UTC",
		Dashboard: Dashboard{SessionLifetime: Duration(12 * time.Hour)}}
	root = d.Resolve(root)
	if root == nil || schema.IsNull(root) {
		return c
	}
	if root.Kind != yaml.MappingNode {
		d.Fail("", root, "the configuration must be a mapping of keys such as feeds: and channels: (got %s)", schema.Describe(root))
		d.stop = true
		return c
	}
	o := d.Object("", root)
	d.Str(o, "store", &c.Store)
	d.Str(o, "listen", &c.Listen)
	d.BaseURL(o, "public_url", &c.PublicURL)
	d.Str(o, "timezone", &c.Timezone)
	d.Secret(o, "admin_token", &c.AdminToken)
	d.Secret(o, "secret", &c.Secret)
	for _, s := range []struct {
		key   string
		value Secret
	}{{"admin_token", c.AdminToken}, {"secret", c.Secret}} {
		if n := len(s.value.Value()); n > 0 && n < 16 {
			d.Warn(s.key, "shorter than 16 characters, so easy to guess")
		}
	}
	d.Str(o, "user_agent", &c.UserAgent)
	d.Bool(o, "allow_private_networks", &c.AllowPrivateNetworks)
	d.Bool(o, "demo", &c.Demo)
	d.Int(o, "max_concurrent_polls", &c.MaxConcurrentPolls)
	c.Subscribe = d.subscribe(o)
	if do := d.Sub(o, "dashboard"); do != nil {
		d.Duration(do, "session_lifetime", &c.Dashboard.SessionLifetime)
		d.UnknownKeys(do, nil)
	}
	d.List(o, "feeds", func(path string, n *yaml.Node) {
		c.Feeds = append(c.Feeds, d.feed(path, n))
	})
	d.List(o, "channels", func(path string, n *yaml.Node) {
		c.Channels = append(c.Channels, d.channel(path, n))
	})
	for _, k := range o.Keys() {
		if strings.HasPrefix(k, "x-") {
			o.Allow(k) // a place for YAML anchors
		}
	}
	d.UnknownKeys(o, nil)
	return c
}

func (d *decoder) feed(path string, n *yaml.Node) Feed {
	f := Feed{
		Schedule:   "*/10 * * * *",
		FloodLimit: 10,
		Timeout:    Duration(30 * time.Second),
		MaxBytes:   10 << 20,
		MaxItems:   500,
	}
	o := d.Object(path, n)
	if o == nil {
		return f
	}
	d.Str(o, "id", &f.ID)
	d.Str(o, "url", &f.URL)
	d.Str(o, "language", &f.Language)
	d.Str(o, "schedule", &f.Schedule)
	d.Int(o, "backfill", &f.Backfill)
	d.Int(o, "flood_limit", &f.FloodLimit)
	d.StrList(o, "to", &f.To)
	if fo := d.Sub(o, "filter"); fo != nil {
		d.StrList(fo, "include_categories", &f.Filter.IncludeCategories)
		d.StrList(fo, "exclude_categories", &f.Filter.ExcludeCategories)
		d.Str(fo, "match", &f.Filter.Match)
		d.UnknownKeys(fo, nil)
	}
	d.Duration(o, "timeout", &f.Timeout)
	d.Int64(o, "max_bytes", &f.MaxBytes)
	d.Int(o, "max_items", &f.MaxItems)
	d.Bool(o, "review", &f.Review)
	d.UnknownKeys(o, nil)
	return f
}

// emailKeys lists the keys of an email channel.
var emailKeys = []string{"list", "schedule", "from", "subject", "smtp", "language", "dkim"}

// channelType returns the type named name among Options.Channels.
func (d *decoder) channelType(name string) (ChannelType, bool) {
	for _, t := range d.opt.Channels {
		if t.Name == name {
			return t, true
		}
	}
	return ChannelType{}, false
}

// typeKeys maps each channel type, email included, to its own keys.
func (d *decoder) typeKeys() map[string][]string {
	keys := map[string][]string{TypeEmail: emailKeys}
	for _, t := range d.opt.Channels {
		keys[t.Name] = t.keys()
	}
	return keys
}

func (d *decoder) channel(path string, n *yaml.Node) Channel {
	ch := Channel{
		OnUpdate: OnUpdateIgnore,
		Timeout:  Duration(30 * time.Second),
		Retry: Retry{
			MaxAttempts: 10,
			MinBackoff:  Duration(10 * time.Second),
			MaxBackoff:  Duration(time.Hour),
		},
	}
	o := d.Object(path, n)
	if o == nil {
		return ch
	}
	d.Str(o, "id", &ch.ID)
	d.Str(o, "type", &ch.Type)
	d.Str(o, "template", &ch.Template)
	d.Str(o, "on_update", &ch.OnUpdate)
	d.Duration(o, "timeout", &ch.Timeout)
	d.Bool(o, "review", &ch.Review)
	if ro := d.Sub(o, "retry"); ro != nil {
		d.Int(ro, "max_attempts", &ch.Retry.MaxAttempts)
		d.Duration(ro, "min_backoff", &ch.Retry.MinBackoff)
		d.Duration(ro, "max_backoff", &ch.Retry.MaxBackoff)
		d.UnknownKeys(ro, nil)
	}
	typeKeys := d.typeKeys()
	if t, ok := d.channelType(ch.Type); ok {
		ch.Settings = t.Decode(d.Decoder, o)
	} else if ch.Type == TypeEmail {
		ch.Email = d.email(o)
	} else {
		// Without a valid type, keys of any type are let through: the type
		// problem is the one to fix first.
		for _, keys := range typeKeys {
			o.Allow(keys...)
		}
	}
	d.UnknownKeys(o, func(key string) string {
		for typ, keys := range typeKeys {
			if typ != ch.Type && slices.Contains(keys, key) {
				article := "a"
				if ch.Type == TypeEmail {
					article = "an"
				}
				return fmt.Sprintf("not a key of %s %s channel", article, ch.Type)
			}
		}
		return ""
	})
	return ch
}

func (d *decoder) email(o *schema.Object) *Email {
	e := &Email{Subject: "{{.Title}} — digest", SMTP: SMTP{Connections: 4}}
	d.Str(o, "list", &e.List)
	d.Str(o, "schedule", &e.Schedule)
	d.Str(o, "from", &e.From)
	d.Str(o, "subject", &e.Subject)
	d.Str(o, "language", &e.Language)
	if do := d.Sub(o, "dkim"); do != nil {
		e.DKIM = &DKIM{}
		d.Str(do, "domain", &e.DKIM.Domain)
		d.Str(do, "selector", &e.DKIM.Selector)
		d.Str(do, "key_file", &e.DKIM.KeyFile)
		d.UnknownKeys(do, nil)
	}
	if so := d.Sub(o, "smtp"); so != nil {
		d.Str(so, "host", &e.SMTP.Host)
		d.Int(so, "port", &e.SMTP.Port)
		d.Str(so, "tls", &e.SMTP.TLS)
		d.Str(so, "username", &e.SMTP.Username)
		d.Secret(so, "password", &e.SMTP.Password)
		d.Int(so, "connections", &e.SMTP.Connections)
		d.Int(so, "rate", &e.SMTP.Rate)
		d.UnknownKeys(so, nil)
		if e.SMTP.TLS == "none" && e.SMTP.Password != "" && !isLoopback(e.SMTP.Host) {
			d.Warn(so.Path()+".tls", "none: the password goes to %s unencrypted", e.SMTP.Host)
		}
	}
	return e
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}
