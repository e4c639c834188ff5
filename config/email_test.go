package config

import (
	"strings"
	"testing"
)

func TestEmailKeys(t *testing.T) {
	const head = "public_url: \"https://news.example.org\"\n" +
		"feeds: [{id: f, url: \"https://example.org/feed\", to: [d]}]\n" +
		"channels:\n  - id: d\n    type: email\n    list: en\n    schedule: \"0 8 * * MON\"\n    from: news@example.org\n"
	const smtp = "    smtp: {host: 127.0.0.1, port: 25, tls: none}\n"
	cfg, err := Parse([]byte(head+smtp), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if e := cfg.Channels[0].Email; e.SMTP.Connections != 4 || e.SMTP.Rate != 0 || e.DKIM != nil || e.Language != "" {
		t.Errorf("defaults: %+v", *e)
	}
	cfg, err = Parse([]byte(head+`    language: es
    smtp: {host: 127.0.0.1, port: 25, tls: none, connections: 8, rate: 500}
    dkim: {domain: example.org, selector: news, key_file: /run/secrets/dkim.pem}
`), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Channels[0].Email
	if e.Language != "es" || e.SMTP.Connections != 8 || e.SMTP.Rate != 500 || e.DKIM == nil ||
		e.DKIM.Domain != "example.org" || e.DKIM.Selector != "news" || e.DKIM.KeyFile != "/run/secrets/dkim.pem" {
		t.Errorf("decoded %+v", *e)
	}

	tests := []struct{ yml, want string }{
		{"    smtp: {host: h, port: 25, tls: none, connections: 0}\n", "channels[0].smtp.connections: must be from 1 to 64 (got 0)"},
		{"    smtp: {host: h, port: 25, tls: none, rate: -1}\n", "channels[0].smtp.rate: must be at least 0 (got -1)"},
		{smtp + "    language: English\n", `channels[0].language: must be a language code such as en or es (got "English")`},
		{smtp + "    dkim: {domain: example.org}\n", "channels[0].dkim.selector: required"},
		{smtp + "    dkim: {domain: example.org, selector: s}\n", "channels[0].dkim.key_file: required"},
		{smtp + "    dkim: {domain: example.org, selector: s, key_file: k, algo: rsa}\n", "channels[0].dkim.algo: unknown key"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(head+tt.yml), Options{Channels: testTypes})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.yml, err, tt.want)
		}
	}
}
