package feed

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

const atomNS = "http://www.w3.org/2005/Atom"

// xmlScan is what a pass over an XML feed document finds that gofeed does
// not keep.
type xmlScan struct {
	// Items has one entry per item or entry of the document read, in
	// document order: every complete one, or, of a document with more
	// than the scan's maxItems, those an itemChooser keeps (ByDate says
	// they are the newest by date, else they are the first). Total is how
	// many complete items the document has.
	Items  []itemScan
	Total  int
	ByDate bool
	// spans are where every complete item is, in document order, when
	// not all of them are in Items.
	spans []span32
	// chooser picks Items as the items end; open is the item being read
	// (cur, used again for each).
	chooser *itemChooser[itemScan]
	open    *itemScan
	cur     itemScan
	// Hub and Self are the first feed-level atom:link rel="hub" and
	// rel="self", resolved against the xml:base in scope (else the
	// document URL).
	Hub, Self string
	// Truncated is set when the document ends inside an element; Repaired
	// is then the document cut after its last complete item (or before its
	// first item, when none is complete) with its open elements closed, or
	// nil when the document ends before its first item begins.
	Truncated bool
	Repaired  []byte
	// Err, when set, stopped the scan: elements nested too deeply (a
	// *NestingError), or the context done. The document is not to be
	// parsed.
	Err error
	// cuts are the parts of the document past its budgets, in document
	// order: the text of an item's field past maxContentBytes, the
	// elements of an item past maxItemElements, those outside the items
	// past maxFeedElements. Parse leaves them out.
	cuts []cut
	// outside counts the elements outside the items.
	outside int
	// Broken is set when a syntax error stopped the scan before the end:
	// the items after it are not in Items, and the last in Items may not
	// have ended.
	Broken bool
}

// itemScan is the xml:base in scope of an item and of its content (each
// "" where no xml:base applies), and what gofeed rewrites of an Atom
// entry: its id as written and its categories' terms.
type itemScan struct {
	Base        string
	ContentBase string
	// ID is the text of an Atom entry's <id> (the last, as gofeed takes
	// it), entities decoded, not trimmed; HasID says there is one.
	ID    string
	HasID bool
	// Categories are the Atom categories of the item (an entry's, or
	// atom:category in an RSS item), in order.
	Categories []scannedCategory
	// TextLink is the text of an Atom entry's first <link> without href
	// (its URL written as its text, as in RSS) whose rel is alternate or
	// none, trimmed; TextLinkBase the xml:base in scope there.
	TextLink, TextLinkBase string
	// Start and End are where the item's element starts and ends (after
	// its end tag) in the document scanned; Position is its place among
	// the items.
	Start, End, Position int
	// Date is the text of the item's first date element (pubDate,
	// published, updated, dc:date, dcterms:issued …), trimmed: what
	// tells the newest items when there are too many to read.
	Date string
	// forms holds what the item says in the content forms gofeed does
	// not read; nil when it uses none.
	forms *contentForms
	// Cut names the item's elements whose text is cut (past
	// maxContentBytes), and "elements" when elements past
	// maxItemElements are left out.
	Cut []string
	// elements counts the elements inside the item.
	elements int
}

// contentForms are the item's content in the forms gofeed does not read
// as published.
type contentForms struct {
	// bodies are the first RSS xhtml:body (or <body>) and the first
	// <fullitem> of an item, as HTML.
	bodies [2]capturedBody
	// content and summary are an Atom entry's last <content> and
	// <summary> when they are xhtml or base64 (the last, as gofeed
	// takes it); title its last <title> in base64.
	content, summary, title *textConstruct
}

// capturedBody is the HTML an RSS body element holds, and the xml:base in
// scope there.
type capturedBody struct {
	HTML, Base string
	ok         bool
}

// body is the item's HTML from its xhtml:body, else its <fullitem>, with
// the xml:base in scope there; "" when it has neither or they are empty.
func (s itemScan) body() (html, base string) {
	if s.forms == nil {
		return "", ""
	}
	for _, b := range s.forms.bodies {
		if strings.TrimSpace(b.HTML) != "" {
			return b.HTML, b.Base
		}
	}
	return "", ""
}

