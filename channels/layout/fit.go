// Package layout fits a post to a platform's limit: the template data all
// post channels share, cutting a text at a sentence or a word without
// breaking a link, and the order in which a post gives up room (related
// links, then the summary down to a floor, then hashtags, then the
// summary, then the title). Each platform brings its own counting and its
// own way of finding links (Syntax).
package layout

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Data is what a post template is executed with, whatever the platform.
//
// Related, Hashtags, Summary and Title arrive already fitted (see Fitter). Summary is
// first capped at Fitter.MaxSummary characters. Then the channel executes
// the template, and while the result (with what else counts, such as a
// content warning) is over the platform's limit it drops related links (last
// first; the default template shows none), then shortens Summary down to
// Fitter.MinSummary characters, then drops hashtags (last first, giving
// the summary back the room they leave), then drops Summary (and keeps the
// hashtags that fit without it), then shortens Title at a word with "…".
// Summary is cut at the last sentence end within its budget, ending with
// the sentence's own punctuation and no "…", when that keeps at least
// MinSummary characters; else at a word, with "…". Link is never
// shortened, and nothing is cut inside a word, a URL, a mention or a
// hashtag. Functions: {{cut N .Field}} (or
// {{.Field | cut N}}) cuts a text the same way to N characters, counted as
// the platform counts; {{join .Hashtags " "}} is strings.Join. The output is
// tidied: trailing spaces dropped, runs of blank lines collapsed into one,
// leading and trailing blank lines removed.
//
// Each field is written in its channel's syntax: plain text on Mastodon and
// Bluesky, text for Telegram's HTML (written through its escape) on
// Telegram, where Content is already Telegram's HTML.
type Data struct {
	Title      string   // plain text on one line
	Summary    string   // plain text
	Link       string   // the article's canonical link
	Hashtags   []string // "#MassStrike", made from Categories, at most the channel's max_hashtags
	Related    []syndicate.Link
	ReadAlso   string // "Read also", or "Lee también" for an article in Spanish
	Categories []string
	Language   string
	Author     string
	Published  time.Time // zero when the feed gave no date
	// Image is the featured image's URL when the post carries it, and
	// ImageCaption its caption or alt text.
	Image, ImageCaption string
	// Content is the article's body where the platform can show one
	// (Telegram, in its HTML); empty where a post is too short for one
	// (Mastodon, Bluesky).
	Content string
	// Caption is true when the text goes under a photo as its caption, with
	// the platform's shorter limit (Telegram's 1024).
	Caption bool
}

// Sample is the data a channel executes its template with at load, so that
// a misspelt field fails at start and not at the first post.
func Sample() Data {
	return Data{
		Title: "Title", Summary: "Summary", Link: "https://example.org/article",
		Hashtags: []string{"#News"}, Related: []syndicate.Link{{Title: "Related", URL: "https://example.org/related"}},
		ReadAlso: ReadAlso("en"), Categories: []string{"News"}, Language: "en", Author: "Author",
		Published: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Image:     "https://example.org/image.jpg", ImageCaption: "Caption",
	}
}

// ReadAlso is how a post in language introduces its related links.
func ReadAlso(language string) string {
	if channels.LanguageCode(language) == "es" {
		return "Lee también"
	}
	return "Read also"
}

// Fitter fits a post: Execute renders it, Count counts a whole post and
// CountText one field as the platform counts them.
type Fitter struct {
	Syntax    Syntax
	Execute   func(Data) (string, error)
	Count     func(string) int
	CountText func(string) int
	// MinSummary is the floor the summary is shortened to before a
	// hashtag is dropped; MaxSummary caps it (negative: no cap).
	MinSummary, MaxSummary int
}

