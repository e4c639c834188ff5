package mastodon

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/syndicate-daemon/syndicate/channels/mastodon/internal/length"
)

// The differential tests count texts with count.go and with Mastodon's own
// rules, as testdata/mastodon-length.js applies them with the npm package
// twitter-text 3.1.0, and require the same count. They skip when Node or
// the package is missing (npm ci --prefix channels/mastodon/testdata
// installs it), unless SYNDICATE_MASTODON_ORACLE is "required", as in CI.

const oracleScript = "testdata/mastodon-length.js"

// oracle is a running testdata/mastodon-length.js.
type oracle struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

// oracleUnavailable says why the oracle cannot run, or "".
func oracleUnavailable() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed (apt-get install nodejs npm)"
	}
	pkg, err := os.ReadFile(filepath.Join("testdata", "node_modules", "twitter-text", "package.json"))
	if err != nil {
		return "the npm package twitter-text is not installed (npm ci --prefix channels/mastodon/testdata)"
	}
	var meta struct{ Version string }
	if json.Unmarshal(pkg, &meta) != nil || meta.Version != "3.1.0" {
		return fmt.Sprintf("testdata/node_modules holds twitter-text %q, not 3.1.0 (npm ci --prefix channels/mastodon/testdata)", meta.Version)
	}
	return ""
}

// startOracle starts the oracle, or skips the test when it cannot run.
func startOracle(tb testing.TB) *oracle {
	tb.Helper()
	if why := oracleUnavailable(); why != "" {
		if os.Getenv("SYNDICATE_MASTODON_ORACLE") == "required" {
			tb.Fatalf("Mastodon's counting rules cannot run: %s", why)
		}
		tb.Skipf("Mastodon's counting rules cannot run, so they are not compared: %s", why)
	}
	cmd := exec.Command("node", oracleScript)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	o := &oracle{cmd: cmd, in: in, out: bufio.NewReader(out)}
	tb.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return o
}

type countCase struct {
	Spoiler string `json:"spoiler,omitempty"`
	Text    string `json:"text"`
}

// counts counts every case as Mastodon does.
func (o *oracle) counts(tb testing.TB, cases []countCase) []int {
	tb.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	errc := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(o.in)
		enc := json.NewEncoder(w)
		for _, c := range cases {
			if err := enc.Encode(c); err != nil {
				errc <- err
				return
			}
		}
		errc <- w.Flush()
	}()
	out := make([]int, len(cases))
	for i := range cases {
		line, err := o.out.ReadString('\n')
		if err != nil {
			tb.Fatalf("the oracle stopped after %d of %d texts: %v", i, len(cases), err)
		}
		if out[i], err = strconv.Atoi(strings.TrimSpace(line)); err != nil {
			tb.Fatalf("the oracle answered %q", line)
		}
	}
	if err := <-errc; err != nil {
		tb.Fatal(err)
	}
	return out
}

// comparable reports whether a text is one both sides can count the same:
// valid UTF-8, and no character that counts differently under the
// Unicode versions at hand. syndicate segments graphemes as Unicode 15.0
// does, as Mastodon's Ruby does; Node follows a later one, which knows
// characters that 15.0 does not, joins Indic conjuncts (a virama between
// consonants) into one grapheme, and no longer joins some pictographs to
// an emoji before them.
func comparable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	linker, zwj := false, false
	for _, r := range s {
		if zwj && unicode.Is(extPictDropped, r) {
			return false
		}
		zwj = r == '\u200d'
		switch {
		case !assigned(r):
			return false
		case indicLinker(r):
			linker = true
		case linker && unicode.IsLetter(r):
			return false
		case !unicode.IsMark(r) && r != '\u200d':
			linker = false
		}
	}
	return true
}

