package config

import "github.com/syndicate-daemon/syndicate/schema"

// Secret holds a credential that never prints; see schema.Secret.
type Secret = schema.Secret

func hasControl(s string) bool { return schema.HasControl(s) }
