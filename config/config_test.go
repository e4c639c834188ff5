package config

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zoneinfo

	"github.com/syndicate-daemon/syndicate/channels/mastodon"
	"github.com/syndicate-daemon/syndicate/channels/telegram"

	"gopkg.in/yaml.v3"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// Secret values used throughout: none may ever show up in output or errors.
const (
	adminToken    = "admin-token-0123456789"
	mastodonToken = "mastodon-token-abcdefgh"
	telegramToken = "123456:telegram-token-ijklmnop"
	smtpPassword  = "smtp-password-qrstuvwx"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func designEnv() Options {
	return Options{Channels: testTypes, LookupEnv: env(map[string]string{
		"SYNDICATE_ADMIN_TOKEN": adminToken,
		"MASTODON_EN_TOKEN":     mastodonToken,
		"TELEGRAM_BOT_TOKEN":    telegramToken,
		"SMTP_PASSWORD":         smtpPassword,
	})}
}

func defaultRetry() Retry {
	return Retry{MaxAttempts: 10, MinBackoff: Duration(10 * time.Second), MaxBackoff: Duration(time.Hour)}
}

func TestDesignExampleLoads(t *testing.T) {
	cfg, err := Load("testdata/design.yaml", designEnv())
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := &Config{
		Store:      "sqlite:/var/lib/syndicate/syndicate.db",
		Listen:     "127.0.0.1:8080",
		PublicURL:  "https://news.example.org",
		Timezone:   "Europe/Madrid",
		AdminToken: adminToken,
		Subscribe:  defaultSubscribe(),
		Dashboard:  Dashboard{SessionLifetime: Duration(12 * time.Hour)},
		Feeds: []Feed{{
			ID:         "emancipation-en",
			URL:        "https://en.communia.blog/feed",
			Language:   "en",
			Schedule:   "*/5 * * * *",
			FloodLimit: 10,
			To:         []string{"mastodon-en", "telegram-en", "digest-en"},
			Filter:     Filter{ExcludeCategories: []string{"Statements"}},
			Timeout:    Duration(30 * time.Second),
			MaxBytes:   10 << 20,
			MaxItems:   500,
		}},
		Channels: []Channel{
			{
				ID: "mastodon-en", Type: "mastodon", OnUpdate: OnUpdateIgnore,
				Timeout: Duration(30 * time.Second), Retry: defaultRetry(),
				Settings: func() *mastodon.Settings {
					s := mastodon.DefaultSettings()
					s.Server, s.AccessToken = "https://mastodon.social", mastodonToken
					return &s
				}(),
			},
			{
				ID: "telegram-en", Type: "telegram", OnUpdate: OnUpdateIgnore,
				Timeout: Duration(30 * time.Second), Retry: defaultRetry(),
				Settings: func() *telegram.Settings {
					s := telegram.DefaultSettings()
					s.BotToken, s.Chat = telegramToken, "@emancipation_en"
					return &s
				}(),
			},
			{
				ID: "digest-en", Type: TypeEmail, OnUpdate: OnUpdateIgnore,
				Timeout: Duration(30 * time.Second), Retry: defaultRetry(),
				Email: &Email{
					List: "en", Schedule: "0 8 * * MON",
					From:    "Emancipation <news@example.org>",
					Subject: "Emancipation — this week",
					SMTP: SMTP{
						Host: "smtp.example.org", Port: 587, TLS: "starttls",
						Username: "news", Password: smtpPassword, Connections: 4,
					},
				},
			},
		},
	}
	if got := cfg.Location().String(); got != "Europe/Madrid" {
		t.Errorf("Location() = %s, want Europe/Madrid", got)
	}
	if driver, dsn := cfg.StoreDSN(); driver != "sqlite" || dsn != "/var/lib/syndicate/syndicate.db" {
		t.Errorf("StoreDSN() = %q, %q", driver, dsn)
	}
	cfg.meta = nil
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("decoded config differs\n got: %s\nwant: %s", dump(t, cfg), dump(t, want))
	}
}

