package feed

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// adversarialShape is a document built to make the reader work hard for
// its size: each is just under the default size cap (DefaultMaxBytes).
type adversarialShape struct {
	name, ext string
	build     func(w *bytes.Buffer)
}

// fillTo writes piece(i) for i = 0, 1, … while the document stays under
// limit bytes once tail is written.
func fillTo(w *bytes.Buffer, limit int, tail string, piece func(i int) string) {
	for i := 0; ; i++ {
		p := piece(i)
		if w.Len()+len(p)+len(tail) > limit {
			break
		}
		w.WriteString(p)
	}
	w.WriteString(tail)
}

// underCap is the size every shape stays under: the size cap, less a
// little, so that none is refused for its size.
const underCap = int(DefaultMaxBytes) - 4096

const rssHead = `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>Bench</title><link>https://example.org/</link>
`

var adversarialShapes = []adversarialShape{
	// Elements nested about 900,000 deep inside one item.
	{name: "deep-nesting", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead + `<item><title>Deep</title><guid>deep</guid>`)
		const open, closing = "<el>", "</el>"
		tail := "</item></channel></rss>"
		n := (underCap - w.Len() - len(tail)) / (len(open) + len(closing))
		w.WriteString(strings.Repeat(open, n))
		w.WriteString(strings.Repeat(closing, n))
		w.WriteString(tail)
	}},
	// About 90,000 small dated items.
	{name: "many-items", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead)
		start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		fillTo(w, underCap, "</channel></rss>", func(i int) string {
			return fmt.Sprintf("<item><title>Item %d</title><link>https://example.org/%d</link><pubDate>%s</pubDate></item>\n",
				i, i, start.Add(time.Duration(i)*time.Minute).Format(time.RFC1123Z))
		})
	}},
	// The same as JSON Feed.
	{name: "many-items-json", ext: ".json", build: func(w *bytes.Buffer) {
		w.WriteString(`{"version":"https://jsonfeed.org/version/1.1","title":"Bench","items":[`)
		start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		fillTo(w, underCap, `{"id":"last","content_text":"x"}]}`, func(i int) string {
			return fmt.Sprintf(`{"id":"%d","url":"https://example.org/%d","title":"Item %d","content_text":"x","date_published":"%s"},`,
				i, i, i, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339))
		})
	}},
	// Arrays nested as deep as the size allows.
	{name: "deep-nesting-json", ext: ".json", build: func(w *bytes.Buffer) {
		w.WriteString(`{"version":"https://jsonfeed.org/version/1.1","title":"Bench","items":[{"id":"a","content_text":"x","_x":`)
		tail := `}]}`
		n := (underCap - w.Len() - len(tail)) / 2
		w.WriteString(strings.Repeat("[", n))
		w.WriteString(strings.Repeat("]", n))
		w.WriteString(tail)
	}},
	// About 1.4 million empty items.
	{name: "empty-items", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead)
		fillTo(w, underCap, "</channel></rss>", func(int) string { return "<item/>" })
	}},
	// About 3 million empty JSON items.
	{name: "empty-items-json", ext: ".json", build: func(w *bytes.Buffer) {
		w.WriteString(`{"version":"https://jsonfeed.org/version/1.1","title":"Bench","items":[`)
		fillTo(w, underCap, `{}]}`, func(int) string { return "{}," })
	}},
	// About 800,000 empty elements outside the items, between them.
	{name: "many-feed-elements", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead)
		fillTo(w, underCap, "</channel></rss>", func(i int) string {
			if i%1000 == 0 {
				return fmt.Sprintf("<item><guid>%d</guid></item>", i)
			}
			return "<x:y xmlns:x=\"urn:x\"/>"
		})
	}},
	// One item with about 300,000 categories.
	{name: "many-categories", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead + `<item><title>Tagged</title><guid>tagged</guid>`)
		fillTo(w, underCap, "</item></channel></rss>", func(i int) string {
			return "<category>tag-" + strconv.Itoa(i) + "</category>"
		})
	}},
	// DOCTYPE entities referenced as often as the expansion limit lets
	// them be, and character references, over 500 items.
	{name: "many-entities", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY w "word ">]>` + "\n" + strings.TrimPrefix(rssHead, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"))
		refs := 0
		fillTo(w, underCap, "</channel></rss>", func(i int) string {
			var b strings.Builder
			fmt.Fprintf(&b, "<item><guid>e%d</guid><title>&amp;&#233;&#x4E2D;</title><description>", i)
			for j := 0; j < 4000; j++ {
				if refs < maxEntityGrowth/3 {
					b.WriteString("&w;")
					refs++
				} else {
					b.WriteString("&#233;")
				}
			}
			b.WriteString("</description></item>\n")
			return b.String()
		})
	}},
	// One item whose content is the whole document.
	{name: "huge-item", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead + `<item><title>Huge</title><guid>huge</guid><content:encoded><![CDATA[`)
		fillTo(w, underCap, "]]></content:encoded></item></channel></rss>", func(i int) string {
			return fmt.Sprintf(`<p>Paragraph %d, with <b>bold</b> and a <a href="/l/%d">link</a>.</p>`+"\n", i, i)
		})
	}},
	// The same as JSON Feed.
	{name: "huge-item-json", ext: ".json", build: func(w *bytes.Buffer) {
		w.WriteString(`{"version":"https://jsonfeed.org/version/1.1","title":"Bench","items":[{"id":"huge","content_html":"`)
		fillTo(w, underCap, `"}]}`, func(i int) string {
			return fmt.Sprintf(`<p>Paragraph %d, with <b>bold</b> and a <a href=\"/l/%d\">link</a>.</p>\n`, i, i)
		})
	}},
	// One item whose xhtml:body (markup the scan converts) is the whole
	// document.
	{name: "huge-xhtml-body", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(`<rss version="2.0" xmlns:x="http://www.w3.org/1999/xhtml"><channel><title>Bench</title><item><guid>body</guid><x:body>`)
		fillTo(w, underCap, "</x:body></item></channel></rss>", func(i int) string {
			return fmt.Sprintf(`<x:p>Paragraph %d, with <x:b>bold</x:b> and a <x:a href="/l/%d">link</x:a>.</x:p>`+"\n", i, i)
		})
	}},
	// 500 items of about 20 KiB of HTML each, with images.
	{name: "large-items", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead)
		var body strings.Builder
		for j := 0; body.Len() < 20<<10; j++ {
			fmt.Fprintf(&body, `<p>Paragraph %d with <a href="/l/%d">a link</a> and <img src="/i/%d.jpg" alt="image %d"> &amp; more.</p>`, j, j, j, j)
		}
		fillTo(w, underCap, "</channel></rss>", func(i int) string {
			return fmt.Sprintf("<item><title>Item %d</title><link>https://example.org/%d</link><description>Lead %d.</description><content:encoded><![CDATA[%s]]></content:encoded></item>\n", i, i, i, body.String())
		})
	}},
	// About 60,000 small Atom entries.
	{name: "many-entries-atom", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(`<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Bench</title><id>tag:example.org,2024:bench</id>` + "\n")
		start := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
		fillTo(w, underCap, "</feed>", func(i int) string {
			return fmt.Sprintf(`<entry><id>tag:example.org,2024:%d</id><title>Entry %d</title><link href="https://example.org/%d"/><updated>%s</updated><category term="t%d"/></entry>`+"\n",
				i, i, i, start.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i%50)
		})
	}},
	// One item whose content is HTML nested as deep as the size allows.
	{name: "deep-html", ext: ".xml", build: func(w *bytes.Buffer) {
		w.WriteString(rssHead + `<item><title>Deep HTML</title><guid>deep-html</guid><content:encoded><![CDATA[`)
		tail := "]]></content:encoded></item></channel></rss>"
		const open, closing = "<div>", "</div>"
		n := (underCap - w.Len() - len(tail)) / (len(open) + len(closing))
		w.WriteString(strings.Repeat(open, n))
		w.WriteString(strings.Repeat(closing, n))
		w.WriteString(tail)
	}},
}

