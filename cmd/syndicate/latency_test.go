package main

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"
)

// BenchmarkPingToPost measures, end to end on loopback, the time from the
// site's ping to the post being accepted by the local Mastodon and Telegram
// servers, over 100 articles published one after another (1 s apart by
// default; SYNDICATE_BENCH_INTERVAL changes it). The channels' pacing is
// off, as a site publishing at this rate would set it. Run with
//
//	go test -run '^$' -bench PingToPost -benchtime 1x ./cmd/syndicate/
func BenchmarkPingToPost(b *testing.B) {
	interval := time.Second
	if v := os.Getenv("SYNDICATE_BENCH_INTERVAL"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("SYNDICATE_BENCH_INTERVAL: %v", err)
		}
		interval = d
	}
	const articles = 100
	for range b.N {
		s := newSite(b, siteOptions{})
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
	}
}

func percentile(ds []time.Duration, p int) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	i := (len(sorted)*p+99)/100 - 1
	return sorted[max(i, 0)]
}
