package main

import (
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
)

// serveFeeds is the feed server, run in a process of its own so the
// measured process holds only what syndicate (or the bare client) holds:
// /feed/N.xml is an RSS document of items items (about 1 KB each, with
// HTML, an image and categories) whose GUIDs and ETag change with the
// generation; POST /generation bumps it. A request with the current ETag
// answers 304.
func serveFeeds(addr string, items int) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	var generation atomic.Int64
	generation.Store(1)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /generation", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, generation.Add(1))
	})
	mux.HandleFunc("GET /feed/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimSuffix(r.PathValue("n"), ".xml"))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		g := generation.Load()
		etag := fmt.Sprintf(`"%d-%d"`, n, g)
		w.Header().Set("ETag", etag)
		if r.Header.Get("If-None-Match") == etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		_, _ = w.Write(feedDocument(n, g, items))
	})
	fmt.Printf("listening %s\n", ln.Addr())
	return http.Serve(ln, mux)
}

// feedDocument is feed n at generation g.
func feedDocument(n int, g int64, items int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:media="http://search.yahoo.com/mrss/">
<channel><title>Site %d</title><link>https://site%d.example/</link><description>Benchmark site %d</description>
`, n, n, n)
	for i := range items {
		id := fmt.Sprintf("https://site%d.example/%d/article-%d", n, g, i)
		fmt.Fprintf(&b, `<item><title>Article %d of generation %d: the mass strike &amp; its lessons</title>
<link>%s</link><guid isPermaLink="true">%s</guid>
<pubDate>Mon, %02d Nov 2026 %02d:%02d:00 +0100</pubDate>
<category>Kazakhstan</category><category>Mass strike</category><category>Central Asia</category>
<media:content url="https://site%d.example/img/%d.jpg" medium="image"><media:description>Oil workers on strike</media:description></media:content>
<description><![CDATA[<p>The crackdown on protests has become internationalized: troops under a joint mandate have entered the country to tackle demonstrators, while workers keep the strike going.</p>]]></description>
<content:encoded><![CDATA[<p class="lead">The crackdown on protests has become internationalized.</p><h2>What happened?</h2><p>Last Sunday mass protests broke out after the government doubled gas prices; workers erected <strong>barricades</strong> throughout the city and a <a href="https://site%d.example/strike">wildcat strike</a> began in the oil companies.</p><figure><img src="https://site%d.example/img/%d.jpg" alt="Strike"><figcaption>Oil workers on strike.</figcaption></figure><p>Read also: <a href="https://site%d.example/older">the strikes of ten years ago</a>.</p>]]></content:encoded>
</item>
`, i, g, id, id, 1+i%28, i%24, i%60, n, i, n, n, i, n)
	}
	b.WriteString("</channel></rss>\n")
	return []byte(b.String())
}
