package feed

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

func atomDoc(entries ...string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title><id>tag:example.org,2003:feed</id>
<link href="https://example.org/"/>` + strings.Join(entries, "\n") + `</feed>`
}

// TestIDsAsWritten: an Atom id or RSS guid is the key byte for byte once
// trimmed; ids gofeed would make one stay apart.
func TestIDsAsWritten(t *testing.T) {
	tests := []struct{ doc, want string }{
		{atomDoc(`<entry><id>HTTP://www.example.org/thing</id></entry>`), "HTTP://www.example.org/thing"},
		{atomDoc(`<entry><id>Correct Value</id></entry>`), "Correct Value"},
		{atomDoc(`<entry><id>http://example.com/#</id></entry>`), "http://example.com/#"},
		{atomDoc(`<entry><id>http://example.com/a b?x=%41</id></entry>`), "http://example.com/a b?x=%41"},
		{atomDoc(`<entry><id>
		   tag:example.org,2003:3.2397
		</id></entry>`), "tag:example.org,2003:3.2397"},
		{atomDoc(`<entry><id><![CDATA[urn:x <y>]]></id></entry>`), "urn:x <y>"},
		{atomDoc(`<entry><id>a&amp;b</id></entry>`), "a&b"},
		{atomDoc(`<entry xml:base="http://example.org/base/"><id>123</id></entry>`), "123"},
		// The source's id is not the entry's.
		{atomDoc(`<entry><source><id>source-id</id></source><id>entry-id</id></entry>`), "entry-id"},
		{`<feed xmlns="http://purl.org/atom/ns#" version="0.3"><entry><id>HTTP://Example.org/03</id></entry></feed>`, "HTTP://Example.org/03"},
		{rssDoc(`<item><guid isPermaLink="false">HTTP://www.example.org/Thing</guid></item>`), "HTTP://www.example.org/Thing"},
		{rssDoc(`<item><guid isPermaLink="false"> Correct Value </guid></item>`), "Correct Value"},
	}
	for _, tc := range tests {
		got := normaliseDoc(t, tc.doc)
		if len(got) != 1 || got[0].Key != tc.want {
			t.Errorf("%s\ngot %+v, want the key %q", tc.doc, got, tc.want)
		}
	}

	// Entries whose ids gofeed would read as one stay distinct.
	got := normaliseDoc(t, atomDoc(
		`<entry><id>http://example.com/#</id><title>a</title></entry>`,
		`<entry><id>http://example.com/</id><title>b</title></entry>`,
		`<entry><id>HTTP://example.com/</id><title>c</title></entry>`,
	))
	var keys []string
	for _, a := range got {
		keys = append(keys, a.Key)
	}
	if want := []string{"http://example.com/#", "http://example.com/", "HTTP://example.com/"}; !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
}

// TestItemsWithoutIDOrLinkDifferingInAuthor: they are distinct; the first
// keeps the key it always had, an exact repeat is still dropped.
func TestItemsWithoutIDOrLinkDifferingInAuthor(t *testing.T) {
	item := func(author string) string {
		return `<item><title>Open thread</title><description>Talk.</description>` + author + `</item>`
	}
	got := normaliseDoc(t, rssDoc(item(`<author>ann@example.org (Ann)</author>`), item(`<dc:creator>Bob</dc:creator>`),
		item(""), item(`<dc:creator>Bob</dc:creator>`)))
	alone := normaliseDoc(t, rssDoc(item(`<author>ann@example.org (Ann)</author>`)))
	hash := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	if len(alone) != 1 || !hash.MatchString(alone[0].Key) {
		t.Fatalf("alone: %+v", alone)
	}
	var keys []string
	for _, a := range got {
		keys = append(keys, a.Key)
	}
	base := alone[0].Key
	if want := []string{base, base + "|Bob", base + "|"}; !slices.Equal(keys, want) {
		t.Errorf("keys %q, want %q", keys, want)
	}
	for _, a := range got {
		if a.LegacyKey != "" {
			t.Errorf("%q: LegacyKey %q, want none (the earlier reader left the others out)", a.Key, a.LegacyKey)
		}
	}
}

