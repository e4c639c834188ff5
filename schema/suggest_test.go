package schema

import "testing"

func TestSuggest(t *testing.T) {
	known := []string{"schedule", "flood_limit", "to", "timeout", "max_bytes"}
	for unknown, want := range map[string]string{
		"scheduel":    "schedule",
		"Schedule":    "schedule",
		"shedule":     "schedule",
		"floodLimit":  "flood_limit",
		"flood-limit": "flood_limit",
		"too":         "to",
		"timeuot":     "timeout",
		"maxbytes":    "max_bytes",
		"colour":      "",
		"t":           "to",
		"x":           "",
	} {
		if got := Suggest(unknown, known); got != want {
			t.Errorf("Suggest(%q) = %q, want %q", unknown, got, want)
		}
	}
}
