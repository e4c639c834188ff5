package feed

import (
	"bytes"
	"mime"
	"slices"
	"strings"

	"github.com/mmcdole/gofeed"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// NotFeedError is returned when a feed URL answers with a web page.
type NotFeedError struct {
	// Advertised is the absolute URL of the first feed the page advertises,
	// "" when it advertises none.
	Advertised string
}

func (e *NotFeedError) Error() string {
	msg := "not a feed: the server answered with an HTML page"
	if e.Advertised != "" {
		msg += "; the page advertises the feed " + e.Advertised
	}
	return msg
}

// AdvertisedFeeds returns the feeds an HTML page advertises with
// <link rel="alternate" type="application/rss+xml|atom+xml|feed+json">,
// resolved against the page's <base href>, else pageURL, in page order and
// without repeats.
func AdvertisedFeeds(page []byte, pageURL string) []string {
	base := pageURL
	var feeds []string
	z := html.NewTokenizer(bytes.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return feeds
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.DataAtom {
			case atom.Base:
				if href := resolveURL(tokenAttr(tok, "href"), pageURL); href != "" {
					base = href
				}
			case atom.Link:
				href := resolveURL(tokenAttr(tok, "href"), base)
				if href != "" && isFeedLink(tok) && !slices.Contains(feeds, href) {
					feeds = append(feeds, href)
				}
			}
		}
	}
}

func isFeedLink(link html.Token) bool {
	if !slices.Contains(strings.Fields(strings.ToLower(tokenAttr(link, "rel"))), "alternate") {
		return false
	}
	mediaType, _, err := mime.ParseMediaType(tokenAttr(link, "type"))
	if err != nil {
		return false
	}
	switch mediaType {
	case "application/rss+xml", "application/atom+xml", "application/feed+json":
		return true
	}
	return false
}

func tokenAttr(tok html.Token, name string) string {
	for _, a := range tok.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// isHTMLPage reports whether a successful answer is a web page rather than
// a feed, from its root element: <html> is a page, <rss>, <feed>,
// <rdf:RDF> are feeds whatever DOCTYPE comes before them (an XHTML one
// included). A document whose root is neither is a page when it declares
// an HTML DOCTYPE or is served as HTML without looking like a feed
// (servers that label their feeds text/html still work).
func isHTMLPage(doc []byte, contentType string) bool {
	root, htmlDoctype := rootElement(doc[:min(len(doc), 64<<10)])
	switch strings.ToLower(root) {
	case "html":
		return true
	case "rss", "feed", "rdf", "channel":
		return false
	}
	if htmlDoctype {
		return true
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType != "text/html" {
		return false
	}
	return gofeed.DetectFeedType(bytes.NewReader(doc[:min(len(doc), 4096)])) == gofeed.FeedTypeUnknown
}

// rootElement returns the local name of the first element of doc, looking
// past leading whitespace, a BOM, the XML declaration, processing
// instructions, comments and a DOCTYPE (with its internal subset);
// htmlDoctype reports a DOCTYPE naming html. root is "" when the prefix
// given ends first, or when doc does not start like markup.
func rootElement(doc []byte) (root string, htmlDoctype bool) {
	rest := doc
	for {
		rest = bytes.TrimLeft(rest, " \t\r\n\f\uFEFF")
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			_, after, ok := bytes.Cut(rest, []byte("?>"))
			if !ok {
				return "", htmlDoctype
			}
			rest = after
		case bytes.HasPrefix(rest, []byte("<!--")):
			_, after, ok := bytes.Cut(rest[4:], []byte("-->"))
			if !ok {
				return "", htmlDoctype
			}
			rest = after
		case len(rest) >= 9 && bytes.EqualFold(rest[:9], []byte("<!doctype")):
			name := bytes.TrimLeft(rest[9:], " \t\r\n\f")
			end := bytes.IndexAny(name, " \t\r\n\f>[")
			htmlDoctype = end >= 0 && bytes.EqualFold(name[:end], []byte("html"))
			after, ok := skipDoctype(rest)
			if !ok {
				return "", htmlDoctype
			}
			rest = after
		case bytes.HasPrefix(rest, []byte("<")):
			name := rest[1:]
			end := bytes.IndexAny(name, " \t\r\n\f/>")
			if end < 0 {
				return "", htmlDoctype
			}
			name = name[:end]
			if i := bytes.IndexByte(name, ':'); i >= 0 {
				name = name[i+1:]
			}
			return string(name), htmlDoctype
		default:
			return "", htmlDoctype
		}
	}
}

// skipDoctype returns what follows the DOCTYPE doc starts with: its end is
// the first ">" outside quotes and outside the internal subset ("[…]",
// whose comments may hold anything).
func skipDoctype(doc []byte) ([]byte, bool) {
	var quote byte
	depth := 0
	for i := 2; i < len(doc); i++ {
		c := doc[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case depth > 0 && bytes.HasPrefix(doc[i:], []byte("<!--")):
			end := bytes.Index(doc[i+4:], []byte("-->"))
			if end < 0 {
				return nil, false
			}
			i += 4 + end + 2
		case c == '"' || c == '\'':
			quote = c
		case c == '[':
			depth++
		case c == ']' && depth > 0:
			depth--
		case c == '>' && depth == 0:
			return doc[i+1:], true
		}
	}
	return nil, false
}
