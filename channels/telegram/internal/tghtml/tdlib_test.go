package tghtml

import (
	"reflect"
	"testing"
)

// tdlibCase is one of the cases of tdlib's own test of parse_html
// (test/message_entities.cpp, TEST(MessageEntities, parse_html)), the code
// behind the Bot API's parse_mode HTML. Its entities are written as the Bot
// API returns them: a pre with a language for tdlib's PreCode, a date's
// flags as the Bot API's date_time_format.
type tdlibCase struct {
	in       string
	text     string
	entities []Entity
	err      string // the reason Telegram gives after "can't parse entities: "
}

func bold(offset, length int) Entity   { return Entity{Type: "bold", Offset: offset, Length: length} }
func italic(offset, length int) Entity { return Entity{Type: "italic", Offset: offset, Length: length} }
func code(offset, length int) Entity   { return Entity{Type: "code", Offset: offset, Length: length} }
func pre(offset, length int, language string) Entity {
	return Entity{Type: "pre", Offset: offset, Length: length, Language: language}
}
func spoiler(offset, length int) Entity {
	return Entity{Type: "spoiler", Offset: offset, Length: length}
}
func link(offset, length int, url string) Entity {
	return Entity{Type: "text_link", Offset: offset, Length: length, URL: url}
}
func emoji(offset, length int, id string) Entity {
	return Entity{Type: "custom_emoji", Offset: offset, Length: length, CustomEmojiID: id}
}
func date(offset, length int, unix int64, format string) Entity {
	return Entity{Type: "date_time", Offset: offset, Length: length, UnixTime: unix, DateTimeFormat: format}
}

const surrogateError = "Text contains invalid Unicode characters after decoding HTML entities, check for unmatched surrogate code units"

