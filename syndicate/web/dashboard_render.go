package web

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

func (d *dashboard) funcs() template.FuncMap {
	return template.FuncMap{
		"when":         d.when,
		"took":         took,
		"telegramHTML": TelegramHTML,
		"linked":       linked,
		"label":        func(a Action) string { return a.Label() },
		"stateClass":   func(s syndicate.State) string { return "state-" + string(s) },
		"count":        func(m map[syndicate.State]int, s syndicate.State) int { return m[s] },
		"recipients":   func(m map[syndicate.RecipientState]int, s string) int { return m[syndicate.RecipientState(s)] },
		"messageClass": func(s syndicate.RecipientState) string { return "state-" + string(s) },
		"decidable":    func(s syndicate.RecipientState) bool { return slices.Contains(decidable, s) },
		"among":        func(s syndicate.RecipientState, in []syndicate.RecipientState) bool { return slices.Contains(in, s) },
		"subscribers":  func(m map[syndicate.SubscriberState]int, s string) int { return m[syndicate.SubscriberState(s)] },
		"over":         func(r syndicate.Rendering) bool { return r.Limit > 0 && r.Length > r.Limit },
		"webURL":       isWebURL,
		"join":         strings.Join,
		"inc":          func(i int) int { return i + 1 },
		"waitingStates": func() []syndicate.State {
			return []syndicate.State{syndicate.StateHeld, syndicate.StateUncertain, syndicate.StateFailed, syndicate.StateReview}
		},
	}
}

// when shows a time in the dashboard's zone, with how long ago or how
// soon it is.
func (d *dashboard) when(t time.Time) template.HTML {
	if t.IsZero() {
		return "—"
	}
	local := t.In(d.Location)
	return template.HTML(fmt.Sprintf(`<time datetime="%s" title="%s">%s</time> <span class="rel">(%s)</span>`,
		html.EscapeString(t.UTC().Format(time.RFC3339)), html.EscapeString(local.Format("Mon 2 Jan 2006 15:04:05 MST")),
		html.EscapeString(local.Format("2006-01-02 15:04")), html.EscapeString(relative(t, d.Now()))))
}

// relative is "3 min ago" or "in 2 h".
func relative(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		s = fmt.Sprintf("%d min", int(d/time.Minute))
	case d < 48*time.Hour:
		s = fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		s = fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func took(d time.Duration) string {
	switch {
	case d <= 0:
		return "—"
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	default:
		return d.Round(100 * time.Millisecond).String()
	}
}

func isWebURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// linked shows a plain-text post with its link spans as links: only
// spans that lie on character boundaries, in order, and lead to the web.
func linked(r syndicate.Rendering) template.HTML {
	var b strings.Builder
	at := 0
	for _, l := range r.Links {
		if l.Start < at || l.End <= l.Start || l.End > len(r.Text) || !utf8.ValidString(r.Text[l.Start:l.End]) || !isWebURL(l.URL) {
			continue
		}
		b.WriteString(html.EscapeString(r.Text[at:l.Start]))
		fmt.Fprintf(&b, `<a href="%s" rel="noopener noreferrer nofollow">%s</a>`, html.EscapeString(l.URL), html.EscapeString(r.Text[l.Start:l.End]))
		at = l.End
	}
	b.WriteString(html.EscapeString(r.Text[at:]))
	return template.HTML(b.String())
}

// telegramTags are the tags of Telegram's HTML, each with the tag the
// dashboard shows it as.
var telegramTags = map[string]string{
	"b": "strong", "strong": "strong", "i": "em", "em": "em", "u": "u", "ins": "u",
	"s": "s", "strike": "s", "del": "s", "a": "a", "code": "code", "pre": "pre",
	"blockquote": "blockquote", "tg-spoiler": "span", "span": "span", "tg-emoji": "span",
}

// TelegramHTML shows a message in Telegram's HTML subset as Telegram does:
// its tags as formatting, everything else as text, links only to the web
// and to t.me. It never passes markup through: each element is rebuilt
// from the allowed set, and the result is balanced.
func TelegramHTML(src string) template.HTML {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(src))
	var open []string
	for {
		tt := z.Next()
		switch tt {
		case xhtml.ErrorToken:
			if z.Err() != io.EOF {
				b.WriteString(html.EscapeString(string(z.Raw())))
			}
			for i := len(open) - 1; i >= 0; i-- {
				b.WriteString("</" + open[i] + ">")
			}
			return template.HTML(b.String())
		case xhtml.TextToken:
			b.WriteString(html.EscapeString(string(z.Text())))
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			tok := z.Token()
			shown, ok := telegramTags[tok.Data]
			if !ok || tt == xhtml.SelfClosingTagToken {
				b.WriteString(html.EscapeString(string(z.Raw())))
				continue
			}
			attrs := ""
			switch tok.Data {
			case "a":
				href := attr(tok, "href")
				if isWebURL(href) || strings.HasPrefix(href, "tg://") {
					attrs = ` href="` + html.EscapeString(href) + `" rel="noopener noreferrer nofollow"`
				}
			case "tg-spoiler":
				attrs = ` class="tg-spoiler"`
			case "span":
				if attr(tok, "class") == "tg-spoiler" {
					attrs = ` class="tg-spoiler"`
				}
			case "code":
				if lang := attr(tok, "class"); strings.HasPrefix(lang, "language-") {
					attrs = ` class="` + html.EscapeString(lang) + `"`
				}
			}
			open = append(open, shown)
			b.WriteString("<" + shown + attrs + ">")
		case xhtml.EndTagToken:
			tok := z.Token()
			shown, ok := telegramTags[tok.Data]
			if !ok || len(open) == 0 || open[len(open)-1] != shown {
				if !ok {
					b.WriteString(html.EscapeString(string(z.Raw())))
				}
				continue
			}
			open = open[:len(open)-1]
			b.WriteString("</" + shown + ">")
		default: // comments, doctypes: shown as written
			b.WriteString(html.EscapeString(string(z.Raw())))
		}
	}
}

func attr(t xhtml.Token, name string) string {
	for _, a := range t.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}