// dump shows a config with its secrets, for test failure messages only.
func dump(t *testing.T, c *Config) string {
	t.Helper()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const minimal = `
feeds:
  - id: blog
    url: https://example.org/feed
    to: [toot]
channels:
  - id: toot
    type: mastodon
    server: https://mastodon.example
    access_token: token
`

func TestDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store != "sqlite:syndicate.db" || cfg.Listen != "127.0.0.1:8080" || cfg.Timezone != "UTC" ||
		cfg.PublicURL != "" || cfg.AdminToken != "" || cfg.Secret != "" || cfg.UserAgent != "" {
		t.Errorf("top-level defaults: %+v", cfg)
	}
	if cfg.Location() != time.UTC {
		t.Errorf("Location() = %v, want UTC", cfg.Location())
	}
	f := cfg.Feeds[0]
	if f.Schedule != "*/10 * * * *" || f.Backfill != 0 || f.FloodLimit != 10 ||
		f.Timeout.Std() != 30*time.Second || f.MaxBytes != 10485760 || f.MaxItems != 500 || f.Language != "" || f.Filter.MatchRegexp() != nil {
		t.Errorf("feed defaults: %+v", f)
	}
	ch := cfg.Channels[0]
	if ch.OnUpdate != "ignore" || ch.Timeout.Std() != 30*time.Second || ch.Retry != defaultRetry() || ch.Template != "" {
		t.Errorf("channel defaults: %+v", ch)
	}
	if m := mastodonOf(t, ch); m.Visibility != "public" || m.MaxCharacters != 0 || m.MaxHashtags != 4 {
		t.Errorf("mastodon defaults: %+v", m)
	}
	if ch.Email != nil {
		t.Errorf("only the mastodon settings must be set: %+v", ch)
	}

	cfg, err = Parse([]byte(`
public_url: https://news.example.org/
feeds: [{id: f, url: "https://example.org/feed", to: [tg, mail]}]
channels:
  - {id: tg, type: telegram, bot_token: t, chat: "-1001234567890"}
  - id: mail
    type: email
    list: en
    schedule: "@weekly"
    from: news@example.org
    smtp: {host: localhost, port: 1025, tls: none}
`), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.PublicURL != "https://news.example.org" {
		t.Errorf("PublicURL = %q, want the trailing slash removed", cfg.PublicURL)
	}
	want := telegram.DefaultSettings()
	want.BotToken, want.Chat = "t", "-1001234567890"
	if got := telegramOf(t, cfg.Channels[0]); !reflect.DeepEqual(*got, want) {
		t.Errorf("telegram defaults: %+v", *got)
	}
	if e := cfg.Channels[1].Email; e.Subject != "{{.Title}} — digest" || e.SMTP.Username != "" {
		t.Errorf("email defaults: %+v", *e)
	}
}

// Each case is a whole file and the complete error it must produce.
func TestProblems(t *testing.T) {
	tests := []struct {
		name, yaml, want string
		opt              Options
	}{
		{
			name: "required chat",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [toot, tg]}]
channels:
  - {id: toot, type: mastodon, server: "https://m.example", access_token: x}
  - {id: tg, type: telegram, bot_token: x}
`,
			want: `channels[1].chat: required`,
		},
		{
			name: "bad cron",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    schedule: \"*/5 * *\"", 1),
			want: `feeds[0].schedule: invalid cron spec "*/5 * *": expected exactly 5 fields, found 3: [*/5 * *]`,
		},
		{
			name: "unknown channel",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot, telegram-xx]", 1),
			want: `feeds[0].to[1]: unknown channel "telegram-xx"`,
		},
		{
			name: "duplicate channel in to",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot, toot]", 1),
			want: `feeds[0].to[1]: duplicate channel "toot" (also feeds[0].to[0])`,
		},
		{
			name: "duplicate feed id",
			yaml: `
feeds:
  - {id: x, url: "https://example.org/a", to: [toot]}
  - {id: y, url: "https://example.org/b", to: [toot]}
  - {id: x, url: "https://example.org/c", to: [toot]}
channels:
  - {id: toot, type: mastodon, server: "https://m.example", access_token: x}
`,
			want: `feeds[2].id: duplicate id "x" (also feeds[0])`,
		},
		{
			name: "duplicate channel id",
			yaml: minimal + `
  - {id: toot, type: mastodon, server: "https://m.example", access_token: x}
`,
			want: `channels[1].id: duplicate id "toot" (also channels[0])`,
		},
		{
			name: "visibility",
			yaml: minimal + "    visibility: pubic\n",
			want: `channels[0].visibility: must be one of public, unlisted, private (got "pubic")`,
		},
		{
			name: "unknown key with suggestion",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    scheduel: \"@hourly\"", 1),
			want: `feeds[0].scheduel: unknown key (did you mean "schedule"?)`,
		},
		{
			name: "unknown key without suggestion",
			yaml: "defaults: {schedule: \"@hourly\"}\n" + minimal,
			want: `defaults: unknown key`,
		},
		{
			name: "unknown key, another spelling",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    floodLimit: 3", 1),
			want: `feeds[0].floodLimit: unknown key (did you mean "flood_limit"?)`,
		},
		{
			name: "unknown nested key",
			yaml: minimal + "    retry: {max_attempt: 3}\n",
			want: `channels[0].retry.max_attempt: unknown key (did you mean "max_attempts"?)`,
		},
		{
			name: "integer type",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    backfill: abc", 1),
			want: `feeds[0].backfill: must be an integer (got "abc")`,
		},
		{
			name: "list type",
			yaml: strings.Replace(minimal, "to: [toot]", "to: toot", 1),
			want: `feeds[0].to: must be a list (got "toot")`,
		},
		{
			name: "mapping type",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    filter: [a]", 1),
			want: `feeds[0].filter: must be a mapping (got a list)`,
		},
		{
			name: "bool type",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [tg]}]
channels: [{id: tg, type: telegram, bot_token: x, chat: "@channel", silent: yes}]
`,
			want: `channels[0].silent: must be true or false (got "yes")`,
		},
		{
			name: "duration type",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    timeout: 30", 1),
			want: `feeds[0].timeout: must be a duration like "30s" or "1h30m" (got "30")`,
		},
		{
			name: "negative duration",
			yaml: minimal + "    timeout: -5s\n",
			want: `channels[0].timeout: must not be negative (got -5s)`,
		},
		{
			name: "key of another type",
			yaml: minimal + "    chat: \"@channel\"\n",
			want: `channels[0].chat: not a key of a mastodon channel`,
		},
		{
			name: "key of another type, email",
			yaml: `
public_url: https://news.example.org
feeds: [{id: f, url: "https://example.org/feed", to: [mail]}]
channels:
  - id: mail
    type: email
    list: en
    schedule: "@daily"
    from: news@example.org
    smtp: {host: smtp.example.org, port: 465, tls: tls}
    visibility: public
`,
			want: `channels[0].visibility: not a key of an email channel`,
		},
		{
			name: "unknown type lets type keys through",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [x]}]
