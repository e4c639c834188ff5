package bluesky

import (
	"reflect"
	"testing"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/schema"
)

const minimalKeys = "handle: emancipation.bsky.social\napp_password: abcd-efgh-ijkl-mnop\n"

func TestDecodeDefaults(t *testing.T) {
	got, err := schema.DecodeString(minimalKeys, Decode)
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultSettings()
	want.Handle, want.AppPassword = "emancipation.bsky.social", "abcd-efgh-ijkl-mnop"
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", *got, want)
	}
	if want.Service != "https://bsky.social" || want.Embed != "card" || want.Language != "" {
		t.Errorf("DefaultSettings() = %+v, not the documented defaults", want)
	}
}

func TestDecodeKeys(t *testing.T) {
	got, err := schema.DecodeString(`handle: "@emancipation.bsky.social"
app_password: x
service: http://127.0.0.1:2583/
language: es
embed: image
max_hashtags: 2
hashtags: {Mass strike: General strike}
min_summary: 50
max_summary: 120
max_image_bytes: 5000000
`, Decode)
	if err != nil {
		t.Fatal(err)
	}
	if got.Handle != "emancipation.bsky.social" || got.Service != "http://127.0.0.1:2583" || got.Language != "es" || got.Embed != EmbedImage ||
		got.MaxHashtags != 2 || got.Hashtags["Mass strike"] != "General strike" || got.MinSummary != 50 || got.MaxSummary != 120 || got.MaxImageBytes != 5000000 {
		t.Errorf("decoded %+v", *got)
	}
}

func TestDecodeKeysInvalid(t *testing.T) {
	tests := []struct{ yml, want string }{
		{"app_password: x", "handle: required"},
		{"handle: emancipation\napp_password: x", `handle: must be a handle such as emancipation.bsky.social (got "emancipation")`},
		{"handle: a.b", "app_password: required"},
		{minimalKeys + "service: bsky.social", `service: must be an absolute http or https URL (got "bsky.social")`},
		{minimalKeys + "embed: video", `embed: must be one of card, image, none (got "video")`},
		{minimalKeys + "language: english", `language: must be a language tag such as en, es or pt-BR (got "english")`},
		{minimalKeys + "hashtags: {Year: \"2022\"}", `hashtags.Year: "2022" makes no hashtag: it must hold a letter (or be empty, to drop the category)`},
		{minimalKeys + "min_summary: 300\nmax_summary: 100", "min_summary: must not be more than max_summary (100)"},
		{minimalKeys + "visibility: public", `visibility: unknown key`},
		{minimalKeys + "app_pasword: x", `app_pasword: unknown key (did you mean "app_password"?)`},
	}
	for _, tt := range tests {
		_, err := schema.DecodeString(tt.yml+"\n", Decode)
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: error %v, want %q", tt.yml, err, tt.want)
		}
	}
}

// Bluesky shows no edits: the settings say so to config, which refuses
// on_update: edit at load; Build declares no editor and a send safe to repeat.
func TestBuildDeclaresCapabilities(t *testing.T) {
	s := DefaultSettings()
	s.Handle, s.AppPassword = "a.bsky.social", "x"
	b, err := Build(channels.Deps{ID: "b"}, &s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Edits() || b.Editor != nil || b.Resolver != nil || b.TextChecker == nil || b.Checker == nil || !b.Resendable || b.Channel == nil {
		t.Errorf("built %+v, settings edit: %v", b, s.Edits())
	}
}
