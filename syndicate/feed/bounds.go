package feed

import (
	"bytes"
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	// DefaultMaxItems is how many items of one document are read at most
	// when the options say nothing.
	DefaultMaxItems = 500
	// maxNesting bounds how deeply the elements of an XML document, or
	// the arrays and objects of a JSON one, may nest: feeds need a dozen
	// levels, and the parsers' trees grow with the depth far beyond the
	// document's size.
	maxNesting = 256
	// maxContentBytes bounds the HTML of an item's content, and of its
	// summary, that is parsed: more is cut (at a tag's end) with a
	// warning. Long articles are a few hundred KiB at most.
	maxContentBytes = 1 << 20
)

// NestingError is returned for a document nested more deeply than
// maxNesting, refused before any tree is built from it.
type NestingError struct {
	Limit int
	// Line is where the element that went past the limit starts; 0 for
	// JSON.
	Line int
}

func (e *NestingError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("elements are nested more than %d deep (line %d): refused before reading it", e.Limit, e.Line)
	}
	return fmt.Sprintf("arrays and objects are nested more than %d deep: refused before reading it", e.Limit)
}

// contextReader is r failing with ctx's error once ctx is done, so that
// a parser that takes no context (gofeed's) stops at its next read.
func contextReader(ctx context.Context, r io.Reader) io.Reader {
	if ctx.Done() == nil {
		return r // never done
	}
	return &ctxReader{ctx: ctx, r: r}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	// Small reads, so that the check runs often whatever the caller's
	// buffer.
	if len(p) > 32<<10 {
		p = p[:32<<10]
	}
	return c.r.Read(p)
}

// stopped wraps a context's error as the reason reading stopped.
func stopped(err error) error {
	return fmt.Errorf("reading the document stopped: %w", err)
}

// itemChooser picks, of the items of a document met in document order,
// those to read when there are more than max: when every item has a
// readable date, the max newest (a tie goes to the one first in the
// document), else the max first in document order. It holds no more than
// 2×max items whatever the document's size.
type itemChooser[T any] struct {
	max     int
	n       int  // items met
	undated bool // an item without a readable date was met
	first   []chosen[T]
	newest  chosenHeap[T]
}

// chosen is an item kept by an itemChooser, at its place in the document,
// with its raw date and, once read, its date.
type chosen[T any] struct {
	pos  int
	raw  string
	date time.Time
	v    T
}

func newItemChooser[T any](max int) *itemChooser[T] {
	return &itemChooser[T]{max: max}
}

// add offers the next item, with its raw date. Dates are read only once
// there are more than max items.
func (c *itemChooser[T]) add(date string, v T) {
	it := chosen[T]{pos: c.n, raw: date, v: v}
	c.n++
	if c.n <= c.max {
		c.first = append(c.first, it)
		return
	}
	if c.undated {
		return
	}
	if c.newest == nil {
		c.newest = make(chosenHeap[T], 0, c.max)
		for _, f := range c.first {
			if !f.read() {
				c.undated, c.newest = true, nil
				return
			}
			c.newest = append(c.newest, f)
		}
		heap.Init(&c.newest)
	}
	if !it.read() {
		c.undated, c.newest = true, nil
		return
	}
	if c.newest.less(c.newest[0], it) {
		c.newest[0] = it
		heap.Fix(&c.newest, 0)
	}
}

// read reads the item's date, reporting whether it has a usable one.
func (it *chosen[T]) read() bool {
	t, _, ok := readDate(it.raw)
	it.date = t
	return ok && !t.IsZero()
}

// result is the items to read, in document order, and whether they are
// the newest by date (else the first, or all); total is how many there
// were.
func (c *itemChooser[T]) result() (kept []chosen[T], byDate bool, total int) {
	if c.n <= c.max || c.undated {
		return c.first, false, c.n
	}
	kept = slices.Clone(c.newest)
	slices.SortFunc(kept, func(a, b chosen[T]) int { return cmp.Compare(a.pos, b.pos) })
	return kept, true, c.n
}

// chosenHeap has the item to let go first (the oldest; of two as old, the
// later in the document) on top.
type chosenHeap[T any] []chosen[T]