// extPictDropped are the characters that are Extended_Pictographic in
// Unicode 15.0 and no longer in the Unicode of Node's ICU: after a zero
// width joiner, they join the grapheme before them for one and not for
// the other.
var extPictDropped = &unicode.RangeTable{
	R16: []unicode.Range16{
		{0x2388, 0x2388, 1}, {0x2605, 0x2605, 1}, {0x2607, 0x260d, 1}, {0x260f, 0x2610, 1},
		{0x2612, 0x2612, 1}, {0x2616, 0x2617, 1}, {0x2619, 0x261c, 1}, {0x261e, 0x261f, 1},
		{0x2621, 0x2621, 1}, {0x2624, 0x2625, 1}, {0x2627, 0x2629, 1}, {0x262b, 0x262d, 1},
		{0x2630, 0x2637, 1}, {0x263b, 0x263f, 1}, {0x2641, 0x2641, 1}, {0x2643, 0x2647, 1},
		{0x2654, 0x265e, 1}, {0x2661, 0x2662, 1}, {0x2664, 0x2664, 1}, {0x2667, 0x2667, 1},
		{0x2669, 0x267a, 1}, {0x267c, 0x267d, 1}, {0x2680, 0x2685, 1}, {0x2690, 0x2691, 1},
		{0x2698, 0x2698, 1}, {0x269a, 0x269a, 1}, {0x269d, 0x269f, 1}, {0x26a2, 0x26a6, 1},
		{0x26a8, 0x26a9, 1}, {0x26ac, 0x26af, 1}, {0x26b2, 0x26bc, 1}, {0x26bf, 0x26c3, 1},
		{0x26c6, 0x26c7, 1}, {0x26c9, 0x26cd, 1}, {0x26d0, 0x26d0, 1}, {0x26d2, 0x26d2, 1},
		{0x26d5, 0x26e8, 1}, {0x26eb, 0x26ef, 1}, {0x26f6, 0x26f6, 1}, {0x26fb, 0x26fc, 1},
		{0x26fe, 0x2701, 1}, {0x2703, 0x2704, 1}, {0x270e, 0x270e, 1}, {0x2710, 0x2711, 1},
		{0x2765, 0x2767, 1},
	},
	R32: []unicode.Range32{
		{0x1f000, 0x1f003, 1}, {0x1f005, 0x1f02b, 1}, {0x1f030, 0x1f093, 1}, {0x1f0a0, 0x1f0ae, 1},
		{0x1f0b1, 0x1f0bf, 1}, {0x1f0c1, 0x1f0ce, 1}, {0x1f0d1, 0x1f0f5, 1}, {0x1f10d, 0x1f10f, 1},
		{0x1f12f, 0x1f12f, 1}, {0x1f16c, 0x1f16f, 1}, {0x1f1ad, 0x1f1ad, 1}, {0x1f260, 0x1f265, 1},
		{0x1f322, 0x1f323, 1}, {0x1f394, 0x1f395, 1}, {0x1f398, 0x1f398, 1}, {0x1f39c, 0x1f39d, 1},
		{0x1f3f1, 0x1f3f2, 1}, {0x1f3f6, 0x1f3f6, 1}, {0x1f4fe, 0x1f4fe, 1}, {0x1f546, 0x1f548, 1},
		{0x1f54f, 0x1f54f, 1}, {0x1f568, 0x1f56e, 1}, {0x1f571, 0x1f572, 1}, {0x1f57b, 0x1f586, 1},
		{0x1f588, 0x1f589, 1}, {0x1f58e, 0x1f58f, 1}, {0x1f591, 0x1f594, 1}, {0x1f597, 0x1f5a3, 1},
		{0x1f5a6, 0x1f5a7, 1}, {0x1f5a9, 0x1f5b0, 1}, {0x1f5b3, 0x1f5bb, 1}, {0x1f5bd, 0x1f5c1, 1},
		{0x1f5c5, 0x1f5d0, 1}, {0x1f5d4, 0x1f5db, 1}, {0x1f5df, 0x1f5e0, 1}, {0x1f5e2, 0x1f5e2, 1},
		{0x1f5e4, 0x1f5e7, 1}, {0x1f5e9, 0x1f5ee, 1}, {0x1f5f0, 0x1f5f2, 1}, {0x1f5f4, 0x1f5f9, 1},
		{0x1f6c6, 0x1f6ca, 1}, {0x1f6d3, 0x1f6d4, 1}, {0x1f6e6, 0x1f6e8, 1}, {0x1f6ea, 0x1f6ea, 1},
		{0x1f6f1, 0x1f6f2, 1}, {0x1f774, 0x1f77f, 1}, {0x1f7d5, 0x1f7d9, 1}, {0x1f8b0, 0x1f8bb, 1},
		{0x1f8c0, 0x1f8c1, 1}, {0x1f8d0, 0x1f8d8, 1}, {0x1fa00, 0x1fa57, 1}, {0x1fa60, 0x1fa6d, 1},
	},
}

