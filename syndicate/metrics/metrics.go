// Package metrics exposes the pipeline's work as Prometheus metrics, all
// named syndicate_*.
package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/syndicate-daemon/syndicate/syndicate"
)

// Metrics implements syndicate.Observer.
type Metrics struct {
	polls          *prometheus.CounterVec
	pollDuration   *prometheus.HistogramVec
	attempts       *prometheus.CounterVec
	sendDuration   *prometheus.HistogramVec
	digestMessages *prometheus.CounterVec
	digests        *prometheus.CounterVec
}

var _ syndicate.Observer = (*Metrics)(nil)

// Ledger is the part of the store the gauges read at scrape time: the
// deliveries by channel and state, and each channel's digests (every
// store has both).
type Ledger interface {
	CountDeliveries(ctx context.Context) (map[string]map[syndicate.State]int, error)
	Digests(ctx context.Context, channelID string, limit int) ([]syndicate.Digest, error)
	OpenDigests(ctx context.Context, channelID string) ([]syndicate.Digest, error)
}

// New registers the metrics on reg: counters fed by the pipeline and the
// digest runs, and gauges read from the store itself, so they are right
// even across restarts: deliveries by channel and state, and each digest
// channel's unfinished digests and the time of its newest.
func New(reg prometheus.Registerer, ledger Ledger) *Metrics {
	m := &Metrics{
		polls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_feed_polls_total",
			Help: "Feed polls by feed and result (ok, not_modified, error, deferred).",
		}, []string{"feed", "result"}),
		pollDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "syndicate_feed_poll_duration_seconds",
			Help:    "Time to fetch, parse and record a feed.",
			Buckets: prometheus.DefBuckets,
		}, []string{"feed"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_delivery_attempts_total",
			Help: "Send attempts by channel and the state they left the delivery in.",
		}, []string{"channel", "outcome"}),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "syndicate_send_duration_seconds",
			Help:    "Time of one send to a channel.",
			Buckets: prometheus.DefBuckets,
		}, []string{"channel"}),
		digestMessages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_digest_messages_total",
			Help: "Digest messages recorded, by email channel and state (sent, deferred, failed, uncertain); a deferred message tried again counts again.",
		}, []string{"channel", "state"}),
		digests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "syndicate_digests_total",
			Help: "Digests by email channel and result: sent (finished), empty (due with nothing new), error (a pass that failed).",
		}, []string{"channel", "result"}),
	}
	reg.MustRegister(m.polls, m.pollDuration, m.attempts, m.sendDuration, m.digestMessages, m.digests,
		newLedgerCollector(ledger),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) Polled(feedID, result string, took time.Duration) {
	m.polls.WithLabelValues(feedID, result).Inc()
	m.pollDuration.WithLabelValues(feedID).Observe(took.Seconds())
}

func (m *Metrics) Attempted(channelID string, outcome syndicate.State, took time.Duration) {
	m.attempts.WithLabelValues(channelID, string(outcome)).Inc()
	m.sendDuration.WithLabelValues(channelID).Observe(took.Seconds())
}

func (m *Metrics) DigestMessages(channelID string, state syndicate.RecipientState, n int) {
	m.digestMessages.WithLabelValues(channelID, string(state)).Add(float64(n))
}

func (m *Metrics) Digested(channelID string, result syndicate.DigestResult) {
	m.digests.WithLabelValues(channelID, string(result)).Inc()
}

type ledgerCollector struct {
	ledger                     Ledger
	desc, openDesc, latestDesc *prometheus.Desc
}

func newLedgerCollector(ledger Ledger) ledgerCollector {
	return ledgerCollector{
		ledger: ledger,
		desc: prometheus.NewDesc("syndicate_deliveries",
			"Deliveries in the ledger by channel and state.", []string{"channel", "state"}, nil),
		openDesc: prometheus.NewDesc("syndicate_digests_open",
			"Digests of the email channel not finished yet: deferred recipients wait for a later round, or a pass was interrupted.",
			[]string{"channel"}, nil),
		latestDesc: prometheus.NewDesc("syndicate_digest_last_created_timestamp_seconds",
			"When the email channel's newest digest was made, as a Unix time.", []string{"channel"}, nil),
	}
}

func (c ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.openDesc
	ch <- c.latestDesc
}

func (c ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.ledger.CountDeliveries(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for channel, states := range counts {
		for _, st := range syndicate.States {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(states[st]), channel, string(st))
		}
	}
	// Every digest takes its articles from the channel's deliveries, so
	// the channels of the ledger are all those that can have digests: two
	// small queries each, on the digests of that channel alone.
	for channel := range counts {
		c.collectDigests(ctx, ch, channel)
	}
}

func (c ledgerCollector) collectDigests(ctx context.Context, ch chan<- prometheus.Metric, channel string) {
	latest, err := c.ledger.Digests(ctx, channel, 1)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.latestDesc, err)
		return
	}
	if len(latest) == 0 { // not an email channel, or none made yet
		return
	}
	open, err := c.ledger.OpenDigests(ctx, channel)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.openDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.latestDesc, prometheus.GaugeValue,
		float64(latest[0].CreatedAt.UnixMicro())/1e6, channel)
	ch <- prometheus.MustNewConstMetric(c.openDesc, prometheus.GaugeValue, float64(len(open)), channel)
}
