package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syndicate-daemon/syndicate/channels/email/mailpittest"
	"github.com/syndicate-daemon/syndicate/channels/mastodon/mastodontest"
	"github.com/syndicate-daemon/syndicate/channels/telegram/telegramtest"
	"github.com/syndicate-daemon/syndicate/syndicate/store/postgres/pgtest"
)

// growingFeeds serves n RSS feeds, /f/N.xml, each with the items
// published so far.
type growingFeeds struct {
	*httptest.Server
	mu    sync.Mutex
	items []int // feed → items published
	hits  []int // feed → requests
}

func newGrowingFeeds(t *testing.T, n int) *growingFeeds {
	g := &growingFeeds{items: make([]int, n), hits: make([]int, n)}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		feed, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/f/"), ".xml"))
		if err != nil || feed < 0 || feed >= n {
			http.NotFound(w, r)
			return
		}
		g.mu.Lock()
		g.hits[feed]++
		items := g.items[feed]
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml")
		var b strings.Builder
		fmt.Fprintf(&b, `<?xml version="1.0"?><rss version="2.0"><channel><title>Feed %d</title><link>https://news.example/f%d/</link>`, feed, feed)
		for i := items - 1; i >= 0; i-- {
			fmt.Fprintf(&b, `<item><title>Feed %d, article %d</title><link>%s</link><guid>%[3]s</guid>`+
				`<pubDate>%s</pubDate><description>Article %[2]d of feed %[1]d.</description></item>`,
				feed, i, articleLink(feed, i), time.Date(2026, 12, 1, 0, 0, i, 0, time.UTC).Add(time.Duration(feed)*time.Minute).Format(time.RFC1123Z))
		}
		b.WriteString(`</channel></rss>`)
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(g.Close)
	return g
}

func articleLink(feed, i int) string { return fmt.Sprintf("https://news.example/f%d/a%d", feed, i) }

func (g *growingFeeds) publish(feed, n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.items[feed] += n
}

func (g *growingFeeds) allPolled() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, h := range g.hits {
		if h == 0 {
			return false
		}
	}
	return true
}

// replicaCampaign is the size of TestReplicasShareTheWork: the issue's
// full size when SYNDICATE_CAMPAIGN=full (CI sets it), else a smaller one.
func replicaCampaign() (feeds, articles, subscribers int) {
	if os.Getenv("SYNDICATE_CAMPAIGN") == "full" {
		return 50, 20, 10_000
	}
	return 20, 10, 2_000
}

