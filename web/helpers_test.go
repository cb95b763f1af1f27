package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
	"github.com/sekisho-dev/sekisho/web"
)

const (
	seededSilence = "sil_seeded"
	day           = "2026-11-03"
	writeToken    = "w-secret-token"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func at(date, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

// fixture is a seeded store with a normal pipeline, a failed one, a
// downstream affected by it through `type: pipeline`, and a late one.
type fixture struct {
	cfg   *config.Config
	st    *store.Store
	op    *fakeOperator
	ev    *fakeEvents
	h     http.Handler
	clock *clockwork.FakeClock
}

func newFixture(t testing.TB, mutate ...func(*config.Config)) *fixture {
	st := statustest.Open(t)
	normal := statustest.Pipeline("normal", tokyo, "06:00")
	normal.Description = "BigQuery marts behind the learning dashboards"
	normal.Upstreams = []config.Upstream{{Name: "hegel_export", Type: config.TypeGlueJob, JobName: "hegel-rds-export"},
		{Name: "ads", Type: config.TypeTroccoWorkflow, PipelineDefinitionID: 1234}}
	broken := statustest.Pipeline("broken", tokyo, "05:00")
	broken.Description = `<script>alert("x")</script> sales mart`
	broken.Impacts = []string{"Tableau: 売上ダッシュボード"}
	mart := statustest.Pipeline("mart", tokyo, "", "broken")
	mart.Impacts = []string{"Service dashboard (reverse ETL)"}
	slow := statustest.Pipeline("slow", tokyo, "06:00")
	cfg := config.Fill(&config.Config{Location: tokyo, Slack: config.Slack{Language: "en"},
		Server:    config.Server{Token: writeToken},
		Pipelines: []*config.Pipeline{normal, broken, mart, slow}})
	for _, m := range mutate {
		m(cfg)
	}
	for i := 1; i <= 5; i++ {
		d := time.Date(2026, 10, 27+i, 12, 0, 0, 0, tokyo).Format(sekisho.DateLayout)
		fin := at(d, "05:00")
		if i == 3 {
			fin = at(d, "06:42")
		}
		statustest.Put(t, st, statustest.Run{Pipeline: "normal", Date: d, State: sekisho.StateSucceeded, GateAt: at(d, "02:00"),
			Deadline: at(d, "06:00"), TriggeredAt: at(d, "03:00"), FinishedAt: fin, FirstSuccessAt: fin})
	}
	statustest.Put(t, st, statustest.Run{Pipeline: "normal", Date: day, State: sekisho.StateSucceeded, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"), TriggeredAt: at(day, "03:00"), FinishedAt: at(day, "04:30"), FirstSuccessAt: at(day, "04:30"),
		ExternalID: "sekisho__normal__2026-11-03__1",
		Observations: []sekisho.Observation{{Upstream: "hegel_export", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
			ExternalID: "jr_abc", StartedAt: at(day, "01:00"), FinishedAt: at(day, "02:50")}},
		Notices: []sekisho.Notice{{Kind: sekisho.NoticeRecovery, Text: "✅ normal recovered"}}})
	statustest.Put(t, st, statustest.Run{Pipeline: "broken", Date: day, State: sekisho.StateFailed, GateAt: at(day, "02:00"),
		Deadline: at(day, "05:00"), TriggeredAt: at(day, "02:30"), FinishedAt: at(day, "03:10"), Message: "task load_sales failed"})
	statustest.Put(t, st, statustest.Run{Pipeline: "mart", Date: day, State: sekisho.StateWaiting, GateAt: at(day, "02:00")})
	statustest.Put(t, st, statustest.Run{Pipeline: "slow", Date: day, State: sekisho.StateRunning, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"), TriggeredAt: at(day, "05:40"), StartedAt: at(day, "05:41")})
	// A maintenance window on slow, from 06:00 to 09:00 (SPEC §17).
	if _, err := st.AddSilence(context.Background(), store.Silence{ID: seededSilence, Pipelines: []string{"slow"},
		Reason: "disk upgrade", StartsAt: at(day, "06:00"), EndsAt: at(day, "09:00")}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{cfg: cfg, st: st, op: &fakeOperator{}, ev: &fakeEvents{}, clock: clockwork.NewFakeClockAt(at(day, "07:00"))}
	f.h = web.New(web.Options{Config: func() *config.Config { return f.cfg }, Store: st, Operator: f.op, Events: f.ev,
		Metrics: metrics.New(), Clock: f.clock})
	return f
}

// do sends a request and returns the status and body.
func (f *fixture) do(t testing.TB, method, target, token, contentType, body string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec.Code, rec.Header(), rec.Body.String()
}

type fakeOperator struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (o *fakeOperator) act(action, pipeline, date string, by engine.By) (sekisho.Run, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, action+" "+pipeline+" "+date+" by "+by.Who)
	if o.err != nil {
		return sekisho.Run{}, o.err
	}
	state, attempt := sekisho.StateWaiting, 2
	if action == "skip" {
		state, attempt = sekisho.StateSkipped, 1
	}
	return sekisho.Run{Pipeline: pipeline, LogicalDate: date, State: state, Attempt: attempt, GateAt: at(date, "02:00")}, nil
}

func (o *fakeOperator) Rerun(_ context.Context, p, d string, by engine.By) (sekisho.Run, error) {
	return o.act("rerun", p, d, by)
}
func (o *fakeOperator) Skip(_ context.Context, p, d string, by engine.By) (sekisho.Run, error) {
	return o.act("skip", p, d, by)
}

type fakeEvents struct {
	mu      sync.Mutex
	ingests []string
	learns  []string
	err     error
}

func (e *fakeEvents) Ingest(_ context.Context, r sekisho.Resource, run sekisho.JobRun) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.ingests = append(e.ingests, r.Key()+" "+run.ExternalID+" "+string(run.State))
	return e.err
}

func (e *fakeEvents) Learn(_ context.Context, r sekisho.Resource, jobID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.learns = append(e.learns, r.Key()+" "+jobID)
	return e.err
}
