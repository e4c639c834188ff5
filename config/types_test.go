package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/channels/mastodon"
	"github.com/syndicate-daemon/syndicate/channels/telegram"
	"github.com/syndicate-daemon/syndicate/schema"
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

// noEdits is a channel type that cannot edit its posts.
type noEdits struct{ Handle string }

func (*noEdits) Validate(v *schema.Checker) { v.Required("handle", "x") }
func (*noEdits) Edits() bool                { return false }

func decodeNoEdits(d *schema.Decoder, o *schema.Object) *noEdits {
	s := &noEdits{}
	d.Str(o, "handle", &s.Handle)
	return s
}

// on_update: edit is refused at load, naming the key, for a type that
// cannot edit; ignore is accepted.
func TestOnUpdateEditNeedsAnEditingType(t *testing.T) {
	types := append(slices.Clone(testTypes), NewChannelType("sky", decodeNoEdits))
	yml := "feeds: [{id: f, url: \"https://example.org/feed\", to: [c]}]\nchannels: [{id: c, type: sky, handle: h, on_update: %s}]\n"
	if _, err := Parse(fmt.Appendf(nil, yml, "ignore"), Options{Channels: types}); err != nil {
		t.Fatal(err)
	}
	_, err := Parse(fmt.Appendf(nil, yml, "edit"), Options{Channels: types})
	if want := `channels[0].on_update: a sky channel cannot edit its posts: must be ignore (got "edit")`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	_, err = Parse(fmt.Appendf(nil, strings.Replace(yml, "type: sky, handle: h", "type: telegram, bot_token: t, chat: \"@news_en\"", 1), "edit"), Options{Channels: types})
	if err != nil {
		t.Errorf("telegram edits: %v", err)
	}
}
