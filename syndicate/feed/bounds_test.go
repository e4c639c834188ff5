package feed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// shuffled is 0…n-1 in an order that is neither the document's nor the
// dates'.
func shuffled(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = (i*7919 + 13) % n
	}
	return out
}

// datedItems are n RSS items, item k published k hours after 2024-01-01,
// in the order of shuffled (dates omitted when undated).
func datedItems(n int, undated bool) []string {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var items []string
	for _, k := range shuffled(n) {
		date := ""
		if !undated {
			date = "<pubDate>" + start.Add(time.Duration(k)*time.Hour).Format(time.RFC1123Z) + "</pubDate>"
		}
		items = append(items, fmt.Sprintf("<item><guid>k%d</guid><title>Item %d</title>%s</item>", k, k, date))
	}
	return items
}

// TestMaxItems: of a document with more items than the limit, the newest
// by date are read (else the first in the document), each at its place in
// the document, with a warning first that says how many were skipped.
func TestMaxItems(t *testing.T) {
	const total = 620
	order := shuffled(total)
	atom := func() string {
		var b strings.Builder
		b.WriteString(`<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>tag:x,2024:f</id>`)
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, k := range order {
			fmt.Fprintf(&b, "<entry><id>k%d</id><title>Item %d</title><updated>%s</updated></entry>\n", k, k, start.Add(time.Duration(k)*time.Hour).Format(time.RFC3339))
		}
		b.WriteString("</feed>")
		return b.String()
	}
	jsonFeed := func() string {
		var items []string
		start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, k := range order {
			items = append(items, fmt.Sprintf(` {"id": "k%d", "title": "Item %d", "content_text": "x", "date_published": %q}`, k, k, start.Add(time.Duration(k)*time.Hour).Format(time.RFC3339)))
		}
		return `{"version": "https://jsonfeed.org/version/1.1", "title": "T", "items": [` + strings.Join(items, ",\n") + "\n], \"home_page_url\": \"https://example.org/\"}"
	}
	// newest are the keys of the max newest items, in document order.
	newest := func(max int) []string {
		var keys []string
		for _, k := range order {
			if k >= total-max {
				keys = append(keys, fmt.Sprintf("k%d", k))
			}
		}
		return keys
	}
	first := func(max int) []string {
		var keys []string
		for _, k := range order[:max] {
			keys = append(keys, fmt.Sprintf("k%d", k))
		}
		return keys
	}
	for _, tc := range []struct {
		name, doc   string
		opt         ParseOptions
		want        []string
		wantWarning string
	}{
		{name: "rss newest of 620", doc: rssDoc(datedItems(total, false)...), want: newest(DefaultMaxItems),
			wantWarning: "120 of the document's 620 items skipped: at most 500 items are read per poll (max_items), the newest by date"},
		{name: "rss max 7", doc: rssDoc(datedItems(total, false)...), opt: ParseOptions{MaxItems: 7}, want: newest(7),
			wantWarning: "613 of the document's 620 items skipped"},
		{name: "rss undated", doc: rssDoc(datedItems(total, true)...), opt: ParseOptions{MaxItems: 50}, want: first(50),
			wantWarning: "570 of the document's 620 items skipped: at most 50 items are read per poll (max_items), the first in the document, as not every item has a readable date"},
		{name: "atom", doc: atom(), opt: ParseOptions{MaxItems: 30}, want: newest(30), wantWarning: "590 of the document's 620 items skipped"},
		{name: "json", doc: jsonFeed(), opt: ParseOptions{MaxItems: 30}, want: newest(30), wantWarning: "590 of the document's 620 items skipped"},
		{name: "json undated kept whole", doc: jsonFeed(), opt: ParseOptions{MaxItems: 620}, want: first(620)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseContext(context.Background(), []byte(tc.doc), "", testFeedURL, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			n := NormaliseDocument("test", d, "en", testNow())
			var keys []string
			for i, a := range n.Articles {
				keys = append(keys, a.Key)
				var k int
				fmt.Sscanf(a.Key, "k%d", &k)
				if want := slices.Index(order, k); a.Position != want {
					t.Errorf("article %d (%s): Position %d, want its place in the document, %d", i, a.Key, a.Position, want)
				}
			}
			if !slices.Equal(keys, tc.want) {
				t.Errorf("read %d items %q…, want %d %q…", len(keys), keys[:min(5, len(keys))], len(tc.want), tc.want[:min(5, len(tc.want))])
			}
			if tc.wantWarning == "" {
				if d.Omitted != 0 || len(n.Warnings) != 0 {
					t.Errorf("Omitted %d, warnings %q", d.Omitted, n.Warnings)
				}
				return
			}
			if len(n.Warnings) == 0 || !strings.Contains(n.Warnings[0], tc.wantWarning) {
				t.Errorf("warnings %q, want the first to say %q", n.Warnings, tc.wantWarning)
			}
			if d.Omitted != total-len(tc.want) {
				t.Errorf("Omitted %d, want %d", d.Omitted, total-len(tc.want))
			}
		})
	}
}

