package subscribe

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidAddress is wrapped by the errors of ParseAddress and CleanName.
var ErrInvalidAddress = errors.New("invalid email address")

const (
	maxAddress = 254 // RFC 5321's limit on a path, less its angle brackets
	maxLocal   = 64
	maxName    = 200 // runes
)

// ParseAddress checks an address as typed in a form or a CSV file and
// returns it normalised: the addr-spec alone, its domain lower-cased, and
// the display name when one was given ("Jane <jane@example.org>").
//
// It is RFC 5322 (net/mail) with these refusals, each wrapping
// ErrInvalidAddress: a CR, LF or any other control character anywhere,
// also once encoded words in the name are decoded (header injection);
// more than 254 bytes, or a local part over 64; a local part that would
// need quoting (spaces, quotes: mail software mishandles them); a domain
// without a dot or with empty labels. Non-ASCII letters are accepted
// (RFC 6531).
func ParseAddress(raw string) (email, name string, err error) {
	if hasControl(raw) {
		return "", "", fmt.Errorf("%w: it holds a line break or another control character", ErrInvalidAddress)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", "", fmt.Errorf("%w: empty", ErrInvalidAddress)
	}
	if len(raw) > 2*maxAddress {
		return "", "", fmt.Errorf("%w: too long", ErrInvalidAddress)
	}
	a, err := mail.ParseAddress(raw)
	if err != nil {
		return "", "", fmt.Errorf("%w: %s", ErrInvalidAddress, strings.TrimPrefix(err.Error(), "mail: "))
	}
	if hasControl(a.Name) || hasControl(a.Address) {
		return "", "", fmt.Errorf("%w: it holds a line break or another control character", ErrInvalidAddress)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at < 0 {
		return "", "", fmt.Errorf("%w: no @", ErrInvalidAddress)
	}
	local, domain := a.Address[:at], strings.ToLower(a.Address[at+1:])
	switch {
	case len(local) > maxLocal:
		return "", "", fmt.Errorf("%w: the part before @ is longer than %d bytes", ErrInvalidAddress, maxLocal)
	case !isDotAtom(local):
		return "", "", fmt.Errorf("%w: the part before @ holds characters that need quoting", ErrInvalidAddress)
	case !validDomain(domain):
		return "", "", fmt.Errorf("%w: %q is not a mail domain", ErrInvalidAddress, domain)
	}
	email = local + "@" + domain
	if len(email) > maxAddress {
		return "", "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidAddress, maxAddress)
	}
	name, err = CleanName(a.Name)
	if err != nil {
		return "", "", err
	}
	return email, name, nil
}

// CleanName checks a subscriber's display name: no control characters
// (header injection), at most 200 characters; spaces around it are dropped.
func CleanName(name string) (string, error) {
	if hasControl(name) || !utf8.ValidString(name) {
		return "", fmt.Errorf("%w: the name holds a line break or another control character", ErrInvalidAddress)
	}
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > maxName {
		return "", fmt.Errorf("%w: the name is longer than %d characters", ErrInvalidAddress, maxName)
	}
	return name, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}

// isDotAtom reports whether s is a dot-atom (RFC 5322 3.2.3), non-ASCII
// letters allowed.
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		if r == '.' || r >= utf8.RuneSelf && unicode.IsPrint(r) && !unicode.IsSpace(r) {
			continue
		}
		if r >= utf8.RuneSelf || !strings.ContainsRune("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~", r) {
			return false
		}
	}
	return true
}

// validDomain accepts host names with at least one dot (example.org,
// correo.example.es, münchen.de) and address literals ([192.0.2.1]).
func validDomain(d string) bool {
	if strings.HasPrefix(d, "[") {
		return strings.HasSuffix(d, "]") && len(d) > 2 && !strings.ContainsAny(d[1:len(d)-1], "[]\\ ")
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if !(r == '-' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) {
				return false
			}
		}
	}
	return true
}