channels: [{id: x, type: matrix, server: "https://m.example", chat: "@channel", sever: y}]
`,
			want: "channels[0].type: must be one of mastodon, telegram, email (got \"matrix\")\n" +
				`channels[0].sever: unknown key (did you mean "server"?)`,
		},
		{
			name: "missing type",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [x]}]
channels: [{id: x}]
`,
			want: `channels[0].type: required (mastodon, telegram or email)`,
		},
		{
			name: "unset variable",
			yaml: strings.Replace(minimal, "access_token: token", "access_token: ${MASTODON_EN_TOKEN}", 1),
			want: `channels[0].access_token: environment variable MASTODON_EN_TOKEN is not set`,
		},
		{
			name: "nil LookupEnv sets nothing",
			yaml: "admin_token: ${HOME}\n" + minimal,
			want: `admin_token: environment variable HOME is not set`,
		},
		{
			name: "malformed variable reference",
			yaml: strings.Replace(minimal, "access_token: token", "access_token: ${MASTODON_EN_TOKEN:-x}", 1),
			want: `channels[0].access_token: to read an environment variable, write exactly ${NAME} (letters, digits and _)`,
		},
		{
			name: "both forms",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [tg]}]
channels: [{id: tg, type: telegram, bot_token: abc, bot_token_file: /run/secrets/telegram, chat: "@channel"}]
`,
			want: `channels[0].bot_token: give bot_token or bot_token_file, not both`,
		},
		{
			name: "both forms, nested",
			yaml: `
public_url: https://news.example.org
feeds: [{id: f, url: "https://example.org/feed", to: [mail]}]
channels:
  - id: mail
    type: email
    list: En
    schedule: "@daily"
    from: news@example.org
    smtp: {host: smtp.example.org, port: "587", tls: starttls, username: u, password: p, password_file: /p}
`,
			want: "channels[0].list: must match [a-z0-9][a-z0-9_-]* (got \"En\")\n" +
				"channels[0].smtp.password: give password or password_file, not both",
		},
		{
			name: "missing secret",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [tg]}]
channels: [{id: tg, type: telegram, chat: "@channel"}]
`,
			want: `channels[0].bot_token: required`,
		},
		{
			name: "secret of the wrong type never shows the value",
			yaml: strings.Replace(minimal, "access_token: token", "access_token: [token]", 1),
			want: `channels[0].access_token: must be a string (got a list)`,
		},
		{
			name: "secret with a line break",
			yaml: strings.Replace(minimal, "access_token: token", `access_token: "tok\nen"`, 1),
			want: `channels[0].access_token: must not hold a line break or another control character`,
		},
		{
			name: "secret file missing",
			yaml: strings.Replace(minimal, "access_token: token", "access_token_file: testdata/no-such-file", 1),
			want: `channels[0].access_token_file: cannot read "testdata/no-such-file": no such file or directory`,
		},
		{
			name: "secret file is a directory",
			yaml: strings.Replace(minimal, "access_token: token", "access_token_file: testdata", 1),
			want: `channels[0].access_token_file: cannot read "testdata": not a regular file`,
		},
		{
			name: "syntax error",
			yaml: "feeds:\n  - id: a\n   url: x\n",
			want: `invalid YAML: line 3: did not find expected '-' indicator`,
		},
		{
			name: "tab indentation",
			yaml: "feeds:\n\t- id: a\n",
			want: `invalid YAML: line 2: found character that cannot start any token`,
		},
		{
			name: "two documents",
			yaml: minimal + "---\nfeeds: []\n",
			want: `line 11: a second YAML document; the file must hold exactly one`,
		},
		{
			name: "not a mapping",
			yaml: "- feeds\n",
			want: `the configuration must be a mapping of keys such as feeds: and channels: (got a list)`,
		},
		{
			name: "long values are cut",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    backfill: "+strings.Repeat("9", 100), 1),
			want: `feeds[0].backfill: must be an integer (got "` + strings.Repeat("9", 80) + `…")`,
		},
		{
			name: "empty file",
			yaml: "# nothing yet\n",
			want: "feeds: required (at least one feed)\nchannels: required (at least one channel)",
		},
		{
			name: "empty lists",
			yaml: "feeds: []\nchannels: []\n",
			want: "feeds: required (at least one feed)\nchannels: required (at least one channel)",
		},
		{
			name: "empty entry",
			yaml: "feeds:\n  -\n" + strings.TrimPrefix(minimal, "\nfeeds:\n"),
			want: `feeds[0]: empty entry`,
		},
		{
			name: "duplicate key",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    url: https://example.org/other", 1),
			want: `feeds[0].url: duplicate key (also line 4)`,
		},
		{
			name: "store",
			yaml: "store: mysql://localhost/db\n" + minimal,
			want: `store: must be sqlite:PATH or a postgres:// URL (got "mysql://localhost/db")`,
		},
		{
			name: "store with credentials is not quoted",
			yaml: "store: mysql://root:hunter2@localhost/db\n" + minimal,
			want: `store: must be sqlite:PATH or a postgres:// URL`,
		},
		{
			name: "store as a URL",
			yaml: "store: sqlite:///var/lib/x.db\n" + minimal,
			want: `store: write sqlite:PATH with the path as is, such as "sqlite:/var/lib/syndicate/syndicate.db" (got "sqlite:///var/lib/x.db")`,
		},
		{
			name: "store without path",
			yaml: "store: 'sqlite:'\n" + minimal,
			want: `store: sqlite: needs a file path, such as "sqlite:syndicate.db"`,
		},
		{
			name: "listen",
			yaml: "listen: 8080\n" + minimal,
			want: `listen: must be host:port, such as "127.0.0.1:8080" or ":8080" (got "8080")`,
		},
		{
			name: "listen port",
			yaml: "listen: localhost:http\n" + minimal,
			want: `listen: the port must be a number from 0 to 65535 (got "localhost:http")`,
		},
		{
			name: "timezone",
			yaml: "timezone: Europe/Madird\n" + minimal,
			want: `timezone: unknown time zone "Europe/Madird"`,
		},
		{
			name: "public_url",
			yaml: "public_url: news.example.org\n" + minimal,
			want: `public_url: must be an absolute http or https URL (got "news.example.org")`,
		},
		{
			name: "public_url required by email",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [mail]}]
