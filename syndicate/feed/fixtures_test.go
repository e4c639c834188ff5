package feed

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// feedsServer serves testdata/feeds at /feeds/NAME, with {{BASE_URL}}
// replaced by its own URL, the Content-Type given for the name (else one
// from the extension), and records the paths asked for.
type feedsServer struct {
	*httptest.Server
	types map[string]string

	mu    sync.Mutex
	paths []string
}

func newFeedsServer(t *testing.T, types map[string]string) *feedsServer {
	t.Helper()
	s := &feedsServer{types: types}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *feedsServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.mu.Unlock()
	name, ok := strings.CutPrefix(r.URL.Path, "/feeds/")
	raw, err := os.ReadFile(filepath.Join("testdata", "feeds", filepath.Base(name)))
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	contentType := s.types[name]
	if contentType == "" {
		contentType = fixtureType(name)
		if strings.HasSuffix(name, ".html") {
			contentType = "text/html; charset=utf-8"
		}
	}
	w.Header().Set("Content-Type", contentType)
	_, _ = w.Write(bytes.ReplaceAll(raw, []byte("{{BASE_URL}}"), []byte(s.URL)))
}

func (s *feedsServer) requested() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.paths)
}

// wantArticle is what a fixture's article must be. Every field is
// compared: an empty one must be empty. {{BASE_URL}} stands for the server.
type wantArticle struct {
	Key, Link, Title, Summary string
	Image, Caption            string
	Published                 string // RFC 3339 in UTC, "" for none
	Related                   []syndicate.Link
	// Has and Lacks are pieces ContentHTML must and must not contain.
	Has, Lacks []string
}

// fixtureCase is one file of testdata/feeds read through a Reader.
type fixtureCase struct {
	file        string
	contentType string // served; "" for the extension's
	truncated   bool
	hub, self   string
	positions   []int    // when set, the articles' Position
	wantErr     string   // when set, the read fails with this in the message
	warnings    []string // each is in one of the read's warnings
	want        []wantArticle
}

const (
	cafeTitle   = "Café – «¿Quién teme a la inteligencia artificial?»"
	cafeSummary = "Año nuevo, señales viejas: ¿qué cambia?"
)

func cafe(key, published string) wantArticle {
	return wantArticle{Key: key, Link: "https://example.org/cafe", Title: cafeTitle, Summary: cafeSummary,
		Published: published, Has: []string{cafeSummary}}
}