func (h chosenHeap[T]) less(a, b chosen[T]) bool {
	if c := a.date.Compare(b.date); c != 0 {
		return c < 0
	}
	return a.pos > b.pos
}
func (h chosenHeap[T]) Len() int           { return len(h) }
func (h chosenHeap[T]) Less(i, j int) bool { return h.less(h[i], h[j]) }
func (h chosenHeap[T]) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *chosenHeap[T]) Push(x any)        { *h = append(*h, x.(chosen[T])) }
func (h *chosenHeap[T]) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// omittedNote is the warning for a document whose items were not all
// read.
func omittedNote(total, read int, byDate bool) string {
	which := "the first in the document, as not every item has a readable date"
	if byDate {
		which = "the newest by date"
	}
	return fmt.Sprintf("%d of the document's %d items skipped: at most %d items are read per poll (max_items), %s",
		total-read, total, read, which)
}

// cut is a part of a document to leave out. A cut of whole elements
// leaves its line breaks (keepLines), so that the lines after it keep
// their numbers; a cut of text leaves nothing, as line breaks would be
// text.
type cut struct {
	start, end int
	keepLines  bool
}

// withoutSpans returns doc without the cuts given (in any order; one
// inside another counts once).
func withoutSpans(doc []byte, spans []cut) []byte {
	if len(spans) == 0 {
		return doc
	}
	slices.SortFunc(spans, func(a, b cut) int { return cmp.Compare(a.start, b.start) })
	size, last := len(doc), 0
	for _, sp := range spans {
		sp.start = max(sp.start, last)
		if sp.end > sp.start {
			size -= sp.end - sp.start
			if sp.keepLines {
				size += bytes.Count(doc[sp.start:sp.end], []byte("\n"))
			}
			last = sp.end
		}
	}
	out := make([]byte, 0, size)
	last = 0
	for _, sp := range spans {
		if sp.start < last {
			sp.start = last // inside (or across) one already left out
		}
		if sp.end <= sp.start {
			continue
		}
		out = append(out, doc[last:sp.start]...)
		if sp.keepLines {
			for range bytes.Count(doc[sp.start:sp.end], []byte("\n")) {
				out = append(out, '\n')
			}
		}
		last = sp.end
	}
	return append(out, doc[last:]...)
}