// TestReplicasShareTheWork runs three daemons against one PostgreSQL.
// Feeds gain articles for Mastodon and Telegram, and a digest goes to
// every subscriber; half-way through both, the replica that holds the
// Mastodon queue is SIGKILLed. Then every article is posted exactly once
// per channel or is uncertain, every subscriber has the digest exactly
// once (or is uncertain: at most one per SMTP connection of the killed
// replica), and nothing is left claimed.
func TestReplicasShareTheWork(t *testing.T) {
	t.Parallel()
	nFeeds, nArticles, nSubscribers := replicaCampaign()
	bin := syndicateBinary(t)
	ctx := context.Background()
	cluster, err := pgtest.Start(ctx)
	if errors.Is(err, pgtest.ErrNotInstalled) {
		t.Skipf("PostgreSQL is not installed: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := cluster.Stop(); err != nil {
			t.Error(err)
		}
	})
	dbURL, err := cluster.CreateDatabase(ctx, "replicas")
	if err != nil {
		t.Fatal(err)
	}
	mail := mailpittest.Start(t)
	mastodon := mastodontest.NewServer(t, mastodonToken)
	// Mastodon's own limits (300 statuses in 3 hours) would stretch the
	// campaign's 1,000 posts over hours: this server's admin raised them.
	mastodon.SetRateLimits(mastodontest.RateLimits{Requests: 100_000, Media: 100_000, Statuses: 100_000})
	telegram := telegramtest.NewServer(t, telegramToken)
	telegram.AddChat(telegramChat)
	feeds := newGrowingFeeds(t, nFeeds)
	dir := t.TempDir()

	var cfg strings.Builder
	fmt.Fprintf(&cfg, `store: %q
listen: "127.0.0.1:0"
public_url: "http://127.0.0.1:8080"
secret: %q
feeds:
`, dbURL, digestSecret)
	for f := range nFeeds {
		to := "[mastodon, telegram]"
		if f == 0 {
			to = "[mastodon, telegram, digest]"
		}
		fmt.Fprintf(&cfg, "  - { id: f%d, url: \"%s/f/%d.xml\", language: en, schedule: \"@every 1s\", flood_limit: 100, to: %s }\n",
			f, feeds.URL, f, to)
	}
	fmt.Fprintf(&cfg, `channels:
  - id: mastodon
    type: mastodon
    server: %q
    access_token: "${MASTODON_TOKEN}"
    rate_limits: { requests_per_5m: 0, media_per_30m: 0, statuses_per_3h: 0 }
  - id: telegram
    type: telegram
    api_url: %q
    bot_token_file: %q
    chat: %q
    pacing: { per_minute: 0, min_interval: 0s }
  - id: digest
    type: email
    list: en
    schedule: "@every 1s"
    from: "News <news@example.org>"
    subject: "News: {{.Title}}"
    smtp: { host: 127.0.0.1, port: %d, tls: none }
`, mastodon.URL(), telegram.URL(), writeTemp(t, dir, "telegram.token", telegramToken+"\n"), telegramChat, mail.SMTPPort)
	config := writeTemp(t, dir, "syndicate.yaml", cfg.String())

	var csv strings.Builder
	csv.WriteString("email\n")
	for i := range nSubscribers {
		fmt.Fprintf(&csv, "reader%05d@example.net\n", i)
	}
	if r := runCommand(t, []string{"subscribers", "import", "--config", config, "--list", "en", "--confirmed",
		writeTemp(t, dir, "subscribers.csv", csv.String())}, siteEnv); r.code != 0 {
		t.Fatalf("subscribers import exited %d:\n%s", r.code, r.stderr)
	}

	replicas := make([]*replica, 3)
	for i := range replicas {
		replicas[i] = startReplica(t, bin, config, filepath.Join(dir, fmt.Sprintf("replica-%d.log", i)))
	}
	waitUntil(t, 60*time.Second, "every feed polled once (first sight: nothing posted)", feeds.allPolled)

	// The feeds gain their articles a few at a time; the digest's feed
	// all at once, so one digest holds them.
	feeds.publish(0, nArticles)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range nArticles {
			for f := 1; f < nFeeds; f++ {
				feeds.publish(f, 1)
			}
			// Over a minute: the digest (made at the daemons' digest
			// check, every 30 s) goes out while posts still do.
			time.Sleep(time.Minute / time.Duration(nArticles))
		}
	}()

	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(ctx)
	waitUntil(t, 120*time.Second, "a third of the digest mailed", func() bool { return mail.Count() >= nSubscribers/3 })
	var holder string
	if err := db.QueryRow(ctx, `SELECT owner FROM leases WHERE name = 'channel:mastodon'`).Scan(&holder); err != nil {
		t.Fatalf("the Mastodon queue's lease: %v", err)
	}
	var victim *replica
	for _, r := range replicas {
		if strings.Contains(holder, fmt.Sprintf("/%d/", r.pid())) {
			victim = r
		}
	}
	if victim == nil {
		t.Fatalf("no replica holds the Mastodon queue (holder %q)", holder)
	}
	postsAtKill, mailAtKill := len(mastodon.Statuses()), mail.Count()
	victim.kill(t)
	t.Logf("killed the replica holding the Mastodon queue at %d of %d posts and %d of %d messages",
		postsAtKill, (nFeeds-1)*nArticles+nArticles, mailAtKill, nSubscribers)
	if postsAtKill >= nFeeds*nArticles {
		t.Errorf("every post was out before the kill: the campaign did not test a kill mid-posts")
	}
	<-done

	total := nFeeds * nArticles
	settled := func() bool {
		var open, inFlight, unsettled int
		_ = db.QueryRow(ctx, `SELECT COUNT(*) FROM digests WHERE finished_at IS NULL OR finished_at < '1900-01-01'`).Scan(&open)
		_ = db.QueryRow(ctx, `SELECT COUNT(*) FROM digest_recipients WHERE state IN ('claimed', 'sending')`).Scan(&inFlight)
		_ = db.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE channel_id <> 'digest' AND state NOT IN ('sent', 'uncertain')`).Scan(&unsettled)
		var planned int
		_ = db.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE channel_id <> 'digest'`).Scan(&planned)
		return open == 0 && inFlight == 0 && unsettled == 0 && planned == 2*total
	}
	waitUntil(t, 180*time.Second, "every article posted or uncertain, the digest finished", settled)
	for _, r := range replicas {
		if r != victim {
			r.stop(t)
		}
	}

	// Posts: each article once per channel, or uncertain.
	uncertain := map[string]map[string]bool{"mastodon": {}, "telegram": {}}
	rows, err := db.Query(ctx, `SELECT d.channel_id, a.link FROM deliveries d JOIN articles a ON a.id = d.article_id
		WHERE d.state = 'uncertain'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var ch, link string
		if err := rows.Scan(&ch, &link); err != nil {
			t.Fatal(err)
		}
		uncertain[ch][link] = true
	}
	rows.Close()
	posted := map[string]map[string]int{"mastodon": {}, "telegram": {}}
	for _, s := range mastodon.Statuses() {
		posted["mastodon"][linkIn(s.Text)]++
	}
	for _, m := range telegram.Messages() {
		posted["telegram"][linkIn(m.Plain)]++
	}
	for _, ch := range []string{"mastodon", "telegram"} {
		for f := range nFeeds {
			for i := range nArticles {
				link := articleLink(f, i)
				switch n := posted[ch][link]; {
				case n > 1:
					t.Errorf("%s: %s posted %d times", ch, link, n)
				case n == 0 && !uncertain[ch][link]:
					t.Errorf("%s: %s never posted, and not uncertain", ch, link)
				}
			}
		}
		t.Logf("%s: %d posts, %d uncertain (for an editor)", ch, len(posted[ch]), len(uncertain[ch]))
	}

	// The digest: each subscriber once, or uncertain.
	var uncertainMail int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM digest_recipients WHERE state = 'uncertain'`).Scan(&uncertainMail); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range mail.Messages() {
		for _, to := range m.To {
			got[to.Address]++
		}
	}
	var never, twice int
	for i := range nSubscribers {
		switch got[fmt.Sprintf("reader%05d@example.net", i)] {
		case 0:
			never++
		case 1:
		default:
			twice++
		}
	}
	t.Logf("digest: %d subscribers, %d messages, %d never, %d twice, %d uncertain", nSubscribers, len(got), never, twice, uncertainMail)
	if twice != 0 {
		t.Errorf("%d subscribers got the digest twice", twice)
	}
	if never > uncertainMail {
		t.Errorf("%d subscribers never got the digest, but only %d are uncertain", never, uncertainMail)
	}
	const connections = 4 // the default per replica
	if uncertainMail > connections {
		t.Errorf("%d messages uncertain after one kill, want at most %d (one per connection)", uncertainMail, connections)
	}
	var leftClaimed int
	if err := db.QueryRow(ctx, `SELECT COUNT(*) FROM deliveries WHERE state = 'sending'`).Scan(&leftClaimed); err != nil || leftClaimed != 0 {
		t.Errorf("%d deliveries left sending (%v)", leftClaimed, err)
	}
}