// TestMaxItemsOfTheReader: the Reader's MaxItems, and a read's, bound the
// items read; the default is DefaultMaxItems.
func TestMaxItemsOfTheReader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(path, []byte(rssDoc(datedItems(620, false)...)), 0o644); err != nil {
		t.Fatal(err)
	}
	src := source("file://" + filepath.ToSlash(path))
	for _, tc := range []struct {
		opt  Options
		lim  Limits
		want int
	}{
		{want: DefaultMaxItems},
		{opt: Options{MaxItems: 40}, want: 40},
		{opt: Options{MaxItems: 40}, lim: Limits{MaxItems: 3}, want: 3},
		{opt: Options{MaxItems: 1000}, want: 620},
	} {
		tc.opt.Now = testNow
		res, err := New(tc.opt).ReadWith(context.Background(), src, syndicate.Validators{}, tc.lim)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Articles) != tc.want {
			t.Errorf("Options %d, Limits %d: read %d articles, want %d", tc.opt.MaxItems, tc.lim.MaxItems, len(res.Articles), tc.want)
		}
		if skipped := tc.want < 620; skipped != (len(res.Warnings) > 0 && strings.Contains(res.Warnings[0], "items skipped")) {
			t.Errorf("Options %d, Limits %d: warnings %q", tc.opt.MaxItems, tc.lim.MaxItems, res.Warnings)
		}
	}
}

// TestItemsLeftOutOfABrokenDocument: of a document the parser refuses
// with more items than the limit, the first in the document are read, item
// by item, one that cannot be read named by its line.
func TestItemsLeftOutOfABrokenDocument(t *testing.T) {
	items := datedItems(30, false)
	items[2] = strings.Replace(items[2], "<title>", "<title>1 < 2 <<", 1)
	doc := rssDoc(items...)
	line := strings.Count(doc[:strings.Index(doc, "1 < 2 <<")], "\n") + 1
	d, err := ParseContext(context.Background(), []byte(doc), "", testFeedURL, ParseOptions{MaxItems: 5})
	if err != nil {
		t.Fatal(err)
	}
	n := NormaliseDocument("test", d, "en", testNow())
	if len(n.Articles) != 4 || len(d.Skipped) != 1 || !strings.Contains(d.Skipped[0], fmt.Sprintf("(line %d)", line)) {
		t.Errorf("%d articles, skipped %q; want 4, and the item of line %d", len(n.Articles), d.Skipped, line)
	}
	if d.Omitted != 25 || len(n.Warnings) == 0 || !strings.Contains(n.Warnings[0], "the first in the document") {
		t.Errorf("Omitted %d, warnings %q", d.Omitted, n.Warnings)
	}
}

