package subscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// ConfirmTTL is how long a confirmation link stays valid.
const ConfirmTTL = 48 * time.Hour

var (
	// ErrInvalidToken is a link that was not made with this secret, was
	// changed, cut short, or is of the other kind.
	ErrInvalidToken = errors.New("invalid link")
	// ErrExpired is a confirmation link older than ConfirmTTL, or one made
	// before the address last unsubscribed. The Link returned with it is
	// filled in, so a page can still speak the list's language.
	ErrExpired = errors.New("link expired")
)

// LinkKind tells the two kinds of link apart; a token of one kind is
// refused where the other is expected.
type LinkKind byte

const (
	LinkConfirm     LinkKind = 'c'
	LinkUnsubscribe LinkKind = 'u'
)

// Link is what a token says.
type Link struct {
	Kind  LinkKind
	List  string
	Email string
	// Expires is when a confirmation link stops working; zero for an
	// unsubscribe link, which never does.
	Expires time.Time
}

// issued is when a confirmation link was made.
func (l Link) issued() time.Time { return l.Expires.Add(-ConfirmTTL) }

// maxToken bounds what is decoded: a list name and an address of at most
// 254 bytes make tokens far shorter.
const maxToken = 1024

// Links makes and reads the signed links of emails: {public_url}/confirm/
// {token} and {public_url}/unsubscribe/{token}. A token is the base64url
// (unpadded) payload — kind, list, address and, for a confirmation, its
// expiry in microseconds — a dot, and the base64url HMAC-SHA256 of the
// payload under a key derived from the secret. Nothing is looked up to
// check one, so the daemon and the digest sender need only the secret.
//
// Links is safe for concurrent use.
type Links struct {
	base string
	key  []byte
	now  func() time.Time
}

// NewLinks returns links under publicURL (its trailing slashes dropped),
// signed with secret, which must not be empty. now is the clock that
// dates confirmation links; nil means time.Now.
func NewLinks(publicURL string, secret []byte, now func() time.Time) (*Links, error) {
	if len(secret) == 0 {
		return nil, errors.New("subscribe: empty link secret")
	}
	if now == nil {
		now = time.Now
	}
	// A key of its own, so the secret may serve other purposes too.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("syndicate subscriber links v1"))
	return &Links{base: strings.TrimRight(publicURL, "/"), key: m.Sum(nil), now: now}, nil
}

// ConfirmURL is the confirmation link of s, valid for ConfirmTTL from now.
func (l *Links) ConfirmURL(s syndicate.Subscriber) string {
	return l.base + "/confirm/" + l.ConfirmToken(s)
}

// UnsubscribeURL is the unsubscribe link of s, which never expires: the
// URL of its List-Unsubscribe header.
func (l *Links) UnsubscribeURL(s syndicate.Subscriber) string {
	return l.base + "/unsubscribe/" + l.UnsubscribeToken(s)
}

// ConfirmToken is the token of ConfirmURL.
func (l *Links) ConfirmToken(s syndicate.Subscriber) string {
	exp := l.now().Add(ConfirmTTL).UnixMicro()
	return l.sign(LinkConfirm, s.List, s.Email, strconv.FormatInt(exp, 10))
}

// UnsubscribeToken is the token of UnsubscribeURL.
func (l *Links) UnsubscribeToken(s syndicate.Subscriber) string {
	return l.sign(LinkUnsubscribe, s.List, s.Email)
}

func (l *Links) sign(kind LinkKind, fields ...string) string {
	payload := append([]byte{byte(kind)}, strings.Join(fields, "\x00")...)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(l.mac(payload))
}

func (l *Links) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write(payload)
	return m.Sum(nil)
}

// Parse checks a token and returns what it says. A token not signed with
// this secret, or changed in any way, is ErrInvalidToken; a confirmation
// token past its expiry is ErrExpired, returned with the Link.
func (l *Links) Parse(token string) (Link, error) {
	if len(token) > maxToken {
		return Link{}, ErrInvalidToken
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return Link{}, ErrInvalidToken
	}
	enc := base64.RawURLEncoding.Strict()
	payload, err1 := enc.DecodeString(p64)
	sum, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, l.mac(payload)) {
		return Link{}, ErrInvalidToken
	}
	if len(payload) == 0 {
		return Link{}, ErrInvalidToken
	}
	link := Link{Kind: LinkKind(payload[0])}
	fields := strings.Split(string(payload[1:]), "\x00")
	switch {
	case link.Kind == LinkUnsubscribe && len(fields) == 2:
	case link.Kind == LinkConfirm && len(fields) == 3:
		us, err := strconv.ParseInt(fields[2], 10, 64)
		if err != nil {
			return Link{}, ErrInvalidToken
		}
		link.Expires = time.UnixMicro(us).UTC()
	default:
		return Link{}, ErrInvalidToken
	}
	link.List, link.Email = fields[0], fields[1]
	if link.List == "" || link.Email == "" {
		return Link{}, ErrInvalidToken
	}
	if link.Kind == LinkConfirm && !l.now().Before(link.Expires) {
		return link, ErrExpired
	}
	return link, nil
}
