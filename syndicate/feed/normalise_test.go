package feed

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

const testFeedURL = "https://example.org/feed.xml"

// normaliseDoc decodes, parses and normalises a feed document as Read does.
func normaliseDoc(t *testing.T, doc string) []syndicate.Article {
	t.Helper()
	d, err := Parse([]byte(doc), "", testFeedURL)
	if err != nil {
		t.Fatal(err)
	}
	return Normalise("test", d, "en", testNow())
}

// rssDoc wraps items in an RSS channel declaring the usual namespaces.
func rssDoc(items ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
<channel><title>Example</title><link>https://example.org/</link>` + strings.Join(items, "\n") + `</channel></rss>`
}

func TestCanonicalLink(t *testing.T) {
	tests := []struct{ raw, base, want string }{
		{"https://example.org/a", "", "https://example.org/a"},
		{"  https://example.org/a \n", "", "https://example.org/a"},
		{"https://Example.ORG/Path/Case", "", "https://example.org/Path/Case"},
		{"HTTPS://EXAMPLE.org:443", "", "https://example.org/"},
		{"http://example.org:80/x", "", "http://example.org/x"},
		{"https://example.org:80/x", "", "https://example.org:80/x"},
		{"http://example.org:8080/x", "", "http://example.org:8080/x"},
		{"https://example.org/a#comments", "", "https://example.org/a"},
		{"https://example.org/a?utm_source=rss&utm_medium=feed", "", "https://example.org/a"},
		{"https://example.org/a?utm_source=x&b=2&UTM_Campaign=y&a=1#top", "", "https://example.org/a?b=2&a=1"},
		{"https://example.org/a?q=caf%C3%A9&utm_term=z", "", "https://example.org/a?q=caf%C3%A9"},
		{"https://example.org/a?", "", "https://example.org/a"},
		{"/post/1", "https://example.org/blog/", "https://example.org/post/1"},
		{"post/1", "https://example.org/blog/", "https://example.org/blog/post/1"},
		{"../post/1", "https://example.org/blog/x/", "https://example.org/blog/post/1"},
		{"//cdn.example.org/x", "https://example.org/", "https://cdn.example.org/x"},
		{"?p=12", "https://example.org/blog/", "https://example.org/blog/?p=12"},
		{"post/1", "", ""},
		{"", "https://example.org/", ""},
		{"mailto:editor@example.org", "https://example.org/", ""},
		{"javascript:alert(1)", "https://example.org/", ""},
		{"tag:example.org,2023:1", "", ""},
		{"https://exa mple.org/", "", ""},
	}
	for _, tc := range tests {
		if got := CanonicalLink(tc.raw, tc.base); got != tc.want {
			t.Errorf("CanonicalLink(%q, %q) = %q, want %q", tc.raw, tc.base, got, tc.want)
		}
	}
}

