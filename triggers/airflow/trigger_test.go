package airflow_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/airflowapi"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/triggers/airflow"
)

var t0 = time.Date(2025, 4, 1, 17, 0, 0, 0, time.UTC) // 02:00 JST

type env struct {
	sim     *airflowsim.Server
	clock   *clockwork.FakeClock
	trig    *airflow.Trigger
	clients map[string]*airflowapi.Client
}

func newEnv(t *testing.T, version string, simOpts airflowsim.Options, clientOpts ...airflowapi.Option) *env {
	t.Helper()
	clk := clockwork.NewFakeClockAt(t0)
	simOpts.Clock = clk
	s := airflowsim.MustNew(simOpts)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	t.Cleanup(func() {
		if bad := s.InvalidRequests(); len(bad) > 0 {
			t.Errorf("requests broke the OpenAPI document: %+v", bad)
		}
		if bad := s.InvalidResponses(); len(bad) > 0 {
			t.Errorf("simulator answers broke the OpenAPI document: %+v", bad)
		}
	})
	clientOpts = append([]airflowapi.Option{airflowapi.WithBackoff(time.Millisecond, 2*time.Millisecond, 3)}, clientOpts...)
	clients, err := airflowapi.NewClients(map[string]*config.Airflow{
		"composer-prod": {BaseURL: hs.URL, APIVersion: version, Auth: "bearer", Token: "tok"},
	}, clientOpts...)
	if err != nil {
		t.Fatal(err)
	}
	return &env{sim: s, clock: clk, trig: airflow.New(clients, nil), clients: clients}
}

func request(spec sekisho.TriggerSpec) sekisho.TriggerRequest {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	spec.Type, spec.Connection = "airflow_dag", "composer-prod"
	if spec.DagID == "" {
		spec.DagID = "socrates_main"
	}
	return sekisho.TriggerRequest{Pipeline: "socrates_daily", LogicalDate: "2025-04-02", Key: "2025-04-02", Attempt: 1,
		GateAt: t0, TimeZone: tokyo, Spec: spec,
		Upstreams: map[string]sekisho.Observation{"hegel_export": {ExternalID: "jr_1", FinishedAt: t0.Add(-time.Hour)}}}
}

const runID = "sekisho__socrates_daily__2025-04-02__1"

func TestHappyPath(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, v, airflowsim.Options{Auth: airflowsim.AuthBearer, Tokens: []string{"tok"}})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: 40 * time.Minute})
			req := request(sekisho.TriggerSpec{Conf: map[string]any{
				"target_date": "{{ .LogicalDate }}", "export": "{{ .Upstreams.hegel_export.ExternalID }}",
				"retries": 2, "tags": []any{"{{ .Pipeline }}"}}})
			run, err := e.trig.Start(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if run.ExternalID != runID || run.State != sekisho.JobRunning {
				t.Fatalf("Start = %+v", run)
			}
			tr := e.sim.Triggers()
			if len(tr) != 1 || tr[0].Status != 200 {
				t.Fatalf("triggers %+v", tr)
			}
			c := tr[0].Conf
			if c["target_date"] != "2025-04-02" || c["export"] != "jr_1" || c["retries"] != float64(2) ||
				c["tags"].([]any)[0] != "socrates_daily" {
				t.Fatalf("conf %v", c)
			}
			if tr[0].Note != "triggered by sekisho: socrates_daily 2025-04-02 attempt 1" {
				t.Fatalf("note %q", tr[0].Note)
			}
			e.clock.Advance(10 * time.Minute)
			if run, err = e.trig.Status(ctx, req, runID); err != nil || run.State != sekisho.JobRunning || !run.StartedAt.Equal(t0) {
				t.Fatalf("Status = %+v, %v", run, err)
			}
			e.clock.Advance(time.Hour)
			run, err = e.trig.Status(ctx, req, runID)
			if err != nil || run.State != sekisho.JobSucceeded || !run.FinishedAt.Equal(t0.Add(40*time.Minute)) {
				t.Fatalf("Status = %+v, %v", run, err)
			}
		})
	}
}

func TestRepeatedStartFollowsTheSameRun(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, v, airflowsim.Options{})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: time.Hour})
			req := request(sekisho.TriggerSpec{})
			if _, err := e.trig.Start(ctx, req); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Minute)
			run, err := e.trig.Start(ctx, req) // a restart repeats the request
			if err != nil || run.ExternalID != runID || run.State != sekisho.JobRunning || !run.StartedAt.Equal(t0) {
				t.Fatalf("second Start = %+v, %v", run, err)
			}
			tr := e.sim.Triggers()
			if len(tr) != 2 || tr[0].Status != 200 || tr[1].Status != 409 || len(e.sim.Runs("socrates_main")) != 1 {
				t.Fatalf("want one run created and one 409: %+v", tr)
			}
		})
	}
}

