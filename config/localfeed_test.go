package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
			cfg, err := Load(path, Options{Channels: testTypes})
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
		_, err := Parse([]byte(yml), Options{Channels: testTypes, BaseDir: t.TempDir()})
		if err == nil || !strings.Contains(err.Error(), "feeds[0].url: must be an absolute http or https URL, or a local file") {
			t.Errorf("%s: got %v", u, err)
		}
	}
}

// TestReviewAndDashboardKeys: review on a feed and on a channel, and the
// dashboard's session lifetime with its default.
func TestReviewAndDashboardKeys(t *testing.T) {
	yml := "feeds: [{id: f, url: \"https://example.org/feed\", to: [t], review: true}]\n" +
		"channels: [{id: t, type: telegram, bot_token: \"1:x\", chat: \"@channel\", review: true}]\n"
	cfg, err := Parse([]byte(yml), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Feeds[0].Review || !cfg.Channels[0].Review {
		t.Fatalf("review not read: feed %v, channel %v", cfg.Feeds[0].Review, cfg.Channels[0].Review)
	}
	if got := cfg.Dashboard.SessionLifetime.Std(); got != 12*time.Hour {
		t.Fatalf("default session lifetime %v, want 12h", got)
	}
	cfg, err = Parse([]byte(yml+"dashboard: {session_lifetime: 30m}\n"), Options{Channels: testTypes})
	if err != nil || cfg.Dashboard.SessionLifetime.Std() != 30*time.Minute {
		t.Fatalf("session_lifetime 30m: %v, %v", cfg, err)
	}
	for _, bad := range []string{"dashboard: {session_lifetime: -1h}\n", "dashboard: {session_lifetme: 1h}\n"} {
		if _, err := Parse([]byte(yml+bad), Options{Channels: testTypes}); err == nil || !strings.Contains(err.Error(), "dashboard.session_lifet") {
			t.Errorf("%q: got %v, want an error naming the key", bad, err)
		}
	}
}
