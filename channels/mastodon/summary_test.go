package mastodon

import (
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/schema"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// The order in which a post that does not fit loses its parts: the summary
// shortened down to min_summary, then hashtags (last first), then the
// summary, then the title shortened; the link never.
func TestRenderFitOrder(t *testing.T) {
	const link = "https://en.communia.blog/protests-in-kazakhstan-5-clues"
	words := func(n int) string { return strings.TrimSpace(strings.Repeat("strike ", n)) }
	// "strike" k times, cut: 7k characters with the ellipsis.
	summary := words(10)                                                                       // 69 characters
	const sentences = "First sentence is here. Second sentence is a little longer. Third one." // 23, 59, 70
	tags := []string{"Mass strike", "Kazajistán"}                                              // #MassStrike #Kazajistán: 11 + 1 + 11
	tests := []struct {
		name       string
		article    syndicate.Article
		floor, cap int // min_summary and max_summary; 0 for the default
		limit      int
		want       string
	}{
		{
			name:    "summary shortened to the floor before a hashtag is dropped",
			article: syndicate.Article{Title: "T", Summary: summary, Link: link, Categories: tags},
			floor:   20, limit: 1 + 2 + 14 + 2 + 23 + 2 + 23,
			want: "T\n\nstrike strike…\n\n" + link + "\n\n#MassStrike #Kazajistán",
		},
		{
			name:    "summary given the room left above the floor",
			article: syndicate.Article{Title: "T", Summary: summary, Link: link, Categories: tags},
			floor:   20, limit: 1 + 2 + 27 + 2 + 23 + 2 + 23,
			want: "T\n\nstrike strike strike…\n\n" + link + "\n\n#MassStrike #Kazajistán",
		},
		{
			name:    "below the floor, the last hashtag dropped and its room given to the summary",
			article: syndicate.Article{Title: "T", Summary: summary, Link: link, Categories: tags},
			floor:   20, limit: 1 + 2 + 14 + 2 + 23 + 2 + 23 - 1,
			want: "T\n\nstrike strike strike…\n\n" + link + "\n\n#MassStrike",
		},
		{
			name:    "then every hashtag dropped",
			article: syndicate.Article{Title: "T", Summary: summary, Link: link, Categories: tags},
			floor:   20, limit: 1 + 2 + 14 + 2 + 23 + 2 + 11 - 1,
			want: "T\n\nstrike strike strike…\n\n" + link,
		},
		{
			name:    "then the summary dropped, the hashtags that fit without it kept",
			article: syndicate.Article{Title: "T", Summary: summary, Link: link, Categories: tags},
			floor:   20, limit: 1 + 2 + 14 + 2 + 23 - 1,
			want: "T\n\n" + link + "\n\n#MassStrike",
		},
		{
			name:    "the summary dropped, not cut below the floor",
			article: syndicate.Article{Title: "T", Summary: summary, Link: link},
			floor:   20, limit: 1 + 2 + 14 + 2 + 23 - 1,
			want: "T\n\n" + link,
		},
		{
			name:    "then the title shortened",
			article: syndicate.Article{Title: words(3), Summary: summary, Link: link, Categories: tags},
			floor:   20, limit: 14 + 2 + 23,
			want: "strike strike…\n\n" + link,
		},
		{
			name:    "the link never dropped",
			article: syndicate.Article{Title: words(3), Summary: summary, Link: link, Categories: tags},
			limit:   23,
			want:    link,
		},
		{
			name:    "the default floor of 100 keeps the hashtags",
			article: syndicate.Article{Title: "T", Summary: words(40), Link: link, Categories: tags},
			limit:   1 + 2 + 100 + 2 + 23 + 2 + 23,
			want:    "T\n\n" + words(14) + "…\n\n" + link + "\n\n#MassStrike #Kazajistán",
		},
		{
			name:    "shortened at a sentence end within the budget, with no ellipsis",
			article: syndicate.Article{Title: "T", Summary: sentences, Link: link, Categories: tags[:1]},
			floor:   20, limit: 1 + 2 + 65 + 2 + 23 + 2 + 11,
			want: "T\n\nFirst sentence is here. Second sentence is a little longer.\n\n" + link + "\n\n#MassStrike",
		},
		{
			name:    "shortened at a word when the last sentence end would keep less than the floor",
			article: syndicate.Article{Title: "T", Summary: sentences, Link: link, Categories: tags[:1]},
			floor:   30, limit: 1 + 2 + 40 + 2 + 23 + 2 + 11,
			want: "T\n\nFirst sentence is here. Second sentence…\n\n" + link + "\n\n#MassStrike",
		},
		{
			name:    "capped at max_summary at a sentence end, although the post has room",
			article: syndicate.Article{Title: "T", Summary: sentences, Link: link},
			floor:   20, cap: 60, limit: 500,
			want: "T\n\nFirst sentence is here. Second sentence is a little longer.\n\n" + link,
		},
		{
			name:    "capped at a word when no sentence end keeps the floor",
			article: syndicate.Article{Title: "T", Summary: sentences, Link: link},
			floor:   30, cap: 40, limit: 500,
			want: "T\n\nFirst sentence is here. Second sentence…\n\n" + link,
		},
		{
			name:    "capped at 300 by default",
			article: syndicate.Article{Title: "T", Summary: words(100), Link: link},
			limit:   5000,
			want:    "T\n\n" + words(42) + "…\n\n" + link,
		},
		{
			name:    "a negative max_summary is no cap",
			article: syndicate.Article{Title: "T", Summary: words(100), Link: link},
			cap:     -1, limit: 5000,
			want: "T\n\n" + words(100) + "\n\n" + link,
		},
		{
			name:    "the cap counts a URL as Mastodon does",
			article: syndicate.Article{Title: "T", Summary: "See https://example.org/" + strings.Repeat("a", 60) + " today.", Link: link},
			floor:   20, cap: 34, limit: 500,
			want: "T\n\nSee https://example.org/" + strings.Repeat("a", 60) + " today.\n\n" + link,
		},
		{
			name:    "a sentence end inside a URL is not one",
			article: syndicate.Article{Title: "T", Summary: "See https://example.org/search?Q=strike and on and on and on", Link: link},
			floor:   1, cap: 40, limit: 500,
			want: "T\n\nSee https://example.org/search?Q=strike and on and…\n\n" + link,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newRenderer("order", Config{Settings: Settings{MaxHashtags: 4, Image: true, MinSummary: tt.floor, MaxSummary: tt.cap}})
			if err != nil {
				t.Fatal(err)
			}
			got, err := r.render(tt.article, Limits{MaxCharacters: tt.limit, CharactersPerURL: 23}, mastodonCounting)
			if err != nil {
				t.Fatal(err)
			}
			if got.Text != tt.want {
				t.Errorf("text:\n%q\nwant:\n%q", got.Text, tt.want)
			}
			if got.Length != Length(got.Text) || got.Length > tt.limit {
				t.Errorf("length %d (counted %d), over %d", got.Length, Length(got.Text), tt.limit)
			}
		})
	}
}

