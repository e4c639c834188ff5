package feed

import (
	"bytes"
	"context"
	"fmt"

	"github.com/mmcdole/gofeed"
)

// parseItemByItem reads an XML document that gofeed refused as a whole,
// one item at a time, so that one item it cannot read costs that item and
// not the feed. The document without its items (its frame) gives the
// feed; each item put back alone into the frame gives one item, at its
// place. An item that still cannot be read is left nil in Items (Normalise
// passes over it) and named in skipped. ok is false when the frame cannot
// be read, or when no item can: the document is then as broken as gofeed
// said.
func parseItemByItem(ctx context.Context, doc []byte, docURL string) (f *gofeed.Feed, scans []itemScan, skipped []string, ok bool) {
	spans := findItems(doc)
	if len(spans) == 0 {
		return nil, nil, nil, false
	}
	head, tail := doc[:spans[0].start], doc[spans[len(spans)-1].end:]
	frame := append(append([]byte(nil), head...), tail...)
	f, err := parseFeed(ctx, frame)
	if err != nil {
		return nil, nil, nil, false
	}
	f.Items = make([]*gofeed.Item, len(spans))
	scans = make([]itemScan, len(spans))
	read := 0
	for k, sp := range spans {
		// Blank lines keep the item on its own line numbers, so that an
		// error names the line of the document.
		lines := bytes.Count(doc[len(head):sp.start], []byte("\n"))
		piece := make([]byte, 0, len(head)+lines+(sp.end-sp.start)+len(tail))
		piece = append(piece, head...)
		piece = append(piece, bytes.Repeat([]byte("\n"), lines)...)
		piece = append(piece, doc[sp.start:sp.end]...)
		piece = append(piece, tail...)
		if ctx.Err() != nil {
			return nil, nil, nil, false
		}
		one, err := parseFeed(ctx, piece)
		if err == nil && len(one.Items) != 1 {
			err = fmt.Errorf("it reads as %d items", len(one.Items))
		}
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("item %d of %d (line %d) skipped: it cannot be read: %v",
				k+1, len(spans), bytes.Count(doc[:sp.start], []byte("\n"))+1, err))
			continue
		}
		f.Items[k] = one.Items[0]
		if s := scanXML(piece, docURL); len(s.Items) == 1 {
			scans[k] = s.Items[0]
		}
		read++
	}
	if read == 0 {
		return nil, nil, nil, false
	}
	return f, scans, skipped, true
}
