package telegram

import (
	"strings"
	"testing"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// An editor's text is checked with Telegram's own rules: accepted when
// Telegram accepts it and keeps all of its entities.
func TestCheckText(t *testing.T) {
	c := newChannel(t, newServer(t), func(cfg *Config) { cfg.Mode = ModeText })
	tests := []struct {
		text string
		n    int    // its length, when accepted
		err  string // what the refusal says
	}{
		{text: "<b>Strike</b> &amp; lockout", n: 16},
		{text: "Q&A: AT&T", n: 9},
		{text: `<blockquote cite="" x>quote</blockquote> <tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>`, n: 8},
		{text: "<a>https://x.org/</a>", n: 14},
		{text: "<b>unclosed", err: `can't parse entities (Telegram would refuse the post): Can't find end tag corresponding to start tag "b"`},
		{text: `<tg-emoji emoji-id="x">👍</tg-emoji>`, err: "Invalid custom emoji identifier specified"},
		{text: `<a href="https://x.org"><a href="https://y.org">nested</a></a>`, err: "entities Telegram would drop: the link at character 0 (length 6) inside the link"},
		{text: "<code><b>x</b></code>", err: "entities Telegram would drop: the bold"},
		{text: " <b> </b> ", err: "the text is empty once its markup is parsed"},
		{text: strings.Repeat("<b></b>", 5000) + "x", err: "the text is 35001 bytes of HTML, over the 32768 Telegram takes"},
	}
	for _, tt := range tests {
		r, err := c.CheckText(syndicate.Post{Article: article(), Override: tt.text})
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("CheckText(%.40q) = %+v, %v; want an error with %q", tt.text, r, err, tt.err)
		case tt.err == "" && (err != nil || r.Length != tt.n || r.Text != tt.text):
			t.Errorf("CheckText(%.40q) = %+v, %v; want length %d", tt.text, r, err, tt.n)
		}
	}
}