var fixtureCases = []fixtureCase{
	// Encodings.
	{file: "utf8-bom.rss.xml", want: []wantArticle{cafe("https://example.org/cafe", "2023-01-03T09:00:00Z")}},
	{file: "utf16le-bom.rss.xml", want: []wantArticle{cafe("https://example.org/cafe", "2023-01-03T09:00:00Z")}},
	{file: "utf16be-bom.atom.xml", want: []wantArticle{cafe("tag:example.org,2023:cafe", "2023-01-03T09:00:00Z")}},
	{file: "utf32le-bom.rss.xml", want: []wantArticle{cafe("https://example.org/cafe", "2023-01-03T09:00:00Z")}},
	{file: "utf32be-bom.atom.xml", want: []wantArticle{cafe("tag:example.org,2023:cafe", "2023-01-03T09:00:00Z")}},
	{file: "iso-8859-1.rss.xml", want: []wantArticle{{
		Key: "https://example.org/cafe", Link: "https://example.org/cafe", Title: strings.ReplaceAll(cafeTitle, "–", "-"),
		Summary: cafeSummary, Published: "2023-01-03T09:00:00Z",
	}}},
	{file: "windows-1252.rss.xml", want: []wantArticle{{
		Key: "https://example.org/quotes", Link: "https://example.org/quotes",
		Title: "“Smart quotes” – it’s €5 for Œuvres", Summary: "Déjà vu… again",
	}}},
	{file: "koi8-r.rss.xml", want: []wantArticle{{
		Key: "https://example.org/ru/zhanaozen", Link: "https://example.org/ru/zhanaozen",
		Title: "Забастовка нефтяников в Жанаозене", Summary: "Рабочие требуют снижения цен на газ.",
	}}},
	{file: "euc-kr.rss.xml", want: []wantArticle{{
		Key: "https://example.org/ko/strike", Link: "https://example.org/ko/strike",
		Title: "카자흐스탄 파업 소식", Summary: "노동자들이 가스 가격 인하를 요구합니다.",
	}}},
	// KOI8-R bytes under a declaration that says ISO-8859-1: the HTTP
	// charset wins.
	{file: "http-charset.rss.xml", contentType: "application/rss+xml; charset=KOI8-R", want: []wantArticle{{
		Key: "https://example.org/ru/zhanaozen", Link: "https://example.org/ru/zhanaozen",
		Title: "Забастовка нефтяников в Жанаозене", Summary: "Рабочие требуют снижения цен на газ.",
	}}},
	{file: "undeclared-windows-1252.rss.xml", want: []wantArticle{{
		Key: "https://example.org/ete", Link: "https://example.org/ete",
		Title: "L’été à Zürich: “naïve” café", Summary: "Crème brûlée – 5 €",
	}}},
	{file: "c1-controls.rss.xml", want: []wantArticle{{
		Key: "https://example.org/c1", Link: "https://example.org/c1",
		Title: "“Smart” quotes, it’s € 5 – really", Summary: "“Referenced” and ‘raw’ quotes",
		Has: []string{"<p>“Referenced” and ‘raw’ quotes</p>"},
	}}},

	// Documents cut short.
	{file: "truncated-close-tag.rss.xml", truncated: true, want: []wantArticle{
		{Key: "https://example.org/first", Link: "https://example.org/first", Title: "First"},
		{Key: "https://example.org/second", Link: "https://example.org/second", Title: "Second"},
	}},
	{file: "truncated-item.rss.xml", truncated: true, want: []wantArticle{
		{Key: "https://example.org/first", Link: "https://example.org/first", Title: "First"},
		{Key: "https://example.org/second", Link: "https://example.org/second", Title: "Second", Summary: "Complete.", Has: []string{"<p>Complete.</p>"}},
	}},
	{file: "truncated-entry.atom.xml", truncated: true, want: []wantArticle{
		{Key: "tag:example.org,2023:one", Link: "https://example.org/one", Title: "One", Published: "2023-01-03T10:00:00Z"},
	}},
	{file: "truncated.json", truncated: true, want: []wantArticle{
		{Key: "json-a", Link: "https://example.org/a", Title: "Complete", Summary: "A.", Has: []string{"<p>A.</p>"}},
		{Key: "json-b", Link: "https://example.org/b", Title: "Also complete"},
	}},

	// DOCTYPE entities.
	{file: "entity-internal.atom.xml", want: []wantArticle{{
		Key: "tag:example.com,2006:entry-1", Link: "https://example.com/entry-1", Title: "Written by Ann & Bob",
		Summary: "An entity in text: Ann & Bob, kept in CDATA: &authors;", Published: "2006-05-04T10:00:00Z",
		Has: []string{"Ann &amp; Bob"},
	}}},
	{file: "entity-external.rss.xml", want: []wantArticle{{
		Key: "https://example.org/external", Link: "https://example.org/external", Title: "Before after",
		Summary: "Nothing fetched:", Lacks: []string{"root:"},
	}}},
	{file: "entity-billion-laughs.rss.xml", wantErr: "refused the entity &lol7; declared in the DOCTYPE: it expands to more than 4 MiB (an entity expansion bomb)"},
	{file: "entity-quadratic.rss.xml", wantErr: "refused the entity &big; declared in the DOCTYPE: expanding the document's entities would add more than 4 MiB"},
	{file: "entity-recursive.rss.xml", wantErr: "refused the entity &a; declared in the DOCTYPE: it refers to itself"},

	// xml:base and relative URLs.
	{file: "xml-base.rss.xml", want: []wantArticle{
		{
			Key: "base-1", Link: "https://cdn.example.net/posts/2023/first-post", Title: "Item with its own base",
			Summary: "See the older post and about, notes.", Image: "https://cdn.example.net/posts/2023/images/cover.jpg",
			Has: []string{
				`<a href="https://cdn.example.net/posts/2022/older">`, `<a href="https://cdn.example.net/about">`,
				`<a href="https://cdn.example.net/posts/2023/#notes">`, `<img src="https://cdn.example.net/posts/2023/inline.png" alt="Inline"/>`,
			},
		},
		{
			Key: "base-2", Link: "https://example.org/blog/second-post", Title: "Item under the channel's base",
			Summary: "A relative tag.", Image: "https://example.org/blog/thumbs/second.jpg",
			Has: []string{`<a href="https://example.org/blog/tags/news">`},
		},
		{
			Key: "base-3", Link: "https://example.org/third", Title: "Content with a base of its own",
			Summary: "Notes", Image: "https://static.example.org/third/figure.webp", Caption: "A figure",
			Has: []string{`<a href="https://static.example.org/third/notes.html">`},
		},
	}},
	{file: "xml-base.atom.xml", want: []wantArticle{{
		Key: "tag:example.org,2023:atom-base", Link: "https://example.org/posts/atom-base", Title: "Atom entry with a base",
		Summary: "Go next or home.", Image: "https://example.org/posts/atom-base/cover.png", Published: "2023-01-03T10:00:00Z",
		Has: []string{`<a href="https://example.org/posts/next">`, `<a href="https://example.org/">`},
	}}},
	{file: "relative-links.rss.xml", want: []wantArticle{
		{
			Key: "rel-1", Link: "https://example.org/ai", Title: "Who is afraid of AI?", Summary: "Read part 2, elsewhere, write.",
			Image: "https://example.org/img.jpg", Caption: "A robot",
			Has: []string{
				`<img src="https://example.org/img.jpg" alt="A robot"/>`, `<a href="https://example.org/part-2">`,
				`<a href="https://other.example.com/x">`, `<a href="mailto:editor@example.org">`,
			},
		},
		{Key: "rel-2", Link: "https://example.org/blog/posts/two", Title: "Relative to the channel link", Summary: "No links."},
	}},

	// Titles.
	{file: "titles.rss.xml", want: []wantArticle{
		{Key: "t1", Title: "Protests in Kazakhstan: what’s going on"},
		{Key: "t2", Title: "A new era…"},
		{Key: "t3", Title: "A new era…"},
		{Key: "t4", Title: "Double-escaped: what’s next…"},
		{Key: "t5", Title: "Tom & Jerry <3 🔥"},
		{Key: "t6", Title: "Spread over lines"},
		{Key: "t7", Title: "Safe title"},
	}},

	// Sanitising.
	{file: "sanitise.rss.xml", want: []wantArticle{{
		Key: "https://example.org/posts/hostile", Link: "https://example.org/posts/hostile", Title: "Hostile content",
		Summary: "Clean summary.", Image: "https://example.org/posts/pic.jpg", Caption: "Its caption",
		Has: []string{
			"<p>Lead <strong>bold</strong> <b>b</b> <em>em</em> <i>i</i> <u>u</u> <s>s</s> <del>del</del>",
			`<a href="https://example.org/posts/relative/page">relative</a>`, `<a href="mailto:ed@example.org">mail</a>`,
			`<figure><img src="https://example.org/posts/pic.jpg" alt="A picture"/><figcaption>Its caption</figcaption></figure>`,
			`<img src="https://example.org/posts/lazy.jpg" alt="Lazy"/>`,
			"<blockquote><p>Quote</p></blockquote><q>short quote</q>", "<pre><code>x &lt; y</code></pre>",
			"<ul><li>one</li></ul><ol><li>two</li></ol>", "<h2>Heading</h2>",
			`<table><caption>T</caption><thead><tr><th colspan="2">H</th></tr></thead><tbody><tr><td>a</td><td>b</td></tr></tbody></table>`,
			"js link", "<p>Broken <b>markup <i>never closed\n</i></b></p>",
			// A frame's fallback is kept, sanitised; MathML as its text.
			"<p>iframe body</p>", "\n  m\n",
		},
		Lacks: []string{
			"<script", "alert", "<style", "color: red", "<iframe", "evil.example", "<object", "<embed", "<form", "<input",
			"<button", "<svg", "<math", "class=", "style=", "onclick", "onerror", "onmouseover", "javascript", "vbscript", "data:", "ftp:", "srcset",
			"target=", "width=", "border=", "rowspan", "<span", "<h7",
		},
	}}},

	// Content as published: RSS xhtml:body, <body>, <fullitem>; Atom
	// xhtml written with a prefix, base64; MathML as text; the fallback
	// of frames and objects.
	{file: "content-rss-body.rss.xml", want: []wantArticle{
		{Key: "body-prefixed", Link: "https://example.org/posts/prefixed", Title: "xhtml:body with a prefix", Summary: "The feed's own summary.",
			Has: []string{
				`<p>First <em>paragraph</em> &amp; a <a href="https://example.org/posts/related">relative link</a>.</p>`,
				"<p>Second paragraph<br/>on two lines, &lt;escaped&gt; markup.</p>",
			}, Lacks: []string{"xhtml:", "xmlns"}},
		{Key: "body-default-ns", Link: "https://example.org/posts/default-ns", Title: "body in the XHTML namespace", Summary: "Example content",
			Has: []string{"<p>Example content</p><p>More.</p>"}},
		{Key: "body-plain", Title: "body in no namespace, with a script and an empty frame", Summary: "safe description",
			Has: []string{"safe", "<b>description</b>"}, Lacks: []string{"<script", "alert", "<iframe", "example.com"}},
		{Key: "body-base", Link: "https://example.org/posts/based", Title: "body under its own xml:base", Summary: "See the notes",
			Image: "https://static.example.org/notes/figure.png", Caption: "A figure",
			Has: []string{`<a href="https://static.example.org/notes/page.html">the notes</a>`}},
		{Key: "fullitem", Title: "fullitem", Summary: "Example full content", Has: []string{"<p>Example <i>full</i> content</p>"}},
		{Key: "fullitem-cdata", Title: "fullitem in CDATA, with a body too", Summary: "The body wins.",
			Has: []string{"<p>The body wins.</p>"}, Lacks: []string{"Not this one"}},
		{Key: "encoded-first", Title: "content:encoded before any body", Summary: "Summary.",
			Has: []string{"<p>Encoded content.</p>"}, Lacks: []string{"Not the body"}},
	}},
	{file: "content-atom.atom.xml", want: []wantArticle{
		{Key: "tag:example.org,2024:xhtml-prefixed", Link: "https://example.org/posts/prefixed", Title: "xhtml content with a prefix",
			Summary: "Hi there & next.", Published: "2024-01-05T10:00:00Z",
			Has: []string{
				`<p>Hi <b>there</b> &amp; <a href="https://example.org/next">next</a>.</p>`, "<p>History of the &lt;blink&gt; tag</p>",
			}, Lacks: []string{"xh:", "<div"}},
		{Key: "tag:example.org,2024:xhtml-default", Link: "https://example.org/posts/default", Title: "xhtml content in the default namespace",
			Summary: "Example Atom", Published: "2024-01-04T10:00:00Z", Has: []string{"<p>Example <b>Atom</b></p>"}},
		{Key: "tag:example.org,2024:xhtml-summary", Link: "https://example.org/posts/summary", Title: "xhtml summary with a prefix",
			Summary: "A short summary.", Published: "2024-01-03T10:00:00Z", Has: []string{"<p>The content.</p>"}},
		{Key: "tag:example.org,2024:mathml", Link: "https://example.org/posts/math", Title: "MathML kept as text",
			Summary: "Sum: a+b.", Published: "2024-01-02T10:00:00Z",
			Has:   []string{"<p>Sum: a+b.</p>", "<p>Alt: x squared.</p>", `<p>TeX: \frac{a}{b}.</p>`},
			Lacks: []string{"<math", "<mi", "javascript", "alert"}},
		{Key: "tag:example.org,2024:fallbacks", Link: "https://example.org/posts/fallbacks", Title: "The fallback text of frames and objects",
			Summary: "Frame: safe description", Published: "2024-01-01T10:00:00Z",
			Has: []string{
				"<p>Frame: safe <b>description</b> </p>", `<p>Object: safe   <a href="https://example.org/movie.html">watch it</a></p>`,
				"<p>Video:      none</p>",
			},
			Lacks: []string{"<iframe", "<object", "<embed", "<param", "<script", "alert", "swf", "video.example.com"}},
	}},
	{file: "content-base64.atom.xml", want: []wantArticle{
		{Key: "tag:example.org,2024:base64-html", Link: "https://example.org/posts/b64", Title: "base64 under an HTML type",
			Summary: "A base64 summary.", Published: "2024-01-05T10:00:00Z",
			Has:   []string{`<p>Safe <b>description</b> and <a href="https://example.org/more">more</a>.</p>`},
			Lacks: []string{"<script", "location", "PHA+"}},
		{Key: "tag:example.org,2024:base64-none", Link: "https://example.org/posts/b64-none", Title: "base64 with no type",
			Summary: "Example Atom", Published: "2024-01-04T10:00:00Z", Has: []string{"Example <b>Atom</b>"}},
		{Key: "tag:example.org,2024:base64-text", Link: "https://example.org/posts/b64-text", Title: "base64 plain text",
			Summary: "Plain text: 1 < 2 & <b>not bold</b>", Published: "2024-01-03T10:00:00Z",
			Has: []string{"Plain text: 1 &lt; 2 &amp; &lt;b&gt;not bold&lt;/b&gt;"}},
		{Key: "tag:example.org,2024:escaped", Link: "https://example.org/posts/escaped", Title: "escaped, as before",
			Summary: "Escaped HTML.", Published: "2024-01-02T10:00:00Z", Has: []string{"<p>Escaped <b>HTML</b>.</p>"}},
	}},

	// Featured images.
	{file: "images.rss.xml", want: []wantArticle{
		{Key: "img-1", Link: "https://example.org/img-1", Title: "media:content wins over everything",
			Image: "https://cdn.example.org/media.jpg", Caption: "Media & its description"},
		{Key: "img-2", Link: "https://example.org/img-2", Title: "media:group: the image among videos, the group's caption",
			Image: "https://cdn.example.org/group.webp", Caption: "The group's caption"},
		{Key: "img-3", Link: "https://example.org/img-3", Title: "media:thumbnail before an enclosure",
			Image: "https://cdn.example.org/thumb.jpg", Caption: "Thumbnail caption"},
		{Key: "img-4", Link: "https://example.org/img-4", Title: "Image enclosure, caption from the content's figure",
			Image: "https://cdn.example.org/enclosure.jpg", Caption: "The figure caption"},
		{Key: "img-5", Link: "https://example.org/img-5", Title: "itunes:image before the content's image",
			Image: "https://cdn.example.org/itunes.jpg"},
		{Key: "img-6", Link: "https://example.org/posts/img-6/", Title: "First image of the content, with its alt text",
			Summary: "Text", Image: "https://example.org/posts/img-6/first.jpg", Caption: "The first image"},
		{Key: "img-7", Link: "https://example.org/img-7", Title: "No image", Summary: "Words only."},
	}},
	{file: "images.json", want: []wantArticle{
		{Key: "json-1", Link: "https://example.org/json-1", Title: "JSON Feed image before the content's", Summary: "Lead.",
			Image: "https://example.org/images/json-1.jpg"},
		{Key: "json-2", Link: "https://example.org/json-2", Title: "Banner image when there is no image", Summary: "Lead.",
			Image: "https://cdn.example.org/banner.jpg"},
		{Key: "json-3", Link: "https://example.org/posts/json-3/", Title: "The content's image with its figcaption", Summary: "Lead.",
			Image: "https://example.org/posts/json-3/photo.jpg", Caption: "Photo caption"},
	}},

	// Summaries and related links.
	{file: "read-also.rss.xml", want: []wantArticle{
		{
			Key: "ra-1", Link: "https://en.example.org/strike", Title: "The lead, not the caption nor the related links",
			Summary: "The lead paragraph, at last.", Image: "https://en.example.org/strike.jpg", Caption: "Strikers at the gate.",
			Related: []syndicate.Link{
				{Title: "Strikes return to Zhanaozen, 7/21/2021", URL: "https://en.example.org/earlier"},
				{Title: "the context", URL: "https://en.example.org/context"},
				{Title: "more", URL: "https://en.example.org/more"},
				{Title: "One", URL: "https://en.example.org/one"},
				{Title: "Two", URL: "https://en.example.org/two"},
			},
			Has: []string{`<p>Read also: <a href="https://en.example.org/earlier">`},
		},
		{
			Key: "ra-2", Link: "https://en.example.org/summary", Title: `The feed's summary, without its "Read also"`,
			Summary: "The feed's own summary.",
			Related: []syndicate.Link{
				{Title: "Related one", URL: "https://en.example.org/related-one"},
				{Title: "Other article", URL: "https://en.example.org/other"},
			},
		},
		{
			Key: "ra-3", Link: "https://en.example.org/related-words", Title: "A paragraph that only starts like a marker",
			Summary: "Related workers struck too, see.",
		},
	}},
	{file: "lee-tambien.atom.xml", want: []wantArticle{{
		Key: "tag:example.org,2022:huelga", Link: "https://es.example.org/huelga", Title: "La huelga de masas en Kazajistán",
		Summary: "La represión de las protestas se ha internacionalizado.", Published: "2022-01-08T08:00:00Z",
		Image: "https://es.example.org/huelga.jpg", Caption: "Trabajadores en huelga salvaje.",
		Related: []syndicate.Link{
			{Title: "Vuelven las huelgas a Zhanaozen", URL: "https://es.example.org/zhanaozen"},
			{Title: "Asia Central", URL: "https://es.example.org/asia"},
			{Title: "Rusia", URL: "https://es.example.org/rusia"},
		},
	}}},

	// Dates.
	{file: "dates.rss.xml", want: []wantArticle{
		{Key: "d-rfc822", Title: "RFC 822", Published: "2022-01-07T17:00:00Z"},
		{Key: "d-comment", Title: "RFC 822 with a comment", Published: "2022-01-03T09:00:00Z"},
		{Key: "d-spanish", Title: "Spanish month and weekday", Published: "2022-01-03T09:00:00Z"},
		{Key: "d-spanish-long", Title: "Spanish long form", Published: "2022-01-04T09:30:00Z"},
		{Key: "d-french", Title: "French with a zone name", Published: "2022-01-05T06:15:00Z"},
		{Key: "d-german", Title: "German", Published: "2022-03-06T11:00:00Z"},
		{Key: "d-dc", Title: "Dublin Core date", Published: "2022-01-08T12:00:00Z"},
		{Key: "d-missing", Title: "No date"},
		{Key: "d-garbage", Title: "Unreadable"},
		{Key: "d-zero", Title: "Year one"},
		{Key: "d-epoch", Title: "Unix epoch"},
		{Key: "d-future", Title: "Far future"},
	}},

	// Keys.
	{file: "keys.rss.xml", positions: []int{0, 1, 3, 4, 6, 7}, want: []wantArticle{
		{Key: "dup", Link: "https://example.org/one", Title: "First"},
		{Key: "dup|https://example.org/two", Link: "https://example.org/two", Title: "Same GUID, another link"},
		{Key: "https://example.org/three?id=3", Link: "https://example.org/three?id=3", Title: "No GUID: the canonical link"},
		{Key: "sha256:…", Title: "No GUID nor link", Summary: "Just text.", Published: "2023-01-02T10:00:00Z"},
		{Key: "https://example.org/permalink", Link: "https://example.org/permalink", Title: "Permalink GUID only"},
		{Key: "dup|sha256:…", Title: "Same GUID, no link"},
	}},

	// Ids exactly as written (gofeed resolves an Atom id as a URL), and
	// items without id or link told apart by their author.
	{file: "ids.atom.xml", want: []wantArticle{
		{Key: "HTTP://www.example.org/thing", Link: "https://example.org/upper", Title: "Scheme in capitals", Published: "2003-12-13T18:30:02Z"},
		{Key: "http://www.example.org/thing", Link: "https://example.org/lower", Title: "Scheme in lower case", Published: "2003-12-12T18:30:02Z"},
		{Key: "Correct Value", Title: "Not a web address", Published: "2003-12-11T18:30:02Z"},
		{Key: "http://example.com/#", Link: "http://example.com/", Title: "An empty fragment", Published: "2003-12-10T18:30:02Z"},
		{Key: "http://example.com/", Link: "http://example.com/", Title: "No fragment", Published: "2003-12-09T18:30:02Z"},
		{Key: "123", Link: "http://example.org/base/123", Title: "A relative id under a base", Published: "2003-12-08T18:30:02Z"},
		{Key: "tag:example.org,2003:categories", Link: "https://example.org/categories", Title: "Categories by term", Published: "2003-12-07T18:30:02Z"},
	}},
	{file: "authors.rss.xml", positions: []int{0, 1, 3}, want: []wantArticle{
		{Key: "sha256:…", Title: "Weekly thread", Summary: "Say what you think.", Has: []string{"Say what you think."}},
		{Key: "sha256:…|Bob", Title: "Weekly thread", Summary: "Say what you think.", Has: []string{"Say what you think."}},
		{Key: "sha256:…|", Title: "Weekly thread", Summary: "Say what you think.", Has: []string{"Say what you think."}},
	}},

	// An XHTML DOCTYPE before the root of a feed served as one.
	{file: "xhtml-doctype.rss.xml", contentType: "application/rss+xml", want: []wantArticle{{
		Key: "doctype-1", Link: "https://example.org/doctype", Title: "A feed after an XHTML DOCTYPE", Summary: "Still a feed.",
		Has: []string{"Still a feed."},
	}}},

	// WebSub discovery in the document.
	{file: "websub.rss.xml", hub: "https://hub.example.net/", self: "{{BASE_URL}}/feeds/websub.rss.xml", want: []wantArticle{
		{Key: "https://example.org/websub", Link: "https://example.org/websub", Title: "WebSub"},
	}},
	{file: "websub.atom.xml", hub: "https://hub.example.net/", self: "{{BASE_URL}}/feeds/websub.atom.xml", want: []wantArticle{
		{Key: "tag:example.org,2023:websub-entry", Link: "https://example.org/websub", Title: "WebSub", Published: "2023-01-03T10:00:00Z"},
	}},
	{file: "websub.json", hub: "https://hub.example.net/", self: "{{BASE_URL}}/feeds/websub.json", want: []wantArticle{
		{Key: "websub", Link: "https://example.org/websub", Title: "WebSub", Summary: "Text.", Has: []string{"Text."}},
	}},

	// Characters XML forbids, raw or referenced, and an item that cannot
	// be read: each costs itself, never the feed.
	{file: "forbidden-chars.rss.xml", want: []wantArticle{
		{Key: "https://example.org/aktau", Link: "https://example.org/aktau", Title: "Strike at the port of Aktau",
			Summary: "Dockers walk out; the port stops.", Image: "https://example.org/aktau.jpg",
			Has: []string{"<p>Dockers walk out; the port stops.</p>"}},
		{Key: "https://example.org/clean", Link: "https://example.org/clean", Title: "Clean ’item’",
			Summary: "Unharmed by its neighbour.", Has: []string{"<p>Unharmed by its neighbour.</p>"}},
	}},
	{file: "forbidden-refs.atom.xml", want: []wantArticle{
		{Key: "tag:example.org,2023:refs", Link: "https://example.org/refs", Title: "Referenced controls",
			Summary: "Text and more\U0010ffff.", Published: "2023-01-03T10:00:00Z", Has: []string{"<p>Text and more\U0010ffff.</p>"}},
		{Key: "tag:example.org,2023:after", Link: "https://example.org/after", Title: "After", Published: "2023-01-02T10:00:00Z"},
	}},
	{file: "forbidden-chars.json", want: []wantArticle{
		{Key: "j1", Link: "https://example.org/j1", Title: "Raw NUL", Summary: "Body.", Has: []string{"<p>Body.</p>"}},
		{Key: "j2", Link: "https://example.org/j2", Title: "Second"},
	}},
	{file: "unreadable-item.rss.xml", positions: []int{0, 2},
		warnings: []string{"item 2 of 3 (line 11) skipped: it cannot be read: XML syntax error on line 12: expected element name after <"},
		want: []wantArticle{
			{Key: "https://example.org/first", Link: "https://example.org/first", Title: "First"},
			{Key: "https://example.org/third", Link: "https://example.org/third", Title: "Third"},
		}},

	// A web page.
	{file: "not-a-feed.html", wantErr: "not a feed: the server answered with an HTML page; the page advertises the feed {{BASE_URL}}/feeds/feed.rss.xml"},
}

var hashKeyPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// TestFixtures reads every file of testdata/feeds through a Reader and
// checks the articles (or the error) it must give.
func TestFixtures(t *testing.T) {
	types := map[string]string{}
	for _, tc := range fixtureCases {
		types[tc.file] = tc.contentType
	}
	srv := newFeedsServer(t, types)
	r := newTestReader(srv.Server, Limits{})
	expand := func(s string) string { return strings.ReplaceAll(s, "{{BASE_URL}}", srv.URL) }
	tested := map[string]bool{}
	for _, tc := range fixtureCases {
		tested[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			feedURL := srv.URL + "/feeds/" + tc.file
			res, err := r.Read(context.Background(), source(feedURL), syndicate.Validators{})
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), "fetch "+feedURL+": ") || !strings.Contains(err.Error(), expand(tc.wantErr)) {
					t.Fatalf("err = %v, want it to name the feed and say %q", err, expand(tc.wantErr))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Truncated != tc.truncated || res.Hub != expand(tc.hub) || res.Self != expand(tc.self) {
				t.Errorf("Truncated %v, Hub %q, Self %q; want %v, %q, %q", res.Truncated, res.Hub, res.Self, tc.truncated, expand(tc.hub), expand(tc.self))
			}
			for _, w := range tc.warnings {
				if !slices.ContainsFunc(res.Warnings, func(got string) bool { return strings.Contains(got, w) }) {
					t.Errorf("no warning says %q: %q", w, res.Warnings)
				}
			}
			if len(res.Articles) != len(tc.want) {
				t.Fatalf("got %d articles, want %d: %+v", len(res.Articles), len(tc.want), res.Articles)
			}
			for i, w := range tc.want {
				checkArticle(t, res.Articles[i], w, expand)
				wantPosition := i
				if tc.positions != nil {
					wantPosition = tc.positions[i]
				}
				if res.Articles[i].Position != wantPosition {
					t.Errorf("article %d: Position %d, want %d", i, res.Articles[i].Position, wantPosition)
				}
			}
		})
	}
	t.Run("every fixture is tested", func(t *testing.T) {
		for _, path := range fixtureFiles(t) {
			if name := filepath.Base(path); strings.HasPrefix(path, filepath.Join("testdata", "feeds")) && !tested[name] {
				t.Errorf("testdata/feeds/%s has no case", name)
			}
		}
	})
}