func TestCutSummary(t *testing.T) {
	count := func(s string) int { return countChars(s, 23) }
	tests := []struct {
		name     string
		text     string
		n, floor int
		want     string
	}{
		{"fits", "One. Two.", 9, 1, "One. Two."},
		{"at the last sentence end that fits", "One. Two. Three four.", 12, 1, "One. Two."},
		{"a question or an exclamation ends a sentence", "Why? Because! And so on", 20, 1, "Why? Because!"},
		{"a closing quote stays with its sentence", `He said "stop." Then more words`, 20, 1, `He said "stop."`},
		{"a Spanish closing question mark and guillemet", "¿Golpe «fallido»? Ni lo uno ni lo otro", 25, 1, "¿Golpe «fallido»?"},
		{"Japanese full stop", "日本語です。次の文です", 8, 1, "日本語です。"},
		{"a sentence shorter than the floor: cut at a word", "One. Two three four", 12, 6, "One. Two…"},
		{"a line without a full stop is not a sentence end", "A heading\n\nThen a paragraph", 20, 1, "A heading\n\nThen a…"},
		{"a decimal point is not a sentence end", "It rose 2.5 per cent in a year", 14, 1, "It rose 2.5…"},
		{"a question mark in a URL is not a sentence end", "See https://example.org/ask?Then and on", 30, 1, "See https://example.org/ask?Then …"},
		{"no room at all", "One. Two.", 0, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cutSummary(tt.text, tt.n, tt.floor, count)
			if got != tt.want {
				t.Errorf("cutSummary(%q, %d, %d) = %q, want %q", tt.text, tt.n, tt.floor, got, tt.want)
			}
			if count(got) > max(tt.n, 0) {
				t.Errorf("%q counts %d, over %d", got, count(got), tt.n)
			}
		})
	}
}

func TestSummaryBounds(t *testing.T) {
	tests := []struct {
		name             string
		min, max         int
		wantMin, wantMax int
		wantErr          string
	}{
		{name: "defaults", wantMin: 100, wantMax: 300},
		{name: "both set", min: 50, max: 200, wantMin: 50, wantMax: 200},
		{name: "a low cap lowers the default floor", max: 60, wantMin: 60, wantMax: 60},
		{name: "a high floor raises the default cap", min: 400, wantMin: 400, wantMax: 400},
		{name: "negative floor", min: -1, wantErr: "min_summary: must be at least 0 (got -1)"},
		{name: "negative cap", max: -1, wantErr: "max_summary: must be at least 0 (got -1)"},
		{name: "floor over cap", min: 200, max: 100, wantErr: "min_summary: must not be more than max_summary (100)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Server, s.AccessToken, s.MinSummary, s.MaxSummary = "https://mastodon.example", token, tt.min, tt.max
			v := schema.NewChecker()
			s.Validate(v)
			err := schema.Problems(v.Problems())
			if tt.wantErr != "" {
				if len(err) != 1 || err.Error() != tt.wantErr {
					t.Fatalf("problems %q, want %q", err.Error(), tt.wantErr)
				}
				return
			}
			if len(err) > 0 {
				t.Fatal(err)
			}
			if lo, hi := summaryBounds(tt.min, tt.max); lo != tt.wantMin || hi != tt.wantMax {
				t.Errorf("min_summary %d, max_summary %d, want %d and %d", lo, hi, tt.wantMin, tt.wantMax)
			}
		})
	}
}
