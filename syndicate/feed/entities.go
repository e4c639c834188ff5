package feed

import (
	"bytes"
	"fmt"
	"strings"
)

const (
	// maxEntityGrowth bounds how many bytes the expansion of the entities a
	// DOCTYPE declares may add to a document: a few references to short
	// values are what real feeds use, and the limit refuses an expansion
	// bomb (one entity defined as ten of the next, nine levels deep, or one
	// long entity referenced many times) before any of it is built.
	maxEntityGrowth = 4 << 20
	// maxEntityDepth bounds how deeply entity values may refer to others.
	maxEntityDepth = 16
)

// EntityError is returned for a document whose DOCTYPE entities cannot be
// expanded safely: an expansion bomb, or an entity that refers to itself.
type EntityError struct {
	Entity string
	Reason string
}

func (e *EntityError) Error() string {
	return "refused the entity &" + e.Entity + "; declared in the DOCTYPE: " + e.Reason
}

// entity is a general entity of a DOCTYPE's internal subset.
type entity struct {
	value    string // replacement text, unexpanded; "" for an external one
	external bool
}

// expandEntities expands the general entities that the document's DOCTYPE
// declares in its internal subset (<!ENTITY id "tag:example.com,2006:">),
// which the XML parser under gofeed leaves as written, and removes the
// DOCTYPE. An external entity (SYSTEM or PUBLIC) is never fetched: its
// references become empty. Parameter entities are ignored, so declarations
// hidden in them are not seen. References to undeclared entities (HTML ones
// such as &hellip;) stay as written. A document without a DOCTYPE comes back
// unchanged. References are found outside comments, CDATA sections and
// processing instructions, in text and attribute values alike; a value that
// holds markup becomes markup, as in XML.
func expandEntities(doc []byte) ([]byte, error) {
	start, end, subset, ok := findDoctype(doc)
	if !ok {
		return doc, nil
	}
	declared := parseEntityDecls(subset)
	body := doc[end:]
	if len(declared) == 0 || !bytes.ContainsRune(body, '&') {
		return append(doc[:start:start], body...), nil
	}
	x := &expander{declared: declared, size: map[string]int{}}
	// First the size each reference will take, refusing a bomb before a
	// byte of it is built.
	growth := 0
	var sizeErr error
	scanReferences(body, func(name string) {
		if sizeErr != nil {
			return
		}
		n, err := x.expandedSize(name, 0)
		if err != nil {
			sizeErr = err
			return
		}
		growth += n - len(name) - 2
		if growth > maxEntityGrowth {
			sizeErr = &EntityError{Entity: name, Reason: fmt.Sprintf("expanding the document's entities would add more than %s (an entity expansion bomb?)", formatSize(maxEntityGrowth))}
		}
	})
	if sizeErr != nil {
		return nil, sizeErr
	}
	out := make([]byte, 0, start+len(body)+max(growth, 0))
	out = append(out, doc[:start]...)
	last := 0
	scanReferencesAt(body, func(name string, at, next int) {
		if _, ok := declared[name]; !ok {
			return
		}
		out = append(out, body[last:at]...)
		out = x.appendExpansion(out, name)
		last = next
	})
	return append(out, body[last:]...), nil
}

type expander struct {
	declared map[string]entity
	size     map[string]int // expanded size of each entity met, memoised
}

// expandedSize returns the size of name's full expansion; an undeclared
// entity stays as its reference. It fails on a cycle, on values nested too
// deeply, and on a size past maxEntityGrowth.
func (x *expander) expandedSize(name string, depth int) (int, error) {
	e, ok := x.declared[name]
	if !ok {
		return len(name) + 2, nil
	}
	if n, ok := x.size[name]; ok {
		if n < 0 {
			return 0, &EntityError{Entity: name, Reason: "it refers to itself"}
		}
		return n, nil
	}
	if depth >= maxEntityDepth {
		return 0, &EntityError{Entity: name, Reason: fmt.Sprintf("entities are nested more than %d deep", maxEntityDepth)}
	}
	x.size[name] = -1 // being computed: meeting it again is a cycle
	n := len(e.value)
	var err error
	scanReferences([]byte(e.value), func(ref string) {
		if err != nil {
			return
		}
		var m int
		if m, err = x.expandedSize(ref, depth+1); err != nil {
			return
		}
		n += m - len(ref) - 2
		if n > maxEntityGrowth {
			err = &EntityError{Entity: name, Reason: fmt.Sprintf("it expands to more than %s (an entity expansion bomb)", formatSize(maxEntityGrowth))}
		}
	})
	if err != nil {
		return 0, err
	}
	x.size[name] = n
	return n, nil
}

// appendExpansion appends name's expansion; expandedSize has vouched for it.
func (x *expander) appendExpansion(out []byte, name string) []byte {
	e, ok := x.declared[name]
	if !ok {
		return append(append(append(out, '&'), name...), ';')
	}
	value := []byte(e.value)
	last := 0
	scanReferencesAt(value, func(ref string, at, next int) {
		if _, ok := x.declared[ref]; !ok {
			return
		}
		out = append(out, value[last:at]...)
		out = x.appendExpansion(out, ref)
		last = next
	})
	return append(out, value[last:]...)
}

// scanReferences calls fn with the name of each general entity reference
// (&name;, not character references) of s outside comments, CDATA sections
// and processing instructions.
func scanReferences(s []byte, fn func(name string)) {
	scanReferencesAt(s, func(name string, _, _ int) { fn(name) })
}

