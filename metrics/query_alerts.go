package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

var (
	queryAlertsDesc = prometheus.NewDesc("sekisho_query_alerts_total",
		"Long-running warehouse queries the long_queries watches alerted about (SPEC §15).", nil, nil)
	queryAlertsOpenDesc = prometheus.NewDesc("sekisho_query_alerts_open",
		"Alerted warehouse queries still running.", nil, nil)
	watchFailingDesc = prometheus.NewDesc("sekisho_watch_failing",
		"1 while a long_queries watch's last listing failed (it sees no query: a PostgreSQL role without pg_read_all_stats, a refused connection), else 0.",
		[]string{"watch", "warehouse"}, nil)
)

// queryAlertCollector reads the query alerts and the watches' last
// listings at scrape time: two reads of small tables.
type queryAlertCollector struct {
	st  *store.Store
	cfg func() *config.Config // a watch the config no longer has is left out, as on the board
}

func (c queryAlertCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queryAlertsDesc
	ch <- queryAlertsOpenDesc
	ch <- watchFailingDesc
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
	sts, err := c.st.WatchStatuses(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(watchFailingDesc, err)
		return
	}
	cfg := c.cfg()
	for _, w := range sts {
		if cfg == nil || cfg.Watch(w.Watch) == nil {
			continue
		}
		failing := 0.0
		if w.Error != "" {
			failing = 1
		}
		ch <- prometheus.MustNewConstMetric(watchFailingDesc, prometheus.GaugeValue, failing, w.Watch, w.Warehouse)
	}
}
