package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

var (
	runsDesc = prometheus.NewDesc("sekisho_runs",
		"Runs of each pipeline's current logical date, by state (1 for the state it is in).",
		[]string{"pipeline", "state"}, nil)
	backlogDesc = prometheus.NewDesc("sekisho_outbox_backlog",
		"Notices not yet delivered to Slack.", nil, nil)
	sloDesc = prometheus.NewDesc("sekisho_slo_attainment_ratio",
		"Share of the last 30 days that met the SLO deadline, per pipeline with an SLO and a judged day.",
		[]string{"pipeline"}, nil)
	sloObjectiveDesc = prometheus.NewDesc("sekisho_slo_objective_ratio",
		"The configured SLO objective, per pipeline.", []string{"pipeline"}, nil)
	calendarDesc = prometheus.NewDesc("sekisho_calendar_data_days_left",
		"Days until the holiday data of a calendar a pipeline uses ends (SPEC §18); sekisho warns below 90.",
		[]string{"calendar"}, nil)
	scrapeErrorDesc = prometheus.NewDesc("sekisho_store_scrape_error",
		"1 when reading the store for these metrics failed.", nil, nil)
)

// storeCollector reads the store at scrape time. The values are cached for
// ttl, so a config with thousands of pipelines does not make every scrape
// (from several Prometheus replicas) run the queries again.
type storeCollector struct {
	st    *store.Store
	cfg   func() *config.Config
	clock sekisho.Clock
	ttl   time.Duration

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
}

func newStoreCollector(st *store.Store, cfg func() *config.Config, clock sekisho.Clock, ttl time.Duration) *storeCollector {
	return &storeCollector{st: st, cfg: cfg, clock: clock, ttl: ttl}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{runsDesc, backlogDesc, sloDesc, sloObjectiveDesc, calendarDesc, scrapeErrorDesc} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	if c.clock != nil {
		now = c.clock.Now()
	}
	if c.metrics == nil || now.Sub(c.at) >= c.ttl || now.Before(c.at) {
		c.metrics, c.at = c.read(now), now
	}
	for _, m := range c.metrics {
		ch <- m
	}
}

func (c *storeCollector) read(now time.Time) []prometheus.Metric {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := c.cfg()
	var out []prometheus.Metric
	failed := 0.0
	if n, err := c.st.OutboxBacklog(ctx); err == nil {
		out = append(out, prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n)))
	} else {
		failed = 1
	}
	if cfg != nil {
		if ms, err := c.runs(ctx, cfg, now); err == nil {
			out = append(out, ms...)
		} else {
			failed = 1
		}
		if ms, err := c.slo(ctx, cfg, now); err == nil {
			out = append(out, ms...)
		} else {
			failed = 1
		}
		out = append(out, calendars(cfg, now)...)
	}
	return append(out, prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, failed))
}

// calendars emits the days of holiday data left of each calendar in use
// that has holiday data (base jp), counted from today in the config's zone.
func calendars(cfg *config.Config, now time.Time) []prometheus.Metric {
	var out []prometheus.Metric
	today := sekisho.DateOf(now, cfg.Location)
	for name, cal := range cfg.UsedCalendars() {
		if left, ok := cal.DaysLeft(today); ok {
			out = append(out, prometheus.MustNewConstMetric(calendarDesc, prometheus.GaugeValue, float64(left), name))
		}
	}
	return out
}

// runs emits one series per pipeline and state of its current logical
// date: 1 for the state the run is in, 0 for the others, so a query like
// sum by (state) (sekisho_runs) counts today's runs per state.
func (c *storeCollector) runs(ctx context.Context, cfg *config.Config, now time.Time) ([]prometheus.Metric, error) {
	today := map[string]string{}
	seen := map[string]bool{}
	var dates []string
	for _, p := range cfg.Pipelines {
		d := sekisho.DateOf(now, p.Location)
		today[p.Name] = d
		if !seen[d] {
			seen[d] = true
			dates = append(dates, d)
		}
	}
	runs, err := c.st.RunsOn(ctx, dates)
	if err != nil {
		return nil, err
	}
	current := map[string]sekisho.State{}
	for _, r := range runs {
		if today[r.Pipeline] == r.LogicalDate {
			current[r.Pipeline] = r.State
		}
	}
	states := append(append([]sekisho.State{}, sekisho.States...), sekisho.StateScheduled, sekisho.StateMissed,
		sekisho.StateBeforeHistory, sekisho.StateNoGate, sekisho.StateHoliday)
	var missed []string
	for _, p := range cfg.Pipelines {
		if _, ok := current[p.Name]; !ok {
			current[p.Name], _ = status.NoRunState(p, today[p.Name], now)
			if current[p.Name] == sekisho.StateMissed {
				missed = append(missed, p.Name)
			}
		}
	}
	// A missed day before a pipeline's first run is before_history, as the
	// board lists it.
	first, err := c.st.FirstRunDates(ctx, missed)
	if err != nil {
		return nil, err
	}
	for _, name := range missed {
		if f, ok := first[name]; !ok || today[name] < f {
			current[name] = sekisho.StateBeforeHistory
		}
	}
	out := make([]prometheus.Metric, 0, len(cfg.Pipelines)*len(states))
	for _, p := range cfg.Pipelines {
		cur := current[p.Name]
		for _, s := range states {
			v := 0.0
			if s == cur {
				v = 1
			}
			out = append(out, prometheus.MustNewConstMetric(runsDesc, prometheus.GaugeValue, v, p.Name, string(s)))
		}
	}
	return out, nil
}

func (c *storeCollector) slo(ctx context.Context, cfg *config.Config, now time.Time) ([]prometheus.Metric, error) {
	// The report's own numbers (slo.Judge, missed days included), so the
	// metric, the board and `sekisho report slo` agree.
	rep, err := slo.Compute(ctx, c.st, cfg, slo.Last30(cfg, now, ""))
	if err != nil {
		return nil, err
	}
	rows := make(map[string]slo.Row, len(rep.Pipelines))
	for _, r := range rep.Pipelines {
		rows[r.Pipeline] = r
	}
	var out []prometheus.Metric
	for _, p := range cfg.Pipelines {
		if p.SLO == nil {
			continue
		}
		out = append(out, prometheus.MustNewConstMetric(sloObjectiveDesc, prometheus.GaugeValue, p.SLO.Objective, p.Name))
		if r := rows[p.Name]; r.SLODays > 0 {
			out = append(out, prometheus.MustNewConstMetric(sloDesc, prometheus.GaugeValue, float64(r.SLOMet)/float64(r.SLODays), p.Name))
		}
	}
	return out, nil
}
