package metrics

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
)

const (
	runsHelp         = "Runs of each pipeline's current logical date, by state (1 for the state it is in)."
	sloHelp          = "Share of the last 30 days that met the SLO deadline, per pipeline with an SLO and a judged day."
	sloObjectiveHelp = "The configured SLO objective, per pipeline."
)

var (
	backlogDesc = prometheus.NewDesc("sekisho_outbox_backlog",
		"Notices not yet delivered to Slack.", nil, nil)
	calendarDesc = prometheus.NewDesc("sekisho_calendar_data_days_left",
		"Days until the holiday data of a calendar a pipeline uses ends (SPEC §18); sekisho warns below 90.",
		[]string{"calendar"}, nil)
	scrapeErrorDesc = prometheus.NewDesc("sekisho_store_scrape_error",
		"1 when reading the store for these metrics failed.", nil, nil)
)

// storeCollector reads the store at scrape time. The values are cached for
// ttl, so a config with thousands of pipelines does not make every scrape
// (from several Prometheus replicas) run the queries again.
//
// The per-pipeline families (sekisho_runs: 13 series a pipeline, and the
// SLO ratios) are kept as one compact row per pipeline and written as text
// by writePipelines, not as registry metrics: at 10,000 pipelines they are
// 150,000 series, which as client_golang metrics cost 183 MB of garbage
// and 4.5 s a scrape (BenchmarkScrape10k), and stayed in memory for the
// cache's 30 s (issue 23).
type storeCollector struct {
	st *store.Store
	// listing is the status listing's cache, shared with the API and the
	// board when the daemon gives it (Metrics.ShareListing).
	listing *status.Cache
	cfg     func() *config.Config
	clock   sekisho.Clock
	ttl     time.Duration

	mu      sync.Mutex
	at      time.Time
	metrics []prometheus.Metric
	rows    []pipelineRow
	// attainment keeps the SLO rows between refreshes: a refresh walks
	// only the pipelines a write or a passing deadline changed, not 30
	// days of 10,000 pipelines (slo.Standing).
	attainment slo.Standing
}

// pipelineRow is one pipeline's per-pipeline series.
type pipelineRow struct {
	name       string
	state      sekisho.State
	slo        bool    // an SLO: the objective series
	objective  float64 //
	judged     bool    // a judged day: the attainment series
	attainment float64
}

func newStoreCollector(st *store.Store, listing *status.Cache, cfg func() *config.Config, clock sekisho.Clock, ttl time.Duration) *storeCollector {
	if listing == nil {
		listing = &status.Cache{}
	}
	return &storeCollector{st: st, listing: listing, cfg: cfg, clock: clock, ttl: ttl}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backlogDesc, calendarDesc, scrapeErrorDesc} {
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
		c.metrics, c.rows, c.at = nil, nil, now // the old rows go before the new are read
		c.metrics, c.rows = c.read(now)
	}
	for _, m := range c.metrics {
		ch <- m
	}
}

func (c *storeCollector) read(now time.Time) ([]prometheus.Metric, []pipelineRow) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cfg := c.cfg()
	var out []prometheus.Metric
	var rows []pipelineRow
	failed := 0.0
	if n, err := c.st.OutboxBacklog(ctx); err == nil {
		out = append(out, prometheus.MustNewConstMetric(backlogDesc, prometheus.GaugeValue, float64(n)))
	} else {
		failed = 1
	}
	if cfg != nil {
		var err error
		if rows, err = c.runs(ctx, cfg, now); err != nil {
			failed = 1
		} else if err := c.slo(ctx, cfg, now, rows); err != nil {
			failed = 1
		}
		out = append(out, calendars(cfg, now)...)
	}
	return append(out, prometheus.MustNewConstMetric(scrapeErrorDesc, prometheus.GaugeValue, failed)), rows
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

// runs is one row per pipeline with the state of its current logical
// date's run, or its listing state without one: sekisho_runs, as the
// board lists them (status.Cache.States, from the listing's reads).
func (c *storeCollector) runs(ctx context.Context, cfg *config.Config, now time.Time) ([]pipelineRow, error) {
	states, err := c.listing.States(ctx, c.st, cfg, now)
	if err != nil {
		return nil, err
	}
	rows := make([]pipelineRow, len(cfg.Pipelines))
	for i, p := range cfg.Pipelines {
		rows[i].name, rows[i].state = p.Name, states[i]
	}
	return rows, nil
}

// runStates are the states sekisho_runs has a series for, per pipeline.
var runStates = append(append([]sekisho.State{}, sekisho.States...), sekisho.StateScheduled, sekisho.StateMissed,
	sekisho.StateBeforeHistory, sekisho.StateNoGate, sekisho.StateHoliday)

func (c *storeCollector) slo(ctx context.Context, cfg *config.Config, now time.Time, rows []pipelineRow) error {
	// The report's own numbers (slo.Judge, missed days included), so the
	// metric, the board and `sekisho report slo` agree.
	rep, err := c.attainment.Rows(ctx, c.st, cfg, slo.Last30(cfg, now, ""))
	if err != nil {
		return err
	}
	for i, p := range cfg.Pipelines {
		if p.SLO == nil {
			continue
		}
		rows[i].slo, rows[i].objective = true, p.SLO.Objective
		j, found := slo.FindRow(rep, p.Name)
		if !found {
			continue
		}
		if r := &rep[j]; r.SLODays > 0 {
			rows[i].judged, rows[i].attainment = true, float64(r.SLOMet)/float64(r.SLODays)
		}
	}
	return nil
}

// writePipelines writes the per-pipeline families of the last read in the
// Prometheus text format (0.0.4), as client_golang's encoder writes them.
func (c *storeCollector) writePipelines(w io.Writer) error {
	c.mu.Lock()
	rows := c.rows // never changed once read: a new read makes a new slice
	c.mu.Unlock()
	if len(rows) == 0 {
		return nil
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	var line []byte
	family := func(name, help string) {
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s gauge\n", name, helpEscaper.Replace(help), name)
	}
	sample := func(name, pipeline string, state sekisho.State, v float64) {
		line = append(line[:0], name...)
		line = append(line, `{pipeline="`...)
		line = append(line, labelEscaper.Replace(pipeline)...)
		if state != "" {
			line = append(line, `",state="`...)
			line = append(line, state...)
		}
		line = append(line, `"} `...)
		line = strconv.AppendFloat(line, v, 'g', -1, 64)
		bw.Write(append(line, '\n'))
	}
	family("sekisho_runs", runsHelp)
	for _, r := range rows {
		for _, s := range runStates {
			v := 0.0
			if s == r.state {
				v = 1
			}
			sample("sekisho_runs", r.name, s, v)
		}
	}
	for _, f := range []struct {
		name, help string
		has        func(pipelineRow) (float64, bool)
	}{
		{"sekisho_slo_attainment_ratio", sloHelp, func(r pipelineRow) (float64, bool) { return r.attainment, r.judged }},
		{"sekisho_slo_objective_ratio", sloObjectiveHelp, func(r pipelineRow) (float64, bool) { return r.objective, r.slo }},
	} {
		wrote := false
		for _, r := range rows {
			if v, ok := f.has(r); ok {
				if !wrote {
					family(f.name, f.help)
					wrote = true
				}
				sample(f.name, r.name, "", v)
			}
		}
	}
	return bw.Flush()
}

// The text format's escaping of HELP text and label values.
var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)
