// Package metrics exposes sekisho's Prometheus metrics on its own registry
// (no globals, so tests and embedded daemons do not collide): counters and
// histograms the engine and the notifier feed as things happen, and gauges
// read from the store when Prometheus scrapes.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

// Metrics holds sekisho's collectors. A nil *Metrics is valid and records
// nothing, so components can take one optionally.
type Metrics struct {
	reg          *prometheus.Registry
	sensorChecks *prometheus.CounterVec
	sensorTime   *prometheus.HistogramVec
	gateLatency  *prometheus.HistogramVec
	transitions  *prometheus.CounterVec
	notices      *prometheus.CounterVec
	watchOnce    sync.Once
	store        *storeCollector // the scrape-time gauges, once Handler made them
	listing      *status.Cache   // ShareListing's
}

// ShareListing makes the scrape read the pipelines' states from the status
// listing's cache c, the one GET /api/v1/status and the board use: one
// copy of the reads in the daemon, one answer. Call it before Handler;
// without it the metrics keep a cache of their own.
func (m *Metrics) ShareListing(c *status.Cache) {
	if m != nil {
		m.listing = c
	}
}

// New creates the metrics on a fresh registry, with the Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sensorChecks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sekisho_sensor_checks_total",
			Help: "Upstream checks by sensor type and outcome (ok|error).",
		}, []string{"type", "outcome"}),
		sensorTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sekisho_sensor_check_duration_seconds",
			Help:    "Time one upstream check took, by sensor type.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 10),
		}, []string{"type"}),
		gateLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "sekisho_gate_latency_seconds",
			Help:    "Time from the last upstream finishing to the trigger being accepted, by mode (poll|push).",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1800},
		}, []string{"mode"}),
		transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sekisho_transitions_total",
			Help: "Run state transitions, by from and to state (from is empty when a gate opens).",
		}, []string{"from", "to"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sekisho_notices_total",
			Help: "Slack notices by kind and outcome (sent|retry|refused|filtered|silenced|grouped|logged).",
		}, []string{"kind", "outcome"}),
	}
	m.reg.MustRegister(m.sensorChecks, m.sensorTime, m.gateLatency, m.transitions, m.notices,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// SensorCheck records one upstream check: outcome is ok or error.
func (m *Metrics) SensorCheck(sensorType, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	m.sensorChecks.WithLabelValues(sensorType, outcome).Inc()
	m.sensorTime.WithLabelValues(sensorType).Observe(d.Seconds())
}

// GateLatency records the delay between the condition becoming true
// upstream and the trigger being accepted; mode is poll or push.
func (m *Metrics) GateLatency(mode string, d time.Duration) {
	if m == nil {
		return
	}
	m.gateLatency.WithLabelValues(mode).Observe(d.Seconds())
}

// Transition counts one run state change.
func (m *Metrics) Transition(from, to sekisho.State) {
	if m == nil {
		return
	}
	m.transitions.WithLabelValues(string(from), string(to)).Inc()
}

// Notice counts one notice outcome: sent, retry, refused, filtered or logged.
func (m *Metrics) Notice(kind, outcome string) {
	if m == nil {
		return
	}
	m.notices.WithLabelValues(kind, outcome).Inc()
}

// Handler serves the metrics in the Prometheus text format. The first call
// also registers the scrape-time gauges read from st with the config cfg
// returns; later calls reuse them. A nil receiver serves an empty registry.
func (m *Metrics) Handler(st *store.Store, cfg func() *config.Config, clock sekisho.Clock) http.Handler {
	if m == nil {
		return promhttp.HandlerFor(prometheus.NewRegistry(), promhttp.HandlerOpts{})
	}
	if st != nil && cfg != nil {
		m.watchOnce.Do(func() {
			m.store = newStoreCollector(st, m.listing, cfg, clock, 30*time.Second)
			m.reg.MustRegister(m.store, silenceCollector{st: st, clock: clock}, queryAlertCollector{st, cfg})
		})
	}
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	if m.store == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The per-pipeline families follow the registry's in the text
		// format, so the registry's part is asked for in it too, and
		// uncompressed (a scrape on loopback or in-cluster needs no gzip).
		r = r.Clone(r.Context())
		r.Header.Del("Accept")
		r.Header.Del("Accept-Encoding")
		h.ServeHTTP(w, r)
		_ = m.store.writePipelines(w)
	})
}
