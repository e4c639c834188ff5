package feed

import (
	"strings"
	"testing"
)

func TestDropForbiddenXML(t *testing.T) {
	for in, want := range map[string]string{
		"plain text, tabs\tand\r\nlines":        "plain text, tabs\tand\r\nlines",
		"a\x00b\x01c\x08d\x0be\x0cf\x1fg":       "abcdefg",
		"a\ufffeb\uffffc\ufffdd":                "abc\ufffdd",
		"&#0;&#00;&#x0;&#X0000;":                "",
		"a&#1;b&#x1B;c&#xb;d&#31;e":             "abcde",
		"&#9;&#10;&#13;&#32;&#x20;":             "&#9;&#10;&#13;&#32;&#x20;",
		"&#xD800;&#57343;&#xFFFE;&#65535;":      "",
		"&#x10FFFF;&#1114111;":                  "&#x10FFFF;&#1114111;",
		"&#x110000;&#1114112;&#99999999999999;": "",
		"&#8217; &amp;#0; &#; &#x; &#0 &#abc;":  "&#8217; &amp;#0; &#; &#x; &#0 &#abc;",
		"<![CDATA[&#0;\x00]]>":                  "<![CDATA[]]>",
		`<a href="x&#0;y">`:                     `<a href="xy">`,
		"é – 🔥":                                 "é – 🔥",
	} {
		if got := string(dropForbiddenXML([]byte(in))); got != want {
			t.Errorf("dropForbiddenXML(%q) = %q, want %q", in, got, want)
		}
	}
	clean := []byte("<rss>nothing to drop &#8217;</rss>")
	if got := dropForbiddenXML(clean); &got[0] != &clean[0] {
		t.Error("a clean document is copied")
	}
	if got := dropForbiddenText("&#0;x\x00"); got != "x" {
		t.Errorf("dropForbiddenText = %q", got)
	}
}

func TestFindItems(t *testing.T) {
	doc := `<rss><channel><title>T</title><!-- <item>not</item> -->` +
		`<item><title><![CDATA[</item>]]></title></item>` +
		`<itemize/><item/>` +
		`<atom:entry xmlns:atom="x"><atom:title>e</atom:title></atom:entry>` +
		`<item><title>1 < 2</title></item>` +
		`<item><title>cut`
	var got []string
	for _, sp := range findItems([]byte(doc)) {
		got = append(got, doc[sp.start:sp.end])
	}
	want := []string{
		`<item><title><![CDATA[</item>]]></title></item>`,
		`<item/>`,
		`<atom:entry xmlns:atom="x"><atom:title>e</atom:title></atom:entry>`,
		`<item><title>1 < 2</title></item>`,
		`<item><title>cut`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("items:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestOneUnreadableItemCostsOnlyItself: a document gofeed refuses because
// of one item keeps its feed-level fields and its other items, in place.
func TestOneUnreadableItemCostsOnlyItself(t *testing.T) {
	doc := `<?xml version="1.0"?><rss version="2.0"><channel><title>Site</title><link>https://example.org/</link>
<language>es</language>
<item><title>One</title><link>/one</link></item>
<item><title>Two < three</title><link>/two</link></item>
<item><title>Three</title><link>/three</link></item>
</channel></rss>`
	d, err := Parse([]byte(doc), "", testFeedURL)
	if err != nil {
		t.Fatal(err)
	}
	articles := Normalise("test", d, "en", testNow())
	if len(articles) != 2 || articles[0].Link != "https://example.org/one" || articles[1].Link != "https://example.org/three" ||
		articles[1].Position != 2 || articles[0].Language != "es" {
		t.Fatalf("articles: %+v", articles)
	}
	if len(d.Skipped) != 1 || !strings.HasPrefix(d.Skipped[0], "item 2 of 3 (line 4) skipped: it cannot be read: ") {
		t.Fatalf("skipped: %q", d.Skipped)
	}
	// Nothing readable: the feed fails as before, with gofeed's reason.
	if _, err := Parse([]byte(`<rss><channel><item><title>1 < 2</title></item></channel></rss>`), "", testFeedURL); err == nil ||
		!strings.Contains(err.Error(), "not a valid feed") {
		t.Fatalf("err = %v", err)
	}
}