// BenchmarkAdversarial reads each adversarial shape from a file through
// a Reader (read, decode, parse, normalise: what a poll does after the
// fetch) and reports, besides time and allocations:
//
//   - peak-RSS-MB: the process's peak resident set (VmHWM), reset before
//     the shape runs (writing 5 to /proc/self/clear_refs) after a GC has
//     returned the memory of earlier shapes to the system. It counts the
//     whole test binary (base-RSS-MB is what it held when the shape
//     started), so it is what a daemon reading that document at once
//     would need at least. Where the reset is not allowed the figure is
//     only meaningful for a shape run alone in its process (-bench
//     '^BenchmarkAdversarial/NAME$'): reset-ok says which it is.
//   - peak-heap-MB: the largest heap (live and not yet collected objects)
//     seen by sampling runtime/metrics every 200 µs while it ran.
//
// Linux only for the RSS figures (they are 0 elsewhere).
func BenchmarkAdversarial(b *testing.B) {
	for _, shape := range adversarialShapes {
		b.Run(shape.name, func(b *testing.B) {
			var doc bytes.Buffer
			shape.build(&doc)
			if doc.Len() > int(DefaultMaxBytes) {
				b.Fatalf("%s is %d bytes, over the cap", shape.name, doc.Len())
			}
			path := filepath.Join(b.TempDir(), shape.name+shape.ext)
			if err := os.WriteFile(path, doc.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
			size := doc.Len()
			doc = bytes.Buffer{}
			r := New(Options{Now: testNow})
			src := syndicate.FeedSource{ID: "bench", URL: "file://" + filepath.ToSlash(path), Language: "en"}

			runtime.GC()
			debug.FreeOSMemory()
			base := procStatusKB("VmRSS")
			reset := resetPeakRSS()
			sampler := startHeapSampler()
			var articles, warnings int
			var readErr error
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := r.Read(context.Background(), src, syndicate.Validators{})
				articles, warnings, readErr = len(res.Articles), len(res.Warnings), err
			}
			b.StopTimer()
			heapPeak := sampler.stop()
			b.ReportMetric(float64(procStatusKB("VmHWM"))/1024, "peak-RSS-MB")
			b.ReportMetric(float64(base)/1024, "base-RSS-MB")
			b.ReportMetric(float64(heapPeak)/(1<<20), "peak-heap-MB")
			b.ReportMetric(float64(size)/(1<<20), "doc-MB")
			b.ReportMetric(float64(articles), "articles")
			if reset {
				b.ReportMetric(1, "reset-ok")
			} else {
				b.ReportMetric(0, "reset-ok")
			}
			_ = warnings
			if readErr != nil {
				b.Logf("%s: %v", shape.name, readErr)
			}
		})
	}
}

// procStatusKB reads a field of /proc/self/status in kB, 0 when unknown.
func procStatusKB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		name, value, ok := strings.Cut(s.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0
		}
		return kb
	}
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// heapSampler records the largest heap seen while it runs.
type heapSampler struct {
	done chan struct{}
	wg   sync.WaitGroup
	peak uint64
}

func startHeapSampler() *heapSampler {
	s := &heapSampler{done: make(chan struct{})}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			s.peak = max(s.peak, sample[0].Value.Uint64())
		}
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			read()
			select {
			case <-s.done:
				read()
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *heapSampler) stop() uint64 {
	close(s.done)
	s.wg.Wait()
	return s.peak
}
