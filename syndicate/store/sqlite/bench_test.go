package sqlite

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

var benchChannels = []string{"mastodon-en", "telegram-en", "digest-en"}

// benchPoll returns poll n of feed: perPoll new articles, each delivered
// to every bench channel.
func benchPoll(feed string, n, perPoll int) syndicate.PollRecord {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	rec := syndicate.PollRecord{
		State:  syndicate.FeedState{FeedID: feed, ETag: fmt.Sprintf(`"%d"`, n), LastPollAt: base, LastOKAt: base},
		Routes: benchChannels,
	}
	for i := range perPoll {
		key := fmt.Sprintf("https://example.org/?p=%d-%d", n, i)
		published := base.Add(time.Duration(n*perPoll+i) * time.Minute)
		rec.Articles = append(rec.Articles, syndicate.Article{
			FeedID: feed, Key: key, Link: fmt.Sprintf("https://example.org/%d/%d/story", n, i),
			Title: "A title of ordinary length for an article " + key, Summary: "A lead paragraph, as long as leads are, give or take a few words.",
			ContentHTML: "<p>" + fmt.Sprint(make([]int, 200)) + "</p>", ImageURL: "https://example.org/img.jpg",
			Categories: []string{"Kazakhstan", "Technology"}, Language: "en", Published: published,
			Position: i, Hash: "hash-" + key,
		})
		for _, ch := range benchChannels {
			rec.Deliveries = append(rec.Deliveries, syndicate.NewDelivery{
				ArticleKey: key, ChannelID: ch, State: syndicate.StatePending, SortTime: published,
			})
		}
	}
	return rec
}

// fill records polls of 500 articles until the ledger holds rows
// deliveries, then checkpoints, as a daemon's ledger is between writes.
func fill(b *testing.B, s *Store, rows int) {
	const perPoll = 500
	for n := range rows/len(benchChannels)/perPoll + 1 {
		if err := s.RecordPoll(b.Context(), benchPoll("feed", n, perPoll)); err != nil {
			b.Fatal(err)
		}
	}
	checkpoint(b, s)
}

// checkpoint moves the WAL into the database: a bulk write leaves a WAL
// that slows every read until SQLite checkpoints it.
func checkpoint(b *testing.B, s *Store) {
	if _, err := s.w.ExecContext(b.Context(), `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkRecordPoll(b *testing.B) {
	s, err := Open(b.Context(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := 0
	for b.Loop() {
		if err := s.RecordPoll(b.Context(), benchPoll("feed", n, 50)); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n*50), "µs/article")
}

func BenchmarkDueDeliveries(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, 100_000)
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	due := func(b *testing.B) {
		for b.Loop() {
			ds, err := s.DueDeliveries(ctx, "telegram-en", now, 50)
			if err != nil || len(ds) != 50 {
				b.Fatalf("DueDeliveries = %d, %v", len(ds), err)
			}
		}
	}
	b.Run("ledger=100k/pending=100%", due)
	// The usual ledger: nearly everything sent, a little pending.
	if _, err := s.w.ExecContext(ctx, `UPDATE deliveries SET state = 'sent' WHERE id % 100 != 0`); err != nil {
		b.Fatal(err)
	}
	checkpoint(b, s)
	b.Run("ledger=100k/pending=1%", due)
}

func BenchmarkListDeliveries(b *testing.B) {
	ctx := b.Context()
	s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	fill(b, s, 100_000)
	for _, f := range []syndicate.DeliveryFilter{{Limit: 50}, {ChannelID: "telegram-en", Limit: 50}, {FeedID: "feed", Limit: 50}} {
		b.Run(fmt.Sprintf("ledger=100k/channel=%q/feed=%q/limit=50", f.ChannelID, f.FeedID), func(b *testing.B) {
			for b.Loop() {
				if v, err := s.ListDeliveries(ctx, f); err != nil || len(v) != 50 {
					b.Fatalf("ListDeliveries = %d, %v", len(v), err)
				}
			}
		})
	}
	// The deliveries of one article, as an edit looks them up: an old one,
	// far down the list.
	b.Run("ledger=100k/article", func(b *testing.B) {
		for b.Loop() {
			if v, err := s.ListDeliveries(ctx, syndicate.DeliveryFilter{ArticleID: 10}); err != nil || len(v) != len(benchChannels) {
				b.Fatalf("ListDeliveries = %d, %v", len(v), err)
			}
		}
	})
}