channels:
  - id: mail
    type: email
    list: en
    schedule: "@daily"
    from: news@example.org
    smtp: {host: smtp.example.org, port: 465, tls: tls}
`,
			want: `public_url: required when an email channel is configured (links in digests point to it)`,
		},
		{
			name: "feed fields",
			yaml: `
feeds:
  - id: Blog
    url: ftp://example.org/feed
    language: english
    backfill: -1
    flood_limit: 0
    to: []
    timeout: 0s
    max_bytes: 0
    max_items: 0
    filter: {include_categories: ["", a], match: "(unclosed"}
channels: [{id: toot, type: mastodon, server: "https://m.example", access_token: x}]
`,
			want: strings.Join([]string{
				`feeds[0].id: must match [a-z0-9][a-z0-9_-]* (got "Blog")`,
				`feeds[0].url: must be an absolute http or https URL, or a local file (a path or file:///…) (got "ftp://example.org/feed")`,
				`feeds[0].language: must be a language tag such as en, es or pt-BR (got "english")`,
				`feeds[0].backfill: must be at least 0 (got -1)`,
				`feeds[0].flood_limit: must be at least 1 (got 0)`,
				`feeds[0].to: required (at least one channel id)`,
				`feeds[0].timeout: must be more than 0s (got 0s)`,
				`feeds[0].max_bytes: must be at least 1 (got 0)`,
				`feeds[0].max_items: must be at least 1 (got 0)`,
				`feeds[0].filter.include_categories[0]: must not be empty`,
				"feeds[0].filter.match: invalid regular expression: missing closing ): `(unclosed`",
			}, "\n"),
		},
		{
			name: "channel fields",
			yaml: `
feeds: [{id: f, url: "https://example.org/feed", to: [toot, tg]}]
channels:
  - id: toot
    type: mastodon
    server: mastodon.social
    access_token: x
    template: "{{.Title"
    on_update: replace
    max_characters: -1
    retry: {max_attempts: 0, min_backoff: 1m, max_backoff: 30s}
  - id: tg
    type: telegram
    api_url: ""
    bot_token: x
    chat: "@abc"
    photo: inline
    pacing: {per_minute: -1}
    message_thread_id: -3
`,
			want: strings.Join([]string{
				`channels[0].server: must be an absolute http or https URL (got "mastodon.social")`,
				`channels[0].template: invalid template: line 1: unclosed action`,
				`channels[0].on_update: must be one of ignore, edit (got "replace")`,
				`channels[0].max_characters: must be at least 0 (got -1)`,
				`channels[0].retry.max_attempts: must be at least 1 (got 0)`,
				`channels[0].retry.max_backoff: must not be less than min_backoff (1m0s)`,
				`channels[1].api_url: required`,
				`channels[1].chat: must be @name (5 to 32 letters, digits or _) or a numeric chat id (got "@abc")`,
				`channels[1].photo: must be one of auto, url, upload (got "inline")`,
				`channels[1].pacing.per_minute: must be at least 0 (got -1)`,
				`channels[1].message_thread_id: must be at least 0 (got -3)`,
			}, "\n"),
		},
		{
			name: "email fields",
			yaml: `
public_url: https://news.example.org
feeds: [{id: f, url: "https://example.org/feed", to: [mail]}]
channels:
  - id: mail
    type: email
    on_update: edit
    schedule: "TZ=UTC"
    from: "news at example.org"
    subject: "{{end}}"
    smtp: {port: 70000, username: news}
`,
			want: strings.Join([]string{
				`channels[0].list: required`,
				`channels[0].on_update: an email digest cannot be edited once sent: must be ignore (got "edit")`,
				`channels[0].schedule: invalid cron spec "TZ=UTC": a time zone prefix needs a schedule after it`,
				`channels[0].from: must be an address such as "News <news@example.org>" (got "news at example.org"): mail: no angle-addr`,
				`channels[0].subject: invalid template: line 1: unexpected {{end}}`,
				`channels[0].smtp.host: required`,
				`channels[0].smtp.tls: required (starttls, tls or none)`,
				`channels[0].smtp.password: required when username is set`,
				`channels[0].smtp.port: must be from 1 to 65535 (got 70000)`,
			}, "\n"),
		},
		{
			name: "syntax error in a flow list",
			yaml: "feeds:\n  - id: a\n    url: x\n    to: [a, b\n",
			want: `invalid YAML: line 4: did not find expected ',' or ']'`,
		},
		{
			name: "unclosed quote",
			yaml: "feeds:\n  - id: a\n    url: \"x\n  - id: b\n",
			want: `invalid YAML: line 3: found unexpected end of stream`,
		},
		{
			name: "merge key of the wrong kind",
			yaml: strings.Replace(minimal, "to: [toot]", "to: [toot]\n    <<: 3", 1),
			want: `feeds[0].<<: must be a mapping or a list of mappings (got "3")`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.opt
			opt.Channels = testTypes
			cfg, err := Parse([]byte(tt.yaml), opt)
			if err == nil {
				t.Fatalf("no error; config: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("a config came back with the error")
			}
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			if err.Error() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", err, tt.want)
			}
		})
	}
}

