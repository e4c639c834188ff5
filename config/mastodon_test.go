package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// mastodonDefaults completes m with the defaults of the keys the tests
// around it leave out.
func mastodonDefaults(m *Mastodon) *Mastodon {
	m.Image, m.MaxImageBytes, m.MediaTimeout = true, 10<<20, Duration(time.Minute)
	m.RateLimits.RequestsPer5m, m.RateLimits.MediaPer30m, m.RateLimits.StatusesPer3h = 300, 30, 300
	return m
}

func TestMastodonDefaults(t *testing.T) {
	cfg, err := Parse([]byte(minimal), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := mastodonDefaults(&Mastodon{Server: "https://mastodon.example", AccessToken: "token", Visibility: "public", MaxHashtags: 4})
	if got := cfg.Channels[0].Mastodon; !reflect.DeepEqual(got, want) {
		t.Errorf("mastodon defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestMastodonKeys(t *testing.T) {
	cfg, err := Parse([]byte(minimal+`    hashtags:
      Mass strike: General strike
      Statements: ""
    content_warnings: {Violence: "violence", "War in Ukraine": "war"}
    image: false
    max_image_bytes: 5000000
    media_timeout: 90s
    rate_limits: {requests_per_5m: 1500, media_per_30m: 0, statuses_per_3h: 100}
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := cfg.Channels[0].Mastodon
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
}

func TestMastodonKeysInvalid(t *testing.T) {
	tests := []struct {
		name, yml, want string
	}{
		{"empty content warning", `    content_warnings: {Violence: " "}`, `channels[0].content_warnings.Violence: required`},
		{"empty category", `    hashtags: {"": x}`, `channels[0].hashtags: a category name is empty`},
		{"hashtags not a mapping", `    hashtags: [a, b]`, `channels[0].hashtags: must be a mapping`},
		{"no image bytes", `    max_image_bytes: 0`, `channels[0].max_image_bytes: must be at least 1 (got 0)`},
		{"no media timeout", `    media_timeout: 0s`, `channels[0].media_timeout: must be more than 0s`},
		{"negative rate limit", `    rate_limits: {media_per_30m: -1}`, `channels[0].rate_limits.media_per_30m: must be at least 0 (got -1)`},
		{"unknown rate limit", `    rate_limits: {uploads: 3}`, `channels[0].rate_limits.uploads: unknown key`},
		{"image not a boolean", `    image: maybe`, `channels[0].image:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal+tt.yml+"\n"), Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMastodonKeysNotInOtherChannels(t *testing.T) {
	// hashtags is a key of telegram channels too.
	for _, key := range []string{"content_warnings", "image", "max_image_bytes", "media_timeout", "rate_limits"} {
		yml := "channels: [{id: c, type: telegram, " + key + ": 1}]\n"
		if _, err := Parse([]byte(yml), Options{}); err == nil || !strings.Contains(err.Error(), "channels[0]."+key+": not a key of a telegram channel") {
			t.Errorf("%s in a telegram channel: %v", key, err)
		}
	}
}