// TestCategoriesByTerm: an Atom category is its term for routing and
// filters; its label is what channels may show.
func TestCategoriesByTerm(t *testing.T) {
	tests := []struct {
		doc            string
		terms, labels  []string
		names          []string
		include, label string // include_categories matches the term, not the label
	}{
		{
			doc: atomDoc(`<entry><id>1</id><category term="atom10" label="Atom 1.0 tests"/><category term="Kazakhstan"/>` +
				`<category term="kazakhstan" label="Repeated"/><category label="No term"/><category term="same" label="same"/></entry>`),
			terms:  []string{"atom10", "Kazakhstan", "No term", "same"},
			labels: []string{"Atom 1.0 tests", "", "", ""},
			names:  []string{"Atom 1.0 tests", "Kazakhstan", "No term", "same"},
		},
		{
			doc:   atomDoc(`<entry><id>1</id><category term="Tecnología"/><category term="Asia Central" scheme="https://example.org/tags"/></entry>`),
			terms: []string{"Tecnología", "Asia Central"},
			names: []string{"Tecnología", "Asia Central"},
		},
		{
			// An extension element named category is not an Atom category.
			doc:   atomDoc(`<entry xmlns:x="urn:x"><id>1</id><x:category term="not-atom"/><category term="atom"/></entry>`),
			terms: []string{"atom"},
			names: []string{"atom"},
		},
		{
			doc: `<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel><title>x</title><item><guid>1</guid>` +
				`<category>Statements</category><atom:category term="rss-term" label="RSS label"/></item></channel></rss>`,
			terms:  []string{"Statements", "rss-term"},
			labels: []string{"", "RSS label"},
			names:  []string{"Statements", "RSS label"},
		},
	}
	for _, tc := range tests {
		got := normaliseDoc(t, tc.doc)
		if len(got) != 1 {
			t.Fatalf("%s: %d articles", tc.doc, len(got))
		}
		a := got[0]
		if !slices.Equal(a.Categories, tc.terms) || !slices.Equal(a.CategoryLabels, tc.labels) || !slices.Equal(a.CategoryNames(), tc.names) {
			t.Errorf("%s:\ncategories %q labels %q names %q; want %q %q %q", tc.doc, a.Categories, a.CategoryLabels, a.CategoryNames(), tc.terms, tc.labels, tc.names)
		}
	}

	a := normaliseDoc(t, atomDoc(`<entry><id>1</id><category term="atom10" label="Atom 1.0 tests"/></entry>`))[0]
	if !(syndicate.Filter{IncludeCategories: []string{"ATOM10"}}).Allows(a) {
		t.Error("include_categories: [ATOM10] does not match the term atom10")
	}
	if (syndicate.Filter{ExcludeCategories: []string{"atom10"}}).Allows(a) {
		t.Error("exclude_categories: [atom10] lets the article through")
	}
	if (syndicate.Filter{IncludeCategories: []string{"Atom 1.0 tests"}}).Allows(a) {
		t.Error("include_categories matched the label")
	}
}

