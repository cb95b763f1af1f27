package airflow_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
)

// TestDagRunsCarryTheConfiguredLogicalDate: the gate of 2025-04-02 opens at
// 02:00 JST (t0, 17:00 UTC the day before); its schedule fired the day
// before at the same time. Each mode gives the DAG run the documented
// logical date, data interval and ds (docs/airflow.md), on both APIs.
func TestDagRunsCarryTheConfiguredLogicalDate(t *testing.T) {
	prev := t0.Add(-24 * time.Hour)
	for _, tc := range []struct {
		version, mode       string
		logical, start, end time.Time
		ds                  string
		fails               bool
	}{
		{"v1", "fire", t0, t0, t0, "2025-04-01", false},
		{"v2", "fire", t0, t0, t0, "2025-04-01", false},
		{"v1", "interval_start", prev, prev, t0, "2025-03-31", false},
		{"v2", "interval_start", prev, prev, t0, "2025-03-31", false},
		// none: Airflow 2 takes the trigger time; Airflow 3 gives no ds,
		// and a DAG whose templates read it fails.
		{"v1", "none", t0.Add(5 * time.Minute), t0.Add(5 * time.Minute), t0.Add(5 * time.Minute), "2025-04-01", false},
		{"v2", "none", time.Time{}, time.Time{}, time.Time{}, "", true},
		{"v1", "{{ .LogicalDate }}T00:00:00+09:00", t0.Add(-2 * time.Hour), t0.Add(-2 * time.Hour), t0.Add(-2 * time.Hour), "2025-04-01", false},
		{"v2", "{{ .LogicalDate }}T00:00:00+09:00", t0.Add(-2 * time.Hour), t0.Add(-2 * time.Hour), t0.Add(-2 * time.Hour), "2025-04-01", false},
	} {
		t.Run(tc.version+" "+tc.mode, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, tc.version, airflowsim.Options{})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: 10 * time.Minute, NeedsDS: true})
			e.clock.Advance(5 * time.Minute) // the trigger comes a little after the gate
			req := request(sekisho.TriggerSpec{LogicalDate: tc.mode})
			req.IntervalStart = prev
			if _, err := e.trig.Start(ctx, req); err != nil {
				t.Fatal(err)
			}
			r, ok := e.sim.GetRun("socrates_main", runID)
			if !ok {
				t.Fatal("no run")
			}
			if !r.LogicalDate.Equal(tc.logical) || !r.DataIntervalStart.Equal(tc.start) || !r.DataIntervalEnd.Equal(tc.end) || r.DS() != tc.ds {
				t.Fatalf("run: logical %v interval %v – %v ds %q; want %v %v – %v %q",
					r.LogicalDate, r.DataIntervalStart, r.DataIntervalEnd, r.DS(), tc.logical, tc.start, tc.end, tc.ds)
			}
			e.clock.Advance(time.Hour)
			got, err := e.trig.Status(ctx, req, runID)
			if err != nil || (got.State == sekisho.JobFailed) != tc.fails {
				t.Fatalf("Status = %+v, %v; want failed %v", got, err, tc.fails)
			}
		})
	}
}

// failedFirstAttempt creates attempt 1's DAG run, lets it fail, and returns
// attempt 2's request with its intent recorded after that.
func failedFirstAttempt(t *testing.T, e *env) sekisho.TriggerRequest {
	t.Helper()
	ctx := context.Background()
	e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: 10 * time.Minute})
	e.sim.PlanRun("socrates_main", runID, airflowsim.Plan{Outcome: "failed"})
	req := request(sekisho.TriggerSpec{LogicalDate: sekisho.LogicalDateIntervalStart})
	req.IntervalStart = t0.Add(-24 * time.Hour)
	req.IntentAt = e.clock.Now()
	if _, err := e.trig.Start(ctx, req); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	if r, _ := e.sim.GetRun("socrates_main", runID); r.State != "failed" {
		t.Fatalf("attempt 1's run is %s", r.State)
	}
	req.Attempt, req.IntentAt = 2, e.clock.Now()
	return req
}

func cleared(e *env) int {
	n := 0
	for _, c := range e.sim.Clears() {
		if c.Cleared {
			n++
		}
	}
	return n
}