// Fit executes the template with the summary capped at maxSummary and,
// while the text is over limit, with fewer related links, the summary
// shortened down to minSummary, fewer hashtags, no summary, and last the
// title shortened (see Data). When even none of them fits, it
// returns that text, over the limit. count counts a whole text, countText
// a field, as the instance does.
func (f Fitter) Fit(d Data, limit int) (string, error) {
	count, countText := f.Count, f.CountText
	try := func() (string, bool, error) {
		text, err := f.Execute(d)
		return text, count(text) <= limit, err
	}
	// Every shorter summary is cut from the whole one.
	summary := d.Summary
	if f.MaxSummary >= 0 {
		d.Summary = f.Syntax.CutSummary(summary, f.MaxSummary, f.MinSummary, countText)
	}
	capped := d.Summary
	text, ok, err := try()
	for err == nil && !ok && len(d.Related) > 0 {
		d.Related = d.Related[:len(d.Related)-1]
		text, ok, err = try()
	}
	if err != nil || ok {
		return text, err
	}
	// shorten gives the summary as much room as is left, down to
	// minSummary: it reports false when even the summary cut to that floor
	// does not fit.
	shorten := func() (string, bool, error) {
		d.Summary = capped
		text, ok, err := try()
		if err != nil || ok {
			return text, ok, err
		}
		// The most the summary may count; a cut to it does not fit.
		hi := min(countText(capped), limit+1)
		lo := f.Syntax.floorBudget(summary, f.MinSummary, hi, countText)
		if d.Summary = f.Syntax.Cut(summary, lo, countText); d.Summary == "" || d.Summary == capped {
			return text, false, nil
		}
		best, ok, err := try()
		if err != nil || !ok {
			return best, false, err
		}
		// Binary search on the summary's budget: cut(lo) fits and hi does
		// not; counts are not strictly monotonic (a URL counts 23 however
		// long), so every candidate is checked.
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			d.Summary = f.Syntax.Cut(summary, mid, countText)
			t, ok, err := try()
			if err != nil {
				return t, false, err
			}
			if ok {
				lo, best = mid, t
			} else {
				hi = mid
			}
		}
		// A sentence end within that budget reads better than a cut word.
		if s := f.Syntax.CutSummary(summary, lo, f.MinSummary, countText); s != f.Syntax.Cut(summary, lo, countText) {
			d.Summary = s
			if t, ok, err := try(); err != nil || ok {
				return t, ok, err
			}
		}
		return best, true, nil
	}
	hashtags := d.Hashtags
	for k := len(hashtags); k >= 0; k-- {
		d.Hashtags = hashtags[:k]
		if text, ok, err = shorten(); err != nil || ok {
			return text, err
		}
	}
	// Not even the shortest summary fits: without it, the hashtags that
	// fit come back.
	d.Summary = ""
	for k := len(hashtags); k >= 0; k-- {
		d.Hashtags = hashtags[:k]
		if text, ok, err = try(); err != nil || ok {
			return text, err
		}
	}
	full := d.Title
	d.Title = ""
	if text, ok, err = try(); err != nil || !ok {
		return text, err // too long even without a title
	}
	// Binary search on the budget given to the title, as above.
	best := text
	lo, hi := 0, min(count(full), limit+1)
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		d.Title = f.Syntax.Cut(full, mid, count)
		t, ok, err := try()
		if err != nil {
			return t, err
		}
		if ok {
			lo, best = mid, t
		} else {
			hi = mid
		}
	}
	return best, nil
}

// floorBudget returns the budget of the shortest summary fit keeps before
// it drops a hashtag: floor, or, when the first word of s is longer than
// that, the least budget below hi that keeps it; hi when none does.
func (sx Syntax) floorBudget(s string, floor, hi int, count func(string) int) int {
	if floor >= hi || sx.Cut(s, floor, count) != "" {
		return floor
	}
	// cut(lo) is empty and cut(hi) is not, or hi is returned.
	lo := floor
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if sx.Cut(s, mid, count) == "" {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// TruncateBytes returns at most the first n bytes of s, whole runes only.
func TruncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Tidy drops trailing spaces, collapses runs of blank lines and trims the
// text, so a template can leave a line empty without leaving a gap.
func Tidy(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	out := lines[:0]
	blank := false
	for _, l := range lines {
		l = strings.TrimRightFunc(l, unicode.IsSpace)
		if l == "" {
			if !blank && len(out) > 0 {
				out = append(out, l)
			}
			blank = true
			continue
		}
		out = append(out, l)
		blank = false
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
