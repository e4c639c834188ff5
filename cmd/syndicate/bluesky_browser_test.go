package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/syndicate-daemon/syndicate/channels"
	"github.com/syndicate-daemon/syndicate/channels/bluesky/blueskytest"
)

// TestBlueskyInABrowser opens the seed article's page with a Bluesky
// channel in review: the post as Bluesky shows it (its facets as links,
// the shortened link opening the full URL, the card with its thumbnail),
// its length against 300 as Bluesky counts it, a live count of an
// editor's rewrite in graphemes (URLs in full, not as 23), and the
// approved rewrite posted with its facets.
func TestBlueskyInABrowser(t *testing.T) {
	b := newBrowser(t)
	pds := blueskytest.NewServer(t, blueskyHandle, blueskyPassword)
	s := newDashboardSite(t, siteOptions{backfill: 3}, func(yaml string) string {
		yaml = strings.Replace(yaml, "to: [mastodon-en, telegram-en, digest-en]", "to: [mastodon-en, telegram-en, digest-en, bluesky-en]", 1)
		return yaml + `  - id: bluesky-en
    type: bluesky
    handle: "` + blueskyHandle + `"
    app_password: "` + blueskyPassword + `"
    service: "` + pds.URL() + `"
    review: true
`
	})
	s.once()
	d := s.delivery("bluesky-en", seedTitle)
	if d.State != "review" || len(pds.Records()) != 0 {
		t.Fatalf("before review the delivery is %s, with %d records", d.State, len(pds.Records()))
	}
	s.start(t)
	shots := t.TempDir()

	b.open(s.base + "/login")
	b.do(chromedp.SendKeys(chromedp.ID("token"), adminToken))
	b.press(`form[action="/login"] button`)
	b.open(s.base + "/articles?q=" + strings.ReplaceAll("Protests in Kazakhstan", " ", "+"))
	b.press(`[data-article] .title`)
	section := fmt.Sprintf("#delivery-%d", d.ID)

	text := b.text(section + " .toot-text")
	if !strings.HasPrefix(text, seedTitle) {
		t.Fatalf("the Bluesky preview reads %q", text)
	}
	var links [][2]string // text shown, URL opened
	raw := b.eval(`JSON.stringify([...document.querySelectorAll(` + jsString(section+" .toot-text a") + `)].map(a => [a.textContent, a.href]))`)
	if err := json.Unmarshal([]byte(raw), &links); err != nil {
		t.Fatalf("links %s: %v", raw, err)
	}
	const article = "https://en.communia.blog/protests-in-kazakhstan-5-clues"
	wantLinks := map[string]string{"#Kazakhstan": "https://bsky.app/hashtag/Kazakhstan"}
	for _, l := range links {
		if l[1] == article && strings.HasPrefix(l[0], "en.communia.blog/protests-in-kaz") && strings.HasSuffix(l[0], "…") {
			wantLinks["link"] = article
		}
		if want, ok := wantLinks[l[0]]; ok && want != l[1] {
			t.Errorf("%s links to %s, want %s", l[0], l[1], want)
		}
	}
	if wantLinks["link"] == "" || !strings.Contains(text, "#Kazakhstan") {
		t.Errorf("the preview %q shows the links %v: no shortened link to the article, or no hashtag", text, links)
	}
	if got := b.text(section + " .card .card-title"); got != seedTitle {
		t.Errorf("the card's title is %q", got)
	}
	if b.attr(section+" .card .card-thumb", "src") == "" || b.attr(section+" .card", "href") != article {
		t.Errorf("the card: thumbnail %q, link %q", b.attr(section+" .card .card-thumb", "src"), b.attr(section+" .card", "href"))
	}
	// The count is Bluesky's: the graphemes of the text as shown, links
	// shortened, within 300.
	shown := b.eval(`String([...new Intl.Segmenter(undefined, {granularity: "grapheme"}).segment(document.querySelector(` + jsString(section+" .toot-text") + `).textContent)].length)`)
	length := b.attr(section+" .length", "data-length")
	if length != shown || b.attr(section+" .length", "data-limit") != "300" || !strings.HasPrefix(b.text(section+" .length"), shown+" of 300 characters") {
		t.Errorf("the length reads %q (data-length %s), the browser counts %s graphemes", b.text(section+" .length"), length, shown)
	}
	b.screenshot(shots, "bluesky-article-desktop", 1280)
	b.screenshot(shots, "bluesky-article-360", 360)

	// An editor's rewrite, counted live as Bluesky counts: every URL in full.
	long := "https://en.communia.blog/protests-in-kazakhstan-5-clues?utm_source=bluesky&utm_medium=social"
	rewrite := "Kazakhstan: the mass strike, in five clues. " + long + " #Kazakhstan"
	box := fmt.Sprintf("#text-%d", d.ID)
	b.do(chromedp.Clear(chromedp.CSS(box)), chromedp.SendKeys(chromedp.CSS(box), rewrite))
	if got, want := b.text(fmt.Sprintf("#count-%d", d.ID)), fmt.Sprintf("%d of 300 characters", channels.Graphemes(rewrite)); got != want {
		t.Errorf("the live count reads %q, want %q", got, want)
	}
	if got := b.unnamedControls(); len(got) > 0 {
		t.Errorf("article page: controls without a name: %v", got)
	}
	b.press(section + ` form.review button:not(.secondary)`)
	waitFor(t, func() bool { return len(pds.Records()) == 1 })
	post := pds.Records()[0].Post
	if post.Text != rewrite || len(post.Facets) != 2 || post.Facets[0].Features[0].URI != long ||
		rewrite[post.Facets[0].Index.ByteStart:post.Facets[0].Index.ByteEnd] != long || post.Facets[1].Features[0].Tag != "Kazakhstan" {
		t.Errorf("posted %+v", post)
	}
	waitFor(t, func() bool { return s.delivery("bluesky-en", seedTitle).State == "sent" })
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the console has errors:\n%s", strings.Join(errs, "\n"))
	}
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}
