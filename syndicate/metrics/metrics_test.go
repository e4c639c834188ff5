package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndicate-daemon/syndicate/syndicate"
	"github.com/syndicate-daemon/syndicate/syndicate/metrics"
)

// Every store feeds the gauges.
var _ metrics.Ledger = syndicate.Store(nil)

// digestLedger is a ledger: the deliveries by channel and state, and the
// digests, newest first per channel.
type digestLedger struct {
	ledger  map[string]map[syndicate.State]int
	digests map[string][]syndicate.Digest
	err     error
}

func (l digestLedger) CountDeliveries(context.Context) (map[string]map[syndicate.State]int, error) {
	return l.ledger, nil
}

func (l digestLedger) Digests(_ context.Context, channelID string, limit int) ([]syndicate.Digest, error) {
	if l.err != nil {
		return nil, l.err
	}
	ds := l.digests[channelID]
	if limit > 0 && len(ds) > limit {
		ds = ds[:limit]
	}
	return ds, nil
}

func (l digestLedger) OpenDigests(_ context.Context, channelID string) ([]syndicate.Digest, error) {
	var open []syndicate.Digest
	for _, d := range l.digests[channelID] {
		if d.FinishedAt.IsZero() {
			open = append(open, d)
		}
	}
	return open, nil
}

func TestDigestCountersAndGauges(t *testing.T) {
	made := time.Date(2026, 11, 27, 8, 0, 0, 500_000_000, time.UTC)
	store := digestLedger{
		ledger: map[string]map[syndicate.State]int{
			"digest-en":   {syndicate.StateSent: 3, syndicate.StatePending: 1},
			"mastodon-en": {syndicate.StateSent: 2},
		},
		digests: map[string][]syndicate.Digest{"digest-en": {
			{ID: 3, ChannelID: "digest-en", CreatedAt: made},
			{ID: 2, ChannelID: "digest-en", CreatedAt: made.Add(-time.Hour)},
			{ID: 1, ChannelID: "digest-en", CreatedAt: made.Add(-24 * time.Hour), FinishedAt: made.Add(-23 * time.Hour)},
		}},
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, store)

	m.DigestMessages("digest-en", syndicate.RecipientSent, 2)
	m.DigestMessages("digest-en", syndicate.RecipientDeferred, 1)
	m.DigestMessages("digest-en", syndicate.RecipientSent, 1)
	m.DigestMessages("digest-es", syndicate.RecipientUncertain, 4)
	m.Digested("digest-en", syndicate.DigestSent)
	m.Digested("digest-en", syndicate.DigestEmpty)
	m.Digested("digest-en", syndicate.DigestEmpty)
	m.Digested("digest-es", syndicate.DigestError)

	got := gather(t, reg)
	for series, v := range map[string]float64{
		`syndicate_digest_messages_total{channel="digest-en",state="deferred"}`:  1,
		`syndicate_digest_messages_total{channel="digest-en",state="sent"}`:      3,
		`syndicate_digest_messages_total{channel="digest-es",state="uncertain"}`: 4,
		`syndicate_digests_total{channel="digest-en",result="empty"}`:            2,
		`syndicate_digests_total{channel="digest-en",result="sent"}`:             1,
		`syndicate_digests_total{channel="digest-es",result="error"}`:            1,
		`syndicate_digests_open{channel="digest-en"}`:                            2,
		`syndicate_digest_last_created_timestamp_seconds{channel="digest-en"}`:   float64(made.Unix()) + 0.5,
		`syndicate_deliveries{channel="digest-en",state="pending"}`:              1,
		`syndicate_deliveries{channel="mastodon-en",state="sent"}`:               2,
	} {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
	for series := range got {
		// Only channels with digests have the digest gauges.
		if strings.HasPrefix(series, "syndicate_digest") && strings.Contains(series, "mastodon-en") {
			t.Errorf("%s: a channel without digests has a digest series", series)
		}
	}
}

// gather scrapes reg into series → value, a series written as in the text
// format with its labels sorted.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			series := mf.GetName()
			if len(labels) > 0 {
				series += "{" + strings.Join(labels, ",") + "}"
			}
			switch {
			case m.GetCounter() != nil:
				out[series] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[series] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// The gauges read the store at each scrape: a digest finished since the
// last one is no longer open.
func TestDigestGaugesAreReadAtScrapeTime(t *testing.T) {
	made := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	store := digestLedger{
		ledger:  map[string]map[syndicate.State]int{"digest-en": {syndicate.StateSent: 1}},
		digests: map[string][]syndicate.Digest{"digest-en": {{ID: 1, ChannelID: "digest-en", CreatedAt: made}}},
	}
	reg := prometheus.NewRegistry()
	metrics.New(reg, store)
	const open = `syndicate_digests_open{channel="digest-en"}`
	if got, ok := gather(t, reg)[open]; !ok || got != 1 {
		t.Errorf("%s before finishing: %v (present %v), want 1", open, got, ok)
	}
	store.digests["digest-en"][0].FinishedAt = made.Add(time.Minute)
	if got, ok := gather(t, reg)[open]; !ok || got != 0 {
		t.Errorf("%s after finishing: %v (present %v), want 0", open, got, ok)
	}
}

// A store that keeps no digests has no digest gauges, and a scrape that
// cannot read them says so.
func TestDigestGaugesWithoutDigests(t *testing.T) {
	reg := prometheus.NewRegistry()
	metrics.New(reg, digestLedger{ledger: map[string]map[syndicate.State]int{"mastodon-en": {syndicate.StateSent: 1}}})
	for series := range gather(t, reg) {
		if strings.HasPrefix(series, "syndicate_digest") {
			t.Errorf("a channel without digests has %s", series)
		}
	}

	reg = prometheus.NewRegistry()
	metrics.New(reg, digestLedger{ledger: map[string]map[syndicate.State]int{"digest-en": {}}, err: errors.New("database is locked")})
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Errorf("scrape with a failing store: %v", err)
	}
}
