package channels

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCutAtWord(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int
		want  string
	}{
		{"fits", "short text", 20, "short text"},
		{"exact", "12345", 5, "12345"},
		{"at word", "the quick brown fox jumps", 16, "the quick brown…"},
		{"no space before ellipsis", "the quick brown fox", 11, "the quick…"},
		{"drops trailing comma", "one, two, three", 9, "one, two…"},
		{"long first word cut by grapheme", "Antidisestablishmentarianism", 6, "Antid…"},
		{"accents are one grapheme", "Kazajistán huelga", 11, "Kazajistán…"},
		{"flag is one grapheme", "🇰🇿🇰🇿🇰🇿 strike", 5, "🇰🇿🇰🇿🇰🇿…"},
		{"family emoji never split", "👨‍👩‍👧‍👦👨‍👩‍👧‍👦👨‍👩‍👧‍👦", 2, "👨‍👩‍👧‍👦…"},
		{"only the ellipsis fits", "word", 1, "…"},
		{"nothing fits", "word", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CutAtWord(tt.in, tt.limit, Graphemes)
			if got != tt.want {
				t.Errorf("CutAtWord(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
			}
		})
	}
}

func TestCutAtWordUTF16(t *testing.T) {
	// 😀 is two UTF-16 units: the cut must not split the pair.
	got := CutAtWord("😀😀😀", 4, UTF16Len)
	if got != "😀…" {
		t.Fatalf("got %q", got)
	}
}

func FuzzCutAtWord(f *testing.F) {
	for _, s := range []string{"the quick brown fox", "Kazajistán", "👨‍👩‍👧‍👦 family", "a\u0301b\u0301c", ""} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if !utf8.ValidString(s) || limit < 0 || limit > 1000 {
			return
		}
		for _, count := range []func(string) int{Graphemes, UTF16Len} {
			got := CutAtWord(s, limit, count)
			if count(got) > limit {
				t.Fatalf("CutAtWord(%q, %d) = %q: over the limit", s, limit, got)
			}
			if !utf8.ValidString(got) {
				t.Fatalf("invalid UTF-8 %q", got)
			}
			if got != s && got != "" && !strings.HasSuffix(got, Ellipsis) {
				t.Fatalf("cut text %q has no ellipsis", got)
			}
		}
	})
}

func TestRedactError(t *testing.T) {
	err := RedactError(errString(`Post "https://api.telegram.org/bot123:SECRET/sendMessage": dial tcp: refused`), "123:SECRET")
	if strings.Contains(err.Error(), "SECRET") {
		t.Fatalf("secret leaked: %v", err)
	}
	if !strings.Contains(err.Error(), "/bot[redacted]/sendMessage") {
		t.Fatalf("unexpected text: %v", err)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestLanguageCode(t *testing.T) {
	for tag, want := range map[string]string{
		"es": "es", "es-AR": "es", "ES_es": "es", " pt-BR ": "pt", "ast": "ast", "en-US-x-twain": "en",
		"": "", "e": "", "english": "", "zh-Hant": "zh", "1a": "", "é": "",
	} {
		if got := LanguageCode(tag); got != want {
			t.Errorf("LanguageCode(%q) = %q, want %q", tag, got, want)
		}
	}
}
