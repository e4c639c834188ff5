package main

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// BenchmarkDecisionWakeUp measures how soon a decision made by another
// process reaches the running daemon: from `retry` returning to the post
// accepted by the local Mastodon server, with the default settings. Run
// with
//
//	go test -run '^$' -bench DecisionWakeUp -benchtime 10x ./cmd/syndicate/
func BenchmarkDecisionWakeUp(b *testing.B) {
	s := newSite(b, siteOptions{})
	s.mustOnce()
	d := s.startDaemon()
	defer d.stop()
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		title := "Wake " + strconv.Itoa(i)
		s.mastodon.FailNext(1, http.StatusForbidden, nil, `{"error":"This action is not allowed"}`)
		s.feeds.publish("wake-"+strconv.Itoa(i), title, time.Now().UTC().Format(http.TimeFormat))
		if code := d.ping("feed=emancipation-en", adminToken); code != http.StatusAccepted {
			b.Fatalf("ping: %d", code)
		}
		waitFor(b, func() bool { return s.stateOf("mastodon-en", title) == "failed" })
		id := s.delivery("mastodon-en", title).ID
		if r := s.run("retry", "--config", s.config, strconv.FormatInt(id, 10)); r.code != 0 {
			b.Fatalf("retry: %d %s", r.code, r.stderr)
		}
		start := time.Now()
		for len(s.mastodon.Statuses()) != i+1 {
			if time.Since(start) > 30*time.Second {
				b.Fatal("the retry did not reach the server in 30 s")
			}
			time.Sleep(time.Millisecond)
		}
		took = append(took, time.Since(start))
	}
	b.ReportMetric(float64(percentile(took, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(took, 99).Microseconds())/1000, "p99-ms")
}
