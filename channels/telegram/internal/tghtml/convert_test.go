package tghtml

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFromHTML(t *testing.T) {
	base, _ := url.Parse("https://en.communia.blog/mass-strike/")
	tests := []struct {
		name, in, want string
	}{
		{"kept tags", `<b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>n</ins> <s>s</s> <strike>k</strike> <del>d</del> <code>c</code> <tg-spoiler>x</tg-spoiler> <span class="a tg-spoiler">y</span>`,
			`<b>b</b> <b>s</b> <i>i</i> <i>e</i> <u>u</u> <u>n</u> <s>s</s> <s>k</s> <s>d</s> <code>c</code> <tg-spoiler>x</tg-spoiler> <tg-spoiler>y</tg-spoiler>`},
		{"paragraphs", "<p>One\n  two</p>\n\n<p>Three</p><div>Four</div>", "One two\n\nThree\n\nFour"},
		{"headings", "<h2>What happened?</h2><p>Text</p>", "<b>What happened?</b>\n\nText"},
		{"lists", "<p>Intro</p><ul><li>one</li><li><b>two</b></li></ul><ol><li>a<ul><li>b</li></ul></li></ol>",
			"Intro\n\n• one\n• <b>two</b>\n\n• a\n  • b"},
		{"line breaks", "a<br>b<br><br><br>c", "a\nb\n\nc"},
		{"dropped", `<p>a</p><figure><img src="x.jpg" alt="alt"><figcaption>Caption</figcaption></figure><table><tr><td>cell</td></tr></table><iframe src="https://x.org"></iframe><script>alert(1)</script><style>p{}</style><p>b</p>`,
			"a\n\nb"},
		{"entities", "x&nbsp;&eacute;&hellip; &lt;tag&gt; &amp; &quot;q&quot; &#8217; &#x1F600; AT&T", "x\u00a0é… &lt;tag&gt; &amp; \"q\" ’ 😀 AT&amp;T"},
		{"bare brackets", "a < b > c & d", "a &lt; b &gt; c &amp; d"},
		{"links", `<a href="https://x.org/?a=1&amp;b=&quot;2&quot;">x</a> <a href="/rel">rel</a> <a href="javascript:alert(1)">js</a> <a href=" JaVa	script:x">js2</a> <a href="mailto:a@b.c">mail</a> <a>none</a> <a href="//cdn.org/p">proto</a> <a href="#top">frag</a>`,
			`<a href="https://x.org/?a=1&amp;b=&quot;2&quot;">x</a> <a href="https://en.communia.blog/rel">rel</a> js js2 mail none <a href="https://cdn.org/p">proto</a> <a href="https://en.communia.blog/mass-strike/#top">frag</a>`},
		// Telegram keeps the text of a link to a host without a dot and
		// drops the link.
		{"links Telegram drops", `<a href="http://localhost/x">local</a> <a href="http://intranet:8080/">intra</a> <a href="https://LOCALHOST">caps</a> <a href="/x">rel</a>`,
			`local intra caps <a href="https://en.communia.blog/x">rel</a>`},
		{"links Telegram keeps", `<a href="http://127.0.0.1/x">ip</a> <a href="http://[::1]:8080/">v6</a> <a href="https://localhost./">dot</a> <a href="https://xn--80ak6aa92e.com/">idn</a>`,
			`<a href="http://127.0.0.1/x">ip</a> <a href="http://[::1]:8080/">v6</a> <a href="https://localhost./">dot</a> <a href="https://xn--80ak6aa92e.com/">idn</a>`},
		{"no link in a link or code", `<a href="https://a.org">x <a href="https://b.org">y</a></a> <code><b>c</b><a href="https://c.org">d</a></code>`,
			`<a href="https://a.org">x</a> <a href="https://b.org">y</a> <code>cd</code>`},
		{"pre", "<pre><code class=\"language-go\">if a &lt; b {\n\treturn\n}</code></pre><p>after</p>",
			"<pre><code class=\"language-go\">if a &lt; b {\n\treturn\n}</code></pre>\n\nafter"},
		{"pre without language", "<pre>x  <b>y</b>\n z</pre>", "<pre>x  y\n z</pre>"},
		// One entity only when the code is around all of the pre.
		{"pre with code and more", "<pre>$ <code class=\"language-sh\">ls</code>\n</pre>", "<pre>$ ls\n</pre>"},
		{"pre with white space around its code", "<pre>\n<code class=\"language-go\">x</code>\n</pre>", "<pre><code class=\"language-go\">x\n</code></pre>"},
		{"pre with two codes", "<pre><code class=\"lang-c\">a</code><code>b</code></pre>", "<pre>ab</pre>"},
		{"pre in a language", "<pre class=\"language-py\"><code>x</code> y</pre>", "<pre><code class=\"language-py\">x y</code></pre>"},
		{"code in a language outside pre", "<p><code class=\"language-go\">x</code></p>", "<code>x</code>"},
		{"blockquote", "<blockquote><p>one</p><p>two <blockquote>inner</blockquote></p></blockquote>", "<blockquote>one\n\ntwo\n\ninner</blockquote>"},
		{"bold heading inside bold", "<b><h3>x</h3></b>", "<b>x</b>"},
		{"empty elements", "<b></b><i> </i><a href=\"https://x.org\"><img src=x></a>text", "text"},
		{"unknown tags", "<custom-el>kept</custom-el> <font color=red>font</font>", "kept font"},
		{"controls", "a\x00b\x07c\u0085d", "abcd"},
		{"misnested", "<b><i>x</b>y</i>", "<b><i>x</i></b><i>y</i>"},
		{"unclosed", "<p><b>bold <i>both", "<b>bold <i>both</i></b>"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FromHTML(tt.in, base)
			if got != tt.want {
				t.Errorf("FromHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			checkOwn(t, got)
		})
	}
	if got := FromHTML(`<a href="/rel">rel</a>`, nil); got != "rel" {
		t.Errorf("relative link without a base: %q", got)
	}
	if got := FromHTML(`<a href="/rel">rel</a>`, &url.URL{Scheme: "http", Host: "localhost", Path: "/"}); got != "rel" {
		t.Errorf("relative link on a base Telegram does not link: %q", got)
	}
}

// checkOwn fails unless s, text syndicate wrote itself, is what Telegram
// accepts as it stands: parsed, every "&" escaped, no entity dropped, no
// link dropped.
func checkOwn(t *testing.T, s string) {
	t.Helper()
	_, entities, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse refuses %q: %v", s, err)
	}
	if err := CheckEscaped(s); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	if err := CheckNesting(s); err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	if links, kept := strings.Count(s, "<a "), countType(entities, "text_link"); links != kept {
		t.Fatalf("%q: %d links, Telegram keeps %d", s, links, kept)
	}
}