// TestManyProblems checks that a file with many mistakes gets all of them,
// in file order, against testdata/invalid.golden (go test -update rewrites it).
func TestManyProblems(t *testing.T) {
	_, err := Load("testdata/invalid.yaml", Options{Channels: testTypes, LookupEnv: env(map[string]string{"MASTODON_EN_TOKEN": mastodonToken})})
	if err == nil {
		t.Fatal("no error")
	}
	got := err.Error() + "\n"
	golden := "testdata/invalid.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(got, mastodonToken) {
		t.Error("the errors show a secret")
	}
}

func TestProblemsFollowFileOrder(t *testing.T) {
	_, err := Parse([]byte(`
channels:
  - {id: toot, type: mastodon, server: "https://m.example", access_token: x, visibility: loud}
feeds:
  - {id: f, url: "https://example.org/feed", to: [nope]}
timezone: Mars/Olympus
`), Options{Channels: testTypes})
	want := `channels[0].visibility: must be one of public, unlisted, private (got "loud")
feeds[0].to[0]: unknown channel "nope"
timezone: unknown time zone "Mars/Olympus"`
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFullExample(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.NewReplacer(
		"ADMIN_TOKEN_FILE", writeFile(t, "admin", adminToken+"\n"),
		"SMTP_PASSWORD_FILE", writeFile(t, "smtp", smtpPassword+"\r\n"),
	).Replace(string(data))
	cfg, err := Parse([]byte(text), Options{Channels: testTypes, LookupEnv: env(map[string]string{
		"SYNDICATE_SECRET": "a-long-enough-link-signing-secret",
		"MASTODON_TOKEN":   mastodonToken,
	})})
	if err != nil {
		t.Fatal(err)
	}
	if driver, dsn := cfg.StoreDSN(); driver != "postgres" || !strings.HasPrefix(dsn, "postgres://") {
		t.Errorf("StoreDSN() = %q, %q", driver, dsn)
	}
	if cfg.AdminToken.Value() != adminToken || cfg.Secret.Value() != "a-long-enough-link-signing-secret" {
		t.Errorf("top-level secrets not read")
	}
	if cfg.PublicURL != "https://news.example.org" || cfg.Listen != ":9090" || cfg.Location().String() != "America/Argentina/Buenos_Aires" {
		t.Errorf("top level: %+v", cfg)
	}
	// Both feeds take the merged defaults; explicit keys stay.
	for _, f := range cfg.Feeds {
		if f.Schedule != "CRON_TZ=Europe/Madrid @every 15m" || f.FloodLimit != 5 || f.Timeout.Std() != time.Minute || f.MaxBytes != 2<<20 {
			t.Errorf("feed %s did not take the merged keys: %+v", f.ID, f)
		}
	}
	en, ok := cfg.Feed("blog-en")
	if !ok || en.Backfill != 3 || en.Language != "en" || len(en.Filter.IncludeCategories) != 2 {
		t.Fatalf("blog-en: %+v", en)
	}
	if re := en.Filter.MatchRegexp(); re == nil || !re.MatchString("Hello") || re.MatchString("xylophone") {
		t.Errorf("MatchRegexp() = %v", re)
	}
	toot, _ := cfg.Channel("toot")
	if toot.OnUpdate != "edit" || toot.Template != "{{.Title}}\n{{.URL}}\n" || toot.Timeout.Std() != 10*time.Second ||
		toot.Retry != (Retry{3, Duration(5 * time.Second), Duration(10 * time.Minute)}) {
		t.Errorf("toot: %+v", toot)
	}
	if m := mastodonOf(t, *toot); m.Visibility != "unlisted" || m.MaxCharacters != 1000 || m.MaxHashtags != 2 || m.AccessToken.Value() != mastodonToken {
		t.Errorf("toot mastodon: %+v", m)
	}
	tg, _ := cfg.Channel("tg")
	if g := telegramOf(t, *tg); g.APIURL != "http://127.0.0.1:8081" || g.Chat != "-1001234567890" || !g.Silent || g.Photo != "upload" ||
		g.Pacing != (telegram.Pacing{}) || g.MessageThreadID != 42 || g.BotToken.Value() != "123456:inline-token-value" {
		t.Errorf("tg: %+v", g)
	}
	mail, _ := cfg.Channel("mail")
	if e := mail.Email; e.SMTP != (SMTP{"smtp.example.org", 465, "tls", "news", smtpPassword, 4, 0}) || e.Subject != "{{.Title}} this week" {
		t.Errorf("mail: %+v", e)
	}
	if len(cfg.Warnings) != 0 {
		t.Errorf("warnings: %q", cfg.Warnings)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() after Parse: %v", err)
	}
}

func TestSecretFiles(t *testing.T) {
	tests := []struct{ content, want string }{
		{"token", "token"},
		{"token\n", "token"},
		{"token\r\n", "token"},
		{" token \n", " token "},
		{"", ""},
	}
	for _, tt := range tests {
		path := writeFile(t, "secret", tt.content)
		yml := strings.Replace(minimal, "access_token: token", "access_token_file: "+path, 1)
		cfg, err := Parse([]byte(yml), Options{Channels: testTypes})
		if tt.want == "" {
			want := "channels[0].access_token: required"
			if err == nil || err.Error() != want {
				t.Errorf("%q: got %v, want %s", tt.content, err, want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.content, err)
			continue
		}
		if got := mastodonOf(t, cfg.Channels[0]).AccessToken.Value(); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.content, got, tt.want)
		}
	}

	// Two lines: the file is named, its content is not.
	path := writeFile(t, "secret", "first-line-secret\nsecond\n")
	yml := strings.Replace(minimal, "access_token: token", "access_token_file: "+path, 1)
	_, err := Parse([]byte(yml), Options{Channels: testTypes})
	want := fmt.Sprintf("channels[0].access_token_file: file %q holds a line break or another control character (beyond one trailing newline)", path)
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestSecretFromEnv(t *testing.T) {
	yml := "admin_token: ${ADMIN}\nsecret: literal-${NOT_EXPANDED}-value\n" +
		strings.Replace(minimal, "access_token: token", "access_token: ${TOKEN}", 1)
	_, err := Parse([]byte(yml), Options{Channels: testTypes, LookupEnv: env(map[string]string{"ADMIN": adminToken, "TOKEN": mastodonToken + "\n"})})
	if err == nil {
		t.Fatal("a variable holding a newline was accepted")
	}
	if want := "channels[0].access_token: environment variable TOKEN holds a line break or another control character"; err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	cfg, err := Parse([]byte(yml), Options{Channels: testTypes, LookupEnv: env(map[string]string{"ADMIN": adminToken, "TOKEN": mastodonToken})})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminToken.Value() != adminToken || mastodonOf(t, cfg.Channels[0]).AccessToken.Value() != mastodonToken {
		t.Errorf("variables not expanded")
	}
	if got := cfg.Secret.Value(); got != "literal-${NOT_EXPANDED}-value" {
		t.Errorf("only a whole ${VAR} is expanded; got %q", got)
	}
}

func TestMissingSecretsOK(t *testing.T) {
	yml := "admin_token: ${ADMIN}\n" + `
feeds: [{id: f, url: "https://example.org/feed", to: [toot, tg]}]
channels:
  - {id: toot, type: mastodon, server: "https://m.example", access_token: "${MASTODON_EN_TOKEN}"}
  - {id: tg, type: telegram, bot_token_file: testdata/no-such-file, chat: "@channel"}
`
	cfg, err := Parse([]byte(yml), Options{Channels: testTypes, MissingSecretsOK: true})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminToken != "" || mastodonOf(t, cfg.Channels[0]).AccessToken != "" || telegramOf(t, cfg.Channels[1]).BotToken != "" {
		t.Error("missing secrets must stay empty")
	}
	want := []string{
		"admin_token: environment variable ADMIN is not set; left empty",
		"channels[0].access_token: environment variable MASTODON_EN_TOKEN is not set; left empty",
		`channels[1].bot_token_file: cannot read "testdata/no-such-file": no such file or directory; left empty`,
	}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings:\n%q\nwant:\n%q", cfg.Warnings, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() after Parse: %v", err)
	}

	// Still refused: both forms, and a secret that is not given at all.
	yml = `
feeds: [{id: f, url: "https://example.org/feed", to: [toot, tg]}]
channels:
  - {id: toot, type: mastodon, server: "https://m.example"}
  - {id: tg, type: telegram, bot_token: "${X}", bot_token_file: /x, chat: "@channel"}
`
	_, err = Parse([]byte(yml), Options{Channels: testTypes, MissingSecretsOK: true})
	wantErr := "channels[0].access_token: required\nchannels[1].bot_token: give bot_token or bot_token_file, not both"
	if err == nil || err.Error() != wantErr {
		t.Errorf("got:\n%v\nwant:\n%s", err, wantErr)
	}
}

