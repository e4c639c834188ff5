package channels

import "strings"

// Redact replaces every non-empty secret in s with "[redacted]".
func Redact(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "[redacted]")
		}
	}
	return s
}

// RedactError returns err with every secret removed from its text. When a
// secret had to be removed, the result does not unwrap to err, whose text
// carries it (a *url.Error holds the full URL): classify err first.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	clean := Redact(text, secrets...)
	if clean == text {
		return err
	}
	return redactedError{text: clean}
}

type redactedError struct{ text string }

func (e redactedError) Error() string { return e.text }