func countType(entities []Entity, typ string) int {
	n := 0
	for _, e := range entities {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"one two three", 10, "one two…"},
		{"<b>one two</b> three", 8, "<b>one two…</b>"},
		{"<b>one two</b> three", 7, "<b>one…</b>"},
		{"<b>one</b>, two", 6, "<b>one…</b>"},
		{"<b>one</b> <i>two</i> xyz", 9, "<b>one</b> <i>two…</i>"},
		{"one &amp; two &lt;three&gt;", 9, "one &amp;…"},
		{`see <a href="https://x.org/a-long-url">https://x.org/a-long-url</a> now`, 20, "see…"},
		{"https://x.org/a-long-url-that-is-too-long", 10, "…"},
		{"averyveryverylongword", 6, "avery…"},
		{"😀😀😀😀", 5, "😀😀…"},
		{"👨‍👩‍👧‍👦👨‍👩‍👧‍👦", 12, "👨‍👩‍👧‍👦…"},
		{"<pre><code class=\"language-go\">a b c</code></pre>", 4, "<pre><code class=\"language-go\">a b…</code></pre>"},
		{"<blockquote>«Quote» and more</blockquote>", 9, "<blockquote>«Quote»…</blockquote>"},
		{"¿Qué? dice", 3, "¿Q…"},
		{"x", 0, ""},
		{"ab", 1, "…"},
		// Telegram's literal "&", kept so: cut short, "&lt" would be "<".
		{"Q&A &ltb &#12 &amp;", 10, "Q&amp;A &amp;ltb…"},
		{"a&ltbc", 5, "a&amp;lt…"},
		{"&#12345678", 5, "&amp;#12…"},
		// An ellipsis is no part of a custom emoji or a date.
		{"<b><tg-emoji emoji-id=5>👍</tg-emoji> and</b> more", 4, "<b><tg-emoji emoji-id=5>👍</tg-emoji>…</b>"},
	}
	for _, tt := range tests {
		got, err := Truncate(tt.in, tt.limit)
		if err != nil || got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, %v; want %q", tt.in, tt.limit, got, err, tt.want)
			continue
		}
		if n, err := Length(got); err != nil || n > tt.limit {
			t.Errorf("Truncate(%q, %d) = %q: length %d, %v", tt.in, tt.limit, got, n, err)
		}
	}
}