func TestSecretsNeverShow(t *testing.T) {
	cfg, err := Load("testdata/design.yaml", designEnv())
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "%v %+v %#v\n", cfg, cfg, cfg)
	fmt.Fprintf(&out, "%v %+v %#v\n", *cfg, *cfg, *cfg)
	for _, ch := range cfg.Channels {
		fmt.Fprintf(&out, "%v %+v %#v %s %q %x\n", ch, ch, ch, ch.ID, ch.ID, ch.ID)
		for _, sub := range []any{ch.Settings, ch.Email} {
			if v := reflect.ValueOf(sub); v.IsValid() && !v.IsNil() {
				v := reflect.ValueOf(sub).Elem().Interface()
				fmt.Fprintf(&out, "%v %+v %#v\n", v, v, v)
			}
		}
	}
	s := mastodonOf(t, cfg.Channels[0]).AccessToken
	fmt.Fprintf(&out, "%s %q %v %+v %#v %x %X %d %10s %T\n", s, s, s, s, s, s, s, s, s, s)
	out.WriteString(s.String())
	j, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(j)
	y, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(y)
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "cfg", cfg, "token", s)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "cfg", cfg, "token", s)

	for _, secret := range []string{adminToken, mastodonToken, telegramToken, smtpPassword} {
		if strings.Contains(out.String(), secret) {
			t.Errorf("%s shows up in:\n%s", secret, out.String())
		}
	}
	if !strings.Contains(out.String(), "[redacted]") {
		t.Error("no [redacted] in the output")
	}
	if s.Value() != mastodonToken {
		t.Error("Value() must give the secret")
	}
}