// TestNesting: a document nested deeper than a feed needs is refused
// before it is parsed, with an error that says so; a deep one within the
// limit, and unclosed HTML void elements in a description, are read.
func TestNesting(t *testing.T) {
	nested := func(depth int) string {
		return rssDoc(`<item><guid>deep</guid><x:a xmlns:x="urn:x">` + strings.Repeat("<x:a>", depth-5) + strings.Repeat("</x:a>", depth-5) + `</x:a></item>`)
	}
	jsonNested := func(depth int) string {
		return `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"deep","content_text":"x","_x":` + strings.Repeat("[", depth-2) + strings.Repeat("]", depth-2) + `}]}`
	}
	for _, tc := range []struct {
		name, doc, wantErr string
	}{
		{"xml too deep", nested(300), "not a valid feed: elements are nested more than 256 deep (line 4): refused before reading it"},
		{"xml too deep, hundreds of thousands", nested(400000), "elements are nested more than 256 deep"},
		{"xml deep within the limit", nested(250), ""},
		{"unclosed line breaks", rssDoc(`<item><guid>br</guid><description>` + strings.Repeat("a<br>", 2000) + `</description></item>`), ""},
		{"json too deep", jsonNested(300), "not a valid feed: arrays and objects are nested more than 256 deep: refused before reading it"},
		{"json deep within the limit", jsonNested(250), ""},
		{"brackets in json strings", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"s","content_text":"` + strings.Repeat("[{", 400) + `"}]}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.doc), "", testFeedURL)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got := Normalise("test", d, "en", testNow()); len(got) != 1 {
					t.Errorf("%d articles, want 1", len(got))
				}
				return
			}
			var nesting *NestingError
			if err == nil || !errors.As(err, &nesting) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want a NestingError saying %q", err, tc.wantErr)
			}
		})
	}
}

// countdown is a context that is done after its Err has been asked for
// a number of times: it stands for a deadline passing mid-work, without
// any clock.
type countdown struct {
	context.Context
	left atomic.Int64
	done chan struct{}
}

func newCountdown(n int64) *countdown {
	c := &countdown{Context: context.Background(), done: make(chan struct{})}
	c.left.Store(n)
	return c
}

func (c *countdown) Done() <-chan struct{} { return c.done }

func (c *countdown) Err() error {
	if c.left.Add(-1) < 0 {
		return context.DeadlineExceeded
	}
	return nil
}

// TestDeadlineWhileParsing: parsing stops once the context is done, the
// parser's own reading included (gofeed takes no context).
func TestDeadlineWhileParsing(t *testing.T) {
	doc := []byte(rssDoc(datedItems(3000, false)...))
	// How many times parsing asks whether it is done: it must stop
	// whenever the answer turns.
	const never = 1 << 40
	c := newCountdown(never)
	if _, err := ParseContext(c, doc, "", testFeedURL, ParseOptions{}); err != nil {
		t.Fatal(err)
	}
	checks := never - c.left.Load()
	if checks < 20 {
		t.Fatalf("parsing checks its context %d times", checks)
	}
	for n := int64(0); n < checks; n += max(1, checks/25) {
		_, err := ParseContext(newCountdown(n), doc, "", testFeedURL, ParseOptions{})
		if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), "reading the document stopped: ") {
			t.Errorf("done after %d of %d checks: err = %v, want the deadline", n, checks, err)
		}
	}
	// gofeed alone, through the reader that fails once the context is done.
	if _, err := parseFeed(newCountdown(2), doc); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("gofeed: err = %v, want the deadline", err)
	}
	// Normalising too.
	d, err := Parse(doc, "", testFeedURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := normaliseDocument(newCountdown(10), "test", d, "en", testNow(), false); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("normalise: err = %v, want the deadline", err)
	}
}

// TestDeadlineOfTheRead: a read whose deadline passes before the document
// is read fails, saying so.
func TestDeadlineOfTheRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feed.xml")
	if err := os.WriteFile(path, []byte(rssDoc(datedItems(10, false)...)), 0o644); err != nil {
		t.Fatal(err)
	}
	r := New(Options{Now: testNow})
	_, err := r.ReadWith(context.Background(), source("file://"+filepath.ToSlash(path)), syndicate.Validators{}, Limits{Timeout: time.Nanosecond})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "not read within 1ns, the fetch's deadline") {
		t.Errorf("err = %v, want the deadline named", err)
	}
}