func checkArticle(t *testing.T, a syndicate.Article, w wantArticle, expand func(string) string) {
	t.Helper()
	published := ""
	if !a.Published.IsZero() {
		published = a.Published.UTC().Format(time.RFC3339)
	}
	key := a.Key
	if hashKeyPattern.MatchString(key) {
		key = "sha256:…"
	} else if prefix, hash, ok := strings.Cut(key, "|"); ok && hashKeyPattern.MatchString(hash) {
		key = prefix + "|sha256:…"
	} else if ok && hashKeyPattern.MatchString(prefix) {
		key = "sha256:…|" + hash
	}
	got := []string{key, a.Link, a.Title, a.Summary, a.ImageURL, a.ImageCaption, published}
	want := []string{w.Key, w.Link, w.Title, w.Summary, w.Image, w.Caption, w.Published}
	for i, field := range []string{"Key", "Link", "Title", "Summary", "ImageURL", "ImageCaption", "Published"} {
		if got[i] != expand(want[i]) {
			t.Errorf("%s: %s = %q, want %q", w.Key, field, got[i], expand(want[i]))
		}
	}
	if !slices.Equal(a.Related, w.Related) {
		t.Errorf("%s: Related = %q, want %q", w.Key, a.Related, w.Related)
	}
	for _, piece := range w.Has {
		if !strings.Contains(a.ContentHTML, expand(piece)) {
			t.Errorf("%s: ContentHTML lacks %q:\n%s", w.Key, expand(piece), a.ContentHTML)
		}
	}
	for _, piece := range w.Lacks {
		if strings.Contains(strings.ToLower(a.ContentHTML), piece) {
			t.Errorf("%s: ContentHTML has %q:\n%s", w.Key, piece, a.ContentHTML)
		}
	}
	if a.FeedID != "test" || a.Language == "" || a.Hash != contentHash(a.Title, a.Summary, a.ContentHTML, a.ImageURL) {
		t.Errorf("%s: FeedID %q, Language %q, Hash %q", w.Key, a.FeedID, a.Language, a.Hash)
	}
}

