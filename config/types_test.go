package config

import (
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/channels/mastodon"
	"github.com/syndicate-daemon/syndicate/channels/telegram"
)

// testTypes are the channel types the command passes in.
var testTypes = []ChannelType{
	NewChannelType("mastodon", mastodon.Decode),
	NewChannelType("telegram", telegram.Decode),
}

func mastodonOf(t *testing.T, ch Channel) *mastodon.Settings {
	t.Helper()
	s, ok := ch.Settings.(*mastodon.Settings)
	if !ok {
		t.Fatalf("channel %q: settings %T, want mastodon's", ch.ID, ch.Settings)
	}
	return s
}

func telegramOf(t *testing.T, ch Channel) *telegram.Settings {
	t.Helper()
	s, ok := ch.Settings.(*telegram.Settings)
	if !ok {
		t.Fatalf("channel %q: settings %T, want telegram's", ch.ID, ch.Settings)
	}
	return s
}

// A key of one type in a channel of another is named as such.
func TestKeysOfAnotherType(t *testing.T) {
	tests := []struct{ typ, key, want string }{
		{"telegram", "content_warnings", "not a key of a telegram channel"},
		{"telegram", "min_summary", "not a key of a telegram channel"},
		{"telegram", "rate_limits", "not a key of a telegram channel"},
		{"telegram", "access_token_file", "not a key of a telegram channel"},
		{"mastodon", "chat", "not a key of a mastodon channel"},
		{"mastodon", "pacing", "not a key of a mastodon channel"},
		{"mastodon", "smtp", "not a key of a mastodon channel"},
		{"email", "bot_token", "not a key of an email channel"},
		{"telegram", "visibilty", `unknown key`},
	}
	for _, tt := range tests {
		yml := "channels: [{id: c, type: " + tt.typ + ", " + tt.key + ": 1}]\n"
		if _, err := Parse([]byte(yml), Options{Channels: testTypes}); err == nil || !strings.Contains(err.Error(), "channels[0]."+tt.key+": "+tt.want) {
			t.Errorf("%s in a %s channel: %v", tt.key, tt.typ, err)
		}
	}
}

// A type the command did not pass in is unknown, and the message lists those it did.
func TestChannelTypesComeFromOptions(t *testing.T) {
	yml := "feeds: [{id: f, url: \"https://example.org/feed\", to: [c]}]\nchannels: [{id: c, type: telegram, bot_token: t, chat: \"@news_en\"}]\n"
	if _, err := Parse([]byte(yml), Options{Channels: testTypes}); err != nil {
		t.Fatal(err)
	}
	_, err := Parse([]byte(yml), Options{Channels: testTypes[:1]})
	if err == nil || !strings.Contains(err.Error(), `channels[0].type: must be one of mastodon, email (got "telegram")`) {
		t.Errorf("telegram without its type: %v", err)
	}
	_, err = Parse([]byte(strings.Replace(yml, "type: telegram, ", "", 1)), Options{Channels: testTypes})
	if err == nil || !strings.Contains(err.Error(), "channels[0].type: required (mastodon, telegram or email)") {
		t.Errorf("no type: %v", err)
	}
}