// TestCheckOnlineReachesPostgres: check --online connects to the
// PostgreSQL store, says what schema it found, changes nothing (nor does a
// dry run), and fails naming the store when the server is gone.
func TestCheckOnlineReachesPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cluster, err := pgtest.Start(ctx)
	if errors.Is(err, pgtest.ErrNotInstalled) {
		t.Skipf("PostgreSQL is not installed: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = cluster.Stop()
		}
	})
	dbURL, err := cluster.CreateDatabase(ctx, "check")
	if err != nil {
		t.Fatal(err)
	}
	s := newSite(t, siteOptions{})
	raw, err := os.ReadFile(s.config)
	if err != nil {
		t.Fatal(err)
	}
	cfg := regexp.MustCompile(`(?m)^store: .*$`).ReplaceAllString(string(raw), fmt.Sprintf("store: %q", dbURL))
	s.writeFile("syndicate.yaml", cfg)

	r := s.run("check", "--online", "--config", s.config)
	if r.code != 0 || !strings.Contains(r.stdout, "store: ok, PostgreSQL ") || !strings.Contains(r.stdout, "schema version 0 (not migrated yet") {
		t.Fatalf("check --online exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// A dry run changes nothing either: it rehearses on a throwaway store.
	if r := s.run("once", "--dry-run", "--config", s.config); r.code != 0 {
		t.Fatalf("once --dry-run exited %d:\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	var tables int
	err = db.QueryRow(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables)
	db.Close(ctx)
	if err != nil || tables != 0 {
		t.Errorf("check made %d tables (%v); it must change nothing", tables, err)
	}

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	stopped = true
	r = s.run("check", "--online", "--config", s.config)
	if r.code != 1 || !strings.Contains(r.stdout, "store: FAIL: connect to postgres store") {
		t.Fatalf("check --online with the server gone exited %d:\n%s", r.code, r.stdout)
	}
}

// linkIn returns the first article link in a post's text.
func linkIn(text string) string {
	i := strings.Index(text, "https://news.example/f")
	if i < 0 {
		return ""
	}
	end := i
	for end < len(text) && !strings.ContainsRune(" \n\t\"<)", rune(text[end])) {
		end++
	}
	return text[i:end]
}

func writeTemp(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func waitUntil(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// replica is a `syndicate run` process.
type replica struct {
	cmd    *exec.Cmd
	log    string
	exited chan struct{}
}

func startReplica(t *testing.T, bin, config, logPath string) *replica {
	t.Helper()
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--config", config)
	cmd.Env = append(os.Environ(), "MASTODON_TOKEN="+mastodonToken, "ADMIN_TOKEN="+adminToken)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := &replica{cmd: cmd, log: logPath, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(r.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(r.pid(), syscall.SIGKILL)
		<-r.exited
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s:\n%s", filepath.Base(logPath), tail(string(b), 4000))
		}
	})
	return r
}

func (r *replica) pid() int { return r.cmd.Process.Pid }

func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(r.pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.exited
}

func (r *replica) stop(t *testing.T) {
	t.Helper()
	_ = syscall.Kill(r.pid(), syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		t.Errorf("replica %d did not stop within 30 s of SIGTERM", r.pid())
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
