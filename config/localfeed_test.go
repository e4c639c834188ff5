package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLocalFeedFiles: a feed may be a file on the daemon's host, given as
// a path (relative to the configuration file) or a file: URL; it becomes
// an absolute file:///… URL, and a file that is not there is a warning.
func TestLocalFeedFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "site"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "site", "feed.xml"), []byte("<rss/>"), 0o644); err != nil {
		t.Fatal(err)
	}
	abs := filepath.Join(dir, "site", "feed.xml")
	for _, tc := range []struct {
		url, want, warning string
	}{
		{"site/feed.xml", "file://" + abs, ""},
		{"./site/feed.xml", "file://" + abs, ""},
		{"file:site/feed.xml", "file://" + abs, ""},
		{abs, "file://" + abs, ""},
		{"file://" + abs, "file://" + abs, ""},
		{"file://localhost" + abs, "file://" + abs, ""},
		{"site/missing.xml", "file://" + filepath.Join(dir, "site", "missing.xml"), "feeds[0].url: no file at " + filepath.Join(dir, "site", "missing.xml")},
		{"site", "file://" + filepath.Join(dir, "site"), "is not a regular file"},
		{"https://example.org/feed", "https://example.org/feed", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			yml := "feeds: [{id: f, url: \"" + tc.url + "\", to: [t]}]\n" +
				"channels: [{id: t, type: telegram, bot_token: \"1:x\", chat: \"@channel\"}]\n"
			path := filepath.Join(dir, "syndicate.yaml")
			if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Feeds[0].URL; got != tc.want {
				t.Errorf("url %q became %q, want %q", tc.url, got, tc.want)
			}
			warnings := strings.Join(cfg.Warnings, "\n")
			if (tc.warning == "") != !strings.Contains(warnings, "feeds[0].url") || !strings.Contains(warnings, tc.warning) {
				t.Errorf("warnings %q, want %q", warnings, tc.warning)
			}
		})
	}
}

// TestFeedURLMistakes: what is neither a web URL nor a path is refused,
// naming the key; an unexpanded variable is not taken for a path.
func TestFeedURLMistakes(t *testing.T) {
	for _, u := range []string{"ftp://example.org/feed", "${FEED_URL}", "file://example.org/feed.xml", "htps://example.org/feed"} {
		yml := "feeds: [{id: f, url: \"" + u + "\", to: [t]}]\n" +
			"channels: [{id: t, type: telegram, bot_token: \"1:x\", chat: \"@channel\"}]\n"
		_, err := Parse([]byte(yml), Options{BaseDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "feeds[0].url: must be an absolute http or https URL, or a local file") {
			t.Errorf("%s: got %v", u, err)
		}
	}
}
