package storetest

import (
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var metaTests = []subtest{
	{"FirstWriterWins", testEnsureMetaFirstWins},
	{"EmptyValue", testEnsureMetaEmpty},
	{"Values", testEnsureMetaValues},
}

func ensureMeta(t *testing.T, s syndicate.Store, key, value string) string {
	t.Helper()
	got, err := s.EnsureMeta(t.Context(), key, value)
	if err != nil {
		t.Fatalf("EnsureMeta(%q): %v", key, err)
	}
	return got
}

func testEnsureMetaFirstWins(t *testing.T, s syndicate.Store) {
	if got := ensureMeta(t, s, "secret", "first"); got != "first" {
		t.Errorf("EnsureMeta of a new key = %q, want the value given, %q", got, "first")
	}
	for _, v := range []string{"second", "", "first"} {
		if got := ensureMeta(t, s, "secret", v); got != "first" {
			t.Errorf("EnsureMeta(secret, %q) = %q, want the first value", v, got)
		}
	}
	// Keys are independent, and compared exactly.
	for _, key := range []string{"other", "Secret", "secret ", "secret/2"} {
		if got := ensureMeta(t, s, key, "value of "+key); got != "value of "+key {
			t.Errorf("EnsureMeta(%q) = %q, want its own value", key, got)
		}
	}
	if got := ensureMeta(t, s, "secret", "third"); got != "first" {
		t.Errorf("EnsureMeta(secret) after other keys = %q, want the first value", got)
	}
}

// An empty value is a value: it is kept, and later writers get it.
func testEnsureMetaEmpty(t *testing.T, s syndicate.Store) {
	if got := ensureMeta(t, s, "k", ""); got != "" {
		t.Errorf("EnsureMeta(k, \"\") = %q, want \"\"", got)
	}
	if got := ensureMeta(t, s, "k", "later"); got != "" {
		t.Errorf("EnsureMeta(k, later) after an empty value = %q, want \"\"", got)
	}
	// An empty key is a key like any other.
	if got := ensureMeta(t, s, "", "v"); got != "v" {
		t.Errorf("EnsureMeta(\"\", v) = %q, want v", got)
	}
}

// Values come back byte for byte: generated secrets, multi-line text.
func testEnsureMetaValues(t *testing.T, s syndicate.Store) {
	for key, v := range map[string]string{
		"hex":       "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
		"base64":    "q2+/w8Tl5vfo6err7O3u7/Dx8vP09fb3+Pn6+/z9/v8=",
		"multiline": "line one\nline two\r\n\ttabbed — “quoted” ✊\n",
		"long":      strings.Repeat("0123456789abcdef", 4096),
	} {
		if got := ensureMeta(t, s, key, v); got != v {
			t.Errorf("EnsureMeta(%q) = %q, want %q", key, got, v)
		}
		if got := ensureMeta(t, s, key, "replacement"); got != v {
			t.Errorf("EnsureMeta(%q) again = %q, want %q", key, got, v)
		}
	}
}
