package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/store/sqlite"
)

// browser is headless Chromium driven through chromedp, with what its
// pages wrote to the console.
type browser struct {
	t   *testing.T
	ctx context.Context

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts Debian's chromium, headless, with a fresh profile;
// the test is skipped when it is not installed.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium): the dashboard's browser test needs it")
	}
	profile, err := os.MkdirTemp("", "syndicate-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Chromium's helpers may write into the profile for a moment after
		// it stops.
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // stops the browser it started
		cancel()
	})
	b := &browser{t: t, ctx: tabCtx}
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(tabCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// open navigates and returns where the browser ended (after redirects).
func (b *browser) open(url string) string {
	b.t.Helper()
	b.do(chromedp.Navigate(url))
	return b.location()
}

func (b *browser) location() string {
	b.t.Helper()
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return loc
}

// press clicks a control that submits a form, and waits for the page that
// answers.
func (b *browser) press(sel string) {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, chromedp.Click(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("press %s: %v", sel, err)
	}
	if resp != nil && resp.Status >= 400 {
		b.t.Fatalf("press %s: the answer is %d", sel, resp.Status)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) eval(js string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// attr is the attribute of the first element matching sel, "" when none
// does.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`(document.querySelector(%q) || {getAttribute: () => ""}).getAttribute(%q) || ""`, sel, name))
}

// screenshot writes the whole page at a width into the test's directory
// (and, when SYNDICATE_DASHBOARD_SCREENSHOTS names a directory, there too).
func (b *browser) screenshot(dir, name string, width int64) string {
	b.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	height := int64(900)
	if width <= 480 {
		opts, height = append(opts, chromedp.EmulatePortrait, chromedp.EmulateMobile), 780
	}
	b.do(chromedp.EmulateViewport(width, height, opts...), chromedp.Reload())
	if overflow := b.eval(`String(document.documentElement.scrollWidth - window.innerWidth)`); overflow != "0" && !strings.HasPrefix(overflow, "-") {
		b.t.Errorf("%s at %d px: the page is %s px wider than the screen", name, width, overflow)
	}
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if out := os.Getenv("SYNDICATE_DASHBOARD_SCREENSHOTS"); out != "" {
		if err := os.WriteFile(filepath.Join(out, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do(chromedp.EmulateViewport(1280, 900), chromedp.Reload())
	return path
}

// unnamedControls lists the controls of the page (buttons, links, text
// boxes, lists, check boxes) that have no accessible name, as the
// browser's accessibility tree computes it.
func (b *browser) unnamedControls() []string {
	b.t.Helper()
	tree, err := chromedp.Call(b.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		b.t.Fatal(err)
	}
	controls := map[string]bool{"button": true, "link": true, "textbox": true, "searchbox": true, "combobox": true, "checkbox": true, "listbox": true, "radio": true}
	var out []string
	for _, n := range tree.Nodes {
		if n.Ignored || n.Role == nil {
			continue
		}
		role := strings.Trim(string(n.Role.Value), `"`)
		if !controls[role] {
			continue
		}
		name := ""
		if n.Name != nil {
			name = strings.TrimSpace(strings.Trim(string(n.Name.Value), `"`))
		}
		if name == "" {
			out = append(out, fmt.Sprintf("a %s (node %s)", role, n.NodeID))
		}
	}
	return out
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleWarning {
			out = append(out, m.String()+" at "+m.URL)
		}
	}
	return out
}

// utf16Length counts as the dashboard's script counts a Telegram text: the
// text once the tags are gone and the entities read, in UTF-16 units.
func utf16Length(html string) int {
	plain := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(html, "")
	plain = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&amp;", "&").Replace(plain)
	return len(utf16.Encode([]rune(plain)))
}

// TestDashboardInABrowser follows an editor through the dashboard in
// headless Chromium: sign in, the seed article and its three previews, a
// Mastodon failure retried, a Telegram text rewritten in review and
// approved, a channel paused, and signing out.
func TestDashboardInABrowser(t *testing.T) {
	b := newBrowser(t)
	s := newDashboardSite(t, siteOptions{backfill: 3}, func(yaml string) string {
		return strings.Replace(yaml, "    type: telegram\n", "    type: telegram\n    review: true\n", 1)
	})
	s.mastodon.FailNext(1, http.StatusUnprocessableEntity, nil, `{"error":"Validation failed: Text character limit of 500 exceeded"}`)
	s.once() // exits 1: the seed article's Mastodon post failed
	if r := s.run("subscribers", "add", "--config", s.config, "--list", "en", "--confirmed", "ana@example.org", "bo@example.net"); r.code != 0 {
		t.Fatalf("subscribers add: %s", r.stderr)
	}
	digest := interruptDigest(t, filepath.Join(s.dir, "syndicate.db"))
	s.start(t)
	shots := t.TempDir()

	// Sign in.
	if loc := b.open(s.base + "/articles"); !strings.HasPrefix(loc, s.base+"/login") {
		t.Fatalf("without a session the browser is at %s, want the sign-in form", loc)
	}
	if got := b.unnamedControls(); len(got) > 0 {
		t.Errorf("sign-in form: controls without a name: %v", got)
	}
	b.do(chromedp.SendKeys(chromedp.ID("token"), adminToken))
	b.press(`form[action="/login"] button`)
	if loc := b.location(); loc != s.base+"/articles" {
		t.Fatalf("after signing in the browser is at %s", loc)
	}

	// The overview, at desktop and phone widths.
	b.open(s.base + "/")
	if got := b.text("h1"); got != "Overview" {
		t.Fatalf("overview heading %q", got)
	}
	if got := b.unnamedControls(); len(got) > 0 {
		t.Errorf("overview: controls without a name: %v", got)
	}
	b.screenshot(shots, "overview-desktop", 1280)
	b.screenshot(shots, "overview-360", 360)

	// Find the seed article, and the failure of its Mastodon post.
	b.open(s.base + "/articles?q=" + strings.ReplaceAll("Protests in Kazakhstan", " ", "+"))
	row := `[data-article]`
	if got := b.text(row + " .title"); got != seedTitle {
		t.Fatalf("the article list shows %q, want the seed article", got)
	}
	articleID := b.attr(row, "data-article")
	failed := s.delivery("mastodon-en", seedTitle)
	badge := fmt.Sprintf(`[data-delivery="%d"]`, failed.ID)
	if state, title := b.attr(badge, "data-state"), b.attr(badge, "title"); state != "failed" || !strings.Contains(title, "Validation failed: Text character limit of 500 exceeded") {
		t.Fatalf("the Mastodon badge: state %q, title %q", state, title)
	}

	// Its page, with the three previews.
	b.press(row + " .title")
	if loc := b.location(); loc != s.base+"/articles/"+articleID {
		t.Fatalf("the article page is at %s", loc)
	}
	mastodonSection := fmt.Sprintf("#delivery-%d", failed.ID)
	tg := s.delivery("telegram-en", seedTitle)
	telegramSection := fmt.Sprintf("#delivery-%d", tg.ID)
	digestSection := fmt.Sprintf("#delivery-%d", s.delivery("digest-en", seedTitle).ID)
	if got := b.text(mastodonSection + " .toot-text"); !strings.HasPrefix(got, seedTitle) || !strings.Contains(got, "#Kazakhstan") {
		t.Errorf("the Mastodon preview reads %q", got)
	}
	if got := b.attr(mastodonSection+" .toot-media", "alt"); !strings.HasPrefix(got, "Oil workers on wildcat strike") {
		t.Errorf("the Mastodon image's alt text is %q", got)
	}
	if got := b.text(telegramSection + " .tg-text strong"); got != seedTitle {
		t.Errorf("the Telegram preview's bold title is %q", got)
	}
	if got := b.text(telegramSection + " .tg-button"); got != "Read the article" {
		t.Errorf("the Telegram button reads %q", got)
	}
	if b.attr(telegramSection+" .tg-photo", "src") == "" {
		t.Error("the Telegram preview has no photo")
	}
	if got := b.text(digestSection + " .entry-text"); !strings.Contains(got, seedTitle) {
		t.Errorf("the digest entry reads %q", got)
	}
	if got := b.unnamedControls(); len(got) > 0 {
		t.Errorf("article page: controls without a name: %v", got)
	}
	b.screenshot(shots, "article-desktop", 1280)
	b.screenshot(shots, "article-360", 360)

	// The Mastodon server has recovered: Retry, and the badge becomes sent.
	posted := len(s.mastodon.Statuses())
	b.press(fmt.Sprintf(`form[action="/deliveries/%d/retry"] button`, failed.ID))
	waitFor(t, func() bool {
		b.open(s.base + "/articles/" + articleID)
		return b.attr(mastodonSection+" .badge", "data-state") == "sent"
	})
	if n := len(s.mastodon.Statuses()); n != posted+1 {
		t.Fatalf("%d statuses after the retry, want %d", n, posted+1)
	}

	// Review: rewrite the Telegram text, with its live count, and approve.
	rewrite := "<b>Kazakhstan: the mass strike</b>\nRewritten in review, & approved.\n\nhttps://en.communia.blog/protests-in-kazakhstan-5-clues"
	rewrite = strings.ReplaceAll(rewrite, "&", "&amp;")
	box := fmt.Sprintf("#text-%d", tg.ID)
	b.do(chromedp.Clear(chromedp.CSS(box)), chromedp.SendKeys(chromedp.CSS(box), rewrite))
	if got, want := b.text(fmt.Sprintf("#count-%d", tg.ID)), fmt.Sprintf("%d of ", utf16Length(rewrite)); !strings.HasPrefix(got, want) {
		t.Errorf("the live count reads %q, want %q…", got, want)
	}
	if n := len(s.telegram.Messages()); n != 0 {
		t.Fatalf("Telegram received %d messages before the approval", n)
	}
	b.press(telegramSection + ` form.review button:not(.secondary)`)
	waitFor(t, func() bool { return len(s.telegram.Messages()) == 1 })
	if got := s.telegram.Messages()[0].Text; got != rewrite {
		t.Fatalf("Telegram received\n%q\nwant exactly the rewritten text\n%q", got, rewrite)
	}

	// The digest a crash interrupted: its page, from the overview, and
	// Resend of its uncertain messages.
	waitFor(t, func() bool { return len(s.digestMessages(digest, "uncertain")) == 2 }) // settled by the daemon's first pass
	b.open(s.base + "/")
	b.press(fmt.Sprintf(`[data-digest="%d"] a`, digest))
	if loc := b.location(); loc != fmt.Sprintf("%s/digests/%d", s.base, digest) {
		t.Fatalf("the digest's link leads to %s", loc)
	}
	if got := b.attr(`tr[data-message="ana@example.org"]`, "data-state"); got != "uncertain" {
		t.Fatalf("the digest page shows ana's message %q", got)
	}
	if got := b.unnamedControls(); len(got) > 0 {
		t.Errorf("digest page: controls without a name: %v", got)
	}
	b.screenshot(shots, "digest-desktop", 1280)
	b.screenshot(shots, "digest-360", 360)
	b.press(`#decide button:not(.secondary)`)
	if got := b.text(".notice"); !strings.Contains(got, "Resend: 2 messages") || !strings.Contains(got, "may then arrive twice") {
		t.Errorf("the notice after Resend reads %q", got)
	}
	if left := s.digestMessages(digest, "uncertain"); len(left) != 0 {
		t.Errorf("after Resend %d messages are still uncertain", len(left))
	}

	// Pause Mastodon: a new article does not reach it.
	b.open(s.base + "/")
	b.press(`button[aria-label="Pause mastodon-en"]`)
	if got := b.text(`[data-channel="mastodon-en"] .paused-note`); !strings.HasPrefix(got, "Paused") {
		t.Fatalf("the overview says %q of the paused channel", got)
	}
	if color := b.eval(`getComputedStyle(document.querySelector('[data-channel="mastodon-en"] .paused-note')).color`); color != "rgb(179, 38, 30)" {
		t.Errorf("the paused note is %s, not red", color)
	}
	posted = len(s.mastodon.Statuses())
	s.feeds.publish("mass-strike", "The mass strike and its lessons", "Mon, 23 Nov 2026 10:00:00 +0100", "Mass strike")
	ping, _ := http.NewRequest("POST", s.base+"/hooks/ping?feed=emancipation-en", nil)
	ping.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(ping)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor(t, func() bool {
		for _, d := range s.status().Deliveries {
			if d.Title == "The mass strike and its lessons" && d.Channel == "telegram-en" {
				return true
			}
		}
		return false
	})
	time.Sleep(500 * time.Millisecond)
	if n := len(s.mastodon.Statuses()); n != posted {
		t.Fatalf("the paused Mastodon channel received %d posts", n-posted)
	}
	if d := s.delivery("mastodon-en", "The mass strike and its lessons"); d.State != "pending" {
		t.Fatalf("the paused channel's delivery is %s, want pending", d.State)
	}

	// Sign out, and be refused.
	b.press(`form[action="/logout"] button`)
	if loc := b.location(); !strings.HasPrefix(loc, s.base+"/login") {
		t.Fatalf("after signing out the browser is at %s", loc)
	}
	if loc := b.open(s.base + "/articles/" + articleID); !strings.HasPrefix(loc, s.base+"/login") {
		t.Fatalf("after signing out the article page is still served (at %s)", loc)
	}

	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the console has errors:\n%s", strings.Join(errs, "\n"))
	}
	for _, name := range []string{"overview-desktop", "overview-360", "article-desktop", "article-360", "digest-desktop", "digest-360"} {
		if st, err := os.Stat(filepath.Join(shots, name+".png")); err != nil || st.Size() < 10_000 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
}

// interruptDigest makes a digest of digest-en's pending articles, as the
// daemon does, whose messages to every confirmed subscriber of its list
// were being sent by a process that then died; it returns the digest.
func interruptDigest(t *testing.T, path string) int64 {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pending, err := st.ListDeliveries(ctx, syndicate.DeliveryFilter{ChannelID: "digest-en", States: []syndicate.State{syndicate.StatePending}})
	if err != nil || len(pending) == 0 {
		t.Fatalf("pending digest deliveries: %d, %v", len(pending), err)
	}
	var articles []int64
	for _, p := range pending {
		articles = append(articles, p.ArticleID)
	}
	d, _, err := st.CreateDigest(ctx, syndicate.Digest{ChannelID: "digest-en", Period: "interrupted", Articles: articles})
	if err != nil {
		t.Fatal(err)
	}
	subs, err := st.Unsent(ctx, d.ID, "en", 0, 0)
	if err != nil || len(subs) == 0 {
		t.Fatalf("recipients: %d, %v", len(subs), err)
	}
	var ids []int64
	for _, sub := range subs {
		ids = append(ids, sub.ID)
	}
	dead := deadOwner(t)
	if _, err := st.ClaimRecipients(ctx, d.ID, ids, dead, time.Now()); err != nil {
		t.Fatal(err)
	}
	if begun, err := st.BeginRecipients(ctx, d.ID, dead, nil, ids); err != nil || len(begun) != len(ids) {
		t.Fatalf("BeginRecipients: %v, %v", begun, err)
	}
	return d.ID
}

// digestMessages are the digest's messages in the state, as `status
// --digest N --recipients STATE --json` lists them.
func (s *site) digestMessages(digest int64, state string) []messageJSON {
	s.t.Helper()
	r := s.run("status", "--config", s.config, "--json", "--digest", strconv.FormatInt(digest, 10), "--recipients", state)
	if r.code != 0 {
		s.t.Fatalf("status --digest %d: exit %d\n%s", digest, r.code, r.stderr)
	}
	var doc struct {
		Messages []messageJSON `json:"messages"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		s.t.Fatal(err)
	}
	return doc.Messages
}