func (s *itemScan) contentForms() *contentForms {
	if s.forms == nil {
		s.forms = &contentForms{}
	}
	return s.forms
}

// scannedCategory is an Atom <category>: term is the category, label what
// to show for it.
type scannedCategory struct {
	Term, Label string
}

// scanElement is an open element of the scan.
type scanElement struct {
	raw  string            // qualified name as written, for closing it
	name xml.Name          // raw prefix and local name
	ns   map[string]string // namespaces it declares: prefix ("" default) → URI
	base *url.URL          // xml:base in scope, nil when none
	item int               // index in Items of the item it is or is inside, -1 outside
	// isItem marks the item element itself; isID an Atom entry's <id>,
	// whose text is collected into Items[item].ID; isDate the item's
	// first date element, whose text is collected into Items[item].Date;
	// isTextLink an entry's link written as text (see TextLink).
	isItem, isID, isDate, isTextLink bool
	// capture, when set, collects what is inside the element (it is, or
	// is inside, a content form the scan reads: see markupCapture);
	// captured says which form the element itself is, captureNone for
	// those inside it.
	capture  *markupCapture
	captured captureKind
	typ      string // an Atom construct's type and mode
	mode     string
	// field is the text budget of the item's child the element is or is
	// inside; nil outside items.
	field *fieldBudget
	// dropped marks an element left out (past an element budget) or
	// inside one; dropRoot the one left out, starting at dropStart.
	dropped, dropRoot bool
	dropStart         int
}

// fieldBudget is the text an item's child (its description, its
// content:encoded …) holds so far, up to maxContentBytes.
type fieldBudget struct {
	name string
	text int
	// full is set once the budget is spent: the text after goes whole;
	// warned once the item says the field is cut.
	full, warned bool
}

// captureKind names the content forms the scan collects.
type captureKind uint8

const (
	captureNone captureKind = iota
	captureBody
	captureFullitem
	captureContent
	captureSummary
	captureTitle
)

// scanXML reads an XML feed document with the tokenizer gofeed uses (not
// strict), tracking what gofeed drops: where the document is cut short, the
// feed-level WebSub links and the xml:base of each item. A syntax error
// before the end stops the scan; gofeed then reports it.
func scanXML(doc []byte, docURL string) xmlScan {
	return scanXMLContext(context.Background(), doc, docURL, scanOptions{})
}

// scanOptions bound a scan: at most maxItems items kept (0: all); cutAt
// are the offsets, in document order, where text was cut before the scan
// (see hugeTokens), for the scan to warn of it.
type scanOptions struct {
	maxItems int
	cutAt    []int
}

// span32 is where an item is in a document, in little memory: a document
// may hold a million empty items.
type span32 struct{ start, end int32 }

