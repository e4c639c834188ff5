package sqlite

import (
	"fmt"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// BenchmarkDigestBatch is the store's part of mailing a digest, a batch
// of 100 recipients at a time as the digest run does: list the unsent,
// claim them, begin each message and record how it ended. Its µs/recipient is the processor time
// (this process's, so steadier than the wall clock on a busy machine)
// the store spends on each message.
func BenchmarkDigestBatch(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	const subscribers, batch = 20_000, 100
	for i := range subscribers {
		if _, _, err := s.AddSubscriber(ctx, syndicate.Subscriber{List: "en",
			Email: fmt.Sprintf("reader%06d@example.net", i), State: syndicate.SubscriberConfirmed}); err != nil {
			b.Fatal(err)
		}
	}
	checkpoint(b, s)
	digests := 0
	newDigest := func() syndicate.Digest {
		digests++
		now := time.Now()
		rec := syndicate.PollRecord{State: syndicate.FeedState{FeedID: "feed", LastPollAt: now, LastOKAt: now}}
		for i := range 10 {
			key := fmt.Sprintf("https://example.org/%d/%d", digests, i)
			rec.Articles = append(rec.Articles, syndicate.Article{FeedID: "feed", Key: key, Link: key,
				Title: "A title", Language: "en", Published: now, Hash: key})
			rec.Deliveries = append(rec.Deliveries, syndicate.NewDelivery{ArticleKey: key, ChannelID: "digest-en",
				State: syndicate.StatePending, SortTime: now})
		}
		if err := s.RecordPoll(ctx, rec); err != nil {
			b.Fatal(err)
		}
		due, err := s.DueDeliveries(ctx, "digest-en", time.Now().Add(time.Hour), 10)
		if err != nil || len(due) == 0 {
			b.Fatalf("DueDeliveries = %d, %v", len(due), err)
		}
		d := syndicate.Digest{ChannelID: "digest-en", Period: fmt.Sprint(digests)}
		for _, dl := range due {
			d.Articles = append(d.Articles, dl.ArticleID)
		}
		d, _, err = s.CreateDigest(ctx, d)
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	d := newDigest()
	var after int64
	n := 0
	var unsent, claim, record time.Duration
	for b.Loop() {
		t0 := cpuTime()
		subs, err := s.Unsent(ctx, d.ID, "en", after, batch)
		if err != nil {
			b.Fatal(err)
		}
		if len(subs) == 0 {
			d, after = newDigest(), 0
			continue
		}
		after = subs[len(subs)-1].ID
		ids := make([]int64, len(subs))
		for i, sub := range subs {
			ids[i] = sub.ID
		}
		t1 := cpuTime()
		rs, err := s.ClaimRecipients(ctx, d.ID, ids, "bench/1/x", time.Now())
		if err != nil {
			b.Fatal(err)
		}
		t2 := cpuTime()
		// As one SMTP connection sends them: each message begins in the
		// transaction that records how the one before it ended.
		var ended []syndicate.Recipient
		for _, r := range rs {
			if _, err := s.BeginRecipients(ctx, d.ID, "bench/1/x", ended, []int64{r.SubscriberID}); err != nil {
				b.Fatal(err)
			}
			r.State, r.UpdatedAt = syndicate.RecipientSent, time.Now()
			ended = []syndicate.Recipient{r}
		}
		if err := s.RecordRecipients(ctx, ended); err != nil {
			b.Fatal(err)
		}
		t3 := cpuTime()
		unsent, claim, record = unsent+t1-t0, claim+t2-t1, record+t3-t2
		n += len(subs)
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(max(n, 1)) }
	b.ReportMetric(per(unsent), "unsent-µs/recipient")
	b.ReportMetric(per(claim), "claim-µs/recipient")
	b.ReportMetric(per(record), "record-µs/recipient")
	b.ReportMetric(per(unsent+claim+record), "µs/recipient")
}

// cpuTime is the processor time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
