package schema

import (
	"errors"
	"fmt"
	"time"
)

// Duration is a non-negative time.Duration written as "30s", "1h30m".
type Duration time.Duration

// ParseDuration parses a Go duration string and refuses negative values.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("must be a duration like \"30s\" or \"1h30m\" (got %q)", s)
	}
	if d < 0 {
		return 0, errors.New("must not be negative (got " + s + ")")
	}
	return Duration(d), nil
}

// Std returns the value as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
