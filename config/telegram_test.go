package config

import (
	"reflect"
	"strings"
	"testing"
)

// telegramDefaults fills in t the defaults of the telegram keys that t
// leaves at their zero value.
func telegramDefaults(t *Telegram) *Telegram {
	if t.Mode == "" {
		t.Mode = "photo"
	}
	if t.MaxHashtags == 0 {
		t.MaxHashtags = 4
	}
	return t
}

func TestTelegramKeys(t *testing.T) {
	const head = "feeds: [{id: f, url: \"https://example.org/feed\", to: [t]}]\n" +
		"channels:\n  - id: t\n    type: telegram\n    bot_token: x\n    chat: \"@news_en\"\n"
	cfg, err := Parse([]byte(head+`    mode: text
    button: "Leer más"
    protect_content: true
    max_hashtags: 2
    hashtags: {Kazakhstan: "#Qazaqstan", Statements: "", "Mass strike": General strike}
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Channels[0].Telegram
	want := map[string]string{"Kazakhstan": "#Qazaqstan", "Statements": "", "Mass strike": "General strike"}
	if got.Mode != "text" || got.Button != "Leer más" || !got.ProtectContent || got.MaxHashtags != 2 || !reflect.DeepEqual(got.Hashtags, want) {
		t.Errorf("decoded %+v", *got)
	}
	if cfg, err := Parse([]byte(head+"    button: off\n"), Options{}); err != nil || cfg.Channels[0].Telegram.Button != "off" {
		t.Errorf("button: off: %v", err)
	}

	tests := []struct{ yml, want string }{
		{"    mode: album\n", `channels[0].mode: must be one of photo, preview, text (got "album")`},
		{"    max_hashtags: -1\n", "channels[0].max_hashtags: must be at least 0 (got -1)"},
		{"    hashtags: {Year: \"2022\"}\n", `channels[0].hashtags.Year: "2022" makes no hashtag: it must hold a letter`},
		{"    hashtags: {\"\": x}\n", "channels[0].hashtags: a category name is empty"},
		{"    hashtags: [a]\n", "channels[0].hashtags: must be a mapping"},
		{"    button: \"a\\nb\"\n", "channels[0].button: must be one line of text, or off"},
		{"    protect_content: maybe\n", "channels[0].protect_content:"},
		{"    max_image_bytes: 5\n", "channels[0].max_image_bytes: not a key of a telegram channel"},
	}
	for _, tt := range tests {
		_, err := Parse([]byte(head+tt.yml), Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want one containing %q", tt.yml, err, tt.want)
		}
	}
}