// TestIsHTMLPage decides from the root element and the content type, not
// from a DOCTYPE.
func TestIsHTMLPage(t *testing.T) {
	const xhtml = `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">`
	tests := []struct {
		doc, contentType string
		page             bool
	}{
		{`<?xml version="1.0"?>` + xhtml + `<rss version="2.0"><channel/></rss>`, "application/rss+xml", false},
		{xhtml + "\n<feed xmlns=\"http://www.w3.org/2005/Atom\"/>", "application/atom+xml", false},
		{xhtml + "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\"/>", "application/xml", false},
		{"\uFEFF  <!-- a comment --><?xml-stylesheet href=\"s.xsl\"?>" + xhtml + "<rss/>", "text/xml", false},
		{`<!DOCTYPE html [ <!ENTITY a "x>y"> <!-- it's ] > --> ]><rss/>`, "", false},
		{xhtml + `<rss/>`, "text/html", false},
		// Pages.
		{xhtml + `<html xmlns="http://www.w3.org/1999/xhtml"><head><title>Down</title></head></html>`, "application/rss+xml", true},
		{`<?xml version="1.0"?>` + xhtml + `<html><body>Maintenance</body></html>`, "", true},
		{"<!doctype html><title>Maintenance</title>", "application/xml", true},
		{"<HTML><BODY>x</BODY></HTML>", "", true},
		{"<html:html xmlns:html=\"http://www.w3.org/1999/xhtml\"/>", "", true},
		{"<p>Service unavailable</p>", "text/html; charset=utf-8", true},
		{"<p>Service unavailable</p>", "application/xml", false},
		{"<rss version=\"2.0\"><channel/></rss>", "text/html", false},
		{`{"version": "https://jsonfeed.org/version/1.1"}`, "application/feed+json", false},
	}
	for _, tc := range tests {
		if got := isHTMLPage([]byte(tc.doc), tc.contentType); got != tc.page {
			t.Errorf("isHTMLPage(%q, %q) = %v, want %v", tc.doc, tc.contentType, got, tc.page)
		}
	}
}

// TestAuthorNameBeforeAddress: an RSS author "Name <address>" is the name,
// as "address (Name)" is; a bare address is no name.
func TestAuthorNameBeforeAddress(t *testing.T) {
	tests := []struct{ author, want string }{
		{`<author>Example editor &lt;me@example.com&gt;</author>`, "Example editor"},
		{`<author>me@example.com (Example editor)</author>`, "Example editor"},
		{`<author>"Ann O'Neil" &lt;ann@example.org&gt;</author>`, "Ann O'Neil"},
		{`<author>A &amp;lt;b&amp;gt; &lt;ab@example.org&gt;</author>`, "A <b>"},
		{`<author>&lt;me@example.com&gt;</author>`, ""},
		{`<author>me@example.com</author>`, ""},
		{`<author>Ed &lt;not an address&gt;</author>`, "Ed"},
		{`<dc:creator>Bob &lt;bob@example.org&gt;</dc:creator>`, "Bob"},
	}
	for _, tc := range tests {
		got := normaliseDoc(t, rssDoc(`<item><guid>1</guid><title>t</title>`+tc.author+`</item>`))
		if len(got) != 1 || got[0].Author != tc.want {
			t.Errorf("%s: got %+v, want the author %q", tc.author, got, tc.want)
		}
	}

	// Items without id or link told apart by their author keep the keys
	// they had when such an author was no name.
	item := func(author string) string {
		return `<item><title>Open thread</title><description>Talk.</description>` + author + `</item>`
	}
	got := normaliseDoc(t, rssDoc(item(`<dc:creator>Bob</dc:creator>`), item(`<author>Ann &lt;ann@example.org&gt;</author>`)))
	if len(got) != 2 || got[1].Key != got[0].Key+"|" || got[1].Author != "Ann" {
		t.Errorf("got %+v, want the second keyed %q and written by Ann", got, got[0].Key+"|")
	}
}

// TestTitleFallbackText: the fallback text of an <object> or <iframe> is
// part of a title, as of a summary; an embed without one is nothing.
func TestTitleFallbackText(t *testing.T) {
	tests := []struct{ title, want string }{
		{`safe&lt;object&gt; description`, "safe description"},
		{`safe&lt;object data="x.swf"&gt;&lt;param name="a" value="b"&gt; fallback&lt;/object&gt; after`, "safe fallback after"},
		{`a &lt;iframe src="https://example.org/"&gt;framed &lt;b&gt;text&lt;/b&gt;&lt;/iframe&gt; b`, "a framed text b"},
		{`video &lt;object data="x.swf"&gt;&lt;/object&gt;here`, "video here"},
		{`no &lt;script&gt;alert(1)&lt;/script&gt;script`, "no script"},
		{`&lt;object&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;/object&gt;kept`, "kept"},
	}
	for _, tc := range tests {
		got := normaliseDoc(t, rssDoc(`<item><guid>1</guid><title>`+tc.title+`</title><description>d</description></item>`))
		if len(got) != 1 || got[0].Title != tc.want {
			t.Errorf("%s: got %+v, want the title %q", tc.title, got, tc.want)
		}
	}
}

