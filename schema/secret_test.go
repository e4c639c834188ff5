package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestSecretNeverPrints(t *testing.T) {
	const token = "s3cr3t-token-value"
	s := Secret(token)
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("start", "token", s)
	js, err := json.Marshal(struct{ T Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	yml, _ := s.MarshalYAML()
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", s), "%s": fmt.Sprintf("%s", s), "%q": fmt.Sprintf("%q", s),
		"%#v": fmt.Sprintf("%#v", s), "%x": fmt.Sprintf("%x", s), "%+v struct": fmt.Sprintf("%+v", struct{ T Secret }{s}),
		"json": string(js), "yaml": fmt.Sprint(yml), "slog": logged.String(),
	}
	for how, out := range outputs {
		if strings.Contains(out, token) || !strings.Contains(out, redacted) {
			t.Errorf("%s printed %q", how, out)
		}
	}
	if s.Value() != token {
		t.Errorf("Value() = %q", s.Value())
	}
	if got := fmt.Sprint(Secret("")); got != "" {
		t.Errorf("an empty secret prints %q, want nothing", got)
	}
}

func TestEnvReference(t *testing.T) {
	for in, want := range map[string]string{
		"${TOKEN}": "TOKEN", "${_A1}": "_A1", "${1A}": "", "${}": "", "$TOKEN": "", "${A-B}": "", "x${A}": "",
	} {
		got, ok := EnvReference(in)
		if got != want || ok != (want != "") {
			t.Errorf("EnvReference(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestTrimNewlineAndHasControl(t *testing.T) {
	for in, want := range map[string]string{"a\n": "a", "a\r\n": "a", "a\n\n": "a\n", "a": "a", "": ""} {
		if got := string(TrimNewline([]byte(in))); got != want {
			t.Errorf("TrimNewline(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]bool{"token": false, "tok\nen": true, "tok\ten": true, "tok\x7fen": true, "señal": false} {
		if got := HasControl(in); got != want {
			t.Errorf("HasControl(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	if d, err := ParseDuration("1h30m"); err != nil || d.Std() != 90*time.Minute {
		t.Errorf("1h30m: %v, %v", d, err)
	}
	for _, bad := range []string{"-1s", "ten", "", "30"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	var d Duration
	if err := d.UnmarshalText([]byte("45s")); err != nil || d.String() != "45s" {
		t.Errorf("UnmarshalText(45s) = %v, %v", d, err)
	}
}