// scanXMLContext is scanXML that stops, with Err set, once ctx is done or
// once elements are nested more than maxNesting deep (HTML's void
// elements, <br> and its kind, unclosed in the document, are not counted),
// and that keeps in Items at most opt.maxItems items.
func scanXMLContext(ctx context.Context, doc []byte, docURL string, opt scanOptions) (s xmlScan) {
	maxItems, cutAt := opt.maxItems, opt.cutAt
	if maxItems <= 0 || len(doc) > math.MaxInt32 {
		maxItems = math.MaxInt
	}
	s.chooser = newItemChooser[itemScan](maxItems)
	defer s.choose()
	if maxItems < math.MaxInt {
		// Room for every item's span at once: a document may hold a
		// million empty items, and a growing slice would copy them over
		// and over.
		s.spans = make([]span32, 0, bytes.Count(doc, []byte("<item"))+bytes.Count(doc, []byte("<entry"))+1)
	}
	d := xml.NewDecoder(contextReader(ctx, bytes.NewReader(doc)))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // already UTF-8
	docBase, _ := url.Parse(docURL)

	var stack []scanElement
	var idText []byte   // the text of the Atom <id> open, if any
	var dateText []byte // the text of the item's date element open, if any
	var linkText []byte // the text of the entry's link without href open, if any
	depth := 0          // elements open, void ones not counted
	// Where the document can be cut and closed again: after the last
	// complete item, else before the first one.
	repairAt := -1
	var cutStack []string
	saveCut := func(offset int, depth int) {
		repairAt = offset
		cutStack = cutStack[:0]
		for _, e := range stack[:depth] {
			cutStack = append(cutStack, e.raw)
		}
	}
	for {
		offset := int(d.InputOffset())
		tok, err := d.RawToken()
		if err != nil {
			if ctx.Err() != nil {
				s.Err = ctx.Err()
				return s
			}
			if errors.Is(err, io.EOF) && len(stack) == 0 {
				return s
			}
			if isUnexpectedEOF(err) || errors.Is(err, io.EOF) {
				s.Truncated = true
				s.Repaired = repair(doc, repairAt, cutStack)
				s.cuts = slices.DeleteFunc(s.cuts, func(c cut) bool { return c.end > repairAt })
				return s
			}
			s.Broken = true
			return s
		}
		switch t := tok.(type) {
		case xml.StartElement:
			parent := scanElement{base: nil, item: -1}
			if len(stack) > 0 {
				parent = stack[len(stack)-1]
			}
			e := scanElement{raw: rawName(t.Name), name: t.Name, base: parent.base, item: parent.item}
			for _, a := range t.Attr {
				switch {
				case a.Name.Space == "xmlns":
					e.declare(a.Name.Local, a.Value)
				case a.Name.Space == "" && a.Name.Local == "xmlns":
					e.declare("", a.Value)
				case a.Name.Space == "xml" && a.Name.Local == "base":
					e.base = resolveBase(e.base, docBase, a.Value)
				}
			}
			e.capture, e.field, e.dropped = parent.capture, parent.field, parent.dropped
			stack = append(stack, e)
			if !isVoidElement(t.Name.Local) {
				depth++
			}
			if depth > maxNesting {
				s.Err = &NestingError{Limit: maxNesting, Line: bytes.Count(doc[:offset], []byte("\n")) + 1}
				return s
			}
			top := &stack[len(stack)-1]
			if top.dropped {
				continue
			}
			if s.overBudget(parent, t) {
				top.dropped, top.dropRoot, top.dropStart = true, true, offset
				continue
			}
			if parent.capture != nil {
				parent.capture.start(t)
			}
			switch {
			case parent.item < 0 && isItem(t.Name.Local) && len(stack) <= 3:
				if repairAt < 0 {
					saveCut(offset, len(stack)-1) // before the first item
				}
				top.item, top.isItem = s.chooser.n, true
				s.cur = itemScan{Base: baseString(top.base), Start: offset, End: len(doc), Position: s.chooser.n}
				s.open = &s.cur
			case parent.isItem && t.Name.Local == "id" && parent.name.Local == "entry" && isAtomNS(resolveNS(stack, t.Name.Space)):
				top.isID, idText = true, idText[:0]
				s.open.HasID = true
			case parent.isItem && t.Name.Local == "category" && isAtomNS(resolveNS(stack, t.Name.Space)) &&
				(parent.name.Local == "entry" || t.Name.Space != ""):
				s.open.Categories = append(s.open.Categories, categoryOf(t))
			case parent.isItem && parent.name.Local == "entry" && t.Name.Local == "link" && isAtomNS(resolveNS(stack, t.Name.Space)) &&
				s.open.TextLink == "" && isTextLink(t):
				top.isTextLink, linkText = true, linkText[:0]
			case parent.item >= 0 && isContent(t.Name.Local) && s.open.ContentBase == "":
				s.open.ContentBase = baseString(top.base)
			case parent.item < 0 && t.Name.Local == "link" && resolveNS(stack, t.Name.Space) == atomNS:
				s.feedLink(t, top.base, docBase)
			}
			if parent.isItem {
				item := s.open
				top.field = &fieldBudget{name: top.raw}
				if isDateElement(t.Name.Local) && item.Date == "" {
					top.isDate, dateText = true, dateText[:0]
				}
				if kind := captureKindOf(t, parent.name.Local, resolveNS(stack, t.Name.Space), item); kind != captureNone {
					top.capture, top.captured = &markupCapture{}, kind
					top.typ, top.mode = attrValue(t, "type"), attrValue(t, "mode")
				}
			}
		case xml.CharData:
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				if top.dropped {
					continue
				}
				end := int(d.InputOffset())
				for len(cutAt) > 0 && cutAt[0] < offset {
					cutAt = cutAt[1:]
				}
				if top.field != nil {
					if len(cutAt) > 0 && cutAt[0] <= end {
						s.noteCut(top.field) // cut before the scan
					}
					t = s.capText(top.field, t, doc, offset, end)
				}
				switch {
				case top.isID:
					idText = append(idText, t...)
				case top.isDate:
					dateText = append(dateText, t...)
				case top.isTextLink:
					linkText = append(linkText, t...)
				}
				if top.capture != nil {
					top.capture.chars(t)
				}
			}
		case xml.EndElement:
			// Like the tokenizer in non-strict mode, an end tag closes the
			// elements left open inside the one it names.
			for len(stack) > 0 {
				e := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if !isVoidElement(e.name.Local) {
					depth--
				}
				if e.dropped {
					if e.dropRoot {
						// Up to its end tag, or to the end tag of an
						// element it is inside (that closes it).
						end := int(d.InputOffset())
						if e.name.Local != t.Name.Local {
							end = offset
						}
						s.cuts = appendCut(doc, s.cuts, cut{start: e.dropStart, end: end, keepLines: true})
					}
					if e.name.Local == t.Name.Local {
						break
					}
					continue
				}
				if e.isID {
					s.open.ID = string(idText)
				}
				if e.isDate {
					s.open.Date = strings.TrimSpace(string(dateText))
				}
				if e.isTextLink {
					s.open.TextLink = strings.TrimSpace(string(linkText))
					s.open.TextLinkBase = baseString(e.base)
				}
				switch {
				case e.captured != captureNone:
					s.open.keep(e)
				case e.capture != nil:
					e.capture.end(e.name.Local)
				}
				if e.isItem {
					// Up to its end tag, or to the end tag of an element it
					// is inside (that closes it).
					s.open.End = int(d.InputOffset())
					if e.name.Local != t.Name.Local {
						s.open.End = offset
					}
					s.endItem()
				}
				if e.item >= 0 && (len(stack) == 0 || stack[len(stack)-1].item != e.item) {
					saveCut(int(d.InputOffset()), len(stack))
				}
				if e.name.Local == t.Name.Local {
					break
				}
			}
		}
	}
}

