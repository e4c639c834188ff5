package length

import (
	"strings"
	"testing"
)

// The counts below are Mastodon's, as the channel's differential test
// checks them against its rules (testdata/mastodon-length.js).
func TestText(t *testing.T) {
	tests := []struct {
		name string
		text string
		want int
	}{
		{"an unbalanced ( ends the path", "https://example.org/a(b", 23 + 2},
		{"balanced parentheses are the path's", "https://example.org/wiki/Foo_(bar)", 23},
		{"one nested level is the path's", "https://example.org/wiki/Foo_(bar_(baz))", 23},
		{"an unbalanced nested ( ends the path", "https://example.org/wiki/Foo_(bar_(baz)", 23 + 10},
		{"a path never ends with =", "https://example.org/a=", 23 + 1},
		{"a path never ends with &", "https://example.org/a&", 23 + 1},
		{"a query may end with =", "https://example.org/?a=", 23},
		{"a path never ends with a period", "https://example.org/a.", 23 + 1},
		{"an ellipsis is part of the path", "https://example.org/statement…", 23},
		{"gemini", "gemini://x.org", 23},
		{"a domain needs a known top-level domain", "gemini://x", 10},
		{"ipfs", "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi.ipfs.dweb.link/", 23},
		{"ftp is not Mastodon's", "ftp://example.org/x", 19},
		{"protocol and domain in capitals", "HTTPS://EXAMPLE.ORG", 23},
		{"ſ is an s", "httpſ://example.org", 23},
		{"ß is ss in a top-level domain", "https://example.buſineß", 23},
		{"a top-level domain may be followed by a letter that is not ASCII", "https://example.comé", 23 + 1},
		{"Unicode top-level domain", "https://例子.中国", 23},
		{"punycode top-level domain", "https://a.xn--p1ai", 23},
		{"an emoji domain is not valid IDNA", "https://😀.com/x", 15},
		{"a URL of 4,096 characters", "https://example.org/" + strings.Repeat("a", 4076), 23},
		{"a URL over 4,096 characters is text", "https://example.org/" + strings.Repeat("a", 4077), 4097},
		{"a t.co slug of 40", "https://t.co/" + strings.Repeat("a", 40), 23},
		{"a t.co slug over 40 is text", "https://t.co/" + strings.Repeat("a", 41), 54},
		{"a t.co link ends with its slug", "https://t.co/abc?x=1", 23 + 4},
		{"a domain without protocol hides what it holds", "example.org/https://example.com", 31},
		{"remote mention", "@alice@example.com", 6},
		{"a mention followed by @ is none", "@alice@example.com@foo", 22},
		{"a mention domain of 253", "@alice@" + strings.Repeat("a", 249) + ".com", 6},
		{"a mention domain over 253 is none", "@alice@" + strings.Repeat("a", 250) + ".com", 261},
		{"a mention domain may end with a letter that is not ASCII", "@alice@example.comé", 6},
		{"a blank text counts nothing", "   ", 0},
		{"graphemes: ZWJ family", "👨‍👩‍👧‍👦", 1},
		{"graphemes: combining accent", "Kazajista\u0301n", 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Text(tt.text, DefaultPerURL); got != tt.want {
				t.Errorf("Text(%q) = %d, want %d", tt.text, got, tt.want)
			}
		})
	}
}

func TestStatus(t *testing.T) {
	// The content warning counts as written, and joins the text's first
	// grapheme when it can.
	if got := Status("cw", "@alice@example.com https://example.org", DefaultPerURL); got != 2+6+1+23 {
		t.Errorf("Status = %d", got)
	}
	if got := Status("cw", "   ", DefaultPerURL); got != 2 {
		t.Errorf("Status with a blank text = %d", got)
	}
	if got := Status("e", "\u0301", DefaultPerURL); got != 1 {
		t.Errorf("Status(e, ́) = %d, want 1", got)
	}
	if got := Text("see https://example.org/a", -1); got != 25 {
		t.Errorf("Text with URLs as written = %d", got)
	}
}

func TestEntities(t *testing.T) {
	text := "see https://example.org/a(b) and @alice@example.com, https://mastodon.social/@bob@example.org!"
	var got []string
	for _, e := range Entities(text) {
		s := text[e.Start:e.End]
		if !e.URL {
			s += " as " + text[e.Start:e.UserEnd]
		}
		got = append(got, s)
	}
	want := []string{"https://example.org/a(b)", "@alice@example.com as @alice", "https://mastodon.social/@bob@example.org"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("entities %q, want %q", got, want)
	}
}

func TestPunycode(t *testing.T) {
	for in, want := range map[string]string{
		"bücher":      "bcher-kva",
		"例え":          "r8jz45g",
		"пример":      "e1afmkfd",
		"München-Ost": "Mnchen-Ost-9db",
		"😀":           "e28h",
	} {
		if got := punycode(in); got != want {
			t.Errorf("punycode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestToASCII(t *testing.T) {
	tests := []struct {
		domain, want string
		ok           bool
	}{
		{"example.org", "example.org", true},
		{"bücher.de", "xn--bcher-kva.de", true},
		{"BÜCHER.de", "xn--bcher-kva.de", true}, // nameprep folds case
		{"ｅｘａｍｐｌｅ.com", "example.com", true},    // and normalises
		{"a\u200db.com", "ab.com", true},        // and drops joiners
		{"😀.com", "", false},                    // unassigned in Unicode 3.2
		{"a\ue000.com", "", false},              // private use is prohibited
		{"שלום.com", "xn--9dbne9b.com", true},
		{"שלוםa.com", "", false}, // right-to-left and left-to-right letters
		{"xn--ü.com", "", false},
		{strings.Repeat("a", 63) + ".com", strings.Repeat("a", 63) + ".com", true},
		{strings.Repeat("a", 64) + ".com", "", false},
		{"a。b.com", "a.b.com", true},
	}
	for _, tt := range tests {
		got, ok := toASCII(tt.domain)
		if got != tt.want || ok != tt.ok {
			t.Errorf("toASCII(%q) = %q, %v, want %q, %v", tt.domain, got, ok, tt.want, tt.ok)
		}
	}
}

func BenchmarkText(b *testing.B) {
	texts := map[string]string{
		"prose": strings.Repeat("The strike spread to Zhanaozen, see https://en.communia.blog/kazakhstan and @alice@example.com. ", 50),
		"cjk":   strings.Repeat("日本語のテキスト", 600),
		"dots":  "https://" + strings.Repeat("a.", 2000),
	}
	for name, text := range texts {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				Text(text, DefaultPerURL)
			}
		})
	}
}
