package web

import (
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

func TestLinked(t *testing.T) {
	const text = "Read <this> en.communia.blog/protests… #Kazajistán"
	link := syndicate.LinkSpan{Start: 12, End: 40, URL: "https://en.communia.blog/protests-in-kazakhstan-5-clues"}
	tests := []struct {
		name  string
		links []syndicate.LinkSpan
		want  string
	}{
		{"no links", nil, "Read &lt;this&gt; en.communia.blog/protests… #Kazajistán"},
		{"a link", []syndicate.LinkSpan{link},
			`Read &lt;this&gt; <a href="https://en.communia.blog/protests-in-kazakhstan-5-clues" rel="noopener noreferrer nofollow">en.communia.blog/protests…</a> #Kazajistán`},
		{"not the web", []syndicate.LinkSpan{{Start: 12, End: 40, URL: "javascript:alert(1)"}}, "Read &lt;this&gt; en.communia.blog/protests… #Kazajistán"},
		{"inside a character", []syndicate.LinkSpan{{Start: 12, End: 38, URL: link.URL}}, "Read &lt;this&gt; en.communia.blog/protests… #Kazajistán"},
		{"past the end", []syndicate.LinkSpan{{Start: 12, End: 400, URL: link.URL}}, "Read &lt;this&gt; en.communia.blog/protests… #Kazajistán"},
		{"overlapping, the second dropped", []syndicate.LinkSpan{link, {Start: 20, End: 30, URL: link.URL}},
			`Read &lt;this&gt; <a href="https://en.communia.blog/protests-in-kazakhstan-5-clues" rel="noopener noreferrer nofollow">en.communia.blog/protests…</a> #Kazajistán`},
	}
	for _, tt := range tests {
		if got := string(linked(syndicate.Rendering{Text: text, Links: tt.links})); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
