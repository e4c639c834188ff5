package subscribe_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/subscribe"
)

var secret = []byte("a-link-secret-of-some-length-0123")

func newLinks(t *testing.T, c *clock) *subscribe.Links {
	t.Helper()
	l, err := subscribe.NewLinks("https://news.example.org/", secret, c.Now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var jane = syndicate.Subscriber{ID: 7, List: "es", Email: "María.Pérez+news@example.org"}

func TestLinksRoundTrip(t *testing.T) {
	c := newClock()
	l := newLinks(t, c)

	u := l.UnsubscribeURL(jane)
	token, ok := strings.CutPrefix(u, "https://news.example.org/unsubscribe/")
	if !ok || token == "" || strings.ContainsAny(token, "/?#=+ ") {
		t.Fatalf("UnsubscribeURL = %q", u)
	}
	if token != l.UnsubscribeToken(jane) {
		t.Errorf("UnsubscribeURL and UnsubscribeToken differ")
	}
	link, err := l.Parse(token)
	if err != nil {
		t.Fatalf("Parse(unsubscribe): %v", err)
	}
	if want := (subscribe.Link{Kind: subscribe.LinkUnsubscribe, List: "es", Email: jane.Email}); link != want {
		t.Errorf("Parse(unsubscribe) = %+v, want %+v", link, want)
	}

	cu := l.ConfirmURL(jane)
	token, ok = strings.CutPrefix(cu, "https://news.example.org/confirm/")
	if !ok || token == "" || strings.ContainsAny(token, "/?#=+ ") {
		t.Fatalf("ConfirmURL = %q", cu)
	}
	link, err = l.Parse(token)
	if err != nil {
		t.Fatalf("Parse(confirm): %v", err)
	}
	want := subscribe.Link{Kind: subscribe.LinkConfirm, List: "es", Email: jane.Email, Expires: c.Now().Add(48 * time.Hour)}
	if link != want {
		t.Errorf("Parse(confirm) = %+v, want %+v", link, want)
	}

	// An unsubscribe link never expires.
	c.Advance(10 * 365 * 24 * time.Hour)
	if _, err := l.Parse(l.UnsubscribeToken(jane)); err != nil {
		t.Errorf("an unsubscribe link ten years on: %v", err)
	}
}

func TestConfirmLinkExpiresAfter48Hours(t *testing.T) {
	c := newClock()
	l := newLinks(t, c)
	token := l.ConfirmToken(jane)
	c.Advance(48*time.Hour - time.Microsecond)
	if _, err := l.Parse(token); err != nil {
		t.Fatalf("a confirmation link just before 48 h: %v", err)
	}
	c.Advance(time.Microsecond)
	link, err := l.Parse(token)
	if !errors.Is(err, subscribe.ErrExpired) {
		t.Fatalf("a confirmation link at 48 h: %v, want ErrExpired", err)
	}
	if link.List != "es" || link.Email != jane.Email || link.Kind != subscribe.LinkConfirm {
		t.Errorf("the Link of an expired token = %+v, want it filled in", link)
	}
}

// Changing any character of a token, or signing with another secret,
// makes it invalid.
func TestTamperedTokensFail(t *testing.T) {
	c := newClock()
	l := newLinks(t, c)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
	for _, token := range []string{l.UnsubscribeToken(jane), l.ConfirmToken(jane)} {
		for i := range len(token) {
			for _, r := range []byte{alphabet[(strings.IndexByte(alphabet, token[i])+1)%len(alphabet)], 'A', '_'} {
				if r == token[i] {
					continue
				}
				bad := token[:i] + string(r) + token[i+1:]
				if _, err := l.Parse(bad); !errors.Is(err, subscribe.ErrInvalidToken) {
					t.Fatalf("token with byte %d changed to %q: %v, want ErrInvalidToken", i, r, err)
				}
			}
		}
		for _, bad := range []string{token[:len(token)-1], token + "A", token + "=", "A" + token, strings.Replace(token, ".", "..", 1)} {
			if _, err := l.Parse(bad); !errors.Is(err, subscribe.ErrInvalidToken) {
				t.Errorf("Parse(%q): %v, want ErrInvalidToken", bad, err)
			}
		}
	}

	other, err := subscribe.NewLinks("https://news.example.org", []byte("another-secret-of-some-length-012"), c.Now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Parse(l.UnsubscribeToken(jane)); !errors.Is(err, subscribe.ErrInvalidToken) {
		t.Errorf("a token of another secret: %v, want ErrInvalidToken", err)
	}
	// The payload of one address with the signature of another.
	p1, _, _ := strings.Cut(l.UnsubscribeToken(jane), ".")
	_, s2, _ := strings.Cut(l.UnsubscribeToken(syndicate.Subscriber{List: "es", Email: "john@example.org"}), ".")
	if _, err := l.Parse(p1 + "." + s2); !errors.Is(err, subscribe.ErrInvalidToken) {
		t.Errorf("swapped signature: %v, want ErrInvalidToken", err)
	}
	for _, junk := range []string{"", ".", "a.b", "abc", "..", strings.Repeat("A", 5000) + ".AA", "%00.%00", "ZXM.ZXM"} {
		if _, err := l.Parse(junk); !errors.Is(err, subscribe.ErrInvalidToken) {
			t.Errorf("Parse(%.40q): %v, want ErrInvalidToken", junk, err)
		}
	}
}

func TestNewLinksRefusesAnEmptySecret(t *testing.T) {
	if _, err := subscribe.NewLinks("https://news.example.org", nil, nil); err == nil {
		t.Error("NewLinks with no secret: no error")
	}
}
