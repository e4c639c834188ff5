package mastodon

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/schema"
)

const minimalKeys = "server: https://mastodon.example/\naccess_token: token\n"

func TestDecodeDefaults(t *testing.T) {
	got, err := schema.DecodeString(minimalKeys, Decode)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSettings()
	want.Server, want.AccessToken = "https://mastodon.example", "token"
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", *got, want)
	}
	if want.Visibility != "public" || want.MaxHashtags != 4 || !want.Image || want.MaxImageBytes != 10<<20 ||
		want.MediaTimeout.Std() != time.Minute || want.RateLimits != (Pacing{300, 30, 300}) {
		t.Errorf("DefaultSettings() = %+v, not the documented defaults", want)
	}
}

func TestDecodeKeys(t *testing.T) {
	m, err := schema.DecodeString(minimalKeys+`hashtags:
  Mass strike: General strike
  Statements: ""
content_warnings: {Violence: "violence", "War in Ukraine": "war"}
image: false
max_image_bytes: 5000000
media_timeout: 90s
rate_limits: {requests_per_5m: 1500, media_per_30m: 0, statuses_per_3h: 100}
visibility: unlisted
max_characters: 480
`, Decode)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(m.Hashtags, map[string]string{"Mass strike": "General strike", "Statements": ""}) {
		t.Errorf("hashtags %q", m.Hashtags)
	}
	if !reflect.DeepEqual(m.ContentWarnings, map[string]string{"Violence": "violence", "War in Ukraine": "war"}) {
		t.Errorf("content_warnings %q", m.ContentWarnings)
	}
	if m.Image || m.MaxImageBytes != 5000000 || m.MediaTimeout.Std() != 90*time.Second {
		t.Errorf("image %v, max_image_bytes %d, media_timeout %v", m.Image, m.MaxImageBytes, m.MediaTimeout)
	}
	if r := m.RateLimits; r.RequestsPer5m != 1500 || r.MediaPer30m != 0 || r.StatusesPer3h != 100 {
		t.Errorf("rate_limits %+v", r)
	}
	if m.Visibility != "unlisted" || m.MaxCharacters != 480 {
		t.Errorf("visibility %q, max_characters %d", m.Visibility, m.MaxCharacters)
	}
}

func TestDecodeKeysInvalid(t *testing.T) {
	tests := []struct {
		name, yml, want string
	}{
		{"no server", "access_token: t", `server: required`},
		{"server not a URL", "server: mastodon.social\naccess_token: t", `server: must be an absolute http or https URL (got "mastodon.social")`},
		{"no token", "server: https://m.example", `access_token: required`},
		{"direct visibility", minimalKeys + "visibility: direct", `visibility: must be one of public, unlisted, private (got "direct")`},
		{"empty content warning", minimalKeys + `content_warnings: {Violence: " "}`, `content_warnings.Violence: required`},
		{"empty category", minimalKeys + `hashtags: {"": x}`, `hashtags: a category name is empty`},
		{"hashtag without a letter", minimalKeys + `hashtags: {Year: "2022"}`, `hashtags.Year: "2022" makes no hashtag: it must hold a letter (or be empty, to drop the category)`},
		{"hashtags not a mapping", minimalKeys + `hashtags: [a, b]`, `hashtags: must be a mapping (got a list)`},
		{"no image bytes", minimalKeys + `max_image_bytes: 0`, `max_image_bytes: must be at least 1 (got 0)`},
		{"no media timeout", minimalKeys + `media_timeout: 0s`, `media_timeout: must be more than 0s (got 0s)`},
		{"negative rate limit", minimalKeys + `rate_limits: {media_per_30m: -1}`, `rate_limits.media_per_30m: must be at least 0 (got -1)`},
		{"unknown rate limit", minimalKeys + `rate_limits: {uploads: 3}`, `rate_limits.uploads: unknown key`},
		{"misspelt key", minimalKeys + `visibilty: public`, `visibilty: unknown key (did you mean "visibility"?)`},
		{"image not a boolean", minimalKeys + `image: maybe`, `image: must be true or false (got "maybe")`},
		{"floor over cap", minimalKeys + "min_summary: 200\nmax_summary: 100", `min_summary: must not be more than max_summary (100)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := schema.DecodeString(tt.yml+"\n", Decode)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestAccessTokenNeverPrinted(t *testing.T) {
	s, err := schema.DecodeString("server: https://m.example\naccess_token: s3cr3t-token\n", Decode)
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmtAll(*s), fmtAll(testConfig("m", "https://m.example"))} {
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, token) {
			t.Errorf("a secret printed: %s", out)
		}
	}
}

func fmtAll(v any) string { return fmt.Sprintf("%v %+v %#v", v, v, v) }

// Build declares what the channel can do, and that it edits is what its
// settings told config at load.
func TestBuildDeclaresCapabilities(t *testing.T) {
	cfg := testConfig("m", "https://m.example")
	b, err := Build(channels.Deps{ID: "m"}, &cfg.Settings)
	if err != nil {
		t.Fatal(err)
	}
	if b.Channel == nil || b.Resolver == nil || b.TextChecker == nil || b.Checker == nil || (b.Editor != nil) != cfg.Edits() {
		t.Errorf("built %+v; settings say edits: %v", b, cfg.Edits())
	}
	cfg.Template = "{{.Nope"
	if b, err := Build(channels.Deps{ID: "m", Template: cfg.Template}, &cfg.Settings); err == nil || b.Channel != nil {
		t.Errorf("a bad template built %+v (%v)", b, err)
	}
}