// repair returns doc cut at cut with the elements of open closed, or nil
// when there is no place to cut.
func repair(doc []byte, cut int, open []string) []byte {
	if cut < 0 {
		return nil
	}
	out := append([]byte(nil), doc[:cut]...)
	for i := len(open) - 1; i >= 0; i-- {
		out = append(out, "</"+open[i]+">"...)
	}
	return out
}

func isUnexpectedEOF(err error) bool {
	var syntax *xml.SyntaxError
	return errors.Is(err, io.ErrUnexpectedEOF) || (errors.As(err, &syntax) && strings.Contains(syntax.Msg, "unexpected EOF"))
}

func (e *scanElement) declare(prefix, uri string) {
	if e.ns == nil {
		e.ns = map[string]string{}
	}
	e.ns[prefix] = uri
}

// resolveNS returns the namespace URI of prefix for the innermost element
// of stack.
func resolveNS(stack []scanElement, prefix string) string {
	for i := len(stack) - 1; i >= 0; i-- {
		if uri, ok := stack[i].ns[prefix]; ok {
			return uri
		}
	}
	return ""
}

func (s *xmlScan) feedLink(t xml.StartElement, base, docBase *url.URL) {
	var rel, href string
	for _, a := range t.Attr {
		if a.Name.Space == "" {
			switch a.Name.Local {
			case "rel":
				rel = a.Value
			case "href":
				href = a.Value
			}
		}
	}
	for _, r := range strings.Fields(strings.ToLower(rel)) {
		target := &s.Hub
		switch r {
		case "hub":
		case "self":
			target = &s.Self
		default:
			continue
		}
		if *target == "" {
			*target = resolveURL(href, baseString(firstBase(base, docBase)))
		}
	}
}