// TestBudgets: an item's text past maxContentBytes in one element, and
// its elements past maxItemElements, are left out before the parser sees
// them, with a warning; what is kept is read as usual.
func TestBudgets(t *testing.T) {
	para := "<p>Paragraph &amp; text é.</p>\n"
	huge := strings.Repeat(para, 2*maxContentBytes/len(para))
	escaped := strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(huge)
	var cats strings.Builder
	for i := range maxItemElements + 500 {
		fmt.Fprintf(&cats, "<category>c%d</category>", i)
	}
	hugeJSON, err := json.Marshal(huge)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc  string
		warning    string
		categories int
		minContent int // bytes of ContentHTML at least
	}{
		{name: "cdata", doc: rssDoc(`<item><guid>g</guid><content:encoded><![CDATA[` + huge + `]]></content:encoded></item>`),
			warning: "<content:encoded> cut to its first 1 MiB of text"},
		{name: "cdata after a huge comment, in a huge channel", doc: strings.Replace(
			rssDoc(`<item><guid>g</guid><!--`+strings.ReplaceAll(huge, "--", "")+`--><content:encoded><![CDATA[`+huge+`]]></content:encoded></item>`),
			"<title>Example</title>", "<title>Example</title><description>"+escaped+"</description>", 1),
			warning: "<content:encoded> cut to its first 1 MiB of text"},
		{name: "escaped", doc: rssDoc(`<item><guid>g</guid><description>` + escaped + `</description></item>`),
			warning: "<description> cut to its first 1 MiB of text", minContent: maxContentBytes / 2}, // of escaped text, fewer bytes are the text
		{name: "xhtml body", doc: rssDoc(`<item><guid>g</guid><body xmlns="http://www.w3.org/1999/xhtml">` + strings.ReplaceAll(huge, "&amp;", "&amp;amp;") + `</body></item>`),
			warning: "elements past its first 10000 left out", minContent: 10000 * len(para) * 9 / 10},
		{name: "categories", doc: rssDoc(`<item><guid>g</guid><description>` + escaped[:1000] + `</description>` + cats.String() + `</item>`),
			warning: "elements past its first 10000 left out", categories: maxItemElements - 2, minContent: 600},
		{name: "json", doc: `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"g","content_html":` + string(hugeJSON) + `}]}`,
			minContent: maxContentBytes / 2}, // \u003c for <
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.doc), "", testFeedURL)
			if err != nil {
				t.Fatal(err)
			}
			n := NormaliseDocument("test", d, "en", testNow())
			if len(n.Articles) != 1 {
				t.Fatalf("%d articles", len(n.Articles))
			}
			a := n.Articles[0]
			if got := d.Feed.Items[0]; len(got.Content)+len(got.Description) > maxContentBytes+1024 {
				t.Errorf("the parser was given %d bytes of content", len(got.Content)+len(got.Description))
			}
			if tc.minContent == 0 {
				tc.minContent = maxContentBytes * 9 / 10
			}
			if len(a.ContentHTML) < tc.minContent || len(a.ContentHTML) > maxContentBytes+4096 {
				t.Errorf("ContentHTML is %d bytes", len(a.ContentHTML))
			}
			if !strings.HasPrefix(a.ContentHTML, "<p>Paragraph &amp; text é.</p>") || !strings.Contains(a.Summary, "Paragraph & text é.") {
				t.Errorf("content %q…, summary %q", a.ContentHTML[:min(60, len(a.ContentHTML))], a.Summary)
			}
			if tc.warning != "" && !slices.ContainsFunc(n.Warnings, func(w string) bool { return strings.Contains(w, tc.warning) }) {
				t.Errorf("warnings %q, want one saying %q", n.Warnings, tc.warning)
			}
			if tc.categories > 0 && len(a.Categories) != tc.categories {
				t.Errorf("%d categories, want %d", len(a.Categories), tc.categories)
			}
		})
	}
}

