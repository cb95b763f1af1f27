package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

var (
	silencesDesc = prometheus.NewDesc("sekisho_silences",
		"Silences (maintenance windows) by state: active, pending (not started) or expired.",
		[]string{"state"}, nil)
	silencedDesc = prometheus.NewDesc("sekisho_pipeline_silenced_until_seconds",
		"For each silenced pipeline, when its silence ends (Unix time); its notices are recorded, not sent.",
		[]string{"pipeline"}, nil)
	silenceErrorDesc = prometheus.NewDesc("sekisho_silences_scrape_error",
		"1 when reading the silences or incidents for these metrics failed.", nil, nil)
	incidentsDesc = prometheus.NewDesc("sekisho_incidents_open",
		"Incidents not resolved yet (SPEC §17).", nil, nil)
	heldDesc = prometheus.NewDesc("sekisho_incident_affected_pipelines",
		"Pipeline runs the open incidents hold back.", nil, nil)
)

// silenceCollector lists the silences and counts the open incidents at
// scrape time. There are few, so it reads them on every scrape: a silence
// added by `sekisho silence add` shows at once.
type silenceCollector struct {
	st    *store.Store
	clock sekisho.Clock
}

func (c silenceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- silencesDesc
	ch <- silencedDesc
	ch <- silenceErrorDesc
	ch <- incidentsDesc
	ch <- heldDesc
}

func (c silenceCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	now := time.Now()
	if c.clock != nil {
		now = c.clock.Now()
	}
	all, err := c.st.SilencesEndingAfter(ctx, time.Time{})
	open, ierr := c.st.OpenIncidents(ctx)
	if err != nil || ierr != nil {
		ch <- prometheus.MustNewConstMetric(silenceErrorDesc, prometheus.GaugeValue, 1)
		return
	}
	ch <- prometheus.MustNewConstMetric(silenceErrorDesc, prometheus.GaugeValue, 0)
	held := 0
	for _, inc := range open {
		held += len(inc.Affected())
	}
	ch <- prometheus.MustNewConstMetric(incidentsDesc, prometheus.GaugeValue, float64(len(open)))
	ch <- prometheus.MustNewConstMetric(heldDesc, prometheus.GaugeValue, float64(held))
	counts := map[string]float64{"active": 0, "pending": 0, "expired": 0}
	until := map[string]time.Time{}
	for _, s := range all {
		switch {
		case s.ActiveAt(now):
			counts["active"]++
			for _, p := range s.Pipelines {
				if s.End().After(until[p]) {
					until[p] = s.End()
				}
			}
		case now.Before(s.StartsAt):
			counts["pending"]++
		default:
			counts["expired"]++
		}
	}
	for state, n := range counts {
		ch <- prometheus.MustNewConstMetric(silencesDesc, prometheus.GaugeValue, n, state)
	}
	for p, t := range until {
		ch <- prometheus.MustNewConstMetric(silencedDesc, prometheus.GaugeValue, float64(t.Unix()), p)
	}
}