func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf, unicode.Co)
}

// indicLinker is Unicode 15.1's Indic_Conjunct_Break=Linker.
func indicLinker(r rune) bool {
	switch r {
	case 0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D:
		return true
	}
	return false
}

// trickyTexts are texts where counting as Mastodon does is easy to get
// wrong.
var trickyTexts = []string{
	// URLs: what ends them.
	"https://example.org/a.", "https://example.org/a,", "https://example.org/a;", "https://example.org/a:",
	"https://example.org/a!", "https://example.org/a?", "https://example.org/a'", "https://example.org/a\"",
	"https://example.org/a=", "https://example.org/a&", "https://example.org/a=&", "https://example.org/a|",
	"https://example.org/a~", "https://example.org/a$", "https://example.org/a%", "https://example.org/a*",
	"https://example.org/a@", "https://example.org/a]", "https://example.org/a[b]", "https://example.org/a#",
	"https://example.org/a/", "https://example.org/a-", "https://example.org/a_", "https://example.org/a+",
	"https://example.org/a^", "https://example.org/a`", "https://example.org/a{b}", "https://example.org/a\\b",
	"https://example.org/statement…", "https://example.org/statement… more", "https://example.org/a—b",
	"https://example.org/a「b」", "https://example.org/a<b>", "https://example.org/日本語。",
	"(https://example.org/a)", "[https://example.org/a]", "«https://example.org/a»", "\"https://example.org/a\"",
	// Parentheses.
	"https://example.org/a(b", "https://example.org/a(b c", "https://example.org/wiki/Foo_(bar)",
	"https://example.org/wiki/Foo_(bar_(baz))", "https://example.org/wiki/Foo_(bar_(baz)_(qux))",
	"https://example.org/a(b(c)", "https://example.org/a)b", "https://example.org/(a)(b)", "https://example.org/a()",
	"https://example.org/a(日本)", "https://example.org/a(b)c.", "https://example.org/a(\"b\")", "https://example.org/a((b))",
	"(see https://example.org/wiki/Foo_(bar))", "https://example.org/a(b)?q=1", "https://example.org/S(dfd346)/x",
	// Queries and fragments.
	"https://example.org/?a=b", "https://example.org?a=b&", "https://example.org/?a=b.", "https://example.org/?a=",
	"https://example.org/?a=(b)", "https://example.org/?q=日本", "https://example.org/?a=b,c", "https://example.org/?a b",
	"https://example.org/?", "https://example.org/#x", "https://example.org/a?b#c", "https://example.org/?a=b\u00a0c",
	"https://example.org/?a=\"b\"", "https://example.org/?a=<b>",
	// Protocols.
	"gemini://a.io x", "gemini://x", "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi.ipfs.dweb.link/",
	"ipns://example.com", "dat://example.com/x", "dweb://example.com", "ssb://example.com", "gopher://example.com:70/1",
	"ftp://example.com/x", "mailto:a@example.com", "xmpp:a@example.com", "magnet:?xt=urn:btih:abc", "HTTPS://EXAMPLE.ORG/A",
	"Gemini://example.org", "httpſ://example.org", "ßb://example.org",
	// Domains.
	"https://a.co", "https://example.org9", "https://example.org-0", "https://example.org.0", "https://example.org_x",
	"https://example.comé", "https://example.notatld/x", "http://localhost/x", "http://127.0.0.1/x", "https://example",
	"https://ex_ample.com", "https://_ex.com", "https://ex-.com", "https://-ex.com", "https://a..com", "https://bücher.de",
	"https://xn--bcher-kva.de", "https://例え.jp/x", "https://例子.中国", "https://пример.рф", "https://example.ﬁ",
	"https://example.buſineß", "https://a.xn--p1ai", "https://a.xn--abc-def", "https://EXAMPLE.ORG", "http://0.AA.AA0",
	"https://a\\b.com", "https://a\"b.com", "https://example.org:8080/x", "https://example.org:/x", "https://example.org:x",
	"https://嘉里大酒店.嘉里大酒店", "https://example.嘉里x", "https://" + strings.Repeat("a", 64) + ".com",
	"https://" + strings.Repeat("a", 63) + ".com", "https://" + strings.Repeat("é", 56) + ".com", "https://" + strings.Repeat("é", 60) + ".com",
	"https://😀.com/x", "https://a.com/😀", "https://xn--a.com", "https://xn--é.com",
	// Glued and hidden.
	"xhttps://example.org", "_https://example.org", "éhttps://example.org", "#https://example.org", "$https://example.org",
	"@https://example.org", "ſhttps://example.org", "Khttps://example.org", "日本https://example.org", "-https://example.org",
	"example.org/https://example.com", "example.org?https://example.com", "see example.org https://example.com",
	"https://a.org https://b.org", "https://a.org\nhttps://b.org", "https://a.orghttps://b.org", "https://a.org/https://b.org",
	// t.co.
	"https://t.co/abc", "https://t.co/abc?x=1", "https://t.co/abc/def", "https://t.co/" + strings.Repeat("a", 40),
	"https://t.co/" + strings.Repeat("a", 41), "https://T.CO/Abc", "http://t.co/", "https://t.co/_x",
	// Long URLs.
	"https://example.org/" + strings.Repeat("a", 4076), "https://example.org/" + strings.Repeat("a", 4077),
	"https://bücher.de/" + strings.Repeat("a", 4066), "https://bücher.de/" + strings.Repeat("a", 4070),
	// Mentions.
	"@alice", "@alice@example.com", "@alice@example.com@foo", "@alice@example.com hi", "@a.b@c.d", "@a..b@c", "@a-@b",
	"@_a@b_c", "@Alice@EXAMPLE.COM", "@alice@日本.jp", "@alice@x.comé", "@alice@x.com://", "=@a@b.c", "/@a@b.c",
	"x@a@b.c", "é@a@b.c", "＠a@b.c", "@a@b.c＠", "@ſ@x.com", "@K@x.com", "@alice@x.com.", "@alice@x-.com", "@alice@.com",
	"@alice@" + strings.Repeat("a", 253), "@alice@" + strings.Repeat("a", 254), "@alice@" + strings.Repeat("a", 250) + ".com",
	"thanks @Gargron@mastodon.social!", "write to news@example.org", "https://mastodon.social/@user@example.org",
	"https://example.org/a,@user@example.org", "@user@example.org/https://example.org", "@user@example.orgé",
	"@user@example.ι", "@user.@example.org", "@@user@example.org",
	// Counting.
	"Kazajista\u0301n", "🇰🇿", "👨‍👩‍👧‍👦", "a\r\nb", "   ", "\n", "", "\u00a0", "https://example.org/a\u0301",
	"e\u0301https://example.org", "👍🏽https://example.org",
}

