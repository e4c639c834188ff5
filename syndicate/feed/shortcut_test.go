package feed

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The shortcuts of the text functions must give what the long way gives:
// an article read before and after them keeps its text, and so its hash.

// slowPlainText is plainText without its shortcut for text without tags.
func slowPlainText(s string) string {
	doc := parseHTML(s)
	keepFallbacks(doc, 0)
	return nodeText(doc)
}

var shortcutSeeds = []string{
	"", " ", "Plain title", "  spaced \t out \n text  ", "the mass strike & its lessons",
	"&amp; &lt;b&gt; &copy; &copy=1 &notit; &#0; &#x80; &#xD800; &bogus",
	"caf\u00e9 \u00a0nbsp\u2003em space\u0085next line", "\ufeffBOM first", "a\u200bzero width",
	"<b>tagged</b>", "with \r return", "with \x00 nul", "invalid \xff utf-8", "1 > 0 but 0 < 1",
	"Read also: more", "À lire aussi", "  lee también  ",
}

func TestTagFreeTextIsPlainText(t *testing.T) {
	for _, s := range shortcutSeeds {
		checkTagFreeText(t, s)
	}
}

func FuzzTagFreeText(f *testing.F) {
	for _, s := range shortcutSeeds {
		f.Add(s)
	}
	f.Fuzz(checkTagFreeText)
}

func checkTagFreeText(t *testing.T, s string) {
	t.Helper()
	got, ok := tagFreeText(s)
	if !ok {
		return
	}
	if want := slowPlainText(s); got != want {
		t.Errorf("plainText(%q) = %q by the shortcut, %q the long way", s, got, want)
	}
	if want := strings.Join(strings.Fields(slowPlainText(s)), " "); got != want {
		t.Errorf("inlineText(%q) = %q by the shortcut, %q the long way", s, got, want)
	}
}

func TestFirstTextRuneIsTextPrefixs(t *testing.T) {
	for _, s := range readAlsoSeeds {
		checkFirstTextRune(t, s)
	}
}

var readAlsoSeeds = []string{
	"<p>Read also: <a href=x>more</a></p>",
	"<p> <script>s</script><b>À</b> lire aussi</p><ul><li>x</li></ul>",
	"<div><!-- c --><p>\u00a0 Lee también</p></div>",
	"<aside><img alt=Related><span>  </span>related</aside>",
	"<p>" + strings.Repeat("<i>", 300) + "deep" + "</p>",
	"<p>\u0130stanbul</p><p>\u212a</p>",
}

func FuzzFirstTextRune(f *testing.F) {
	for _, s := range readAlsoSeeds {
		f.Add(s)
	}
	f.Fuzz(checkFirstTextRune)
}

// checkFirstTextRune checks, for every element of s, that firstTextRune
// gives the first letter of textPrefix, the text isReadAlsoBlock compares.
func checkFirstTextRune(t *testing.T, s string) {
	t.Helper()
	nodes, err := html.ParseFragment(strings.NewReader(s), &html.Node{Type: html.ElementNode, Data: "body", DataAtom: atom.Body})
	if err != nil {
		return
	}
	var visit func(n *html.Node)
	visit = func(n *html.Node) {
		if n.Type == html.ElementNode {
			budget := textPrefixBudget
			r, ok := firstTextRune(n, &budget)
			prefix := strings.ToLower(textPrefix(n, 64))
			want, _ := utf8.DecodeRuneInString(prefix)
			switch {
			case ok != (prefix != ""):
				t.Errorf("in %q, <%s>: firstTextRune found a letter: %v; textPrefix = %q", s, n.Data, ok, prefix)
			case ok && unicode.ToLower(r) != want:
				t.Errorf("in %q, <%s>: firstTextRune = %q, textPrefix = %q", s, n.Data, r, prefix)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			visit(c)
		}
	}
	for _, n := range nodes {
		visit(n)
	}
}
