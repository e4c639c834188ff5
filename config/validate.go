package config

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template/parse"
	"time"

	"github.com/syndicate-daemon/syndicate/schema"
)

// Validate checks the configuration as a whole and compiles what it needs
// (time zone, filter expressions). It returns Problems, in file order when
// the configuration came from Parse.
func (c *Config) Validate() error {
	return c.meta.positions.Finish(nil, c.validate())
}

// checker adds the checks of syndicate's own keys to the schema's.
type checker struct{ *schema.Checker }

func (c *Config) validate() []Problem {
	if c.meta == nil {
		c.meta = &meta{}
	}
	v := checker{schema.NewChecker()}

	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		v.Add("timezone", "unknown time zone %q", c.Timezone)
		loc = time.UTC
	}
	c.meta.loc = loc
	v.store(c.Store)
	v.listen(c.Listen)
	if c.PublicURL != "" {
		v.URL("public_url", c.PublicURL)
		if u, err := url.Parse(c.PublicURL); err == nil && (u.RawQuery != "" || u.Fragment != "") {
			v.Add("public_url", "must not have a query or a fragment (got %q)", c.PublicURL)
		}
	}
	if hasControl(c.UserAgent) {
		v.Add("user_agent", "must not hold control characters")
	}
	v.subscribe(c.Subscribe)
	v.AtLeast("max_concurrent_polls", int64(c.MaxConcurrentPolls), 0)
	if c.Dashboard.SessionLifetime != 0 { // 0: a Config built in code, the default
		v.Positive("dashboard.session_lifetime", c.Dashboard.SessionLifetime)
	}

	channels := map[string]*Channel{}
	for i := range c.Channels {
		if id := c.Channels[i].ID; id != "" {
			if _, dup := channels[id]; !dup {
				channels[id] = &c.Channels[i]
			}
		}
	}

	if len(c.Feeds) == 0 {
		v.Add("feeds", "required (at least one feed)")
	}
	feedAt := map[string]int{}
	for i := range c.Feeds {
		v.feed(&c.Feeds[i], fmt.Sprintf("feeds[%d]", i), loc, channels, feedAt, i)
	}

	if len(c.Channels) == 0 {
		v.Add("channels", "required (at least one channel)")
	}
	channelAt := map[string]int{}
	hasEmail := false
	for i := range c.Channels {
		ch := &c.Channels[i]
		v.channel(ch, fmt.Sprintf("channels[%d]", i), loc, c.meta.types, channelAt, i)
		hasEmail = hasEmail || ch.Type == TypeEmail
	}
	if hasEmail && c.PublicURL == "" {
		v.Add("public_url", "required when an email channel is configured (links in digests point to it)")
	}
	return v.Problems()
}

func (v checker) store(s string) {
	switch {
	case s == "":
		v.Add("store", "required")
	case strings.HasPrefix(s, "sqlite:"):
		path := strings.TrimPrefix(s, "sqlite:")
		if path == "" {
			v.Add("store", "sqlite: needs a file path, such as \"sqlite:syndicate.db\"")
		} else if strings.HasPrefix(path, "//") {
			v.Add("store", "write sqlite:PATH with the path as is, such as \"sqlite:/var/lib/syndicate/syndicate.db\" (got %q)", s)
		}
	case strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://"):
		// The URL may hold a password: never quote it.
		if _, err := url.Parse(s); err != nil {
			v.Add("store", "not a valid PostgreSQL URL")
		}
	case strings.Contains(s, "@"):
		v.Add("store", "must be sqlite:PATH or a postgres:// URL")
	default:
		v.Add("store", "must be sqlite:PATH or a postgres:// URL (got %q)", s)
	}
}

func (v checker) listen(s string) {
	if !v.Required("listen", s) {
		return
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		v.Add("listen", "must be host:port, such as \"127.0.0.1:8080\" or \":8080\" (got %q)", s)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		v.Add("listen", "the port must be a number from 0 to 65535 (got %q)", s)
	}
}

// feedURL accepts what url does, and names the local file alternative.
func (v checker) feedURL(path, s string) {
	u, err := url.Parse(s)
	if err == nil && u.Scheme == "file" {
		v.Add(path, "must be an absolute http or https URL, or a local file (a path or file:///…; a file: URL names no other host) (got %q)", s)
	} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.Add(path, "must be an absolute http or https URL, or a local file (a path or file:///…) (got %q)", s)
	}
}