func rawName(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// isAtomNS reports the namespaces gofeed reads Atom elements in: Atom 1.0,
// Atom 0.3, and none (an Atom feed without xmlns).
func isAtomNS(uri string) bool {
	switch strings.TrimSpace(uri) {
	case "", atomNS, "http://purl.org/atom/ns#":
		return true
	}
	return false
}

// isTextLink reports an Atom <link> that may hold its URL as text: one
// without href whose rel is alternate or none.
func isTextLink(t xml.StartElement) bool {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == "href" {
			return false
		}
	}
	rel := strings.TrimSpace(attrValue(t, "rel"))
	return rel == "" || rel == "alternate"
}

// categoryOf reads the term and label of an Atom <category>.
func categoryOf(t xml.StartElement) scannedCategory {
	var c scannedCategory
	for _, a := range t.Attr {
		if a.Name.Space != "" {
			continue
		}
		switch a.Name.Local {
		case "term":
			c.Term = a.Value
		case "label":
			c.Label = a.Value
		}
	}
	return c
}

// isItem names the elements that are feed items: RSS item, Atom entry.
func isItem(local string) bool {
	return local == "item" || local == "entry"
}

// isContent names the item elements whose HTML is the article.
func isContent(local string) bool {
	switch local {
	case "encoded", "content", "description", "summary":
		return true
	}
	return false
}

// resolveBase resolves an xml:base against the one in scope, else the
// document URL. An unreadable one changes nothing.
func resolveBase(inScope, docBase *url.URL, value string) *url.URL {
	ref, err := url.Parse(strings.TrimSpace(value))
	if err != nil {
		return inScope
	}
	if b := firstBase(inScope, docBase); b != nil {
		ref = b.ResolveReference(ref)
	}
	return ref
}

func firstBase(bases ...*url.URL) *url.URL {
	for _, b := range bases {
		if b != nil {
			return b
		}
	}
	return nil
}

func baseString(u *url.URL) string {
	if u == nil || !u.IsAbs() {
		return ""
	}
	return u.String()
}

// isDateElement names the item elements that date it: RSS pubDate, Atom
// published and updated, Dublin Core date and the dcterms dates.
func isDateElement(local string) bool {
	switch local {
	case "pubDate", "published", "updated", "issued", "modified", "created", "date":
		return true
	}
	return false
}

// captureKindOf says which content form the child t of an item (an RSS
// item, an Atom entry) is, if any, when the scan must collect it: an RSS
// item's first xhtml:body (or <body> in no namespace) and first
// <fullitem>, an Atom entry's <content> and <summary> in xhtml or base64,
// its <title> in base64.
func captureKindOf(t xml.StartElement, parent, ns string, item *itemScan) captureKind {
	switch {
	case parent == "item" && t.Name.Local == "body" && isBodyNS(ns) && (item.forms == nil || !item.forms.bodies[0].ok):
		return captureBody
	case parent == "item" && t.Name.Local == "fullitem" && (item.forms == nil || !item.forms.bodies[1].ok):
		return captureFullitem
	case parent == "entry" && (t.Name.Local == "content" || t.Name.Local == "summary") && isAtomNS(ns) &&
		capturesConstruct(attrValue(t, "type"), attrValue(t, "mode")):
		if t.Name.Local == "content" {
			return captureContent
		}
		return captureSummary
	case parent == "entry" && t.Name.Local == "title" && isAtomNS(ns) && isBase64(attrValue(t, "mode")):
		return captureTitle
	}
	return captureNone
}

// isBodyNS reports the namespaces of an RSS item's <body>: XHTML's, none,
// or the RSS 1.0 and 2.0 ones a default namespace may give it.
func isBodyNS(ns string) bool {
	switch strings.TrimSpace(ns) {
	case xhtmlNS, "", "http://purl.org/rss/1.0/", "http://backend.userland.com/rss2":
		return true
	}
	return false
}

// keep stores what the content form e collected.
func (s *itemScan) keep(e scanElement) {
	f := s.contentForms()
	switch e.captured {
	case captureBody:
		f.bodies[0] = capturedBody{HTML: e.capture.markup(), Base: baseString(e.base), ok: true}
	case captureFullitem:
		f.bodies[1] = capturedBody{HTML: e.capture.markup(), Base: baseString(e.base), ok: true}
	case captureContent:
		f.content = &textConstruct{Type: e.typ, Mode: e.mode, capture: e.capture}
	case captureSummary:
		f.summary = &textConstruct{Type: e.typ, Mode: e.mode, capture: e.capture}
	case captureTitle:
		f.title = &textConstruct{Type: e.typ, Mode: e.mode, capture: e.capture}
	}
}