// generatedTexts returns n texts built at random, from a fixed seed, of
// the pieces URLs, mentions and their surroundings are made of.
func generatedTexts(n int) []countCase {
	rng := rand.New(rand.NewPCG(15, 2024))
	pick := func(l []string) string { return l[rng.IntN(len(l))] }
	words := []string{"the", "strike", "Kazajistán", "日本語", "テキスト", "مرحبا", "שלום", "Привет", "भारत", "ελ", "straße",
		"oﬃce", "👍🏽", "👨‍👩‍👧‍👦", "🇰🇿", "❤️", "😀", "x", "a1", "_", "é", "ſ", "K", "İ", "ı"}
	seps := []string{" ", " ", " ", "\n", "\n\n", "\t", "\u00a0", "\u3000", "", "", ",", ".", "(", ")", "[", "]", "\"", "'",
		"«", "»", "…", "—", "–", "-", "_", "/", "=", "&", "?", "!", ":", ";", "@", "#", "$", "*", "<", ">", "|", "~", "%",
		"^", "`", "{", "}", "\\", "\u200b", "\u200d", "\u0301", "\ufe0f", "\u202e", "\u061c", "＠", "＃", "。", "｡"}
	schemes := []string{"https://", "https://", "https://", "http://", "HTTPS://", "Http://", "gemini://", "ipfs://", "ipns://",
		"dat://", "dweb://", "ssb://", "gopher://", "ftp://", "mailto:", "xmpp:", "httpſ://", "", "//", "www."}
	hosts := []string{"example.org", "example.com", "en.communia.blog", "a.co", "t.co", "x.org", "sub.example.co.uk",
		"xn--bcher-kva.de", "bücher.de", "例え.jp", "例子.中国", "пример.рф", "localhost", "127.0.0.1", "example",
		"example.notatld", "ex_ample.com", "_ex.com", "ex-.com", "a-b.com", "a..com", "example.org9", "example.org-0",
		"example.org_x", "example.comé", "example.ﬁ", "EXAMPLE.ORG", "0.AA.AA0", "a.xn--p1ai", "a.xn--abc-def", "ipfs.io",
		"mastodon.social", "嘉里.嘉里大酒店", "a.भारतम्", "שלום.com", "שלוםa.com", "مثال.إختبار", "ｅｘａｍｐｌｅ.com",
		"a\u200db.com", "a\ue000.com", "пример.РФ", "παράδειγμα.ΕΛ", "a。b.com", strings.Repeat("a", 63) + ".com",
		strings.Repeat("é", 59) + ".com", strings.Repeat("a", 64) + ".org"}
	labelRunes := []rune("abcxyz019-_é中😀ßſ.אبＡ１\u200d\ue000。Ккα")
	tlds := length.TopLevelDomains()
	host := func() string {
		if rng.IntN(3) > 0 {
			return pick(hosts)
		}
		var b strings.Builder
		for range 1 + rng.IntN(3) {
			for range 1 + rng.IntN(6) {
				b.WriteRune(labelRunes[rng.IntN(len(labelRunes))])
			}
			b.WriteByte('.')
		}
		switch rng.IntN(4) {
		case 0:
			b.WriteString(strings.ToUpper(pick(tlds)))
		case 1:
			b.WriteString("xn--" + pick([]string{"p1ai", "abc", "a-b", "90a3ac"}))
		default:
			b.WriteString(pick(tlds))
		}
		return b.String()
	}
	pathPieces := []string{"/", "/a", "/b/c", ".", ",", "/statement", "_(bar)", "_(bar_(baz))", "(b", ")", "((b))", "(a)(b)",
		"=", "&", "!", "*", "'", "\"", ";", ":", "|", "~", "$", "%", "%20", "[b]", "/@user", "/@u@example.org", "/日本", "…",
		"—", "ä", "#frag", "#", "//", "「x」", "<", ">", "+", "-", "^", "`", "{x}", "\\", "é", "K", "(а)", "(‐)", "(〜)", "(\"b\")",
		"(a(b)c)", "(a(\"b\")c)", "(é)", "(日)", "(", "(a)(", "((a)", strings.Repeat("p", 1000)}
	queryPieces := []string{"?", "?a=b", "&c=d", "&", ".", "=", "(b)", "日本", ",", " ", "é", "\u00a0", "#f", "'", "\"", "!", "|"}
	url := func() string {
		var b strings.Builder
		b.WriteString(pick(schemes))
		if rng.IntN(8) == 0 {
			b.WriteString("t.co/")
			for range 1 + rng.IntN(45) {
				b.WriteByte("abcXYZ019"[rng.IntN(9)])
			}
		} else {
			b.WriteString(host())
		}
		if rng.IntN(6) == 0 {
			b.WriteString(pick([]string{":8080", ":", ":x", ":0"}))
		}
		for range rng.IntN(5) {
			b.WriteString(pick(pathPieces))
		}
		if rng.IntN(3) == 0 {
			for range 1 + rng.IntN(3) {
				b.WriteString(pick(queryPieces))
			}
		}
		return b.String()
	}
	userRunes := []rune("abAB09_.-ſé")
	mention := func() string {
		var b strings.Builder
		b.WriteString(pick([]string{"@", "@", "@", "＠", "=@", "/@", "x@", "@@"}))
		for range 1 + rng.IntN(6) {
			b.WriteRune(userRunes[rng.IntN(len(userRunes))])
		}
		if rng.IntN(3) > 0 {
			b.WriteString("@" + host())
		}
		return b.String()
	}
	cases := make([]countCase, 0, n)
	for len(cases) < n {
		var b strings.Builder
		for range 1 + rng.IntN(10) {
			switch rng.IntN(6) {
			case 0, 1:
				b.WriteString(url())
			case 2:
				b.WriteString(mention())
			default:
				b.WriteString(pick(words))
			}
			for range rng.IntN(3) {
				b.WriteString(pick(seps))
			}
		}
		c := countCase{Text: b.String()}
		if rng.IntN(10) == 0 {
			c.Spoiler = pick(words)
		}
		if comparable(c.Spoiler + c.Text) {
			cases = append(cases, c)
		}
	}
	return cases
}