func TestPausedDAG(t *testing.T) {
	tests := []struct {
		name    string
		unpause bool
	}{{"fails without unpause", false}, {"unpauses first", true}}
	for _, tt := range tests {
		for _, v := range []string{"v1", "v2"} {
			t.Run(tt.name+" "+v, func(t *testing.T) {
				e := newEnv(t, v, airflowsim.Options{})
				e.sim.AddDAG("socrates_main", airflowsim.DAG{Paused: true})
				run, err := e.trig.Start(context.Background(), request(sekisho.TriggerSpec{Unpause: tt.unpause}))
				if !tt.unpause {
					if !errors.Is(err, sekisho.ErrPaused) {
						t.Fatalf("err = %v, want ErrPaused", err)
					}
					want := "DAG socrates_main is paused in composer-prod; unpause it or set trigger.unpause: true"
					if !strings.Contains(err.Error(), want) {
						t.Fatalf("err %q lacks %q", err, want)
					}
					if len(e.sim.Triggers()) != 0 || !e.sim.Paused("socrates_main") {
						t.Fatal("a paused DAG was triggered or unpaused")
					}
					return
				}
				if err != nil || run.ExternalID != runID {
					t.Fatalf("Start = %+v, %v", run, err)
				}
				if e.sim.Paused("socrates_main") || e.sim.Requests()["patch_dag"] != 1 {
					t.Fatalf("not unpaused: %v", e.sim.Requests())
				}
			})
		}
	}
}

func TestFailingRun(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, "v2", airflowsim.Options{})
	e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: time.Hour})
	e.sim.PlanRun("socrates_main", runID, airflowsim.Plan{Outcome: "failed", Duration: 5 * time.Minute})
	req := request(sekisho.TriggerSpec{})
	if _, err := e.trig.Start(ctx, req); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(6 * time.Minute)
	run, err := e.trig.Status(ctx, req, runID)
	if err != nil || run.State != sekisho.JobFailed || run.Message == "" || !run.FinishedAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("Status = %+v, %v", run, err)
	}
}

func TestTemplateErrorIsRejectedWithoutCalls(t *testing.T) {
	tests := []struct {
		name string
		spec sekisho.TriggerSpec
	}{
		{"conf typo", sekisho.TriggerSpec{Conf: map[string]any{"d": "{{ .LogicalDay }}"}}},
		{"conf parse", sekisho.TriggerSpec{Conf: map[string]any{"d": "{{ .LogicalDate"}}},
		{"unknown upstream", sekisho.TriggerSpec{Conf: map[string]any{"d": "{{ .Upstreams.nope.ExternalID }}"}}},
		{"note", sekisho.TriggerSpec{Note: "{{ .Nope }}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "v1", airflowsim.Options{})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Paused: true})
			_, err := e.trig.Start(context.Background(), request(tt.spec))
			if !errors.Is(err, sekisho.ErrRejected) {
				t.Fatalf("err = %v, want ErrRejected", err)
			}
			if n := e.sim.Requests()["total"]; n != 0 {
				t.Fatalf("%d requests sent for a broken template", n)
			}
		})
	}
}

func TestUnknownDAGIsRejected(t *testing.T) {
	e := newEnv(t, "v1", airflowsim.Options{})
	_, err := e.trig.Start(context.Background(), request(sekisho.TriggerSpec{DagID: "missing"}))
	if !errors.Is(err, sekisho.ErrRejected) || e.sim.Requests()["total"] != 1 {
		t.Fatalf("err = %v, requests %v", err, e.sim.Requests())
	}
}

