package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sekisho-dev/sekisho/store"
)

var (
	queryAlertsDesc = prometheus.NewDesc("sekisho_query_alerts_total",
		"Long-running warehouse queries the long_queries watches alerted about (SPEC §15).", nil, nil)
	queryAlertsOpenDesc = prometheus.NewDesc("sekisho_query_alerts_open",
		"Alerted warehouse queries still running.", nil, nil)
)

// queryAlertCollector reads the query alerts at scrape time: one COUNT
// over a small table.
type queryAlertCollector struct{ st *store.Store }

func (c queryAlertCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queryAlertsDesc
	ch <- queryAlertsOpenDesc
}

func (c queryAlertCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	total, open, err := c.st.CountQueryAlerts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(queryAlertsDesc, err)
		return
	}
	ch <- prometheus.MustNewConstMetric(queryAlertsDesc, prometheus.CounterValue, float64(total))
	ch <- prometheus.MustNewConstMetric(queryAlertsOpenDesc, prometheus.GaugeValue, float64(open))
}
