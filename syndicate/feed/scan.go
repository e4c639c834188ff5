package feed

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/url"
	"strings"
)

const atomNS = "http://www.w3.org/2005/Atom"

// xmlScan is what a pass over an XML feed document finds that gofeed does
// not keep.
type xmlScan struct {
	// Items has one entry per item or entry of the document, in order.
	Items []itemScan
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
	// whose text is collected into Items[item].ID.
	isItem, isID bool
}

// scanXML reads an XML feed document with the tokenizer gofeed uses (not
// strict), tracking what gofeed drops: where the document is cut short, the
// feed-level WebSub links and the xml:base of each item. A syntax error
// before the end stops the scan; gofeed then reports it.
func scanXML(doc []byte, docURL string) xmlScan {
	var s xmlScan
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil } // already UTF-8
	docBase, _ := url.Parse(docURL)

	var stack []scanElement
	var idText []byte // the text of the Atom <id> open, if any
	// Where the document can be cut and closed again: after the last
	// complete item, else before the first one.
	cut, cutItems := -1, 0
	var cutStack []string
	saveCut := func(offset int, depth int) {
		cut, cutItems = offset, len(s.Items)
		cutStack = cutStack[:0]
		for _, e := range stack[:depth] {
			cutStack = append(cutStack, e.raw)
		}
	}
	for {
		offset := int(d.InputOffset())
		tok, err := d.RawToken()
		if err != nil {
			if errors.Is(err, io.EOF) && len(stack) == 0 {
				return s
			}
			if isUnexpectedEOF(err) || errors.Is(err, io.EOF) {
				s.Truncated = true
				s.Repaired = repair(doc, cut, cutStack)
				s.Items = s.Items[:cutItems]
			}
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
			stack = append(stack, e)
			top := &stack[len(stack)-1]
			switch {
			case parent.item < 0 && isItem(t.Name.Local) && len(stack) <= 3:
				if cut < 0 {
					saveCut(offset, len(stack)-1) // before the first item
				}
				top.item, top.isItem = len(s.Items), true
				s.Items = append(s.Items, itemScan{Base: baseString(top.base)})
			case parent.isItem && t.Name.Local == "id" && parent.name.Local == "entry" && isAtomNS(resolveNS(stack, t.Name.Space)):
				top.isID, idText = true, idText[:0]
				s.Items[parent.item].HasID = true
			case parent.isItem && t.Name.Local == "category" && isAtomNS(resolveNS(stack, t.Name.Space)) &&
				(parent.name.Local == "entry" || t.Name.Space != ""):
				s.Items[parent.item].Categories = append(s.Items[parent.item].Categories, categoryOf(t))
			case parent.item >= 0 && isContent(t.Name.Local) && s.Items[parent.item].ContentBase == "":
				s.Items[parent.item].ContentBase = baseString(top.base)
			case parent.item < 0 && t.Name.Local == "link" && resolveNS(stack, t.Name.Space) == atomNS:
				s.feedLink(t, top.base, docBase)
			}
		case xml.CharData:
			if len(stack) > 0 && stack[len(stack)-1].isID {
				idText = append(idText, t...)
			}
		case xml.EndElement:
			// Like the tokenizer in non-strict mode, an end tag closes the
			// elements left open inside the one it names.
			for len(stack) > 0 {
				e := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				if e.isID {
					s.Items[e.item].ID = string(idText)
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