// TestFaultsReachTheSameEnd drives the trigger the way the engine does
// (transient errors are retried on the next pass) through 30% injected
// faults: every run ends as scripted, once, and never falsely failed.
func TestFaultsReachTheSameEnd(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, v, airflowsim.Options{Seed: 42, Faults: airflowsim.Faults{
				ServerError: 0.12, TooMany: 0.06, Slow: 0.06, Malformed: 0.06, SlowDelay: 60 * time.Millisecond}},
				airflowapi.WithTimeout(30*time.Millisecond), airflowapi.WithBackoff(time.Millisecond, time.Millisecond, 1))
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: 30 * time.Minute})
			const days = 12
			want := map[string]sekisho.JobState{}
			for d := 1; d <= days; d++ {
				req := request(sekisho.TriggerSpec{})
				req.LogicalDate = time.Date(2025, 4, d, 0, 0, 0, 0, time.UTC).Format(sekisho.DateLayout)
				req.Key = req.LogicalDate
				id := sekisho.DagRunID(req.Pipeline, req.Key, 1)
				want[id] = sekisho.JobSucceeded
				if d%3 == 0 {
					e.sim.PlanRun("socrates_main", id, airflowsim.Plan{Outcome: "failed"})
					want[id] = sekisho.JobFailed
				}
				var run sekisho.JobRun
				var err error
				for pass := 0; ; pass++ {
					if pass > 50 {
						t.Fatalf("%s: Start never succeeded: %v", id, err)
					}
					if run, err = e.trig.Start(ctx, req); err == nil {
						break
					}
					if errors.Is(err, sekisho.ErrRejected) || errors.Is(err, sekisho.ErrPaused) {
						t.Fatalf("%s: a fault became permanent: %v", id, err)
					}
				}
				e.clock.Advance(31 * time.Minute)
				for pass := 0; run.State != want[id]; pass++ {
					if pass > 50 {
						t.Fatalf("%s: never reached %s: %+v %v", id, want[id], run, err)
					}
					got, err := e.trig.Status(ctx, req, id)
					if err != nil {
						if errors.Is(err, sekisho.ErrRejected) {
							t.Fatalf("%s: a fault became permanent: %v", id, err)
						}
						continue
					}
					if got.State == sekisho.JobFailed && want[id] != sekisho.JobFailed {
						t.Fatalf("%s: false failure", id)
					}
					run = got
				}
			}
			created := map[string]int{}
			for _, tr := range e.sim.Triggers() {
				if tr.Status == 200 {
					created[tr.DagRunID]++
				}
			}
			for id := range want {
				if created[id] != 1 {
					t.Fatalf("%s created %d times", id, created[id])
				}
			}
			f := e.sim.Faults()
			if f["server_error"]+f["too_many"]+f["slow"]+f["malformed"] < 5 {
				t.Fatalf("too few faults injected to mean anything: %v", f)
			}
			t.Logf("faults %v, requests %v", f, e.sim.Requests())
		})
	}
}

// A sub-daily run's dag_run_id carries its fire time (SPEC §19), and the
// Airflow API (checked against its OpenAPI document by the simulator)
// takes it; the note and the {{ .Key }} template name the run.
func TestSubDailyRunID(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, v, airflowsim.Options{Auth: airflowsim.AuthBearer, Tokens: []string{"tok"}})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: 10 * time.Minute})
			req := request(sekisho.TriggerSpec{Conf: map[string]any{"hour": "{{ .Key }}"}})
			req.Key = "2025-04-02T13:00"
			run, err := e.trig.Start(ctx, req)
			const want = "sekisho__socrates_daily__2025-04-02T1300__1"
			if err != nil || run.ExternalID != want {
				t.Fatalf("Start = %+v, %v; want %s", run, err, want)
			}
			tr := e.sim.Triggers()
			if len(tr) != 1 || tr[0].Conf["hour"] != "2025-04-02T13:00" ||
				tr[0].Note != "triggered by sekisho: socrates_daily 2025-04-02T13:00 attempt 1" {
				t.Fatalf("triggers %+v", tr)
			}
			if again, err := e.trig.Start(ctx, req); err != nil || again.ExternalID != want || len(e.sim.Triggers()) != 2 {
				t.Fatalf("second Start = %+v, %v", again, err)
			}
			if runs := e.sim.Runs("socrates_main"); len(runs) != 1 {
				t.Fatalf("%d DAG runs, want 1", len(runs))
			}
		})
	}
}

// TestSubDailyRerunClearsItsOwnRun: an operator's rerun of a failed hour
// whose DAG run holds a logical date (the gate, logical_date: fire) clears
// that hour's run, which sekisho made, instead of refusing it as a
// stranger's (its id names the interval, not the date).
func TestSubDailyRerunClearsItsOwnRun(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, v, airflowsim.Options{})
			const id = "sekisho__socrates_daily__2025-04-02T1300__1"
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: 10 * time.Minute})
			e.sim.PlanRun("socrates_main", id, airflowsim.Plan{Outcome: "failed"})
			req := request(sekisho.TriggerSpec{LogicalDate: sekisho.LogicalDateFire})
			req.Key = "2025-04-02T13:00"
			if run, err := e.trig.Start(ctx, req); err != nil || run.ExternalID != id {
				t.Fatalf("attempt 1 = %+v, %v", run, err)
			}
			e.clock.Advance(time.Hour)
			req.Attempt, req.IntentAt = 2, e.clock.Now()
			run, err := e.trig.Start(ctx, req)
			if err != nil || run.ExternalID != id || run.State != sekisho.JobRunning {
				t.Fatalf("attempt 2 = %+v, %v", run, err)
			}
			if n := cleared(e); n != 1 || len(e.sim.Triggers()) != 1 {
				t.Fatalf("%d clears, %d triggers; want the hour's run cleared once", n, len(e.sim.Triggers()))
			}
		})
	}
}