func FuzzFromHTML(f *testing.F) {
	for _, s := range []string{
		"<p>Hello <b>world</b></p>", `<a href="javascript:x">x</a><a href="/y">y</a>`, "<ul><li>a<li>b</ul>",
		"<pre><code class=\"language-go\">x</code></pre>", "<table><tr><td>x</table>", "&amp;&nbsp;&#0;&#xD800;&bogus;",
		"<b><i>x</b></i>", "<blockquote><blockquote>q</blockquote></blockquote>", "<h1>T</h1><img src=x>",
		"<span class=tg-spoiler>s</span><tg-spoiler>t</tg-spoiler>", "\xff\x00<", "<a href=\"https://x.org\"><code>c</code></a>",
		"<pre><b>x</b><code class=\"lang-c\">y</code></pre>", "<svg><a href='https://x.org'>x</a></svg>",
		"<a href=\"http://localhost/\">l</a><a href=\"http://[::1]/\">6</a>", "<pre>\n<code class=\"language-go\">x</code>\n</pre>",
	} {
		f.Add(s, "https://en.communia.blog/a/")
	}
	f.Fuzz(func(t *testing.T, in, base string) {
		var b *url.URL
		if u, err := url.Parse(base); err == nil {
			b = u
		}
		out := FromHTML(in, b)
		checkOwn(t, out)
		plain, _, _ := Parse(out)
		if !utf8.ValidString(plain) {
			t.Fatalf("invalid UTF-8 in %q", plain)
		}
		for _, limit := range []int{0, 1, 7, 100, 1024} {
			cut, err := Truncate(out, limit)
			if err != nil {
				t.Fatalf("Truncate(%q, %d): %v", out, limit, err)
			}
			n, err := Length(cut)
			if err != nil || n > limit {
				t.Fatalf("Truncate(%q, %d) = %q: length %d, %v", out, limit, cut, n, err)
			}
			checkOwn(t, cut)
			if cut != out && cut != "" && !strings.Contains(cut, Ellipsis) {
				t.Fatalf("Truncate(%q, %d) = %q: no ellipsis", out, limit, cut)
			}
		}
	})
}

func FuzzTruncate(f *testing.F) {
	for _, s := range []string{"one two three", "<b>one</b>, two", `<a href="https://x.org">https://x.org/long</a> x`,
		"😀😀😀😀", "👨‍👩‍👧‍👦 👨‍👩‍👧‍👦", "&lt;&gt;&amp;&quot;&#128512;", "<pre><code class=\"language-go\">a b</code></pre>",
		"Q&A &ltb &#12345678 &lt", "<a>x.org</a> <tg-time unix=1 format=r>t</tg-time> <b x y=\"z\">b</b>"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if _, _, err := Parse(s); err != nil {
			return
		}
		limit %= 5000
		cut, err := Truncate(s, limit)
		if err != nil {
			t.Fatalf("Truncate(%q, %d): %v", s, limit, err)
		}
		n, err := Length(cut)
		if err != nil {
			t.Fatalf("Truncate(%q, %d) = %q, refused: %v", s, limit, cut, err)
		}
		if n > max(limit, 0) {
			t.Fatalf("Truncate(%q, %d) = %q: length %d", s, limit, cut, n)
		}
		if full, _ := Length(s); full <= limit && cut != s {
			t.Fatalf("Truncate(%q, %d) = %q: changed a text that fits", s, limit, cut)
		}
		if CheckEscaped(s) == nil {
			if err := CheckEscaped(cut); err != nil {
				t.Fatalf("Truncate(%q, %d) = %q: %v", s, limit, cut, err)
			}
		}
		// What is kept reads as it did.
		if cut != s && cut != "" {
			full, _, _ := Parse(s)
			kept, _, _ := Parse(cut)
			kept = strings.TrimSuffix(kept, Ellipsis)
			if !strings.HasPrefix(full, kept) {
				t.Fatalf("Truncate(%q, %d) = %q: %q is not the start of %q", s, limit, cut, kept, full)
			}
		}
	})
}