// scanReferencesAt is scanReferences with the offsets of the reference's
// "&" and of the byte after its ";".
func scanReferencesAt(s []byte, fn func(name string, at, next int)) {
	for i := 0; i < len(s); {
		switch {
		case s[i] == '<' && bytes.HasPrefix(s[i:], []byte("<!--")):
			i = skipPast(s, i+4, "-->")
		case s[i] == '<' && bytes.HasPrefix(s[i:], []byte("<![CDATA[")):
			i = skipPast(s, i+9, "]]>")
		case s[i] == '<' && bytes.HasPrefix(s[i:], []byte("<?")):
			i = skipPast(s, i+2, "?>")
		case s[i] == '&':
			n := nameLength(s[i+1:])
			if n > 0 && i+1+n < len(s) && s[i+1+n] == ';' {
				fn(string(s[i+1:i+1+n]), i, i+n+2)
				i += n + 2
				continue
			}
			i++
		default:
			i++
		}
	}
}

// skipPast returns the offset after the first end at or after from, or
// len(s) when there is none.
func skipPast(s []byte, from int, end string) int {
	if j := bytes.Index(s[from:], []byte(end)); j >= 0 {
		return from + j + len(end)
	}
	return len(s)
}

// nameLength is the length of the XML name at the start of s, 0 if none.
// Names are taken loosely: any run of bytes that cannot end or break one.
func nameLength(s []byte) int {
	for i, c := range s {
		if c == ';' || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' || c == '%' || c == '#' ||
			c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '=' || c == '/' {
			return i
		}
	}
	return len(s)
}

// findDoctype finds the DOCTYPE declaration in the prolog of doc: its start
// and end offsets and its internal subset (between [ and ]). ok is false
// when the prolog has none, or when it does not end (a document cut short:
// the parser reports it).
func findDoctype(doc []byte) (start, end int, subset []byte, ok bool) {
	i := 0
	for {
		for i < len(doc) && isXMLSpace(doc[i]) {
			i++
		}
		rest := doc[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skipPast(doc, i+2, "?>")
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipPast(doc, i+4, "-->")
		case len(rest) >= 9 && strings.EqualFold(string(rest[:9]), "<!DOCTYPE"):
			return doctypeExtent(doc, i)
		default:
			return 0, 0, nil, false
		}
	}
}

// doctypeExtent reads the DOCTYPE starting at start, skipping quoted
// strings and comments inside it.
func doctypeExtent(doc []byte, start int) (int, int, []byte, bool) {
	subsetStart := -1
	var quote byte
	for i := start + 9; i < len(doc); i++ {
		c := doc[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case subsetStart >= 0 && bytes.HasPrefix(doc[i:], []byte("<!--")):
			i = skipPast(doc, i+4, "-->") - 1
		case c == '[' && subsetStart < 0:
			subsetStart = i + 1
		case c == ']' && subsetStart >= 0:
			j := i + 1
			for j < len(doc) && isXMLSpace(doc[j]) {
				j++
			}
			if j < len(doc) && doc[j] == '>' {
				return start, j + 1, doc[subsetStart:i], true
			}
		case c == '>' && subsetStart < 0:
			return start, i + 1, nil, true
		}
	}
	return 0, 0, nil, false
}

// parseEntityDecls reads the general entity declarations of an internal
// subset. The first declaration of a name wins; the five predefined
// entities cannot be redefined.
func parseEntityDecls(subset []byte) map[string]entity {
	declared := map[string]entity{}
	for i := 0; i < len(subset); {
		switch {
		case bytes.HasPrefix(subset[i:], []byte("<!--")):
			i = skipPast(subset, i+4, "-->")
		case bytes.HasPrefix(subset[i:], []byte("<!ENTITY")):
			var name string
			var e entity
			var ok bool
			name, e, i, ok = parseEntityDecl(subset, i+len("<!ENTITY"))
			if _, seen := declared[name]; ok && !seen && !isPredefinedEntity(name) {
				declared[name] = e
			}
		case subset[i] == '<':
			i = skipDecl(subset, i+1)
		default:
			i++
		}
	}
	return declared
}

// parseEntityDecl reads one <!ENTITY …> after its keyword; ok is false for
// a parameter entity or a malformed declaration. next is past its ">".
func parseEntityDecl(s []byte, i int) (name string, e entity, next int, ok bool) {
	i = skipSpace(s, i)
	if i < len(s) && s[i] == '%' {
		return "", entity{}, skipDecl(s, i), false
	}
	n := nameLength(s[i:])
	if n == 0 {
		return "", entity{}, skipDecl(s, i), false
	}
	name = string(s[i : i+n])
	i = skipSpace(s, i+n)
	switch {
	case i < len(s) && (s[i] == '"' || s[i] == '\''):
		end := bytes.IndexByte(s[i+1:], s[i])
		if end < 0 {
			return "", entity{}, len(s), false
		}
		e.value = string(s[i+1 : i+1+end])
		return name, e, skipDecl(s, i+1+end+1), true
	case bytes.HasPrefix(s[i:], []byte("SYSTEM")) || bytes.HasPrefix(s[i:], []byte("PUBLIC")):
		return name, entity{external: true}, skipDecl(s, i), true
	}
	return "", entity{}, skipDecl(s, i), false
}

// skipDecl returns the offset past the ">" that ends the declaration at i,
// skipping quoted strings.
func skipDecl(s []byte, i int) int {
	var quote byte
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return i + 1
		}
	}
	return len(s)
}

func skipSpace(s []byte, i int) int {
	for i < len(s) && isXMLSpace(s[i]) {
		i++
	}
	return i
}

func isXMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

func isPredefinedEntity(name string) bool {
	switch name {
	case "lt", "gt", "amp", "apos", "quot":
		return true
	}
	return false
}
