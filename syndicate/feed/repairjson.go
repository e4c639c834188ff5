package feed

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// repairJSON returns a JSON Feed that was cut short (its bytes end inside
// the top-level object) cut after its last complete item, or after its
// last complete member when the cut falls outside the items, with what is
// open closed. truncated is false for a complete document, and for one
// that fails otherwise than by ending early: the parser reports it.
func repairJSON(doc []byte) (repaired []byte, truncated bool) {
	if json.Valid(doc) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	cut := int(dec.InputOffset()) // after the last complete member
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return cutJSON(doc, cut, "}", err)
		}
		if key != "items" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return cutJSON(doc, cut, "}", err)
			}
			cut = int(dec.InputOffset())
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return cutJSON(doc, cut, "}", err)
		}
		// Inside the items: the member is complete only with its "]", but
		// every complete item before the cut is kept.
		itemsCut := int(dec.InputOffset())
		for dec.More() {
			var item json.RawMessage
			if err := dec.Decode(&item); err != nil {
				return cutJSON(doc, itemsCut, "]}", err)
			}
			itemsCut = int(dec.InputOffset())
		}
		if _, err := dec.Token(); err != nil {
			return cutJSON(doc, itemsCut, "]}", err)
		}
		cut = int(dec.InputOffset())
	}
	_, err := dec.Token()
	return cutJSON(doc, cut, "}", err)
}

// cutJSON closes doc[:cut] with closer when err says the document ended
// early.
func cutJSON(doc []byte, cut int, closer string, err error) ([]byte, bool) {
	if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, false
	}
	out := append([]byte(nil), doc[:cut]...)
	// A member cut before its value leaves a trailing comma behind.
	out = bytes.TrimRight(out, " \t\r\n")
	out = bytes.TrimSuffix(out, []byte(","))
	return append(out, closer...), true
}
