package feed

import (
	"bytes"
	"context"
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
	// Omitted is how many items of the document were not read, as it has
	// more than ParseOptions.MaxItems.
	Omitted int
	// items has the xml:base of each item when the scan and gofeed agree
	// on the items; nil otherwise.
	items []itemScan
	// positions, when not nil, is the place in the document of each of
	// Feed.Items (some items were not read).
	positions []int
	// notes are warnings about the whole document: items skipped, parts
	// left out past the budgets.
	notes []string
}

// ParseOptions bound the work of reading one document. Zero fields take
// the defaults.
type ParseOptions struct {
	// MaxItems is how many items are read at most (default
	// DefaultMaxItems): of a document with more, the newest by date, or
	// the first in document order when not every item has a readable
	// date. The others are left out before the parser sees them, counted
	// in Document.Omitted and named in a warning of NormaliseDocument.
	MaxItems int
}

func (o ParseOptions) maxItems() int {
	if o.MaxItems > 0 {
		return o.MaxItems
	}
	return DefaultMaxItems
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
//
// The work is bounded (see ParseOptions, here the defaults): a document
// nested more deeply than a feed needs is refused with a *NestingError
// before any tree is built, and at most DefaultMaxItems items are read.
func Parse(body []byte, contentType, docURL string) (*Document, error) {
	return ParseContext(context.Background(), body, contentType, docURL, ParseOptions{})
}

// ParseContext is Parse with options, stopping with an error that wraps
// ctx's once ctx is done, parsing included.
func ParseContext(ctx context.Context, body []byte, contentType, docURL string, opt ParseOptions) (*Document, error) {
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
		var cutAt []int
		if cuts := hugeTokens(doc); len(cuts) > 0 {
			cutAt = cutOffsets(doc, cuts)
			doc = withoutSpans(doc, cuts)
		}
		scan = scanXMLContext(ctx, doc, docURL, scanOptions{maxItems: opt.maxItems(), cutAt: cutAt})
		if scan.Err != nil {
			if err := ctx.Err(); err != nil {
				return nil, stopped(err)
			}
			return nil, fmt.Errorf("not a valid feed: %w", scan.Err)
		}
		if scan.Truncated {
			if scan.Repaired == nil {
				return nil, fmt.Errorf("not a valid feed: %w", ErrCutShort)
			}
			doc, d.Truncated = scan.Repaired, true
		}
		d.Hub, d.Self = scan.Hub, scan.Self
		doc, scan.Items = d.limitXML(doc, scan, opt.maxItems())
	} else {
		if err := checkJSONNesting(doc); err != nil {
			return nil, fmt.Errorf("not a valid feed: %w", err)
		}
		doc = dropForbiddenXML(doc) // raw controls are no more JSON than XML
		if repaired, truncated := repairJSON(doc); truncated {
			doc, d.Truncated = repaired, true
		}
		d.Hub, d.Self = jsonHubSelf(doc, docURL)
		doc = d.limitJSON(doc, opt.maxItems())
	}
	if err := ctx.Err(); err != nil {
		return nil, stopped(err)
	}
	if d.Feed, err = parseFeed(ctx, doc); err != nil {
		if err := ctx.Err(); err != nil {
			return nil, stopped(err)
		}
		if !isXML(doc) {
			return nil, fmt.Errorf("not a valid feed: %w", err)
		}
		f, scans, skipped, ok := parseItemByItem(ctx, doc, docURL)
		if err := ctx.Err(); err != nil {
			return nil, stopped(err)
		}
		if !ok {
			return nil, fmt.Errorf("not a valid feed: %w", err)
		}
		d.Feed, d.items, d.Skipped = f, scans, skipped
		d.checkPositions()
		return d, nil
	}
	if len(scan.Items) == len(d.Feed.Items) {
		d.items = scan.Items
	}
	d.checkPositions()
	return d, nil
}

// limitXML leaves out of doc what the scan found past its budgets, and,
// when the document has more than max items, the items the scan did not
// keep.
func (d *Document) limitXML(doc []byte, scan xmlScan, max int) ([]byte, []itemScan) {
	if scan.outside > maxFeedElements {
		d.notes = append(d.notes, fmt.Sprintf("elements outside the items past the first %d left out", maxFeedElements))
	}
	if scan.Broken {
		// The scan stopped at a syntax error, which gofeed will meet too:
		// the items are found by their tags (as parseItemByItem finds
		// them), the first in the document kept.
		spans := findItems(doc)
		if len(spans) <= max {
			return withoutSpans(doc, scan.cuts), nil
		}
		c := newItemChooser[itemSpan](max)
		for _, sp := range spans {
			c.add("", sp)
		}
		kept, _, total := c.result()
		var cuts []cut
		for _, sp := range spans[len(kept):] {
			cuts = appendCut(doc, cuts, cut{start: sp.start, end: sp.end, keepLines: true})
		}
		for _, c := range scan.cuts {
			if c.end <= spans[len(kept)-1].end {
				cuts = append(cuts, c)
			}
		}
		d.omit(total, positionsOf(kept), false)
		return withoutSpans(doc, cuts), nil
	}
	if scan.Total <= len(scan.Items) {
		return withoutSpans(doc, scan.cuts), scan.Items
	}
	kept := map[int]bool{}
	positions := make([]int, len(scan.Items))
	for i, it := range scan.Items {
		kept[it.Position], positions[i] = true, it.Position
	}
	var cuts []cut
	for pos, sp := range scan.spans {
		if !kept[pos] {
			cuts = appendCut(doc, cuts, cut{start: int(sp.start), end: int(sp.end), keepLines: true})
		}
	}
	cuts = append(cuts, scan.cuts...) // those inside items left out are inside their cut
	d.omit(scan.Total, positions, scan.ByDate)
	return withoutSpans(doc, cuts), scan.Items
}

func positionsOf[T any](kept []chosen[T]) []int {
	out := make([]int, len(kept))
	for i, k := range kept {
		out[i] = k.pos
	}
	return out
}

func (d *Document) omit(total int, positions []int, byDate bool) {
	d.Omitted = total - len(positions)
	d.positions = positions
	d.notes = append(d.notes, omittedNote(total, len(positions), byDate))
}

// checkPositions forgets positions that do not match the items the
// parser read (it saw items where the scan did not): those items are then
// numbered as read.
func (d *Document) checkPositions() {
	if d.positions != nil && len(d.positions) != len(d.Feed.Items) {
		d.positions = nil
	}
}

// position is the place in the document of the i-th item read.
func (d *Document) position(i int) int {
	if i < len(d.positions) {
		return d.positions[i]
	}
	return i
}

// isXML reports whether a document (already UTF-8) starts like XML rather
// than JSON.
func isXML(doc []byte) bool {
	start := bytes.TrimLeft(doc, " \t\r\n\f")
	return len(start) > 0 && start[0] == '<'
}

// parseFeed runs gofeed on a UTF-8 document, failing once ctx is done. A
// panic inside the parser is turned into an error: a hostile feed must
// fail alone, not crash the daemon.
func parseFeed(ctx context.Context, doc []byte) (f *gofeed.Feed, err error) {
	defer func() {
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("feed parser failed: %v", p)
		}
	}()
	p := gofeed.NewParser()
	// Not the HTML of every RSS item parsed again for an image: the
	// reader picks its own (featuredImage), and gofeed's is not used.
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	f, err = p.Parse(contextReader(ctx, bytes.NewReader(doc)))
	if err == nil && f == nil {
		err = errors.New("feed parser returned no feed")
	}
	return f, err
}
