package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *metrics.Metrics
	m.SensorCheck("glue_job", "ok", time.Second)
	m.GateLatency("poll", time.Second)
	m.Transition(sekisho.StateWaiting, sekisho.StateTriggered)
	m.Notice("delay", "sent")
	rec := httptest.NewRecorder()
	m.Handler(nil, nil, nil).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
}

func TestMetrics(t *testing.T) {
	utc := time.UTC
	st := statustest.Open(t)
	cfg := config.Fill(&config.Config{Location: utc, Pipelines: []*config.Pipeline{
		statustest.Pipeline("alpha", utc, "06:00"), statustest.Pipeline("beta", utc, "")}})
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 3, 7, 0, 0, 0, utc))
	day := func(d int, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, utc) }
	statustest.Put(t, st, statustest.Run{Pipeline: "alpha", Date: "2026-11-01", State: sekisho.StateSucceeded,
		GateAt: day(1, 2), Deadline: day(1, 6), FinishedAt: day(1, 5), FirstSuccessAt: day(1, 5)})
	// beta ran before: its day without a run is missed, not before_history.
	statustest.Put(t, st, statustest.Run{Pipeline: "beta", Date: "2026-11-01", State: sekisho.StateSucceeded,
		GateAt: day(1, 2), FinishedAt: day(1, 5), FirstSuccessAt: day(1, 5)})
	statustest.Put(t, st, statustest.Run{Pipeline: "alpha", Date: "2026-11-02", State: sekisho.StateSucceeded,
		GateAt: day(2, 2), Deadline: day(2, 6), FinishedAt: day(2, 7), FirstSuccessAt: day(2, 7),
		Notices: []sekisho.Notice{{Kind: sekisho.NoticeDelay}}})
	// Running past its 06:00 deadline: a miss already.
	statustest.Put(t, st, statustest.Run{Pipeline: "alpha", Date: "2026-11-03", State: sekisho.StateRunning, GateAt: day(3, 2), Deadline: day(3, 6)})
	// Running before its deadline: no verdict yet.
	statustest.Put(t, st, statustest.Run{Pipeline: "alpha", Date: "2026-10-31", State: sekisho.StateRunning, GateAt: day(3, 2), Deadline: day(3, 8)})

	m := metrics.New()
	m.SensorCheck("glue_job", "ok", 120*time.Millisecond)
	m.SensorCheck("glue_job", "error", time.Second)
	m.GateLatency("push", 2*time.Second)
	m.Transition("", sekisho.StateWaiting)
	m.Notice("delay", "retry")
	h := m.Handler(st, func() *config.Config { return cfg }, clock)
	get := func() string {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		b, _ := io.ReadAll(rec.Body)
		return string(b)
	}
	body := get()
	for _, want := range []string{
		`sekisho_sensor_checks_total{outcome="error",type="glue_job"} 1`,
		`sekisho_sensor_check_duration_seconds_count{type="glue_job"} 2`,
		`sekisho_gate_latency_seconds_count{mode="push"} 1`,
		`sekisho_transitions_total{from="",to="waiting"} 1`,
		`sekisho_notices_total{kind="delay",outcome="retry"} 1`,
		`sekisho_runs{pipeline="alpha",state="running"} 1`,
		`sekisho_runs{pipeline="alpha",state="waiting"} 0`,
		`sekisho_runs{pipeline="beta",state="missed"} 1`, // its 02:00 gate passed without a run
		`sekisho_outbox_backlog 1`,
		`sekisho_slo_attainment_ratio{pipeline="alpha"} 0.333`,
		`sekisho_slo_objective_ratio{pipeline="alpha"} 0.95`,
		`sekisho_store_scrape_error 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want+"\n") && !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, `sekisho_slo_attainment_ratio{pipeline="beta"}`) {
		t.Error("a pipeline without an SLO has no attainment")
	}
	// The per-pipeline families are written beside the registry's: the
	// whole answer must still be one valid exposition, each family once,
	// with one series per pipeline and state.
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("not a valid exposition: %v", err)
	}
	if f := fams["sekisho_runs"]; f == nil || len(f.Metric) != 2*(len(sekisho.States)+5) || f.GetType().String() != "GAUGE" || f.GetHelp() == "" {
		t.Errorf("sekisho_runs = %v", f)
	}
	for _, name := range []string{"sekisho_slo_attainment_ratio", "sekisho_slo_objective_ratio", "sekisho_outbox_backlog", "go_goroutines"} {
		if fams[name] == nil {
			t.Errorf("no family %s", name)
		}
	}
	if n := strings.Count(body, "# TYPE sekisho_runs "); n != 1 {
		t.Errorf("sekisho_runs declared %d times", n)
	}
	// Prometheus asking for the protocol buffer format or gzip still gets
	// the one text answer.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3")
	req.Header.Set("Accept-Encoding", "gzip")
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || rec.Header().Get("Content-Encoding") != "" ||
		!strings.Contains(rec.Body.String(), `sekisho_runs{pipeline="alpha",state="running"} 1`) {
		t.Errorf("a protobuf scrape got %q, encoding %q", ct, rec.Header().Get("Content-Encoding"))
	}

	// Within 30 s the store is not read again; after, it is.
	statustest.Put(t, st, statustest.Run{Pipeline: "beta", Date: "2026-11-03", State: sekisho.StateWaiting, GateAt: day(3, 2)})
	clock.Advance(10 * time.Second)
	if !strings.Contains(get(), `sekisho_runs{pipeline="beta",state="missed"} 1`) {
		t.Error("scrape-time values should be cached for 30 s")
	}
	clock.Advance(25 * time.Second)
	if !strings.Contains(get(), `sekisho_runs{pipeline="beta",state="waiting"} 1`) {
		t.Error("scrape-time values should refresh after 30 s")
	}
}

// TestCalendarMetrics: the days of holiday data left per calendar in use
// (jp.csv ends with 2027), and a pipeline on a day off listed as holiday.
func TestCalendarMetrics(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	st := statustest.Open(t)
	biz := statustest.Pipeline("biz", tokyo, "06:00")
	biz.CalendarName = "jp_business"
	cfg := config.Fill(&config.Config{Location: tokyo, Pipelines: []*config.Pipeline{biz, statustest.Pipeline("plain", tokyo, "")}})
	clock := clockwork.NewFakeClockAt(time.Date(2027, 10, 3, 12, 0, 0, 0, tokyo)) // a Sunday
	h := metrics.New().Handler(st, func() *config.Config { return cfg }, clock)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`sekisho_calendar_data_days_left{calendar="jp_business"} 89`,
		`sekisho_runs{pipeline="biz",state="holiday"} 1`,
		`sekisho_runs{pipeline="plain",state="before_history"} 1`, // it never ran: the board does not blame it
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Count(body, "sekisho_calendar_data_days_left{") != 1 {
		t.Error("a series for a calendar no pipeline uses, or none")
	}
}
