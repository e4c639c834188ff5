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
// a feed: the body starts like HTML, or it is served as HTML and does not
// start like a feed (servers that label their feeds text/html still work).
func isHTMLPage(doc []byte, contentType string) bool {
	if startsLikeHTML(doc) {
		return true
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	if mediaType != "text/html" {
		return false
	}
	return gofeed.DetectFeedType(bytes.NewReader(doc[:min(len(doc), 4096)])) == gofeed.FeedTypeUnknown
}

// startsLikeHTML looks past leading whitespace, a BOM and an XML
// declaration (XHTML) for the start of an HTML document.
func startsLikeHTML(doc []byte) bool {
	start := bytes.TrimLeft(doc, " \t\r\n\f\uFEFF")
	if bytes.HasPrefix(start, []byte("<?xml")) {
		if _, rest, ok := bytes.Cut(start, []byte("?>")); ok {
			start = bytes.TrimLeft(rest, " \t\r\n\f")
		}
	}
	start = bytes.ToLower(start[:min(len(start), len("<!doctype html"))])
	return bytes.HasPrefix(start, []byte("<!doctype html")) || bytes.HasPrefix(start, []byte("<html"))
}
