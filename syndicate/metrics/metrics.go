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
	polls        *prometheus.CounterVec
	pollDuration *prometheus.HistogramVec
	attempts     *prometheus.CounterVec
	sendDuration *prometheus.HistogramVec
}

// Counter is the part of the store the ledger gauge reads at scrape time.
type Counter interface {
	CountDeliveries(ctx context.Context) (map[string]map[syndicate.State]int, error)
}

// New registers the metrics on reg: counters fed by the pipeline, and a
// gauge of deliveries by channel and state read from the ledger itself, so
// it is right even across restarts.
func New(reg prometheus.Registerer, ledger Counter) *Metrics {
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
	}
	reg.MustRegister(m.polls, m.pollDuration, m.attempts, m.sendDuration,
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

type ledgerCollector struct {
	ledger Counter
	desc   *prometheus.Desc
}

func newLedgerCollector(ledger Counter) ledgerCollector {
	return ledgerCollector{ledger: ledger, desc: prometheus.NewDesc("syndicate_deliveries",
		"Deliveries in the ledger by channel and state.", []string{"channel", "state"}, nil)}
}

func (c ledgerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

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
}
