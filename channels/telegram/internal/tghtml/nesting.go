package tghtml

import "fmt"

// CheckNesting reports an entity of s, text that Parse accepts, that
// Telegram would drop in whole or in part. Telegram does not refuse such
// text: when it stores the message it fixes the entities (tdlib's
// fix_entities), and so
//
//   - of links, mentions, custom emoji, code, pre and dates, none holds or
//     overlaps another: each one that starts inside an earlier one (in
//     Parse's order) is dropped;
//   - a blockquote inside a blockquote is dropped;
//   - a link, mention, custom emoji, code, pre or date that crosses the
//     edge of a blockquote is dropped;
//   - bold, italic, underline, strikethrough and spoiler are dropped where
//     they cover code, pre or a date.
//
// FromHTML never writes such text.
func CheckNesting(s string) error {
	_, entities, err := Parse(s)
	if err != nil {
		return err
	}
	var atoms, quotes, styles []Entity
	for _, e := range entities {
		switch {
		case isStyle(e.Type):
			styles = append(styles, e)
		case e.Type == "blockquote" || e.Type == "expandable_blockquote":
			quotes = append(quotes, e)
		default:
			atoms = append(atoms, e)
		}
	}
	if err := disjoint(atoms); err != nil {
		return err
	}
	if err := disjoint(quotes); err != nil {
		return err
	}
	for _, a := range atoms {
		for _, q := range quotes {
			inside := a.Offset >= q.Offset && end(a) <= end(q)
			if !inside && a.Offset < end(q) && q.Offset < end(a) {
				return fmt.Errorf("%s crosses the edge of %s: Telegram drops the %s", describe(a), describe(q), name(a.Type))
			}
		}
	}
	for _, st := range styles {
		for _, a := range atoms {
			if !isVerbatim(a.Type) || st.Offset >= end(a) || a.Offset >= end(st) {
				continue
			}
			return fmt.Errorf("%s overlaps %s: Telegram drops the %s there", describe(st), describe(a), name(st.Type))
		}
	}
	return nil
}

// disjoint reports the first entity of es (in Parse's order) that starts
// inside one before it.
func disjoint(es []Entity) error {
	for i := 1; i < len(es); i++ {
		for _, before := range es[:i] {
			if es[i].Offset < end(before) {
				return fmt.Errorf("%s inside %s: Telegram drops the %s", describe(es[i]), describe(before), name(es[i].Type))
			}
		}
	}
	return nil
}

func end(e Entity) int { return e.Offset + e.Length }

func isStyle(t string) bool {
	switch t {
	case "bold", "italic", "underline", "strikethrough", "spoiler":
		return true
	}
	return false
}

// isVerbatim reports whether an entity can hold no formatting.
func isVerbatim(t string) bool { return t == "code" || t == "pre" || t == "date_time" }

func name(t string) string {
	switch t {
	case "text_link":
		return "link"
	case "text_mention":
		return "mention"
	case "custom_emoji":
		return "custom emoji"
	case "date_time":
		return "date"
	case "expandable_blockquote":
		return "blockquote"
	}
	return t
}

func describe(e Entity) string {
	return fmt.Sprintf("the %s at character %d (length %d)", name(e.Type), e.Offset, e.Length)
}
