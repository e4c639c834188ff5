package feed

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/mmcdole/gofeed"
)

// ErrCutShort is returned for a document cut short before its first item
// began: there is nothing to keep.
var ErrCutShort = errors.New("the document is cut short before its first item")

// Document is a parsed feed document, with what gofeed does not keep.
type Document struct {
	Feed *gofeed.Feed
	// URL is the document's address (after redirects): relative URLs
	// resolve against it.
	URL string
	// Hub and Self are the WebSub hub and topic the document advertises
	// (atom:link rel="hub"/"self" at feed level, JSON Feed hubs and
	// feed_url), absolute, "" when it advertises none.
	Hub, Self string
	// Truncated is set when the document was cut short and only its
	// complete items were parsed.
	Truncated bool
	// Skipped names the items left out because they cannot be read, each
	// with why: "item 3 of 10 (line 42) skipped: it cannot be read: …".
	Skipped []string
	// items has the xml:base of each item when the scan and gofeed agree
	// on the items; nil otherwise.
	items []itemScan
}

// Parse decodes a feed document to UTF-8 (see toUTF8), refuses a web page
// with a *NotFeedError naming the feed it advertises (resolved against
// docURL), expands the entities a DOCTYPE declares (refusing expansion
// bombs with an *EntityError, never fetching external ones), keeps the
// complete items of a document cut short (XML or JSON; Truncated says so),
// drops the characters XML forbids (NUL and the other C0 controls but tab
// and line ends, U+FFFE, U+FFFF) and the references to them (&#0;), and
// parses it with gofeed. When gofeed refuses an XML document, its items
// are read one at a time: one that cannot be read is left out, named in
// Skipped, and the others are kept. Read
// uses it after the fetch; it serves as well for feeds that arrive
// otherwise (a WebSub push).
func Parse(body []byte, contentType, docURL string) (*Document, error) {
	doc, err := toUTF8(body, contentType)
	if err != nil {
		return nil, err
	}
	if isHTMLPage(doc, contentType) {
		return nil, &NotFeedError{Advertised: firstNonEmpty(AdvertisedFeeds(doc, docURL)...)}
	}
	d := &Document{URL: docURL}
	var scan xmlScan
	if isXML(doc) {
		if doc, err = expandEntities(doc); err != nil {
			return nil, fmt.Errorf("not a valid feed: %w", err)
		}
		doc = dropForbiddenXML(doc)
		scan = scanXML(doc, docURL)
		if scan.Truncated {
			if scan.Repaired == nil {
				return nil, fmt.Errorf("not a valid feed: %w", ErrCutShort)
			}
			doc, d.Truncated = scan.Repaired, true
		}
		d.Hub, d.Self = scan.Hub, scan.Self
	} else {
		doc = dropForbiddenXML(doc) // raw controls are no more JSON than XML
		if repaired, truncated := repairJSON(doc); truncated {
			doc, d.Truncated = repaired, true
		}
		d.Hub, d.Self = jsonHubSelf(doc, docURL)
	}
	if d.Feed, err = parseFeed(doc); err != nil {
		if !isXML(doc) {
			return nil, fmt.Errorf("not a valid feed: %w", err)
		}
		f, scans, skipped, ok := parseItemByItem(doc, docURL)
		if !ok {
			return nil, fmt.Errorf("not a valid feed: %w", err)
		}
		d.Feed, d.items, d.Skipped = f, scans, skipped
		return d, nil
	}
	if len(scan.Items) == len(d.Feed.Items) {
		d.items = scan.Items
	}
	return d, nil
}

// isXML reports whether a document (already UTF-8) starts like XML rather
// than JSON.
func isXML(doc []byte) bool {
	start := bytes.TrimLeft(doc, " \t\r\n\f")
	return len(start) > 0 && start[0] == '<'
}

// parseFeed runs gofeed on a UTF-8 document. A panic inside the parser is
// turned into an error: a hostile feed must fail alone, not crash the daemon.
func parseFeed(doc []byte) (f *gofeed.Feed, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("feed parser failed: %v", p)
		}
	}()
	f, err = gofeed.NewParser().Parse(bytes.NewReader(doc))
	if err == nil && f == nil {
		err = errors.New("feed parser returned no feed")
	}
	return f, err
}
