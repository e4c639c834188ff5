package main

import (
	"strings"
	"testing"
)

// The example configuration loads: with its secrets set it passes check,
// and without them check names each missing variable.
func TestExampleConfigLoads(t *testing.T) {
	const example = "../../deploy/example.yaml"
	set := func(k string) (string, bool) { return "a-secret-value-of-some-length", true }
	if r := runCommand(t, []string{"check", "--config", example}, set); r.code != 0 {
		t.Fatalf("check exited %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	r := runCommand(t, []string{"check", "--config", example}, func(string) (string, bool) { return "", false })
	if r.code != 2 {
		t.Fatalf("check without secrets exited %d", r.code)
	}
	for _, name := range []string{"SYNDICATE_ADMIN_TOKEN", "MASTODON_EN_TOKEN", "TELEGRAM_BOT_TOKEN", "SMTP_PASSWORD"} {
		if !strings.Contains(r.stderr, name) {
			t.Errorf("check does not name %s:\n%s", name, r.stderr)
		}
	}
}
