package config

import (
	"strings"
	"testing"
)

func TestMastodonSummaryKeys(t *testing.T) {
	cfg, err := Parse([]byte(minimal), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if m := mastodonOf(t, cfg.Channels[0]); m.MinSummary != 0 || m.MaxSummary != 0 {
		t.Errorf("min_summary %d, max_summary %d by default, want 0 (the channel's defaults)", m.MinSummary, m.MaxSummary)
	}
	cfg, err = Parse([]byte(minimal+"    min_summary: 80\n    max_summary: 250\n"), Options{Channels: testTypes})
	if err != nil {
		t.Fatal(err)
	}
	if m := mastodonOf(t, cfg.Channels[0]); m.MinSummary != 80 || m.MaxSummary != 250 {
		t.Errorf("min_summary %d, max_summary %d, want 80 and 250", m.MinSummary, m.MaxSummary)
	}
	for _, yml := range []string{"    min_summary: 400\n", "    max_summary: 50\n", "    min_summary: 300\n    max_summary: 300\n"} {
		if _, err := Parse([]byte(minimal+yml), Options{Channels: testTypes}); err != nil {
			t.Errorf("%q: %v", yml, err)
		}
	}
}

func TestMastodonSummaryKeysInvalid(t *testing.T) {
	tests := []struct {
		name, yml, want string
	}{
		{"negative floor", "    min_summary: -1\n", "channels[0].min_summary: must be at least 0 (got -1)"},
		{"negative cap", "    max_summary: -5\n", "channels[0].max_summary: must be at least 0 (got -5)"},
		{"floor over cap", "    min_summary: 200\n    max_summary: 150\n", "channels[0].min_summary: must not be more than max_summary (150)"},
		{"not a number", "    max_summary: long\n", "channels[0].max_summary:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(minimal+tt.yml), Options{Channels: testTypes})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestMastodonSummaryKeysNotInOtherChannels(t *testing.T) {
	for _, key := range []string{"min_summary", "max_summary"} {
		yml := "channels: [{id: c, type: telegram, " + key + ": 1}]\n"
		if _, err := Parse([]byte(yml), Options{Channels: testTypes}); err == nil || !strings.Contains(err.Error(), "channels[0]."+key+": not a key of a telegram channel") {
			t.Errorf("%s in a telegram channel: %v", key, err)
		}
	}
}