// checkJSONNesting refuses a JSON document whose arrays and objects nest
// more than maxNesting deep, by its bytes alone.
func checkJSONNesting(doc []byte) error {
	depth, inString, escaped := 0, false, false
	for _, c := range doc {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > maxNesting {
				return &NestingError{Limit: maxNesting}
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

// hugeTokens finds, by the bytes of an XML document alone, the runs of
// text and the CDATA sections longer than a field may hold and the
// comments and processing instructions as long: the XML tokenizer would
// buffer each whole (and keep a buffer that large for the rest of the
// document). It returns cuts that leave a little more than a field's
// budget of each text (the scan then cuts it exactly, with its warning)
// and none of each comment.
func hugeTokens(doc []byte) []cut {
	const keep = maxContentBytes + 64
	var cuts []cut
	textCut := func(start, end int) {
		if end-start <= keep {
			return
		}
		at := start + keep
		// Not in the middle of a reference or of a character.
		if i := bytes.LastIndexByte(doc[at-32:at], '&'); i >= 0 && bytes.IndexByte(doc[at-32+i:at], ';') < 0 {
			at = at - 32 + i
		}
		for at > start && !utf8.RuneStart(doc[at]) {
			at--
		}
		cuts = append(cuts, cut{start: at, end: end})
	}
	for i := 0; i < len(doc); {
		lt := bytes.IndexByte(doc[i:], '<')
		if lt < 0 {
			textCut(i, len(doc))
			break
		}
		textCut(i, i+lt)
		i += lt
		rest := doc[i:]
		var end int
		switch {
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end = skipPast(doc, i+9, "]]>")
			if end-len("]]>") > i+9 {
				textCut(i+9, end-len("]]>"))
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			end = skipPast(doc, i+4, "-->")
			if end-i > keep {
				cuts = append(cuts, cut{start: i, end: end, keepLines: true})
			}
		case bytes.HasPrefix(rest, []byte("<?")):
			end = skipPast(doc, i+2, "?>")
			if end-i > keep {
				cuts = append(cuts, cut{start: i, end: end, keepLines: true})
			}
		default:
			end = skipDecl(doc, i+1) // a tag, its quoted values skipped
		}
		if end >= len(doc) && !bytes.HasSuffix(doc, []byte(">")) {
			break // cut short: the scan says so
		}
		i = end
	}
	return cuts
}

// cutOffsets are where each cut of cuts (in document order, apart, as
// hugeTokens gives them) falls in doc once they are made.
func cutOffsets(doc []byte, cuts []cut) []int {
	out := make([]int, len(cuts))
	removed := 0
	for i, c := range cuts {
		out[i] = c.start - removed
		removed += c.end - c.start
		if c.keepLines {
			removed -= bytes.Count(doc[c.start:c.end], []byte("\n"))
		}
	}
	return out
}

// appendCut appends c to cuts, made one with the last when only
// whitespace lies between them: the items of a run left out are one cut.
func appendCut(doc []byte, cuts []cut, c cut) []cut {
	if n := len(cuts); n > 0 {
		last := &cuts[n-1]
		if last.keepLines == c.keepLines && c.start >= last.end && c.start-last.end <= 256 &&
			len(bytes.TrimLeft(doc[last.end:c.start], " \t\r\n")) == 0 {
			last.end = max(last.end, c.end)
			return cuts
		}
	}
	return append(cuts, c)
}

// jsonItem is an item of a JSON Feed: where it is, and the parts of the
// strings of its content (content_html, content_text, summary) past
// maxContentBytes.
type jsonItem struct {
	span itemSpan
	cuts []cut
}

// scanJSONFeed walks a JSON Feed by its bytes alone, without building
// anything of it, keeping the items an itemChooser of max keeps. ok is
// false when it is not a JSON object (the parser reports it).
func scanJSONFeed(doc []byte, max int) (c *itemChooser[jsonItem], items itemSpan, ok bool) {
	c = newItemChooser[jsonItem](max)
	i := skipJSONSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return c, items, false
	}
	items.start = -1
	ok = walkJSONObject(doc, i, func(key string, start, end int) {
		if key != "items" || doc[start] != '[' || items.start >= 0 {
			return
		}
		items = itemSpan{start: start, end: end}
		walkJSONArray(doc, start, func(start, end int) {
			item := jsonItem{span: itemSpan{start: start, end: end}}
			var published, modified string
			if doc[start] == '{' {
				walkJSONObject(doc, start, func(key string, start, end int) {
					switch key {
					case "date_published":
						published = jsonStringValue(doc, start, end)
					case "date_modified":
						modified = jsonStringValue(doc, start, end)
					case "content_html", "content_text", "summary":
						if cut, ok := jsonStringCut(doc, start, end); ok {
							item.cuts = append(item.cuts, cut)
						}
					}
				})
			}
			c.add(cmp.Or(published, modified), item)
		})
	})
	return c, items, ok && items.start >= 0
}

// walkJSONObject calls member with the key and value span of each member
// of the object at doc[i]; ok is false when it is not a whole object.
func walkJSONObject(doc []byte, i int, member func(key string, start, end int)) bool {
	i = skipJSONSpace(doc, i+1)
	for i < len(doc) && doc[i] != '}' {
		keyEnd := skipJSONValue(doc, i)
		if doc[i] != '"' || keyEnd < 0 {
			return false
		}
		key := jsonStringValue(doc, i, keyEnd)
		i = skipJSONSpace(doc, keyEnd)
		if i >= len(doc) || doc[i] != ':' {
			return false
		}
		start := skipJSONSpace(doc, i+1)
		end := skipJSONValue(doc, start)
		if end < 0 {
			return false
		}
		member(key, start, end)
		i = skipJSONSpace(doc, end)
		if i < len(doc) && doc[i] == ',' {
			i = skipJSONSpace(doc, i+1)
		}
	}
	return i < len(doc)
}

// walkJSONArray calls value with the span of each value of the array at
// doc[i].
func walkJSONArray(doc []byte, i int, value func(start, end int)) bool {
	i = skipJSONSpace(doc, i+1)
	for i < len(doc) && doc[i] != ']' {
		end := skipJSONValue(doc, i)
		if end < 0 {
			return false
		}
		value(i, end)
		i = skipJSONSpace(doc, end)
		if i < len(doc) && doc[i] == ',' {
			i = skipJSONSpace(doc, i+1)
		}
	}
	return i < len(doc)
}

// skipJSONValue returns the offset after the value at doc[i], -1 when it
// does not end.
func skipJSONValue(doc []byte, i int) int {
	if i >= len(doc) {
		return -1
	}
	switch doc[i] {
	case '"':
		for j := i + 1; j < len(doc); j++ {
			switch doc[j] {
			case '\\':
				j++
			case '"':
				return j + 1
			}
		}
		return -1
	case '{', '[':
		depth := 0
		for j := i; j < len(doc); j++ {
			switch doc[j] {
			case '"':
				end := skipJSONValue(doc, j)
				if end < 0 {
					return -1
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
	for j < len(doc) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(doc[j])) {
		j++
	}
	if j == i {
		return -1
	}
	return j
}

func skipJSONSpace(doc []byte, i int) int {
	for i < len(doc) && (doc[i] == ' ' || doc[i] == '\t' || doc[i] == '\r' || doc[i] == '\n') {
		i++
	}
	return i
}

// jsonStringValue is the string doc[start:end] holds, "" when it is no
// string (or is one too long to be a key or a date).
func jsonStringValue(doc []byte, start, end int) string {
	if end-start < 2 || end-start > 1024 || doc[start] != '"' {
		return ""
	}
	var s string
	if json.Unmarshal(doc[start:end], &s) != nil {
		return ""
	}
	return s
}

// jsonStringCut is the part of the string doc[start:end] past
// maxContentBytes, not cutting an escape sequence in two.
func jsonStringCut(doc []byte, start, end int) (cut, bool) {
	if doc[start] != '"' || end-start-2 <= maxContentBytes {
		return cut{}, false
	}
	at := start + 1 + maxContentBytes
	// Back to before a backslash run, else a \uXXXX cut in its digits
	// would be left broken.
	for k := at - 1; k > start && k >= at-6; k-- {
		if doc[k] == '\\' {
			at = k
			for at > start+1 && doc[at-1] == '\\' {
				at--
			}
			break
		}
	}
	for at > start+1 && !utf8.RuneStart(doc[at]) {
		at--
	}
	return cut{start: at, end: end - 1}, true
}

// limitJSON leaves out of a JSON Feed the parts of its items' content
// past maxContentBytes, and, when it has more than max items, the items
// an itemChooser does not keep.
func (d *Document) limitJSON(doc []byte, max int) []byte {
	c, items, ok := scanJSONFeed(doc, max)
	if !ok {
		return doc
	}
	kept, byDate, total := c.result()
	cutsOf := func(k chosen[jsonItem]) int { return len(k.v.cuts) }
	if len(kept) == total && !slices.ContainsFunc(kept, func(k chosen[jsonItem]) bool { return cutsOf(k) > 0 }) {
		return doc
	}
	if len(kept) < total {
		d.omit(total, positionsOf(kept), byDate)
	}
	// The items array again, of the items kept, each without its cuts.
	size := items.start + 1 + len(doc) - (items.end - 1) + len(kept)
	for _, k := range kept {
		size += k.v.span.end - k.v.span.start
	}
	out := make([]byte, 0, size)
	out = append(out, doc[:items.start+1]...)
	for n, k := range kept {
		if n > 0 {
			out = append(out, ',')
		}
		sp := k.v.span
		inside := make([]cut, len(k.v.cuts))
		for i, c := range k.v.cuts {
			inside[i] = cut{start: c.start - sp.start, end: c.end - sp.start}
		}
		out = append(out, withoutSpans(doc[sp.start:sp.end:sp.end], inside)...)
	}
	return append(out, doc[items.end-1:]...)
}

// capHTML cuts HTML longer than maxContentBytes after the last tag that
// ends before the limit (else at the limit, on a character boundary); the
// parser closes what is left open. cut reports that it did.
func capHTML(s string) (string, bool) {
	if len(s) <= maxContentBytes {
		return s, false
	}
	head := s[:maxContentBytes]
	if i := strings.LastIndexByte(head, '>'); i >= 0 {
		return head[:i+1], true
	}
	for len(head) > maxContentBytes-utf8.UTFMax && !utf8.ValidString(head) {
		head = head[:len(head)-1]
	}
	return head, true
}
