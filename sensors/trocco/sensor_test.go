package trocco_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/sensors/trocco"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
)

const key = "sensor-test-key"

var gate = time.Date(2026, 3, 2, 2, 0, 0, 0, troccosim.JST)

// memLedger is an in-memory sekisho.JobLedger.
type memLedger struct {
	mu   sync.Mutex
	jobs map[string]map[string]time.Time
}

func newLedger() *memLedger { return &memLedger{jobs: map[string]map[string]time.Time{}} }

func (l *memLedger) LearnJob(_ context.Context, res, id string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.jobs[res] == nil {
		l.jobs[res] = map[string]time.Time{}
	}
	if _, ok := l.jobs[res][id]; !ok {
		l.jobs[res][id] = at
	}
	return nil
}

func (l *memLedger) LearnedJobs(_ context.Context, res string, since time.Time) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for id, at := range l.jobs[res] {
		if !at.Before(since) {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

type fixture struct {
	sim    *troccosim.Sim
	clk    *clockwork.FakeClock
	ledger *memLedger
	sensor *trocco.Sensor
}

func newFixture(t *testing.T, faults troccosim.Faults) *fixture {
	t.Helper()
	clk := clockwork.NewFakeClockAt(gate.Add(-time.Hour))
	sim := troccosim.New(troccosim.Options{Token: key, Clock: clk, PageSize: 2, Faults: faults, Seed: 7})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	api, err := troccoapi.New(srv.URL, key, troccoapi.WithClock(clk), troccoapi.WithPageSize(2),
		troccoapi.WithRetry(2, time.Millisecond, 2*time.Millisecond), troccoapi.WithMaxRateLimitWait(5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	l := newLedger()
	return &fixture{sim: sim, clk: clk, ledger: l, sensor: trocco.New(api, l, trocco.WithClock(clk))}
}

func jobRes(id string) sekisho.Resource { return sekisho.Resource{Type: trocco.TypeJob, ID: id} }
func wfRes(id string) sekisho.Resource  { return sekisho.Resource{Type: trocco.TypeWorkflow, ID: id} }

func TestTransferJobStateMapping(t *testing.T) {
	tests := []struct {
		status string
		want   sekisho.JobState
	}{
		{"succeeded", sekisho.JobSucceeded}, {"skipped", sekisho.JobFailed},
		{"error", sekisho.JobFailed}, {"canceled", sekisho.JobFailed},
		{"interrupting", sekisho.JobRunning}, {"retry_waiting", sekisho.JobRunning},
		{"mystery", sekisho.JobRunning},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			f := newFixture(t, troccosim.Faults{})
			id := f.sim.AddJob(55, gate.Add(-30*time.Minute), troccosim.Outcome{RunFor: 20 * time.Minute, Status: tt.status})
			f.clk.Advance(time.Hour) // past its end: the status is the scripted one
			runs, err := f.sensor.Runs(context.Background(), jobRes("55"), gate.Add(-2*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != 1 || runs[0].ExternalID != itoa(id) || runs[0].State != tt.want {
				t.Fatalf("runs %+v, want job %d %s", runs, id, tt.want)
			}
			if tt.want.Ended() && runs[0].FinishedAt.IsZero() {
				t.Error("an ended job needs its finish time")
			}
			if !tt.want.Ended() && !runs[0].FinishedAt.IsZero() {
				t.Error("a running job has no finish time")
			}
		})
	}
}

// TestSkippedTransferJob: a job TROCCO skipped did not run; the sensor
// reports it failed, marked Skipped, with the reason "skipped by TROCCO",
// so an upstream fails unless it says skipped_is_success.
func TestSkippedTransferJob(t *testing.T) {
	f := newFixture(t, troccosim.Faults{})
	id := f.sim.SkipJob(55, gate.Add(-30*time.Minute))
	f.clk.Advance(time.Hour)
	runs, err := f.sensor.Runs(context.Background(), jobRes("55"), gate.Add(-2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("runs %+v", runs)
	}
	r := runs[0]
	if r.ExternalID != itoa(id) || r.State != sekisho.JobFailed || !r.Skipped || r.Message != "skipped by TROCCO (job "+itoa(id)+")" ||
		r.FinishedAt.IsZero() {
		t.Errorf("skipped job: %+v", r)
	}
	if r.SkippedAs(true) != sekisho.JobSucceeded || r.SkippedAs(false) != sekisho.JobFailed {
		t.Errorf("SkippedAs: %v %v", r.SkippedAs(true), r.SkippedAs(false))
	}
}

func TestTransferJobProgressAndWindow(t *testing.T) {
	f := newFixture(t, troccosim.Faults{})
	f.sim.AddJob(55, gate.Add(-26*time.Hour), troccosim.Outcome{RunFor: time.Minute, Status: "error"}) // yesterday's
	var ids []int64
	for i := range 3 { // three pages of two with the old one
		ids = append(ids, f.sim.AddJob(55, gate.Add(time.Duration(i)*time.Minute), troccosim.Outcome{RunFor: 10 * time.Minute, Status: "succeeded"}))
	}
	ctx := context.Background()
	window := gate.Add(-2 * time.Hour)
	runs, _ := f.sensor.Runs(ctx, jobRes("55"), window)
	if len(runs) != 0 {
		t.Fatalf("before the jobs start: %+v", runs)
	}
	f.clk.Advance(time.Hour + 5*time.Second) // gate+5s: the first job is queued
	runs, _ = f.sensor.Runs(ctx, jobRes("55"), window)
	if len(runs) != 1 || runs[0].State != sekisho.JobRunning || !runs[0].StartedAt.Equal(gate) {
		t.Fatalf("queued job: %+v", runs)
	}
	f.clk.Advance(time.Hour)
	runs, err := f.sensor.Runs(ctx, jobRes("55"), window)
	if err != nil || len(runs) != 3 {
		t.Fatalf("runs %+v err %v", runs, err)
	}
	latest, _ := sekisho.Latest(runs, window)
	if latest.ExternalID != itoa(ids[2]) || latest.State != sekisho.JobSucceeded {
		t.Errorf("latest %+v", latest)
	}
}

func TestWorkflowFollowsLedger(t *testing.T) {
	f := newFixture(t, troccosim.Faults{})
	ctx := context.Background()
	f.clk.Advance(time.Hour)
	failed := f.sim.StartWorkflowJob(1234, gate, troccosim.Outcome{RunFor: 10 * time.Minute, Status: "error"})
	other := f.sim.StartWorkflowJob(999, gate, troccosim.Outcome{RunFor: time.Minute, Status: "succeeded"})
	res := wfRes("1234")
	runs, err := f.sensor.Runs(ctx, res, gate.Add(-time.Hour))
	if err != nil || len(runs) != 0 {
		t.Fatalf("nothing learned yet: %+v %v", runs, err)
	}
	// A pushed event announces the job; a typo'd id and another workflow's job are ignored.
	f.ledger.LearnJob(ctx, res.Key(), itoa(failed), f.clk.Now())
	f.ledger.LearnJob(ctx, res.Key(), "424242", f.clk.Now())
	f.ledger.LearnJob(ctx, res.Key(), itoa(other), f.clk.Now())
	f.clk.Advance(11 * time.Minute)
	runs, err = f.sensor.Runs(ctx, res, gate.Add(-time.Hour))
	if err != nil || len(runs) != 1 || runs[0].State != sekisho.JobFailed || runs[0].Message == "" {
		t.Fatalf("runs %+v err %v", runs, err)
	}
	// The rerun succeeds; the ended job is not asked again.
	rerun := f.sim.StartWorkflowJob(1234, f.clk.Now(), troccosim.Outcome{RunFor: 10 * time.Minute, Status: "succeeded"})
	f.ledger.LearnJob(ctx, res.Key(), itoa(rerun), f.clk.Now())
	f.clk.Advance(5 * time.Minute)
	before := f.sim.Counts()["GET /api/pipeline_jobs/"+itoa(failed)]
	runs, _ = f.sensor.Runs(ctx, res, gate.Add(-time.Hour))
	latest, _ := sekisho.Latest(runs, gate.Add(-time.Hour))
	if latest.ExternalID != itoa(rerun) || latest.State != sekisho.JobRunning {
		t.Fatalf("latest %+v of %+v", latest, runs)
	}
	f.clk.Advance(10 * time.Minute)
	runs, _ = f.sensor.Runs(ctx, res, gate.Add(-time.Hour))
	latest, _ = sekisho.Latest(runs, gate.Add(-time.Hour))
	if latest.State != sekisho.JobSucceeded {
		t.Fatalf("latest %+v", latest)
	}
	if after := f.sim.Counts()["GET /api/pipeline_jobs/"+itoa(failed)]; after != before {
		t.Errorf("ended job asked %d more times", after-before)
	}
}

func TestWorkflowWithoutLedgerAndBadIDs(t *testing.T) {
	f := newFixture(t, troccosim.Faults{})
	s := trocco.New(nil, nil)
	if _, err := s.Runs(context.Background(), wfRes("1"), gate); err == nil {
		t.Error("a workflow sensor without a ledger must say so")
	}
	if _, err := f.sensor.Runs(context.Background(), jobRes("abc"), gate); !errors.Is(err, sekisho.ErrNotFound) {
		t.Errorf("bad id: %v", err)
	}
	f.sim.DeleteJobDefinition(77)
	if _, err := f.sensor.Runs(context.Background(), jobRes("77"), gate); !errors.Is(err, sekisho.ErrNotFound) {
		t.Errorf("deleted definition (403): %v", err)
	}
}

// With 30% of answers broken (5xx, 429, garbled JSON), polling converges to
// the same final states as a clean run and never reports a false failure.
func TestFaultsNeverFakeAFailure(t *testing.T) {
	f := newFixture(t, troccosim.Faults{ServerError: 0.1, RateLimit: 0.1, Malformed: 0.1, ResetIn: time.Millisecond})
	ctx := context.Background()
	okJob := f.sim.AddJob(55, gate, troccosim.Outcome{RunFor: 30 * time.Minute, Status: "succeeded"})
	for i := range 4 {
		f.sim.AddJob(55, gate.Add(-time.Duration(i+1)*time.Minute), troccosim.Outcome{RunFor: time.Minute, Status: "skipped"})
	}
	badJob := f.sim.AddJob(56, gate, troccosim.Outcome{RunFor: 20 * time.Minute, Status: "error"})
	wf := f.sim.StartWorkflowJob(1234, gate, troccosim.Outcome{RunFor: 40 * time.Minute, Status: "succeeded"})
	f.ledger.LearnJob(ctx, wfRes("1234").Key(), itoa(wf), gate)
	window := gate.Add(-time.Hour)
	want := map[string]sekisho.JobState{"55": sekisho.JobSucceeded, "56": sekisho.JobFailed, "1234": sekisho.JobSucceeded}
	last := map[string]sekisho.JobState{}
	errs := 0
	for step := 0; step < 120; step++ { // two hours of one-minute pokes
		f.clk.Advance(time.Minute)
		for _, r := range []sekisho.Resource{jobRes("55"), jobRes("56"), wfRes("1234")} {
			runs, err := f.sensor.Runs(ctx, r, window)
			if err != nil {
				errs++
				continue // the engine keeps the last known state
			}
			latest, ok := sekisho.Latest(runs, window)
			if !ok {
				continue
			}
			if latest.State == sekisho.JobFailed && want[r.ID] != sekisho.JobFailed {
				t.Fatalf("false failure of %s at step %d: %+v", r, step, latest)
			}
			last[r.ID] = latest.State
		}
	}
	for id, st := range want {
		if last[id] != st {
			t.Errorf("%s ended %s, want %s", id, last[id], st)
		}
	}
	faults := f.sim.FaultCounts()
	if faults["server_error"] == 0 || faults["rate_limit"] == 0 || faults["malformed"] == 0 {
		t.Errorf("faults were not injected: %v", faults)
	}
	t.Logf("faults %v, sensor errors %d, requests %d; jobs %d %d", faults, errs, f.sim.Total(), okJob, badJob)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
