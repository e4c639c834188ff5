package config

import "github.com/syndicate-daemon/syndicate/schema"

// Secret holds a credential that never prints; see schema.Secret.
type Secret = schema.Secret

func envReference(s string) (string, bool) { return schema.EnvReference(s) }

func trimNewline(b []byte) []byte { return schema.TrimNewline(b) }

func hasControl(s string) bool { return schema.HasControl(s) }
