package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or hang, that errors are
// Problems that never show a secret, and that what Parse accepts validates.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(minimal))
	f.Add([]byte("x-a: &a {b: 1, <<: *a}\nfeeds: [*a]\n"))
	f.Add([]byte("feeds: [{schedule: \"CRON_TZ=UTC\", to: [a, a]}]\nchannels: [{type: email, smtp: {port: 99999}}]"))

	const secret = "fuzz-secret-value-0123456789"
	lookup := func(string) (string, bool) { return secret, true }
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, missingOK := range []bool{false, true} {
			cfg, err := Parse(data, Options{Channels: testTypes, LookupEnv: lookup, MissingSecretsOK: missingOK})
			if err != nil {
				if cfg != nil {
					t.Fatal("a config came back with an error")
				}
				var probs Problems
				if !errors.As(err, &probs) || len(probs) == 0 {
					t.Fatalf("error is not Problems: %v", err)
				}
				for _, p := range probs {
					if p.Msg == "" {
						t.Fatalf("problem without a message at %q", p.Path)
					}
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error shows a secret: %v", err)
				}
				continue
			}
			if err := cfg.Validate(); err != nil {
				t.Fatalf("Parse accepted what Validate refuses: %v", err)
			}
			out := fmt.Sprintf("%v %+v %#v %v", cfg, *cfg, cfg.Channels, cfg.Warnings)
			for _, ch := range cfg.Channels {
				out += fmt.Sprintf("%+v %+v", ch.Settings, ch.Email)
			}
			if strings.Contains(out, secret) {
				t.Fatalf("output shows a secret: %s", out)
			}
		}
	})
}