// fixtureFiles lists every feed document of testdata.
func fixtureFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, dir := range []string{"site", "feeds"} {
		matches, err := filepath.Glob(filepath.Join("testdata", dir, "*"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range matches {
			if !strings.HasSuffix(m, ".jpg") {
				files = append(files, m)
			}
		}
	}
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata")
	}
	return files
}

// TestExternalEntitiesAreNeverFetched: the document's external entities
// point at the test server, which must see no request for them.
func TestExternalEntitiesAreNeverFetched(t *testing.T) {
	srv := newFeedsServer(t, nil)
	if _, err := newTestReader(srv.Server, Limits{}).Read(context.Background(), source(srv.URL+"/feeds/entity-external.rss.xml"), syndicate.Validators{}); err != nil {
		t.Fatal(err)
	}
	if got := srv.requested(); !slices.Equal(got, []string{"/feeds/entity-external.rss.xml"}) {
		t.Errorf("server saw %q, want only the feed", got)
	}
}

// TestEntityBombsAreRefusedCheaply: refusing an expansion bomb must not
// build any of it: the bytes allocated stay near the document's size.
func TestEntityBombsAreRefusedCheaply(t *testing.T) {
	for _, name := range []string{"entity-billion-laughs.rss.xml", "entity-quadratic.rss.xml"} {
		doc, err := os.ReadFile(filepath.Join("testdata", "feeds", name))
		if err != nil {
			t.Fatal(err)
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err = Parse(doc, "", testFeedURL)
		runtime.ReadMemStats(&after)
		var entityErr *EntityError
		if !errors.As(err, &entityErr) {
			t.Fatalf("%s: err = %v, want an EntityError", name, err)
		}
		if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 1<<20 {
			t.Errorf("%s: %d bytes allocated to refuse it", name, allocated)
		}
	}
}
