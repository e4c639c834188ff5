package tghtml

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"
)

// More of Telegram's rules than tdlib's own cases show, read in tdlib's
// parse_html and the code it calls.
func TestParse(t *testing.T) {
	mention := func(offset, length int, id int64) Entity {
		return Entity{Type: "text_mention", Offset: offset, Length: length, User: &User{ID: id}}
	}
	tests := []tdlibCase{
		// Tag names are not case sensitive, attribute names are.
		{in: "<B>x</b>", text: "x", entities: []Entity{bold(0, 1)}},
		{in: `<a HREF="https://x.org">x.org</a>`, text: "x.org", entities: []Entity{link(0, 5, "http://x.org/")}},
		{in: `<a href="https://x.org/a b ">t</a>`, text: "t", entities: []Entity{link(0, 1, "https://x.org/a%20b")}},
		{in: `<a href="HTTPS://X.Org:0443/P?q#F">t</a>`, text: "t", entities: []Entity{link(0, 1, "https://x.org:443/P?q#F")}},
		{in: `<a href="https://u:p@x.org">t</a>`, text: "t", entities: []Entity{link(0, 1, "https://u:p@x.org/")}},
		{in: `<a href="tg://user?id=123">u</a>`, text: "u", entities: []Entity{mention(0, 1, 123)}},
		{in: `<a href="TG:USER/?ID=7#x">u</a>`, text: "u", entities: []Entity{mention(0, 1, 7)}},
		{in: `<a href="tg://user?id=0">u</a>`, text: "u", entities: []Entity{link(0, 1, "tg://user?id=0")}},
		{in: `<a href="tg:resolve?domain=x">u</a>`, text: "u", entities: []Entity{link(0, 1, "tg://resolve?domain=x")}},
		// Links Telegram drops, keeping their text.
		{in: `<a href="http://localhost/x">x</a>`, text: "x"},
		{in: `<a href="https://intranet:8080">x</a>`, text: "x"},
		{in: `<a href="javascript:alert(1)">x</a>`, text: "x"},
		{in: `<a href="ftp://x.org/">x</a>`, text: "x"},
		{in: `<a>localhost</a>`, text: "localhost"},
		{in: `<a href="https://x.org">a</a> <a href="http://[::1]/">b</a>`, text: "a b",
			entities: []Entity{link(0, 1, "https://x.org/"), link(2, 1, "http://[::1]/")}},
		// A link in a link: both, the inner first.
		{in: `<a href="https://a.org"><a href="https://b.org">x</a></a>`, text: "x",
			entities: []Entity{link(0, 1, "https://b.org/"), link(0, 1, "https://a.org/")}},
		{in: "<span class=tg-spoiler>s</span>", text: "s", entities: []Entity{spoiler(0, 1)}},
		{in: `<span class="a tg-spoiler">s</span>`, err: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{in: `<span>s</span>`, err: `Tag "span" must have class "tg-spoiler" at byte offset 0`},
		{in: `<pre><code class="language-go"><b>x</b></code></pre>`, text: "x", entities: []Entity{pre(0, 1, "go"), bold(0, 1)}},
		{in: `<code class="language-go">x</code>`, text: "x", entities: []Entity{code(0, 1)}},
		{in: "<blockquote expandable>q</blockquote>", text: "q", entities: []Entity{{Type: "expandable_blockquote", Length: 1}}},
		// The attributes of an entity around no text are not checked.
		{in: `<tg-emoji emoji-id="x"></tg-emoji>`, text: ""},
		{in: `<tg-emoji emoji-id="x">👍</tg-emoji>`, err: "Invalid custom emoji identifier specified"},
		{in: `<tg-emoji>👍</tg-emoji>`, err: "Invalid custom emoji identifier specified"},
		{in: `<tg-emoji emoji-id="+1">👍</tg-emoji>`, err: "Invalid custom emoji identifier specified"},
		{in: `<tg-emoji emoji-id=-5>👍</tg-emoji>`, text: "👍", entities: []Entity{emoji(0, 2, "-5")}},
		{in: `<tg-time unix="1700000000">x</tg-time>`, text: "x", entities: []Entity{date(0, 1, 1700000000, "")}},
		{in: `<tg-time unix="0" format="r">x</tg-time>`, text: "x"},
		{in: `<tg-time unix="4294967297">x</tg-time>`, text: "x", entities: []Entity{date(0, 1, 1, "")}},
		{in: `<tg-time unix="-5" format="x">x</tg-time>`, err: "Invalid date format used"},
		// Character references.
		{in: "Q&A &nbsp; &AMP; &#X41; &#0; &#1114111; &#12345678;", text: "Q&A &nbsp; &AMP; &#X41; &#0; &#1114111; &#12345678;"},
		{in: "&lt &ltb &#x1F600;&#128512&#65;&quot", text: "< &ltb 😀😀A\""},
		{in: "&#xD83D;&#xDE00;", err: surrogateError},
		{in: `<a href="x.org?a=&#xD800;">t</a>&#xD800;`, err: surrogateError},
		{in: "<b>&#xD800;", err: `Can't find end tag corresponding to start tag "b"`},
		// A NUL ends the text inside a tag, not outside.
		{in: "a\x00b", text: "a\x00b"},
		{in: "<b\x00>x</b>", err: "Unclosed start tag at byte offset 0"},
		{in: "<b x=\x00>x</b>", err: `Unclosed start tag "b" at byte offset 0`},
		{in: "<b>x</b\x00>", err: "Unclosed end tag at byte offset 4"},
		// Errors of the old server test.
		{in: "a < b", err: `Unsupported start tag "" at byte offset 2`},
		{in: "<br/>", err: `Unsupported start tag "br/" at byte offset 0`},
		{in: "<b />x</b>", err: `Empty attribute name in the tag "b" at byte offset 0`},
		{in: "<b/>x</b>", err: `Unsupported start tag "b/" at byte offset 0`},
		{in: "<b><i>x</b></i>", err: `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{in: "x</b>", err: "Unexpected end tag at byte offset 1"},
		{in: "<b", err: "Unclosed start tag at byte offset 0"},
		{in: "<b ", err: `Empty attribute name in the tag "b" at byte offset 0`},
		{in: "<b>x</b", err: "Unclosed end tag at byte offset 4"},
		{in: `<a href="x>y</a>`, err: "Unclosed start tag at byte offset 0"},
		{in: "<b>x</ b>", err: "Unclosed end tag at byte offset 4"},
		{in: "<Ä>", err: `Unsupported start tag "Ä" at byte offset 0`},
	}
	for _, tc := range tests {
		text, entities, err := Parse(tc.in)
		switch {
		case tc.err != "":
			if err == nil || err.Error() != tc.err {
				t.Errorf("Parse(%q) = %q, %v, %v; want the error %q", tc.in, text, entities, err, tc.err)
			}
		case err != nil:
			t.Errorf("Parse(%q): %v; want %q %v", tc.in, err, tc.text, tc.entities)
		case text != tc.text || !sameEntities(entities, tc.entities):
			t.Errorf("Parse(%q) = %q %+v; want %q %+v", tc.in, text, entities, tc.text, tc.entities)
		}
	}
	if _, _, err := Parse("a\xffb"); !errors.Is(err, ErrNotUTF8) {
		t.Errorf("invalid UTF-8: %v", err)
	}
}

func TestCheckLink(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"https://x.org", "https://x.org/", ""},
		{"x.org", "http://x.org/", ""},
		{"HTTP://WWW.X.ORG/A?B=C#D", "http://www.x.org/A?B=C#D", ""},
		{"https://x.org:443/", "https://x.org:443/", ""},
		{"https://x.org:00080/", "https://x.org:80/", ""},
		{"https://x.org/a b\t", "https://x.org/a%20b", ""},
		{"https://x.org/\"<>", "https://x.org/\"<>", ""},
		{"https://ñandú.com.ar/", "https://ñandú.com.ar/", ""},
		{"https://x.org?q", "https://x.org/?q", ""},
		{"https://user:pass@x.org/", "https://user:pass@x.org/", ""},
		{"https://a@b@x.org/", "", "Disallowed character in URL userinfo"},
		{"http://[::1]/", "http://[::1]/", ""},
		{"http://[2001:DB8::1]:8080", "http://[2001:db8::1]:8080/", ""},
		{"http://[::ffff:1.2.3.4]/", "http://[::ffff:1.2.3.4]/", ""},
		{"http://[fe80::1%25eth0]/", "", "Wrong IPv6 address specified in the URL"},
		{"http://[::g]/", "", "Wrong IPv6 address specified in the URL"},
		{"http://[]/", "", "Wrong IPv6 address specified in the URL"},
		{"http://localhost/", "", "Wrong HTTP URL"},
		{"http://localhost./", "http://localhost./", ""},
		{"http://intranet:8080/x", "", "Wrong HTTP URL"},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x", ""},
		{"http://x.org:0/", "", "Wrong port number specified in the URL"},
		{"http://x.org:65536/", "", "Wrong port number specified in the URL"},
		{"http://x.org:/", "", "Wrong port number specified in the URL"},
		{"http://x.org:+80/", "", "Wrong port number specified in the URL"},
		{"http://x_y.org/", "http://x_y.org/", ""},
		{"http://x y.org/", "", "Disallowed character in URL host"},
		{"http://x%41.org/", "http://x%41.org/", ""},
		{"http://x%4.org/", "", "Wrong percent-encoded symbol in URL host"},
		{"http://x.org%4", "", "Wrong percent-encoded symbol in URL host"},
		{"http://./", "", "Host is invalid"},
		{"http:///x", "", "URL host is empty"},
		{"https://", "", "URL host is empty"},
		{"ftp://x.org/", "", "Unsupported URL protocol"},
		{"javascript:alert(1)", "", "Wrong port number specified in the URL"},
		{"mailto:a@b.org", "http://mailto:a@b.org/", ""},
		{"//x.org/p", "", "URL host is empty"},
		{"tg://resolve?domain=x", "tg://resolve?domain=x", ""},
		{"TG:Resolve", "tg://resolve/", ""},
		{"tg://a.b", "", "Unallowed characters in URL host"},
		{"tg://http://x", "", "Wrong tg URL"},
		{"tg://x:80", "", "Wrong tg URL"},
		{"tg://u@x", "", "Wrong tg URL"},
		{"tg:https://x", "", "Wrong tg URL"},
		{"ton://x?a", "ton://x?a", ""},
		{"tonsite://a.ton/p", "tonsite://a.ton/p", ""},
	}
	for _, tt := range tests {
		got, err := CheckLink(tt.in)
		if got != tt.want || errText(err) != tt.err {
			t.Errorf("CheckLink(%q) = %q, %v; want %q, %q", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestCheckNesting(t *testing.T) {
	tests := []struct{ in, err string }{
		{`<b>b <i>i <u>u <s>s</s></u></i></b> <a href="https://x.org"><b>l</b></a> <b><a href="https://x.org">l</a></b>`, ""},
		{`<blockquote><a href="https://x.org">l</a> <code>c</code> <b>b</b></blockquote>`, ""},
		{`<pre><code class="language-go">x</code></pre>`, ""},
		{`<a href="http://localhost">l</a><a href="https://x.org"><a href="http://localhost">m</a></a>`, ""},
		{`<a href="https://x.org">x <a href="https://y.org">y</a></a>`, "the link at character 2 (length 1) inside the link at character 0 (length 3): Telegram drops the link"},
		{`<a href="https://x.org"><code>x</code></a>`, "the link at character 0 (length 1) inside the code at character 0 (length 1): Telegram drops the link"},
		{`<code>x <a href="https://x.org">y</a></code>`, "the link at character 2 (length 1) inside the code at character 0 (length 3): Telegram drops the link"},
		{`<pre> <code class="language-go">x</code></pre>`, "the code at character 1 (length 1) inside the pre at character 0 (length 2): Telegram drops the code"},
		{`<blockquote>a<blockquote>b</blockquote></blockquote>`, "the blockquote at character 1 (length 1) inside the blockquote at character 0 (length 2): Telegram drops the blockquote"},
		{`<a href="https://x.org">a<blockquote>b</blockquote></a>`, "the link at character 0 (length 2) crosses the edge of the blockquote at character 1 (length 1): Telegram drops the link"},
		{`<code><b>x</b></code>`, "the bold at character 0 (length 1) overlaps the code at character 0 (length 1): Telegram drops the bold there"},
		{`<i>a <code>x</code></i>`, "the italic at character 0 (length 3) overlaps the code at character 2 (length 1): Telegram drops the italic there"},
		{`<b>x`, `Can't find end tag corresponding to start tag "b"`},
	}
	for _, tt := range tests {
		err := CheckNesting(tt.in)
		if got := errText(err); got != tt.err {
			t.Errorf("CheckNesting(%q) = %q, want %q", tt.in, got, tt.err)
		}
	}
}

func TestCheckEscaped(t *testing.T) {
	tests := []struct{ in, err string }{
		{`&lt;&gt;&amp;&quot;&#65;&#x1F600; <a href="https://x.org/?a=1&amp;b=2">x</a>`, ""},
		{"Q&A", `unescaped "&" (write it as "&amp;") at byte offset 1`},
		{"&lt", `unescaped "&" (write it as "&amp;") at byte offset 0`},
		{"&nbsp;", `unescaped "&" (write it as "&amp;") at byte offset 0`},
		{"&#X41;", `unescaped "&" (write it as "&amp;") at byte offset 0`},
		{`<a href="https://x.org/?a=1&b=2">x</a>`, `unescaped "&" (write it as "&amp;") at byte offset 27`},
		{"x &amp; &", `unescaped "&" (write it as "&amp;") at byte offset 8`},
	}
	for _, tt := range tests {
		if got := errText(CheckEscaped(tt.in)); got != tt.err {
			t.Errorf("CheckEscaped(%q) = %q, want %q", tt.in, got, tt.err)
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Whatever Parse accepts, its entities lie within the text, in Telegram's
// order; escaped text comes back as it was.
func FuzzParse(f *testing.F) {
	for _, c := range tdlibCases {
		f.Add(c.in)
	}
	f.Add("<a>x.org</a><a href=tg://user?id=1>u</a>&#xD800;\x00<b\x00")
	f.Fuzz(func(t *testing.T, s string) {
		if utf8.ValidString(s) {
			plain, entities, err := Parse(Escape(s))
			if err != nil || plain != s || len(entities) != 0 {
				t.Fatalf("Parse(Escape(%q)) = %q, %v, %v", s, plain, entities, err)
			}
		}
		plain, entities, err := Parse(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(plain) {
			t.Fatalf("Parse(%q): invalid UTF-8 %q", s, plain)
		}
		n := len(utf16.Encode([]rune(plain)))
		for _, e := range entities {
			if e.Offset < 0 || e.Length <= 0 || e.Offset+e.Length > n {
				t.Fatalf("Parse(%q) = %q: entity %+v out of the text", s, plain, e)
			}
		}
		if !slices.IsSortedFunc(entities, func(a, b Entity) int {
			if a.Offset != b.Offset {
				return a.Offset - b.Offset
			}
			return b.Length - a.Length
		}) {
			t.Fatalf("Parse(%q): entities out of order: %+v", s, entities)
		}
		if !strings.ContainsAny(s, "<&") && plain != s {
			t.Fatalf("text without markup changed: %q → %q", s, plain)
		}
		_ = CheckNesting(s)
	})
}
