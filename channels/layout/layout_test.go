package layout

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

var urlRE = regexp.MustCompile(`https?://\S+`)

// plain links bare http(s) URLs, as a simple platform would.
var plain = Syntax{Entities: findPlain, URLs: findPlain}

func findPlain(text string) [][2]int {
	var out [][2]int
	for _, m := range urlRE.FindAllStringIndex(text, -1) {
		out = append(out, [2]int{m[0], m[1]})
	}
	return out
}

func TestCut(t *testing.T) {
	count := utf8.RuneCountInString
	tests := []struct {
		text string
		n    int
		want string
	}{
		{"one two three", 13, "one two three"},
		{"one two three", 12, "one two…"},
		{"one, two three", 6, "one…"}, // no "one,…"
		{"see https://example.org/a/long/path now", 30, "see…"},
		{"see https://example.org/a now", 28, "see https://example.org/a …"}, // the ellipsis is not glued to the URL
		{"#MassStrike spreads", 8, ""},
		{"word", 0, ""},
	}
	for _, tt := range tests {
		if got := plain.Cut(tt.text, tt.n, count); got != tt.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tt.text, tt.n, got, tt.want)
		}
		if got := plain.Cut(tt.text, tt.n, count); count(got) > tt.n {
			t.Errorf("Cut(%q, %d) = %q: %d characters", tt.text, tt.n, got, count(got))
		}
	}
}

func TestCutSummaryAtASentence(t *testing.T) {
	const s = "First sentence here. Second one is longer than that. Third."
	count := utf8.RuneCountInString
	if got := plain.CutSummary(s, 40, 10, count); got != "First sentence here." {
		t.Errorf("got %q", got)
	}
	// A floor above the first sentence: cut at a word instead.
	if got := plain.CutSummary(s, 40, 30, count); got != "First sentence here. Second one is…" {
		t.Errorf("got %q", got)
	}
}

// Fit gives up room in its order: the summary down to its floor, then
// hashtags from the last, then the summary, then the title; never the link.
func TestFitOrder(t *testing.T) {
	execute := func(d Data) (string, error) {
		return Tidy(d.Title + "\n\n" + d.Summary + "\n\n" + d.Link + "\n\n" + strings.Join(d.Hashtags, " ")), nil
	}
	count := utf8.RuneCountInString
	f := Fitter{Syntax: plain, Execute: execute, Count: count, CountText: count, MinSummary: 20, MaxSummary: 200}
	d := Data{
		Title:    "A title of some length",
		Summary:  strings.Repeat("Words that go on. ", 10),
		Link:     "https://example.org/article",
		Hashtags: []string{"#One", "#Two", "#Three"},
	}
	full, _ := execute(d)
	for _, limit := range []int{len(full), 150, 100, 80, 60, 40, 30} {
		got, err := f.Fit(d, limit)
		if err != nil {
			t.Fatal(err)
		}
		if count(got) > limit && limit >= count(d.Link) {
			t.Errorf("limit %d: %d characters:\n%s", limit, count(got), got)
		}
		if !strings.Contains(got, d.Link) {
			t.Errorf("limit %d: the link is gone:\n%s", limit, got)
		}
	}
	got, _ := f.Fit(d, 80)
	if !strings.Contains(got, "#One") || strings.Contains(got, "#Three") {
		t.Errorf("at 80, the last hashtags go first:\n%s", got)
	}
}