func (v checker) id(path, s string) {
	if v.Required(path, s) && !isID(s) {
		v.Add(path, "must match [a-z0-9][a-z0-9_-]* (got %q)", s)
	}
}

func (v checker) schedule(path, spec string, loc *time.Location) {
	if !v.Required(path, spec) {
		return
	}
	if _, err := ParseSchedule(spec, loc); err != nil {
		v.Add(path, "%v", err)
	}
}

func (v checker) template(path, src string) {
	if err := checkTemplate(src); err != nil {
		v.Add(path, "invalid template: %v", err)
	}
}

func (v checker) feed(f *Feed, p string, loc *time.Location, channels map[string]*Channel, seen map[string]int, i int) {
	v.id(p+".id", f.ID)
	if j, dup := seen[f.ID]; dup && f.ID != "" {
		v.Add(p+".id", "duplicate id %q (also feeds[%d])", f.ID, j)
	} else {
		seen[f.ID] = i
	}
	if v.Required(p+".url", f.URL) {
		if u, err := url.Parse(f.URL); err != nil || u.Scheme != "file" || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
			v.feedURL(p+".url", f.URL)
		}
	}
	if f.Language != "" && !isLanguage(f.Language) {
		v.Add(p+".language", "must be a language tag such as en, es or pt-BR (got %q)", f.Language)
	}
	v.schedule(p+".schedule", f.Schedule, loc)
	v.AtLeast(p+".backfill", int64(f.Backfill), 0)
	v.AtLeast(p+".flood_limit", int64(f.FloodLimit), 1)
	if len(f.To) == 0 {
		v.Add(p+".to", "required (at least one channel id)")
	}
	to := map[string]int{}
	for j, id := range f.To {
		tp := fmt.Sprintf("%s.to[%d]", p, j)
		if !v.Required(tp, id) {
			continue
		}
		if k, dup := to[id]; dup {
			v.Add(tp, "duplicate channel %q (also %s.to[%d])", id, p, k)
			continue
		}
		to[id] = j
		if channels[id] == nil {
			v.Add(tp, "unknown channel %q", id)
		}
	}
	for _, list := range []struct {
		key   string
		names []string
	}{{"include_categories", f.Filter.IncludeCategories}, {"exclude_categories", f.Filter.ExcludeCategories}} {
		for j, name := range list.names {
			if strings.TrimSpace(name) == "" {
				v.Add(fmt.Sprintf("%s.filter.%s[%d]", p, list.key, j), "must not be empty")
			}
		}
	}
	f.Filter.re = nil
	if f.Filter.Match != "" {
		re, err := regexp.Compile(f.Filter.Match)
		if err != nil {
			v.Add(p+".filter.match", "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
		f.Filter.re = re
	}
	v.Positive(p+".timeout", f.Timeout)
	v.AtLeast(p+".max_bytes", f.MaxBytes, 1)
	v.AtLeast(p+".max_items", int64(f.MaxItems), 1)
}

// orList writes names as "a, b or c".
func orList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// channel checks one channel; typeNames are the types besides email, nil
// when the configuration was built in code.
func (v checker) channel(ch *Channel, p string, loc *time.Location, typeNames []string, seen map[string]int, i int) {
	v.id(p+".id", ch.ID)
	if j, dup := seen[ch.ID]; dup && ch.ID != "" {
		v.Add(p+".id", "duplicate id %q (also channels[%d])", ch.ID, j)
	} else {
		seen[ch.ID] = i
	}
	types := append(slices.Clone(typeNames), TypeEmail)
	switch {
	case ch.Type == "":
		v.Add(p+".type", "required (%s)", orList(types))
	case ch.Type != TypeEmail && ch.Settings == nil && typeNames != nil && !slices.Contains(typeNames, ch.Type):
		v.OneOf(p+".type", ch.Type, types...)
	}
	if ch.Template != "" {
		v.template(p+".template", ch.Template)
	}
	switch {
	case ch.OnUpdate == OnUpdateEdit && ch.Type == TypeEmail:
		v.Add(p+".on_update", "an email digest cannot be edited once sent: must be ignore (got %q)", ch.OnUpdate)
	case ch.OnUpdate == OnUpdateEdit && ch.Settings != nil && !ch.Settings.Edits():
		v.Add(p+".on_update", "a %s channel cannot edit its posts: must be ignore (got %q)", ch.Type, ch.OnUpdate)
	default:
		v.OneOf(p+".on_update", ch.OnUpdate, OnUpdateIgnore, OnUpdateEdit)
	}
	v.Positive(p+".timeout", ch.Timeout)
	v.AtLeast(p+".retry.max_attempts", int64(ch.Retry.MaxAttempts), 1)
	v.Positive(p+".retry.min_backoff", ch.Retry.MinBackoff)
	if ch.Retry.MaxBackoff < ch.Retry.MinBackoff {
		v.Add(p+".retry.max_backoff", "must not be less than min_backoff (%s)", ch.Retry.MinBackoff)
	}

	if ch.Settings != nil {
		ch.Settings.Validate(v.At(p))
		return
	}
	if ch.Type != TypeEmail {
		if ch.Type != "" && (typeNames == nil || slices.Contains(typeNames, ch.Type)) {
			v.Add(p, "the %s settings are missing", ch.Type)
		}
		return
	}
	if ch.Email == nil {
		v.Add(p, "the email settings are missing")
		return
	}
	e := ch.Email
	if v.Required(p+".list", e.List) && !isID(e.List) {
		v.Add(p+".list", "must match [a-z0-9][a-z0-9_-]* (got %q)", e.List)
	}
	v.schedule(p+".schedule", e.Schedule, loc)
	if v.Required(p+".from", e.From) {
		if _, err := mail.ParseAddress(e.From); err != nil {
			v.Add(p+".from", "must be an address such as \"News <news@example.org>\" (got %q): %v", e.From, err)
		}
	}
	if v.Required(p+".subject", e.Subject) {
		v.template(p+".subject", e.Subject)
	}
	sp := p + ".smtp"
	v.Required(sp+".host", e.SMTP.Host)
	if e.SMTP.Port == 0 {
		v.Add(sp+".port", "required (587 for starttls, 465 for tls)")
	} else if e.SMTP.Port < 1 || e.SMTP.Port > 65535 {
		v.Add(sp+".port", "must be from 1 to 65535 (got %d)", e.SMTP.Port)
	}
	if e.SMTP.TLS == "" {
		v.Add(sp+".tls", "required (starttls, tls or none)")
	} else {
		v.OneOf(sp+".tls", e.SMTP.TLS, "starttls", "tls", "none")
	}
	switch {
	case e.SMTP.Username != "" && e.SMTP.Password == "":
		v.Add(sp+".password", "required when username is set")
	case e.SMTP.Username == "" && e.SMTP.Password != "":
		v.Add(sp+".username", "required when password is set")
	}
	if e.SMTP.Connections < 1 || e.SMTP.Connections > 64 {
		v.Add(sp+".connections", "must be from 1 to 64 (got %d)", e.SMTP.Connections)
	}
	v.AtLeast(sp+".rate", int64(e.SMTP.Rate), 0)
	if e.Language != "" && !regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`).MatchString(e.Language) {
		v.Add(p+".language", "must be a language code such as en or es (got %q)", e.Language)
	}
	if k := e.DKIM; k != nil {
		v.Required(p+".dkim.domain", k.Domain)
		v.Required(p+".dkim.selector", k.Selector)
		v.Required(p+".dkim.key_file", k.KeyFile)
	}
}

// checkTemplate parses src as text/template would, without checking that
// the functions it calls exist: each channel brings its own.
func checkTemplate(src string) error {
	t := parse.New("t")
	t.Mode = parse.SkipFuncCheck | parse.ParseComments
	_, err := t.Parse(src, "", "", map[string]*parse.Tree{})
	if err == nil {
		return nil
	}
	// "template: t:3: unexpected …" → "line 3: unexpected …"
	msg := strings.TrimPrefix(err.Error(), "template: t:")
	if line, rest, ok := strings.Cut(msg, ": "); ok {
		if _, err := strconv.Atoi(line); err == nil {
			return fmt.Errorf("line %s: %s", line, rest)
		}
	}
	return fmt.Errorf("%s", msg)
}

// isID reports whether s matches [a-z0-9][a-z0-9_-]*.
func isID(s string) bool {
	for i, r := range s {
		ok := ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') || (i > 0 && (r == '_' || r == '-'))
		if !ok {
			return false
		}
	}
	return s != ""
}

// isLanguage accepts BCP 47-like tags: en, pt-BR, zh-Hant-TW.
func isLanguage(s string) bool {
	for i, part := range strings.Split(s, "-") {
		lo, hi := 2, 8
		if i == 0 {
			hi = 3
		}
		if len(part) < lo || len(part) > hi {
			return false
		}
		for _, r := range part {
			letter := ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
			if !letter && (i == 0 || r < '0' || r > '9') {
				return false
			}
		}
	}
	return true
}
