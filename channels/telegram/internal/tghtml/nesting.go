package tghtml

import "fmt"

// CheckNesting reports a violation of Telegram's rules on nested entities
// in s, text that Parse accepts: nothing inside code or pre (except a code
// with a language directly inside pre), no link inside a link, no
// blockquote inside a blockquote. Telegram does not refuse such text, it
// silently drops the offending entities; FromHTML never writes it.
func CheckNesting(s string) error {
	var stack []openTag
	for i := 0; i < len(s); {
		if s[i] != '<' {
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '/' {
			_, next, err := endTag(s, i)
			if err != nil {
				return err
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			i = next
			continue
		}
		t, next, err := startTag(s, i)
		if err != nil {
			return err
		}
		name := canonical(t.name)
		for k, o := range stack {
			outer := canonical(o.name)
			switch {
			case outer == "pre" && name == "code" && t.arg != "" && k == len(stack)-1:
			case outer == "code" || outer == "pre":
				return fmt.Errorf("<%s> inside <%s> at byte offset %d", t.name, o.name, i)
			case outer == name && (name == "a" || name == "blockquote"):
				return fmt.Errorf("<%s> inside <%s> at byte offset %d", t.name, o.name, i)
			}
		}
		stack = append(stack, t)
		i = next
	}
	return nil
}

func canonical(tag string) string {
	switch tag {
	case "strong":
		return "b"
	case "em":
		return "i"
	case "ins":
		return "u"
	case "strike", "del":
		return "s"
	case "span":
		return "tg-spoiler"
	}
	return tag
}