// attrValue is the value of t's unprefixed attribute name, "" if none.
func attrValue(t xml.StartElement, name string) string {
	for _, a := range t.Attr {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

const (
	// maxItemElements bounds the elements of one item (its categories,
	// the markup of an xhtml:body …): past it, elements are left out
	// whole, each named once in the item's warnings.
	maxItemElements = 10000
	// maxFeedElements bounds the elements outside the items.
	maxFeedElements = 10000
)

// overBudget counts the element t, a child of parent, against the budget
// of its item (or of the document outside the items), and reports it past
// that budget: it is then left out.
func (s *xmlScan) overBudget(parent scanElement, t xml.StartElement) bool {
	switch {
	case parent.item >= 0:
		item := s.open
		item.elements++
		if item.elements <= maxItemElements {
			return false
		}
		if !slices.Contains(item.Cut, "elements") {
			item.Cut = append(item.Cut, "elements")
		}
		return true
	case isItem(t.Name.Local):
		return false
	}
	s.outside++
	return s.outside > maxFeedElements
}

// noteCut says once that the text of field f is cut.
func (s *xmlScan) noteCut(f *fieldBudget) {
	if !f.warned {
		f.warned = true
		s.open.Cut = append(s.open.Cut, f.name)
	}
}

// capText counts the text t (from start to end in doc) against the text
// budget of its field f, in item, and returns what fits; the rest of the
// token is recorded as a cut: in a CDATA section its end ("]]>") is kept,
// in text a reference is not cut in two.
func (s *xmlScan) capText(f *fieldBudget, t []byte, doc []byte, start, end int) []byte {
	if f.text+len(t) <= maxContentBytes {
		f.text += len(t)
		return t
	}
	allowed := maxContentBytes - f.text
	f.text = maxContentBytes
	if f.full {
		// Past the budget already: the whole token goes.
		s.cuts = appendCut(doc, s.cuts, cut{start: start, end: end})
		return nil
	}
	f.full = true
	s.noteCut(f)
	raw := doc[start:end]
	floor, cutStart, cutEnd := start, start+allowed, end
	if bytes.HasPrefix(raw, []byte("<![CDATA[")) && bytes.HasSuffix(raw, []byte("]]>")) {
		floor = start + len("<![CDATA[")
		cutStart, cutEnd = floor+allowed, end-len("]]>")
	} else if from := max(floor, cutStart-32); cutStart < end {
		if i := bytes.LastIndexByte(doc[from:cutStart], '&'); i >= 0 && bytes.IndexByte(doc[from+i:cutStart], ';') < 0 {
			cutStart = from + i
		}
	}
	cutStart = min(cutStart, cutEnd)
	for cutStart > floor && cutStart < len(doc) && !utf8.RuneStart(doc[cutStart]) {
		cutStart--
	}
	if cutStart < cutEnd {
		s.cuts = appendCut(doc, s.cuts, cut{start: cutStart, end: cutEnd})
	}
	kept := t[:min(allowed, len(t))]
	for range utf8.UTFMax - 1 {
		if r, size := utf8.DecodeLastRune(kept); r != utf8.RuneError || size != 1 {
			break
		}
		kept = kept[:len(kept)-1]
	}
	return kept
}

// endItem hands the item just read to the chooser.
func (s *xmlScan) endItem() {
	it := s.open
	s.open = nil
	s.spans = append(s.spans, span32{start: int32(it.Start), end: int32(it.End)})
	s.chooser.add(it.Date, *it)
}

// choose sets Items to what the chooser kept.
func (s *xmlScan) choose() {
	kept, byDate, total := s.chooser.result()
	s.Items = make([]itemScan, len(kept))
	for i, k := range kept {
		s.Items[i] = k.v
	}
	s.Total, s.ByDate = total, byDate
	if len(kept) == total {
		s.spans = nil
	}
}
