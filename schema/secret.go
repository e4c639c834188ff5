package schema

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// Secret holds a credential. Every way of printing or encoding it shows
// "[redacted]" (or "" when it is empty); only Value returns the credential.
type Secret string

// Value returns the credential itself.
func (s Secret) Value() string { return string(s) }

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format makes every fmt verb, %#v and %x included, print the redacted form.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s Secret) MarshalYAML() (any, error) { return s.String(), nil }

func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// EnvReference returns NAME when s is exactly "${NAME}", NAME being a valid
// environment variable name.
func EnvReference(s string) (string, bool) {
	if len(s) < 4 || s[:2] != "${" || s[len(s)-1] != '}' {
		return "", false
	}
	name := s[2 : len(s)-1]
	for i, r := range name {
		letter := r == '_' || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return "", false
		}
	}
	return name, true
}

// TrimNewline removes one trailing "\n" or "\r\n", as editors and
// `echo` leave one at the end of a secret file.
func TrimNewline(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// HasControl reports whether s holds a line break or another control
// character, which no token or password can legitimately contain.
func HasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