func TestSecretsNeverInErrors(t *testing.T) {
	const value = "s3cr3t-value-never-shown"
	cases := []string{
		"admin_token: [" + value + "]\n",
		"admin_token: {a: " + value + "}\n",
		"admin_token: \"" + value + "\\n\"\n",
		"admin_token: \"${" + value + "\"\n",
		"admin_token: " + value + "\nadmin_token_file: /x\n",
		"secret: \"${VAR}x\"\n",
		"store: postgres://u:" + value + "@[::1/db\n",
		"store: mysql://u:" + value + "@host/db\n",
		"admin_tokne: " + value + "\n",
	}
	for _, c := range cases {
		_, err := Parse([]byte(c+minimal), Options{Channels: testTypes, LookupEnv: env(map[string]string{"VAR": value})})
		if err == nil {
			t.Errorf("%q: no error", c)
			continue
		}
		if strings.Contains(err.Error(), value) {
			t.Errorf("%q: error shows the secret: %v", c, err)
		}
	}
}

func TestWarnings(t *testing.T) {
	yml := `
admin_token: short
public_url: https://news.example.org
feeds: [{id: f, url: "${FEED_URL}", to: [mail]}]
channels:
  - id: mail
    type: email
    list: en
    schedule: "@daily"
    from: news@example.org
    smtp: {host: smtp.example.org, port: 25, tls: none, username: u, password: p}
`
	_, err := Parse([]byte(yml), Options{Channels: testTypes})
	if want := `feeds[0].url: must be an absolute http or https URL, or a local file (a path or file:///…) (got "${FEED_URL}")`; err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	cfg, err := Parse([]byte(strings.Replace(yml, `"${FEED_URL}"`, "https://example.org/feed", 1)), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"admin_token: shorter than 16 characters, so easy to guess",
		"channels[0].smtp.tls: none: the password goes to smtp.example.org unencrypted",
	}
	if !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings:\n%q\nwant:\n%q", cfg.Warnings, want)
	}
	cfg, err = Parse([]byte(minimal+"  - {id: unused, type: mastodon, server: \"https://m.example/\", access_token: x}\n"), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{`channels[1]: no feed sends to "unused"`}; !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings: %q", cfg.Warnings)
	}
	if got := mastodonOf(t, cfg.Channels[1]).Server; got != "https://m.example" {
		t.Errorf("server = %q, want the trailing slash removed", got)
	}
	cfg, err = Parse([]byte("user_agent: ${UA}\n"+minimal), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"user_agent: ${UA} is expanded only in secret fields; this value is taken as written"}; !reflect.DeepEqual(cfg.Warnings, want) {
		t.Errorf("warnings: %q", cfg.Warnings)
	}
}