// TestRerunClearsOnceAcrossCrashes: a rerun of a run that sent a logical
// date clears the DAG run holding it, never creates one, and keeps its
// id. Start is repeated as a restart repeats it after a SIGKILL at each
// step: before the clear (the intent recorded, nothing sent), after the
// clear reached Airflow but before its answer was recorded (the run
// queued, or running), and after the cleared run had already ended again.
// Each attempt clears exactly once; attempt 3 clears once more.
func TestRerunClearsOnceAcrossCrashes(t *testing.T) {
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, v, airflowsim.Options{})
			req := failedFirstAttempt(t, e)
			// Killed before the clear: the restart's Start is the first.
			run, err := e.trig.Start(ctx, req)
			if err != nil || run.ExternalID != runID || run.State != sekisho.JobRunning {
				t.Fatalf("attempt 2 = %+v, %v", run, err)
			}
			// Killed after the clear went out: the run is queued.
			if run, err = e.trig.Start(ctx, req); err != nil || run.ExternalID != runID {
				t.Fatalf("restart while queued = %+v, %v", run, err)
			}
			e.clock.Advance(5 * time.Minute) // running
			if run, err = e.trig.Start(ctx, req); err != nil || run.State != sekisho.JobRunning {
				t.Fatalf("restart while running = %+v, %v", run, err)
			}
			e.clock.Advance(time.Hour) // the cleared run succeeded while sekisho was down
			if run, err = e.trig.Start(ctx, req); err != nil || run.State != sekisho.JobSucceeded {
				t.Fatalf("restart after the run ended = %+v, %v", run, err)
			}
			if n := cleared(e); n != 1 {
				t.Fatalf("attempt 2 cleared %d times: %+v", n, e.sim.Clears())
			}
			// Attempt 3, an operator's rerun of the succeeded day.
			e.clock.Advance(time.Minute)
			req.Attempt, req.IntentAt = 3, e.clock.Now()
			for range 2 {
				if run, err = e.trig.Start(ctx, req); err != nil || run.ExternalID != runID {
					t.Fatalf("attempt 3 = %+v, %v", run, err)
				}
			}
			if n := cleared(e); n != 2 {
				t.Fatalf("after attempt 3: %d clears", n)
			}
			if tr := e.sim.Triggers(); len(tr) != 1 {
				t.Fatalf("a rerun posted a new DAG run: %+v", tr)
			}
			r, _ := e.sim.GetRun("socrates_main", runID)
			if r.ClearNumber != 2 || !r.LogicalDate.Equal(t0.Add(-24*time.Hour)) || len(r.Tries) != 2 ||
				r.Tries[0].State != "failed" || !r.FirstSuccess().Equal(r.Tries[1].EndDate) {
				t.Fatalf("run %+v", r)
			}
		})
	}
}

// TestForeignRunHoldingTheDateIsReported: a run sekisho did not create (a
// scheduled run, or one triggered by hand) holds the logical date. The
// attempt fails with ErrLogicalDateTaken naming that run, on the first
// attempt (Airflow's 409) and on a rerun; the foreign run is never cleared
// nor followed.
func TestForeignRunHoldingTheDateIsReported(t *testing.T) {
	const foreign = "scheduled__2025-03-31T17:00:00+00:00"
	for _, v := range []string{"v1", "v2"} {
		t.Run(v, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t, v, airflowsim.Options{})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{Duration: 10 * time.Minute})
			e.sim.AddRun("socrates_main", foreign, t0, airflowsim.Plan{}) // logical date t0 - 24h
			req := request(sekisho.TriggerSpec{LogicalDate: sekisho.LogicalDateIntervalStart})
			req.IntervalStart = t0.Add(-24 * time.Hour)
			for attempt := 1; attempt <= 2; attempt++ {
				e.clock.Advance(time.Hour)
				req.Attempt, req.IntentAt = attempt, e.clock.Now()
				_, err := e.trig.Start(ctx, req)
				if !errors.Is(err, sekisho.ErrLogicalDateTaken) || !strings.Contains(err.Error(), foreign) {
					t.Fatalf("attempt %d: %v", attempt, err)
				}
			}
			if n := len(e.sim.Clears()); n != 0 {
				t.Fatalf("the foreign run was cleared: %+v", e.sim.Clears())
			}
			if runs := e.sim.Runs("socrates_main"); len(runs) != 1 {
				t.Fatalf("runs %+v", runs)
			}
		})
	}
}