// TestExtensionCategories: itunes:category (its text attribute, its
// subcategories after it) and media:category (its text, its label) are
// categories, after the item's own, without repeats.
func TestExtensionCategories(t *testing.T) {
	const ns = `xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/"`
	rss := func(item string) string {
		return `<rss version="2.0" ` + ns + `><channel><title>x</title><item><guid>1</guid>` + item + `</item></channel></rss>`
	}
	tests := []struct {
		doc           string
		terms, labels []string
	}{
		{rss(`<itunes:category text="Technology"/>`), []string{"Technology"}, nil},
		{rss(`<itunes:category text="Technology"><itunes:category text="Gadgets"/></itunes:category><itunes:category text="News"/>`),
			[]string{"Technology", "Gadgets", "News"}, nil},
		{rss(`<media:category>cat1</media:category><media:category>cat2</media:category>`), []string{"cat1", "cat2"}, nil},
		{rss(`<media:category label="Label one" scheme="urn:x">cat1</media:category>`), []string{"cat1"}, []string{"Label one"}},
		{rss(`<media:group><media:category>grouped</media:category></media:group>`), []string{"grouped"}, nil},
		// The item's own first; a repeat (without regard to case) once.
		{rss(`<itunes:category text="Music"/><category>Statements</category><media:category label="other">statements</media:category>`),
			[]string{"Statements", "Music"}, nil},
		{rss(`<itunes:category text=""/><media:category>  </media:category><media:category>a &amp;amp; b</media:category>`), []string{"a & b"}, nil},
		// The prefix as written does not matter, the namespace does.
		{`<rss version="2.0" xmlns:m="http://search.yahoo.com/mrss"><channel><title>x</title><item><guid>1</guid><m:category>m</m:category></item></channel></rss>`,
			[]string{"m"}, nil},
		{atomDoc(`<entry xmlns:media="http://search.yahoo.com/mrss/"><id>1</id><category term="atom"/><media:category label="Media">media</media:category></entry>`),
			[]string{"atom", "media"}, []string{"", "Media"}},
	}
	for _, tc := range tests {
		got := normaliseDoc(t, tc.doc)
		if len(got) != 1 {
			t.Fatalf("%s: %d articles", tc.doc, len(got))
		}
		if a := got[0]; !slices.Equal(a.Categories, tc.terms) || !slices.Equal(a.CategoryLabels, tc.labels) {
			t.Errorf("%s:\ncategories %q labels %q; want %q %q", tc.doc, a.Categories, a.CategoryLabels, tc.terms, tc.labels)
		}
	}
}

