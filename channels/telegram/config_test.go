package telegram

import (
	"reflect"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/schema"
)

const minimalKeys = "bot_token: x\nchat: \"@news_en\"\n"

func TestDecodeDefaults(t *testing.T) {
	got, err := schema.DecodeString(minimalKeys, Decode)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSettings()
	want.BotToken, want.Chat = "x", "@news_en"
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", *got, want)
	}
	if want.APIURL != "https://api.telegram.org" || want.Mode != "photo" || want.Photo != "auto" || want.MaxHashtags != 4 ||
		want.Pacing != (Pacing{PerMinute: 20, MinInterval: schema.Duration(time.Second)}) {
		t.Errorf("DefaultSettings() = %+v, not the documented defaults", want)
	}
}

func TestDecodeKeys(t *testing.T) {
	got, err := schema.DecodeString(minimalKeys+`mode: text
button: "Leer más"
protect_content: true
silent: true
max_hashtags: 2
hashtags: {Kazakhstan: "#Qazaqstan", Statements: "", "Mass strike": General strike}
pacing: {per_minute: 0, min_interval: 3s}
message_thread_id: 42
api_url: http://127.0.0.1:8081/
`, Decode)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"Kazakhstan": "#Qazaqstan", "Statements": "", "Mass strike": "General strike"}
	if got.Mode != "text" || got.Button != "Leer más" || !got.ProtectContent || !got.Silent || got.MaxHashtags != 2 || !reflect.DeepEqual(got.Hashtags, want) {
		t.Errorf("decoded %+v", *got)
	}
	if got.Pacing != (Pacing{MinInterval: schema.Duration(3 * time.Second)}) || got.MessageThreadID != 42 || got.APIURL != "http://127.0.0.1:8081" {
		t.Errorf("pacing %+v, message_thread_id %d, api_url %q", got.Pacing, got.MessageThreadID, got.APIURL)
	}

	tests := []struct{ yml, want string }{
		{"mode: album", `mode: must be one of photo, preview, text (got "album")`},
		{"max_hashtags: -1", "max_hashtags: must be at least 0 (got -1)"},
		{"hashtags: {Year: \"2022\"}", `hashtags.Year: "2022" makes no hashtag: it must hold a letter (or be empty, for none)`},
		{"hashtags: {\"\": x}", "hashtags: a category name is empty"},
		{"hashtags: [a]", "hashtags: must be a mapping (got a list)"},
		{"button: \"a\\nb\"", "button: must be one line of text, or off"},
		{"protect_content: maybe", `protect_content: must be true or false (got "maybe")`},
		{"pacing: {per_minute: -1}", "pacing.per_minute: must be at least 0 (got -1)"},
		{"pacing: {burst: 3}", "pacing.burst: unknown key"},
		{"max_image_bytes: 5", "max_image_bytes: unknown key"},
	}
	for _, tt := range tests {
		_, err := schema.DecodeString(minimalKeys+tt.yml+"\n", Decode)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: error %v, want %q", tt.yml, err, tt.want)
		}
	}
}

// Build declares what the channel can do, and that it edits is what its
// settings told config at load.
func TestBuildDeclaresCapabilities(t *testing.T) {
	s := testConfig(DefaultAPIURL).Settings
	b, err := Build(channels.Deps{ID: "t"}, &s)
	if err != nil {
		t.Fatal(err)
	}
	// Telegram cannot look a message up: an interrupted send waits for an editor.
	if b.Channel == nil || b.Resolver != nil || b.TextChecker == nil || b.Checker == nil || (b.Editor != nil) != s.Edits() {
		t.Errorf("built %+v; settings say edits: %v", b, s.Edits())
	}
	if b, err := Build(channels.Deps{ID: "t", Template: "{{.Nope"}, &s); err == nil || b.Channel != nil {
		t.Errorf("a bad template built %+v (%v)", b, err)
	}
}