var tdlibCases = []tdlibCase{
	{in: "&#57311;", err: surrogateError},
	{in: "&#xDFDF;", err: surrogateError},
	{in: "&#xDFDF", err: surrogateError},
	{in: "🏟 🏟&lt;<abacaba", err: "Unclosed start tag at byte offset 13"},
	{in: "🏟 🏟&lt;<abac aba>", err: `Unsupported start tag "abac" at byte offset 13`},
	{in: "🏟 🏟&lt;<abac>", err: `Unsupported start tag "abac" at byte offset 13`},
	{in: "🏟 🏟&lt;<i   =aba>", err: `Empty attribute name in the tag "i" at byte offset 13`},
	{in: "🏟 🏟&lt;<i    aba>", err: `Can't find end tag corresponding to start tag "i"`},
	{in: "🏟 🏟&lt;<i    aba  =  ", err: `Unclosed start tag "i" at byte offset 13`},
	{in: "🏟 🏟&lt;<i    aba  =  190azAz-.,", err: "Unexpected end of name token at byte offset 27"},
	{in: "🏟 🏟&lt;<i    aba  =  \"&lt;&gt;&quot;>", err: "Unclosed start tag at byte offset 13"},
	{in: "🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;>", err: "Unclosed start tag at byte offset 13"},
	{in: "🏟 🏟&lt;</", err: "Unexpected end tag at byte offset 13"},
	{in: "🏟 🏟&lt;<b></b></", err: "Unexpected end tag at byte offset 20"},
	{in: "🏟 🏟&lt;<i>a</i   ", err: "Unclosed end tag at byte offset 17"},
	{in: "🏟 🏟&lt;<i>a</em   >", err: `Unmatched end tag at byte offset 17, expected "</i>", found "</em>"`},

	{in: "", text: ""},
	{in: "➡️ ➡️", text: "➡️ ➡️"},
	{in: "&ge;&lt;&gt;&amp;&quot;&laquo;&raquo;&#12345678;", text: "&ge;<>&\"&laquo;&raquo;&#12345678;"},
	{in: "&Or;", text: "&Or;"},
	{in: "➡️ ➡️<i>➡️ ➡️</i>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{italic(5, 5)}},
	{in: "➡️ ➡️<em>➡️ ➡️</em>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{italic(5, 5)}},
	{in: "➡️ ➡️<b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{bold(5, 5)}},
	{in: "➡️ ➡️<strong>➡️ ➡️</strong>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{bold(5, 5)}},
	{in: "➡️ ➡️<u>➡️ ➡️</u>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{{Type: "underline", Offset: 5, Length: 5}}},
	{in: "➡️ ➡️<ins>➡️ ➡️</ins>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{{Type: "underline", Offset: 5, Length: 5}}},
	{in: "➡️ ➡️<s>➡️ ➡️</s>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{{Type: "strikethrough", Offset: 5, Length: 5}}},
	{in: "➡️ ➡️<strike>➡️ ➡️</strike>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{{Type: "strikethrough", Offset: 5, Length: 5}}},
	{in: "➡️ ➡️<del>➡️ ➡️</del>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{{Type: "strikethrough", Offset: 5, Length: 5}}},
	{in: "➡️ ➡️<blockquote>➡️ ➡️</blockquote>", text: "➡️ ➡️➡️ ➡️", entities: []Entity{{Type: "blockquote", Offset: 5, Length: 5}}},
	{in: "➡️ ➡️<i>➡️ ➡️</i><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️", entities: []Entity{italic(5, 5), bold(10, 5)}},
	{in: "🏟 🏟<i>🏟 &lt🏟</i>", text: "🏟 🏟🏟 <🏟", entities: []Entity{italic(5, 6)}},
	{in: "🏟 🏟<i>🏟 &gt;<b aba   =   caba>&lt🏟</b></i>", text: "🏟 🏟🏟 ><🏟", entities: []Entity{italic(5, 7), bold(9, 3)}},
	{in: "🏟 🏟&lt;<i    aba  =  190azAz-.   >a</i>", text: "🏟 🏟<a", entities: []Entity{italic(6, 1)}},
	{in: "🏟 🏟&lt;<i    aba  =  190azAz-.>a</i>", text: "🏟 🏟<a", entities: []Entity{italic(6, 1)}},
	{in: "🏟 🏟&lt;<i    aba  =  \"&lt;&gt;&quot;\">a</i>", text: "🏟 🏟<a", entities: []Entity{italic(6, 1)}},
	{in: "🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</i>", text: "🏟 🏟<a", entities: []Entity{italic(6, 1)}},
	{in: "🏟 🏟&lt;<i    aba  =  '&lt;&gt;&quot;'>a</>", text: "🏟 🏟<a", entities: []Entity{italic(6, 1)}},
	{in: "🏟 🏟&lt;<i>🏟 🏟&lt;</>", text: "🏟 🏟<🏟 🏟<", entities: []Entity{italic(6, 6)}},
	{in: "🏟 🏟&lt;<i>a</    >", text: "🏟 🏟<a", entities: []Entity{italic(6, 1)}},
	{in: "🏟 🏟&lt;<i>a</i   >", text: "🏟 🏟<a", entities: []Entity{italic(6, 1)}},
	{in: "🏟 🏟&lt;<b></b>", text: "🏟 🏟<"},
	{in: "<i>\t</i>", text: "\t", entities: []Entity{italic(0, 1)}},
	{in: "<i>\r</i>", text: "\r", entities: []Entity{italic(0, 1)}},
	{in: "<i>\n</i>", text: "\n", entities: []Entity{italic(0, 1)}},
	{in: "➡️ ➡️<span class = \"tg-spoiler\">➡️ ➡️</span><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️", entities: []Entity{spoiler(5, 5), bold(10, 5)}},
	{in: "🏟 🏟<span class=\"tg-spoiler\">🏟 &lt🏟</span>", text: "🏟 🏟🏟 <🏟", entities: []Entity{spoiler(5, 6)}},
	{in: "🏟 🏟<span class=\"tg-spoiler\">🏟 &gt;<b aba   =   caba>&lt🏟</b></span>", text: "🏟 🏟🏟 ><🏟", entities: []Entity{spoiler(5, 7), bold(9, 3)}},
	{in: "➡️ ➡️<tg-spoiler>➡️ ➡️</tg-spoiler><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️", entities: []Entity{spoiler(5, 5), bold(10, 5)}},
	{in: "🏟 🏟<tg-spoiler>🏟 &lt🏟</tg-spoiler>", text: "🏟 🏟🏟 <🏟", entities: []Entity{spoiler(5, 6)}},
	{in: "🏟 🏟<tg-spoiler>🏟 &gt;<b aba   =   caba>&lt🏟</b></tg-spoiler>", text: "🏟 🏟🏟 ><🏟", entities: []Entity{spoiler(5, 7), bold(9, 3)}},
	{in: "<a href=telegram.org>\t</a>", text: "\t", entities: []Entity{link(0, 1, "http://telegram.org/")}},
	{in: "<a href=telegram.org>\r</a>", text: "\r", entities: []Entity{link(0, 1, "http://telegram.org/")}},
	{in: "<a href=telegram.org>\n</a>", text: "\n", entities: []Entity{link(0, 1, "http://telegram.org/")}},
	{in: "<code><i><b> </b></i></code><i><b><code> </code></b></i>", text: "  ",
		entities: []Entity{code(0, 1), bold(0, 1), italic(0, 1), code(1, 1), bold(1, 1), italic(1, 1)}},
	{in: "<i><b> </b> <code> </code></i>", text: "   ", entities: []Entity{italic(0, 3), bold(0, 1), code(2, 1)}},
	{in: "<a href=telegram.org> </a>", text: " ", entities: []Entity{link(0, 1, "http://telegram.org/")}},
	{in: "<a href  =\"telegram.org\"   > </a>", text: " ", entities: []Entity{link(0, 1, "http://telegram.org/")}},
	{in: "<a   href=  'telegram.org'   > </a>", text: " ", entities: []Entity{link(0, 1, "http://telegram.org/")}},
	{in: "<a   href=  'telegram.org?&lt;'   > </a>", text: " ", entities: []Entity{link(0, 1, "http://telegram.org/?<")}},
	{in: "<a> </a>", text: " "},
	{in: "<a>telegram.org </a>", text: "telegram.org "},
	{in: "<a>telegram.org</a>", text: "telegram.org", entities: []Entity{link(0, 12, "http://telegram.org/")}},
	{in: "<a>https://telegram.org/asdsa?asdasdwe#12e3we</a>", text: "https://telegram.org/asdsa?asdasdwe#12e3we",
		entities: []Entity{link(0, 42, "https://telegram.org/asdsa?asdasdwe#12e3we")}},
	{in: "🏟 🏟&lt;<pre  >🏟 🏟&lt;</>", text: "🏟 🏟<🏟 🏟<", entities: []Entity{pre(6, 6, "")}},
	{in: "🏟 🏟&lt;<code >🏟 🏟&lt;</>", text: "🏟 🏟<🏟 🏟<", entities: []Entity{code(6, 6)}},
	{in: "🏟 🏟&lt;<pre><code>🏟 🏟&lt;</code></>", text: "🏟 🏟<🏟 🏟<", entities: []Entity{pre(6, 6, ""), code(6, 6)}},
	{in: "🏟 🏟&lt;<pre><code class=\"language-\">🏟 🏟&lt;</code></>", text: "🏟 🏟<🏟 🏟<", entities: []Entity{pre(6, 6, ""), code(6, 6)}},
	{in: "🏟 🏟&lt;<pre><code class=\"language-fift\">🏟 🏟&lt;</></>", text: "🏟 🏟<🏟 🏟<", entities: []Entity{pre(6, 6, "fift")}},
	{in: "🏟 🏟&lt;<code class=\"language-fift\"><pre>🏟 🏟&lt;</></>", text: "🏟 🏟<🏟 🏟<", entities: []Entity{pre(6, 6, "fift")}},
	{in: "🏟 🏟&lt;<pre><code class=\"language-fift\">🏟 🏟&lt;</> </>", text: "🏟 🏟<🏟 🏟< ", entities: []Entity{pre(6, 7, ""), code(6, 6)}},
	{in: "🏟 🏟&lt;<pre> <code class=\"language-fift\">🏟 🏟&lt;</></>", text: "🏟 🏟< 🏟 🏟<", entities: []Entity{pre(6, 7, ""), code(7, 6)}},
	{in: "➡️ ➡️<tg-emoji emoji-id = \"12345\">➡️ ➡️</tg-emoji><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{emoji(5, 5, "12345"), bold(10, 5)}},
	{in: "🏟 🏟<tg-emoji emoji-id=\"54321\">🏟 &lt🏟</tg-emoji>", text: "🏟 🏟🏟 <🏟", entities: []Entity{emoji(5, 6, "54321")}},
	{in: "🏟 🏟<b aba   =   caba><tg-emoji emoji-id=\"1\">🏟</tg-emoji>1</b>", text: "🏟 🏟🏟1", entities: []Entity{bold(5, 3), emoji(5, 2, "1")}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"r\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "r"), bold(10, 5)}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"t\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "t"), bold(10, 5)}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"T\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "T"), bold(10, 5)}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"d\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "d"), bold(10, 5)}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"D\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "D"), bold(10, 5)}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"w\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "w"), bold(10, 5)}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"W\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "w"), bold(10, 5)}},
	// Every flag: the day of the week, and of two precisions the shorter.
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"tttTTdDwW\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", text: "➡️ ➡️➡️ ➡️➡️ ➡️",
		entities: []Entity{date(5, 5, 12345, "wdt"), bold(10, 5)}},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"rt\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", err: "Invalid date format used"},
	{in: "➡️ ➡️<tg-time unix = \"12345\", format = \"ts\">➡️ ➡️</tg-time><b>➡️ ➡️</b>", err: "Invalid date format used"},
	{in: "<blockquote   cite=\"\" askdlbas nasjdbaj nj12b3>a&lt;<pre  >b;</></>", text: "a<b;",
		entities: []Entity{{Type: "blockquote", Offset: 0, Length: 4}, pre(2, 2, "")}},
	{in: "<blockquote   expandable>a&lt;<pre  >b;</></>", text: "a<b;",
		entities: []Entity{{Type: "expandable_blockquote", Offset: 0, Length: 4}, pre(2, 2, "")}},
	{in: "<blockquote   expandable   asd>a&lt;<pre  >b;</></>", text: "a<b;",
		entities: []Entity{{Type: "expandable_blockquote", Offset: 0, Length: 4}, pre(2, 2, "")}},
	{in: "<blockquote   expandable=false>a&lt;<pre  >b;</></>", text: "a<b;",
		entities: []Entity{{Type: "expandable_blockquote", Offset: 0, Length: 4}, pre(2, 2, "")}},
}

// Parse agrees with tdlib on every case of tdlib's own test: the same
// text and entities, in the same order, or the same error.
func TestParseAgreesWithTdlib(t *testing.T) {
	if len(tdlibCases) != 89 {
		t.Fatalf("%d cases, tdlib has 89", len(tdlibCases))
	}
	agree := 0
	for i, tc := range tdlibCases {
		text, entities, err := Parse(tc.in)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("case %d: Parse(%q) = %q, %v, %v; want the error %q", i, tc.in, text, entities, err, tc.err)
				continue
			}
		case err != nil:
			t.Errorf("case %d: Parse(%q): %v; want %q %v", i, tc.in, err, tc.text, tc.entities)
			continue
		case text != tc.text || !sameEntities(entities, tc.entities):
			t.Errorf("case %d: Parse(%q) = %q %v; want %q %v", i, tc.in, text, entities, tc.text, tc.entities)
			continue
		}
		agree++
	}
	t.Logf("Parse agrees with tdlib on %d of its %d cases", agree, len(tdlibCases))
}

func sameEntities(a, b []Entity) bool {
	return len(a) == 0 && len(b) == 0 || reflect.DeepEqual(a, b)
}