// TestFallbackFields: what an item says outside the usual elements is
// read when it says nothing in them: an itunes:image with url for href,
// an Atom 0.3 title in base64, media:title and media:description, an Atom
// link written as text. Keys do not change with them.
func TestFallbackFields(t *testing.T) {
	const ns = `xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:media="http://search.yahoo.com/mrss/"`
	rss := func(item string) string {
		return `<rss version="2.0" ` + ns + `><channel><title>x</title><item><guid>1</guid>` + item + `</item></channel></rss>`
	}
	atom03 := func(entry string) string {
		return `<feed version="0.3" xmlns="http://purl.org/atom/ns#"><title>x</title><entry><id>1</id>` + entry + `</entry></feed>`
	}
	tests := []struct {
		doc                         string
		title, summary, image, link string
	}{
		// itunes:image url, the image when no other is known.
		{doc: rss(`<itunes:image url="https://example.org/i.png"/>`), image: "https://example.org/i.png"},
		{doc: rss(`<itunes:image url="https://example.org/i.png"/><description>&lt;img src="https://example.org/c.png"&gt;</description>`),
			image: "https://example.org/c.png"},
		{doc: rss(`<itunes:image href="https://example.org/href.png" url="https://example.org/url.png"/>`), image: "https://example.org/href.png"},
		// An Atom 0.3 title in base64, of any type.
		{doc: atom03(`<title type="text/html" mode="base64">
			PGI+Qm9sZDwvYj4gdGl0bGU=
		</title>`), title: "Bold title"},
		{doc: atom03(`<title type="text/plain" mode="base64">YSA8Yj4gYw==</title>`), title: "a <b> c"},
		{doc: atom03(`<title mode="base64">not base64!</title>`), title: "not base64!"},
		// media:title, media:description when the item has none.
		{doc: rss(`<media:title>Media title</media:title>`), title: "Media title"},
		{doc: rss(`<title>Own</title><media:title>Media title</media:title>`), title: "Own"},
		{doc: rss(`<media:group><media:title type="html">&lt;b&gt;Grouped&lt;/b&gt;</media:title></media:group>`), title: "Grouped"},
		{doc: rss(`<media:title>a &lt;b&gt; c</media:title>`), title: "a <b> c"},
		{doc: rss(`<title>t</title><media:group><media:description type="plain">Test Description</media:description></media:group>`),
			title: "t", summary: "Test Description"},
		{doc: rss(`<description>Own</description><media:description>Media</media:description>`), summary: "Own"},
		// A media:description beside a media image is its caption.
		{doc: rss(`<media:group><media:content url="https://example.org/m.jpg" medium="image"/><media:description>Caption</media:description></media:group>`),
			image: "https://example.org/m.jpg"},
		// An Atom link written as text, when the entry has no other.
		{doc: atomDoc(`<entry><id>1</id><link rel="enclosure">https://example.org/enclosure</link><link rel="alternate">https://example.org/alternate</link></entry>`),
			link: "https://example.org/alternate"},
		{doc: atomDoc(`<entry><id>1</id><link>https://example.org/text</link><link href="https://example.org/href"/></entry>`),
			link: "https://example.org/href"},
		{doc: atomDoc(`<entry xml:base="https://example.org/dir/"><id>1</id><link>relative</link></entry>`), link: "https://example.org/dir/relative"},
		{doc: rssDoc(`<item><guid>1</guid><link>https://example.org/rss</link></item>`), link: "https://example.org/rss"},
	}
	for _, tc := range tests {
		got := normaliseDoc(t, tc.doc)
		if len(got) != 1 {
			t.Fatalf("%s: %d articles", tc.doc, len(got))
		}
		a := got[0]
		if a.Title != tc.title || a.Summary != tc.summary || a.ImageURL != tc.image || a.Link != tc.link {
			t.Errorf("%s:\ngot title %q summary %q image %q link %q\nwant      %q         %q       %q      %q",
				tc.doc, a.Title, a.Summary, a.ImageURL, a.Link, tc.title, tc.summary, tc.image, tc.link)
		}
	}

	// An entry without id whose link is its text keeps the key it had
	// without a link, as does one whose title is in base64.
	for _, entries := range [][2]string{
		{`<entry><title>t</title><link>https://example.org/text</link></entry>`, `<entry><title>t</title></entry>`},
		{`<entry><title mode="base64" type="text/html">dA==</title></entry>`, `<entry><title mode="base64" type="text/html">dA==</title></entry>`},
	} {
		with := normaliseDoc(t, atomDoc(entries[0]))
		without := normaliseDoc(t, atomDoc(entries[1]))
		if len(with) != 1 || len(without) != 1 || with[0].Key != without[0].Key || !strings.HasPrefix(with[0].Key, "sha256:") {
			t.Errorf("%s: keys %+v, %+v; want the same hash key", entries[0], with, without)
		}
	}
	a := normaliseDoc(t, atom03(`<title type="text/html" mode="base64">PGI+Qm9sZDwvYj4gdGl0bGU=</title>`))
	b := normaliseDoc(t, strings.Replace(atom03(`<title type="text/html" mode="base64">PGI+Qm9sZDwvYj4gdGl0bGU=</title>`), "<id>1</id>", "", 1))
	if len(a) != 1 || a[0].Key != "1" || len(b) != 1 || !strings.HasPrefix(b[0].Key, "sha256:") {
		t.Errorf("keys %+v %+v", a, b)
	}
}
