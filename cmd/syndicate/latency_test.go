package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkPingToPost measures, end to end on loopback, the time from the
// site's ping to the post being accepted by the local Mastodon and Telegram
// servers, with the channels' default pacing, as a user gets it. Articles
// are published one after another, each once the previous one has reached
// both servers and the interval has passed since its ping; p50 and p99 are
// over all of them.
//
// The default interval, 3.5 s, keeps the pings under Telegram's default
// pacing (at most 20 posts in any minute, one a second at most): pinged
// faster, a run of 100 articles would measure the pacing's queue, which
// holds the 21st post of a minute until the first is a minute old, and not
// the time a post takes. Mastodon's default budgets (300 requests in 5
// minutes, 300 statuses in 3 hours) are not reached by 100 articles.
//
//	SYNDICATE_BENCH_ARTICLES  how many articles (default 100)
//	SYNDICATE_BENCH_INTERVAL  time from one ping to the next (default 3.5s)
//	SYNDICATE_BENCH_PACING    "off" lifts the channels' pacing
//
// Run with (about six minutes)
//
//	go test -run '^$' -bench PingToPost -benchtime 1x -timeout 30m ./cmd/syndicate/
func BenchmarkPingToPost(b *testing.B) {
	interval := 3500 * time.Millisecond
	if v := os.Getenv("SYNDICATE_BENCH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SYNDICATE_BENCH_INTERVAL: %v", err)
		}
		interval = d
	}
	articles := 100
	if v := os.Getenv("SYNDICATE_BENCH_ARTICLES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("SYNDICATE_BENCH_ARTICLES %q: want a positive number", v)
		}
		articles = n
	}
	var pacingOff bool
	switch v := os.Getenv("SYNDICATE_BENCH_PACING"); v {
	case "", "default":
	case "off":
		pacingOff = true
	default:
		b.Fatalf("SYNDICATE_BENCH_PACING %q: want default or off", v)
	}
	for range b.N {
		s := newSite(b, siteOptions{})
		if !pacingOff {
			defaultPacing(b, s)
		}
		d := s.startDaemon()
		waitFor(b, func() bool { return s.feeds.count(s.feeds.requests, "en.rss.xml") >= 1 })
		var mastodon, telegram, both []time.Duration
		for i := range articles {
			s.feeds.publish(fmt.Sprintf("bench-%d", i), fmt.Sprintf("Bench %d", i), time.Now().UTC().Format(http.TimeFormat))
			start := time.Now()
			if code := d.ping("feed=emancipation-en", adminToken); code != http.StatusAccepted {
				b.Fatalf("ping: %d", code)
			}
			var m, tg time.Duration
			for m == 0 || tg == 0 {
				if m == 0 && len(s.mastodon.Statuses()) == i+1 {
					m = time.Since(start)
				}
				if tg == 0 && len(s.telegram.Messages()) == i+1 {
					tg = time.Since(start)
				}
				if time.Since(start) > 30*time.Second {
					b.Fatalf("article %d not delivered in 30 s", i)
				}
				time.Sleep(200 * time.Microsecond)
			}
			mastodon, telegram, both = append(mastodon, m), append(telegram, tg), append(both, max(m, tg))
			time.Sleep(max(interval-time.Since(start), 0))
		}
		d.stop()
		for _, r := range []struct {
			name string
			ds   []time.Duration
		}{{"mastodon", mastodon}, {"telegram", telegram}, {"both", both}} {
			b.ReportMetric(percentile(r.ds, 50).Seconds()*1000, r.name+"-p50-ms")
			b.ReportMetric(percentile(r.ds, 99).Seconds()*1000, r.name+"-p99-ms")
		}
		b.ReportMetric(float64(len(both)), "articles")
	}
}

// defaultPacing takes out of the site's configuration the settings that
// lift the channels' pacing, so that they pace with their defaults.
func defaultPacing(b *testing.B, s *site) {
	b.Helper()
	raw, err := os.ReadFile(s.config)
	if err != nil {
		b.Fatal(err)
	}
	cfg := string(raw)
	for _, lifted := range []string{
		"    rate_limits: { requests_per_5m: 0, media_per_30m: 0, statuses_per_3h: 0 }\n",
		"    pacing: { per_minute: 0, min_interval: 0s }\n",
	} {
		if !strings.Contains(cfg, lifted) {
			b.Fatalf("the site's configuration no longer holds %q: the benchmark would not measure the default pacing", strings.TrimSpace(lifted))
		}
		cfg = strings.Replace(cfg, lifted, "", 1)
	}
	s.writeFile(filepath.Base(s.config), cfg)
}

func percentile(ds []time.Duration, p int) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)]
}