func TestKeys(t *testing.T) {
	doc := rssDoc(
		`<item><title>First</title><guid isPermaLink="false">g1</guid><link>/one</link></item>`,
		`<item><title>Same GUID, other link</title><guid isPermaLink="false">g1</guid><link>/two</link></item>`,
		`<item><title>Exact repeat</title><guid isPermaLink="false">g1</guid><link>https://example.org/one</link></item>`,
		`<item><title>No GUID</title><link>/three?utm_source=rss#more</link></item>`,
		`<item><title>Neither</title><pubDate>Mon, 02 Jan 2023 10:00:00 GMT</pubDate><description>Just text.</description></item>`,
		`<item><title>Permalink only</title><guid>https://example.org/permalink</guid></item>`,
		`<item><title>  </title><guid>  spaced guid  </guid></item>`,
	)
	got := normaliseDoc(t, doc)
	hashKey := regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	want := []struct {
		position  int
		key, link string
	}{
		{0, "g1", "https://example.org/one"},
		{1, "g1|https://example.org/two", "https://example.org/two"},
		{3, "https://example.org/three", "https://example.org/three"},
		{4, "sha256:", ""},
		{5, "https://example.org/permalink", "https://example.org/permalink"},
		{6, "spaced guid", ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d articles, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		a := got[i]
		keyOK := a.Key == w.key || (w.key == "sha256:" && hashKey.MatchString(a.Key))
		if a.Position != w.position || !keyOK || a.Link != w.link || a.FeedID != "test" {
			t.Errorf("article %d = position %d, key %q, link %q, feed %q; want %d, %q, %q, test",
				i, a.Position, a.Key, a.Link, a.FeedID, w.position, w.key, w.link)
		}
	}
	if again := normaliseDoc(t, doc); again[3].Key != got[3].Key {
		t.Errorf("hash key not stable: %q then %q", got[3].Key, again[3].Key)
	}
}

func TestTitles(t *testing.T) {
	tests := []struct{ raw, want string }{
		{`Protests in Kazakhstan: what&#8217;s going on`, "Protests in Kazakhstan: what’s going on"},
		{`<![CDATA[A <em>new</em> era&hellip;]]>`, "A new era…"},
		{`Double-escaped: what&amp;#8217;s next&amp;hellip;`, "Double-escaped: what’s next…"},
		{`Tom &amp; Jerry &lt;3`, "Tom & Jerry <3"},
		{"  Spread\n\t over   lines  ", "Spread over lines"},
		{`<![CDATA[<p>One</p><p>Two</p>]]>`, "One Two"},
	}
	for _, tc := range tests {
		got := normaliseDoc(t, rssDoc(`<item><guid>g</guid><title>`+tc.raw+`</title></item>`))
		if len(got) != 1 || got[0].Title != tc.want {
			t.Errorf("title %q: got %+v, want %q", tc.raw, got, tc.want)
		}
	}
}

func TestSummary(t *testing.T) {
	tests := []struct {
		name, description, content, want string
	}{
		{"own summary, paragraphs kept",
			"<p>One &amp; <b>only</b>.</p>\n<p>Two.</p>", "<p>Full text.</p><p>More.</p>", "One & only.\n\nTwo."},
		{"plain-text summary, whitespace collapsed",
			"  Line one\n   spread   out.  ", "<p>Full.</p>", "Line one spread out."},
		{"no summary: lead paragraph of the content",
			"", `<figure><img src="a.jpg"><figcaption>Caption</figcaption></figure><p> </p><p class="lead">Lead &hellip; here.</p><p>Second.</p>`, "Lead … here."},
		{"lead skips pull-quotes",
			"", "<blockquote><p>Quote</p></blockquote><div><p>Lead.</p></div>", "Lead."},
		{"description is the whole article",
			"<p>Lead.</p><h2>Part</h2><p>Second.</p>", "", "Lead."},
		{"description equal to the content",
			"<p>Lead.</p><p>Second.</p>", "<p>Lead.</p>\n<p>Second.</p>", "Lead."},
		{"one-paragraph description without content",
			"<p>Only paragraph, <em>kept</em>.</p>", "", "Only paragraph, kept."},
		{"content without paragraphs",
			"", "Plain text content<br>with a break", "Plain text content\nwith a break"},
		{"summary without text: lead paragraph of the content",
			`<img src="a.jpg" alt="x">`, "<p>Lead.</p><p>Second.</p>", "Lead."},
		{"nothing", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			content := parseArticleHTML(firstNonEmpty(tc.content, tc.description), testFeedURL)
			description := parseArticleHTML(tc.description, testFeedURL)
			if got := summary(description, content, tc.content != ""); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestFeaturedImage(t *testing.T) {
	tests := []struct {
		name, item, wantURL, wantCaption string
	}{
		{"media:content with its description",
			`<media:content url="/img/a.jpg" medium="image"><media:description>A &amp; B</media:description></media:content>`,
			"https://example.org/img/a.jpg", "A & B"},
		{"media:group, caption from the group",
			`<media:group><media:content url="https://cdn.example.org/v.mp4" medium="video"/><media:content url="https://cdn.example.org/a.webp" type="image/webp"/><media:description>Group caption</media:description></media:group>`,
			"https://cdn.example.org/a.webp", "Group caption"},
		{"media:thumbnail only",
			`<media:thumbnail url="https://cdn.example.org/t.jpg"/>`,
			"https://cdn.example.org/t.jpg", ""},
		{"image enclosure, caption from the content's figure",
			`<enclosure url="https://cdn.example.org/e.png" type="image/png" length="1"/><enclosure url="https://cdn.example.org/a.mp3" type="audio/mpeg" length="1"/>
			<content:encoded><![CDATA[<p>x</p><figure><img src="https://cdn.example.org/e.png" alt="alt"><figcaption>The <em>caption</em></figcaption></figure>]]></content:encoded>`,
			"https://cdn.example.org/e.png", "The caption"},
		{"first image of the content, alt text, relative to the item",
			`<link>https://example.org/posts/one/</link><content:encoded><![CDATA[<p>x <img src="pic.jpg" alt=" An   alt "></p><img src="second.jpg">]]></content:encoded>`,
			"https://example.org/posts/one/pic.jpg", "An alt"},
		{"lazy-loaded image",
			`<description><![CDATA[<img src="data:image/gif;base64,R0lGOD" data-src="https://cdn.example.org/lazy.jpg">]]></description>`,
			"https://cdn.example.org/lazy.jpg", ""},
		{"no image", `<description>Words only.</description>`, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := normaliseDoc(t, rssDoc(`<item><guid>g</guid><title>T</title>`+tc.item+`</item>`))
			if len(got) != 1 {
				t.Fatalf("got %d articles", len(got))
			}
			if got[0].ImageURL != tc.wantURL || got[0].ImageCaption != tc.wantCaption {
				t.Errorf("image = %q %q, want %q %q", got[0].ImageURL, got[0].ImageCaption, tc.wantURL, tc.wantCaption)
			}
		})
	}
}

func TestDatesCategoriesLanguageAuthor(t *testing.T) {
	future := testNow().Add(72 * time.Hour).Format(time.RFC1123Z)
	soon := testNow().Add(time.Hour).Format(time.RFC1123Z)
	got := normaliseDoc(t, rssDoc(
		`<item><guid>a</guid><pubDate>Fri, 07 Jan 2022 18:00:00 +0100</pubDate><author>ed@example.org (Ed Itor)</author>
		<category> Kazakhstan </category><category>kazakhstan</category><category></category><category>Food &amp;amp; Drink</category><category>KAZAKHSTAN</category></item>`,
		`<item><guid>b</guid><pubDate>`+future+`</pubDate><dc:language>kk</dc:language></item>`,
		`<item><guid>c</guid><pubDate>`+soon+`</pubDate><pubDate>not a date</pubDate></item>`,
		`<item><guid>d</guid><pubDate>the day after tomorrow</pubDate></item>`,
	))
	if len(got) != 4 {
		t.Fatalf("got %d articles", len(got))
	}
	a := got[0]
	if want := time.Date(2022, 1, 7, 17, 0, 0, 0, time.UTC); !a.Published.Equal(want) || a.Published.Location() != time.UTC {
		t.Errorf("Published = %v, want %v in UTC", a.Published, want)
	}
	if strings.Join(a.Categories, "|") != "Kazakhstan|Food & Drink" {
		t.Errorf("Categories = %q", a.Categories)
	}
	if a.Language != "en" || a.Author != "Ed Itor" {
		t.Errorf("Language %q, Author %q; want the fallback en, Ed Itor", a.Language, a.Author)
	}
	if !got[1].Published.IsZero() || got[1].Language != "kk" {
		t.Errorf("future item: Published %v, Language %q; want zero, kk", got[1].Published, got[1].Language)
	}
	if got[2].Published.IsZero() {
		t.Error("a date an hour ahead was dropped")
	}
	if !got[3].Published.IsZero() {
		t.Errorf("unparseable date gave %v", got[3].Published)
	}
}

func TestAtomEntryInheritsFeedAuthorAndLanguage(t *testing.T) {
	got := normaliseDoc(t, `<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="es"><title>T</title><id>f</id>
		<author><name>Communia</name></author>
		<entry><id>e1</id><title>One</title><link href="/uno"/></entry>
		<entry><id>e2</id><title>Two</title><author><name>Ana</name></author></entry></feed>`)
	if len(got) != 2 || got[0].Author != "Communia" || got[1].Author != "Ana" || got[0].Language != "es" {
		t.Fatalf("got %+v", got)
	}
	if got[0].Link != "https://example.org/uno" {
		t.Errorf("Link = %q, want it resolved against the feed URL", got[0].Link)
	}
}

func TestHashFollowsEdits(t *testing.T) {
	item := func(title, body, img string) string {
		return rssDoc(`<item><guid>g</guid><title>` + title + `</title><description>` + body + `</description>` +
			`<enclosure url="` + img + `" type="image/jpeg" length="1"/></item>`)
	}
	base := normaliseDoc(t, item("T", "Body", "https://example.org/a.jpg"))[0].Hash
	if again := normaliseDoc(t, item("T", "Body", "https://example.org/a.jpg"))[0].Hash; again != base {
		t.Error("same item, different hash")
	}
	for name, doc := range map[string]string{
		"title":   item("T2", "Body", "https://example.org/a.jpg"),
		"summary": item("T", "Body edited", "https://example.org/a.jpg"),
		"image":   item("T", "Body", "https://example.org/b.jpg"),
	} {
		if normaliseDoc(t, doc)[0].Hash == base {
			t.Errorf("editing the %s left the hash unchanged", name)
		}
	}
}

func TestNormaliseNil(t *testing.T) {
	if got := Normalise("x", nil, "en", testNow()); got != nil {
		t.Errorf("got %v", got)
	}
}