// TestEmailKeyList checks that emailKeys, which explains misplaced keys,
// matches what an email channel really decodes. The other types' lists are
// found by decoding.
func TestEmailKeyList(t *testing.T) {
	for _, key := range emailKeys {
		yml := fmt.Sprintf("feeds: [{id: f, url: \"https://example.org/feed\", to: [c]}]\nchannels: [{id: c, type: email, %s: 1}]\n", key)
		_, err := Parse([]byte(yml), Options{Channels: testTypes})
		if err != nil && strings.Contains(err.Error(), "channels[0]."+key+": unknown key") {
			t.Errorf("email channel: %s is not decoded", key)
		}
		yml = fmt.Sprintf("channels: [{id: c, type: telegram, %s: 1}]\n", key)
		_, err = Parse([]byte(yml), Options{Channels: testTypes})
		if err == nil || !strings.Contains(err.Error(), "channels[0]."+key+": not a key of a telegram channel") {
			t.Errorf("%s in a telegram channel: %v", key, err)
		}
	}
}

func TestAliases(t *testing.T) {
	yml := `
x-channels: &all [toot]
x-defaults: &defaults {schedule: "@hourly", backfill: 2}
feeds:
  - <<: *defaults
    id: a
    url: https://example.org/a
    to: *all
  - <<: [*defaults, {flood_limit: 3}]
    id: b
    url: https://example.org/b
    backfill: 5
    to: *all
channels:
  - {id: toot, type: mastodon, server: "https://m.example", access_token: x}
`
	cfg, err := Parse([]byte(yml), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	a, b := cfg.Feeds[0], cfg.Feeds[1]
	if a.Schedule != "@hourly" || a.Backfill != 2 || a.FloodLimit != 10 || a.To[0] != "toot" {
		t.Errorf("a: %+v", a)
	}
	if b.Schedule != "@hourly" || b.Backfill != 5 || b.FloodLimit != 3 {
		t.Errorf("b: %+v", b)
	}

	// A problem inside merged keys is reported where they are merged.
	_, err = Parse([]byte(strings.Replace(yml, "backfill: 2}", "backfil: 2}", 1)), Options{Channels: testTypes})
	want := "feeds[0].backfil: unknown key (did you mean \"backfill\"?)\nfeeds[1].backfil: unknown key (did you mean \"backfill\"?)"
	if err == nil || err.Error() != want {
		t.Errorf("got:\n%v\nwant:\n%s", err, want)
	}

	// A merge that includes itself must not loop.
	_, err = Parse([]byte("x-a: &a {b: 1, <<: *a}\n"), Options{Channels: testTypes})
	if err == nil {
		t.Error("no error for an empty config")
	}

	// Aliases that would expand to millions of nodes are refused (how
	// soon: BenchmarkAliasBomb).
	_, err = Parse([]byte(aliasBomb()), Options{Channels: testTypes})
	if err == nil || err.Error() != "the document is too large once its aliases are expanded (over 200000 nodes)" {
		t.Errorf("got %.300v", err)
	}
}

// aliasBomb is a small document whose aliases expand to millions of nodes.
func aliasBomb() string {
	var sb strings.Builder
	sb.WriteString("x-feed: &f\n  filter:\n    include_categories: [")
	sb.WriteString(strings.Repeat("a, ", 2000))
	sb.WriteString("a]\nfeeds: [")
	sb.WriteString(strings.Repeat("*f, ", 1000))
	sb.WriteString("*f]\n")
	return sb.String()
}

// BenchmarkAliasBomb measures how soon such a document is refused (it
// stops at the node budget, whatever the expansion would be):
//
//	go test -run '^$' -bench AliasBomb ./config/
func BenchmarkAliasBomb(b *testing.B) {
	doc := []byte(aliasBomb())
	for b.Loop() {
		if _, err := Parse(doc, Options{Channels: testTypes}); err == nil {
			b.Fatal("accepted")
		}
	}
}

func TestValidateBuiltConfig(t *testing.T) {
	c := &Config{
		Store:    "sqlite:x.db",
		Listen:   "localhost:0",
		Timezone: "Asia/Almaty",
		Feeds:    []Feed{{ID: "f", URL: "https://example.org/feed", Schedule: "@daily", FloodLimit: 1, Timeout: 1, MaxBytes: 1, MaxItems: 1, To: []string{"c"}, Filter: Filter{Match: "^A"}}},
		Channels: []Channel{{ID: "c", Type: "telegram", OnUpdate: "ignore", Timeout: 1, Retry: Retry{MaxAttempts: 1, MinBackoff: 1, MaxBackoff: 1}}},
	}
	want := "channels[0]: the telegram settings are missing"
	if err := c.Validate(); err == nil || err.Error() != want {
		t.Fatalf("got %v, want %s", err, want)
	}
	tg := telegram.DefaultSettings()
	tg.BotToken, tg.Chat = "t", "@channel"
	c.Channels[0].Settings = &tg
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Location().String() != "Asia/Almaty" || c.Feeds[0].Filter.MatchRegexp() == nil {
		t.Error("Validate must fill Location and MatchRegexp")
	}
}

func TestLoad(t *testing.T) {
	_, err := Load("testdata/no-such-file.yaml", Options{Channels: testTypes})
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("got %v", err)
	}
	var probs Problems
	if errors.As(err, &probs) {
		t.Error("a missing file is not Problems")
	}
	if _, err := Load("testdata/minimal.yaml", Options{Channels: testTypes, MissingSecretsOK: true}); err != nil {
		t.Error(err)
	}
}
