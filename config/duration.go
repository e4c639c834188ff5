package config

import "github.com/syndicate-daemon/syndicate/schema"

// Duration is a non-negative duration written as "30s"; see schema.Duration.
type Duration = schema.Duration

// ParseDuration parses a Go duration string and refuses negative values.
func ParseDuration(s string) (Duration, error) { return schema.ParseDuration(s) }
