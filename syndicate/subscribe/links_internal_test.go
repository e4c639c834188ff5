package subscribe

import (
	"encoding/base64"
	"errors"
	"testing"
	"time"
)

// Tokens signed with the right key but of a shape this version never
// makes are refused all the same.
func TestParseRefusesMalformedPayloads(t *testing.T) {
	now := time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)
	l, err := NewLinks("https://news.example.org", []byte("secret"), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{
		"unknown kind":             l.sign('x', "en", "a@example.org"),
		"unsubscribe with expiry":  l.sign(LinkUnsubscribe, "en", "a@example.org", "1"),
		"confirm without expiry":   l.sign(LinkConfirm, "en", "a@example.org"),
		"confirm with a bad time":  l.sign(LinkConfirm, "en", "a@example.org", "soon"),
		"empty list":               l.sign(LinkUnsubscribe, "", "a@example.org"),
		"empty email":              l.sign(LinkUnsubscribe, "en", ""),
		"extra field":              l.sign(LinkUnsubscribe, "en", "a@example.org", "x", "y"),
		"empty payload":            "." + base64.RawURLEncoding.EncodeToString(l.mac(nil)),
		"kind only, no separators": l.sign(LinkUnsubscribe),
	} {
		if _, err := l.Parse(token); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v, want ErrInvalidToken", name, err)
		}
	}
}