// differentialCorpus is every text the differential test compares.
func differentialCorpus() []countCase {
	var cases []countCase
	for _, s := range trickyTexts {
		cases = append(cases, countCase{Text: s}, countCase{Text: "Read " + s + " now"})
	}
	return append(cases, generatedTexts(5000)...)
}

func TestLengthAgainstMastodon(t *testing.T) {
	o := startOracle(t)
	cases := differentialCorpus()
	if path := os.Getenv("SYNDICATE_MASTODON_CORPUS"); path != "" {
		// For comparing other implementations of Mastodon's rules.
		var b strings.Builder
		enc := json.NewEncoder(&b)
		for _, c := range cases {
			enc.Encode(c)
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := o.counts(t, cases)
	disagree := 0
	for i, c := range cases {
		if !comparable(c.Spoiler + c.Text) {
			t.Fatalf("corpus text %q is not comparable", c.Text)
		}
		if got := countStatus(c.Spoiler, c.Text, DefaultCharactersPerURL); got != want[i] {
			disagree++
			if disagree <= 20 {
				t.Errorf("count(%q, %q) = %d, Mastodon counts %d", c.Spoiler, c.Text, got, want[i])
			}
		}
	}
	t.Logf("%d texts compared with Mastodon's rules, %d disagree", len(cases), disagree)
}

// FuzzLength checks the channel's counter against Mastodon's rules:
// counting less than Mastodon would post over the limit, counting more
// would cut posts that fit.
func FuzzLength(f *testing.F) {
	for _, s := range trickyTexts {
		f.Add(s)
	}
	o := startOracle(f)
	f.Fuzz(func(t *testing.T, s string) {
		if !comparable(s) {
			return
		}
		want := o.counts(t, []countCase{{Text: s}})[0]
		if got := Length(s); got != want {
			t.Fatalf("Length(%q) = %d, Mastodon counts %d", s, got, want)
		}
	})
}

func TestTopLevelDomainsAreTwitterTexts(t *testing.T) {
	startOracle(t)
	out, err := exec.Command("node", oracleScript, "--tlds").Output()
	if err != nil {
		t.Fatal(err)
	}
	var tlds struct{ Generic, Country []string }
	if err := json.Unmarshal(out, &tlds); err != nil {
		t.Fatal(err)
	}
	if want := append(tlds.Generic, tlds.Country...); !slices.Equal(length.TopLevelDomains(), want) {
		t.Errorf("internal/length/tlds.go is not twitter-text's list: go generate ./channels/mastodon/internal/length")
	}
}
