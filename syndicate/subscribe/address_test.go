package subscribe_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

func TestParseAddress(t *testing.T) {
	valid := []struct{ in, email, name string }{
		{"jane@example.org", "jane@example.org", ""},
		{"  Jane.Doe@EXAMPLE.Org ", "Jane.Doe@example.org", ""},
		{"Jane Doe <jane@example.org>", "jane@example.org", "Jane Doe"},
		{`"Doe, Jane" <jane@Example.org>`, "jane@example.org", "Doe, Jane"},
		{"=?utf-8?q?Mar=C3=ADa?= <maria@example.org>", "maria@example.org", "María"},
		{"josé+noticias@correo.example.es", "josé+noticias@correo.example.es", ""},
		{"o'brien@example.co.uk", "o'brien@example.co.uk", ""},
		{"user@münchen.de", "user@münchen.de", ""},
		{"user@[192.0.2.1]", "user@[192.0.2.1]", ""},
		{strings.Repeat("a", 64) + "@example.org", strings.Repeat("a", 64) + "@example.org", ""},
	}
	for _, tt := range valid {
		email, name, err := subscribe.ParseAddress(tt.in)
		if err != nil || email != tt.email || name != tt.name {
			t.Errorf("ParseAddress(%q) = %q, %q, %v; want %q, %q", tt.in, email, name, err, tt.email, tt.name)
		}
	}
	invalid := []string{
		"",
		"   ",
		"jane",
		"jane@",
		"@example.org",
		"jane@localhost",
		"jane@example..org",
		"jane@-example.org",
		"jane@example.org.",
		".jane@example.org",
		"jane.@example.org",
		"ja..ne@example.org",
		`"jane doe"@example.org`,
		"jane doe@example.org",
		"jane@example.org, john@example.org",
		"jane@example.org\r\nBcc: victim@example.net",
		"jane@example.org\nBcc: victim@example.net",
		"jane@example.org\r",
		"Jane\r\n <jane@example.org>",
		"=?utf-8?q?Jane=0D=0ABcc:_victim@example.net?= <jane@example.org>",
		"jane\x00@example.org",
		"jane\u2028@example.org",
		strings.Repeat("a", 65) + "@example.org",
		"a@" + strings.Repeat("b", 250) + ".org",
		strings.Repeat("x", 2000),
	}
	for _, in := range invalid {
		email, _, err := subscribe.ParseAddress(in)
		if !errors.Is(err, subscribe.ErrInvalidAddress) {
			t.Errorf("ParseAddress(%.60q) = %q, %v; want ErrInvalidAddress", in, email, err)
		}
	}
}

func TestCleanName(t *testing.T) {
	if n, err := subscribe.CleanName("  María Pérez "); err != nil || n != "María Pérez" {
		t.Errorf("CleanName = %q, %v", n, err)
	}
	for _, bad := range []string{"Jane\r\nBcc: x@example.org", "Jane\n", "Jane\x1b[31m", strings.Repeat("ñ", 201), "\xff"} {
		if _, err := subscribe.CleanName(bad); !errors.Is(err, subscribe.ErrInvalidAddress) {
			t.Errorf("CleanName(%.30q): %v, want ErrInvalidAddress", bad, err)
		}
	}
}