// TestWithoutSpans: cuts in any order, overlapping or inside one another,
// leave their line breaks when they are to.
func TestWithoutSpans(t *testing.T) {
	doc := []byte("0123\n5678\n0123\n5678")
	got := withoutSpans(doc, []cut{{start: 6, end: 12, keepLines: true}, {start: 1, end: 3}, {start: 7, end: 8}, {start: 11, end: 13, keepLines: true}, {start: 14, end: 16}})
	if want := []byte("03\n5\n3678"); !bytes.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestItemChooser: the newest by date, a tie going to the first in the
// document; the first when one is undated; all when there are not more
// than max.
func TestItemChooser(t *testing.T) {
	for _, tc := range []struct {
		dates  []string
		max    int
		want   []int
		byDate bool
	}{
		{dates: []string{"2024-01-02", "2024-01-03", "2024-01-01"}, max: 3, want: []int{0, 1, 2}},
		{dates: []string{"2024-01-02", "2024-01-03", "2024-01-01"}, max: 2, want: []int{0, 1}, byDate: true},
		{dates: []string{"2024-01-01", "2024-01-03", "2024-01-02"}, max: 1, want: []int{1}, byDate: true},
		{dates: []string{"2024-01-01", "2024-01-01", "2024-01-01", "2024-01-01"}, max: 2, want: []int{0, 1}, byDate: true},
		{dates: []string{"2023-01-01", "2024-01-01", "2024-01-01", "2024-01-01"}, max: 2, want: []int{1, 2}, byDate: true},
		{dates: []string{"2024-01-01", "", "2024-01-03", "2024-01-04"}, max: 2, want: []int{0, 1}},
		{dates: []string{"2024-01-01", "2024-01-02", "2024-01-03", "not a date"}, max: 2, want: []int{0, 1}},
	} {
		c := newItemChooser[int](tc.max)
		for i, d := range tc.dates {
			c.add(d, i)
		}
		kept, byDate, total := c.result()
		var got []int
		for _, k := range kept {
			got = append(got, k.v)
			if k.pos != k.v {
				t.Errorf("%q: item %d at position %d", tc.dates, k.v, k.pos)
			}
		}
		if !slices.Equal(got, tc.want) || byDate != tc.byDate || total != len(tc.dates) {
			t.Errorf("%q max %d: kept %v by date %v of %d; want %v by date %v", tc.dates, tc.max, got, byDate, total, tc.want, tc.byDate)
		}
	}
}

// TestDeepHTML: an item's HTML nested deeper than maxHTMLNesting loses the
// tags past that depth, not their text; HTML within it is left as it is.
func TestDeepHTML(t *testing.T) {
	shallow := strings.Repeat("<div>", maxHTMLNesting) + "text<br><img src=x>" + strings.Repeat("</div>", maxHTMLNesting) + strings.Repeat("<p>a</p>", 400)
	if got := flattenDeepHTML(shallow); got != shallow {
		t.Errorf("HTML within the limit changed")
	}
	deep := strings.Repeat("<div><b>", 1000) + "deepest" + strings.Repeat("</b></div>", 1000) + "<p>after</p>"
	flat := flattenDeepHTML(deep)
	if tooDeep(flat) || !strings.Contains(flat, "deepest") || !strings.HasSuffix(flat, "<p>after</p>") ||
		strings.Count(flat, "<div>") != maxHTMLNesting/2 {
		t.Errorf("flattened to %d bytes, %d <div>: %.200q…", len(flat), strings.Count(flat, "<div>"), flat)
	}
	a := parseArticleHTML(deep, testFeedURL)
	if text := a.text(); text != "deepest\n\nafter" {
		t.Errorf("text %q", text)
	}
}
