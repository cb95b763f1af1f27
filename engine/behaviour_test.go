package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

func glueUp(name, job string) config.Upstream {
	return config.Upstream{Name: name, Type: config.TypeGlueJob, JobName: job}
}

var dagTrigger = &sekisho.TriggerSpec{Type: config.TypeAirflowDag, Connection: "prod", DagID: "mart"}

func (h *harness) run(p, date string) sekisho.Run {
	h.t.Helper()
	r, err := h.st.Run(context.Background(), p, date)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *harness) step() {
	h.t.Helper()
	if err := h.eng.Step(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

func TestCatchUpAfterDowntime(t *testing.T) {
	// The daemon starts at 02:05; the 02:00 gate fired while it was down.
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, nil)
	h := newHarness(t, jst(1, 2, 5), a)
	h.step()
	r := h.run("a", "2026-11-01")
	if !r.GateAt.Equal(jst(1, 2, 0)) || r.State != sekisho.StateWaiting {
		t.Fatalf("caught-up run = %+v", r)
	}
	// A day older than the timeout is not recreated.
	if _, err := h.st.Run(context.Background(), "a", "2026-10-31"); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("yesterday's gate was recreated: %v", err)
	}
}

func TestConditionExpressionAndFailPolicy(t *testing.T) {
	ups := []config.Upstream{glueUp("x", "x"), glueUp("y", "y"), glueUp("z", "z")}
	a := pipeline("a", "0 2 * * *", ups, nil)
	a.Condition = "x && (y || z)"
	b := pipeline("b", "0 2 * * *", ups, nil)
	b.Condition = "x && y"
	b.OnUpstreamFailure = "fail"
	h := newHarness(t, jst(1, 2, 0), a, b)
	h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 2, 0), end: jst(1, 2, 10), final: sekisho.JobSucceeded}}
	h.jobs.runs["glue_job:y"] = []scripted{{id: "y1", start: jst(1, 2, 0), end: jst(1, 2, 10), final: sekisho.JobFailed, message: "boom"}}
	h.jobs.runs["glue_job:z"] = []scripted{{id: "z1", start: jst(1, 2, 0), end: jst(1, 2, 20), final: sekisho.JobSucceeded}}
	h.runUntil(jst(1, 2, 30), 5*time.Minute, time.Hour)
	if r := h.run("a", "2026-11-01"); r.State != sekisho.StateSucceeded || !r.FinishedAt.Equal(jst(1, 2, 20)) {
		t.Errorf("a (x && (y || z)) = %s at %v, want succeeded at 02:20", r.State, r.FinishedAt.In(tokyo))
	}
	if r := h.run("b", "2026-11-01"); r.State != sekisho.StateFailed || !strings.Contains(r.Message, "upstream y failed (y1): boom") {
		t.Errorf("b (fail policy) = %s %q", r.State, r.Message)
	}
}

func TestSharedPollingOneRequestPerResource(t *testing.T) {
	var ps []*config.Pipeline
	for i := 0; i < 50; i++ {
		// 50 pipelines on 5 distinct jobs.
		ps = append(ps, pipeline(fmt.Sprintf("p%02d", i), "0 2 * * *", []config.Upstream{glueUp("u", fmt.Sprintf("job%d", i%5))}, nil))
	}
	h := newHarness(t, jst(1, 2, 0), ps...)
	for i := 0; i < 10; i++ { // ten poke intervals
		h.step()
		h.clock.Advance(5 * time.Minute)
	}
	for j := 0; j < 5; j++ {
		if n := h.jobs.calls[fmt.Sprintf("glue_job:job%d", j)]; n != 10 {
			t.Errorf("job%d polled %d times in 10 intervals, want 10", j, n)
		}
	}
	// Once every run is done, nothing is polled any more.
	for j := 0; j < 5; j++ {
		h.jobs.runs[fmt.Sprintf("glue_job:job%d", j)] = []scripted{{id: "r", start: jst(1, 2, 0), end: jst(1, 2, 1), final: sekisho.JobSucceeded}}
	}
	h.step()
	before := h.jobs.calls["glue_job:job0"]
	h.clock.Advance(time.Hour)
	h.step()
	h.step()
	if after := h.jobs.calls["glue_job:job0"]; after != before {
		t.Errorf("a resource nobody waits on was polled: %d -> %d", before, after)
	}
}

// flakySensor fails every other call.
type flakySensor struct {
	inner sekisho.Sensor
	mu    sync.Mutex
	n     int
}

func (f *flakySensor) Runs(ctx context.Context, r sekisho.Resource, since time.Time) ([]sekisho.JobRun, error) {
	f.mu.Lock()
	f.n++
	n := f.n
	f.mu.Unlock()
	if n%2 == 0 {
		return nil, errors.New("ThrottlingException: Rate exceeded")
	}
	return f.inner.Runs(ctx, r, since)
}

func TestSensorErrorsNeverFailAnUpstream(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
	h := newHarness(t, jst(1, 2, 0), a)
	h.eng.SetAdapters(map[string]sekisho.Sensor{config.TypeGlueJob: &flakySensor{inner: h.jobs}},
		map[string]sekisho.Trigger{config.TypeAirflowDag: h.dags})
	h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 1, 0), end: jst(1, 2, 30), final: sekisho.JobSucceeded}}
	h.runUntil(jst(1, 4, 0), 5*time.Minute, time.Hour)
	r := h.run("a", "2026-11-01")
	if r.State != sekisho.StateSucceeded {
		t.Fatalf("state = %s", r.State)
	}
	obs, _ := h.st.Observations(context.Background(), r.ID)
	sawError := false
	for _, o := range obs {
		if o.State == sekisho.JobFailed {
			t.Fatalf("a check error made the upstream failed: %+v", o)
		}
		if strings.Contains(o.Error, "Rate exceeded") {
			sawError = true
			if o.State != sekisho.JobRunning {
				t.Errorf("error observation lost the last known state: %+v", o)
			}
		}
	}
	if !sawError {
		t.Error("the check error was not recorded with the observation")
	}
}

// scriptedTrigger answers Start with an error from a list, then accepts.
type scriptedTrigger struct {
	*fakeDags
	errs       []error
	idempotent bool
}

func (s *scriptedTrigger) Start(ctx context.Context, req sekisho.TriggerRequest) (sekisho.JobRun, error) {
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		if err != nil {
			return sekisho.JobRun{}, err
		}
	}
	return s.fakeDags.Start(ctx, req)
}

func (s *scriptedTrigger) Idempotent() bool { return s.idempotent }

func TestTriggerOutcomes(t *testing.T) {
	tests := []struct {
		name       string
		errs       []error
		idempotent bool
		retry      bool
		state      sekisho.State
		reason     string
		notice     sekisho.NoticeKind
		posts      int
	}{
		{"accepted", nil, true, false, sekisho.StateSucceeded, sekisho.ReasonDownstreamSuccess, "", 1},
		{"paused", []error{fmt.Errorf("DAG mart is paused: %w", sekisho.ErrPaused)}, true, false, sekisho.StateFailed, sekisho.ReasonDagPaused, sekisho.NoticeTriggerFailed, 0},
		{"rejected", []error{fmt.Errorf("403: %w", sekisho.ErrRejected)}, true, false, sekisho.StateFailed, sekisho.ReasonTriggerRejected, sekisho.NoticeTriggerFailed, 0},
		{"transient then ok", []error{errors.New("503"), errors.New("503")}, true, false, sekisho.StateSucceeded, sekisho.ReasonDownstreamSuccess, "", 1},
		{"unknown outcome without idempotency", []error{errors.New("connection reset")}, false, false, sekisho.StateFailed, sekisho.ReasonTriggerUnknown, sekisho.NoticeTriggerUnknown, 0},
		{"unknown outcome, retry allowed", []error{errors.New("connection reset")}, false, true, sekisho.StateSucceeded, sekisho.ReasonDownstreamSuccess, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			trig := *dagTrigger
			trig.RetryUnknown = tt.retry
			a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, &trig)
			h := newHarness(t, jst(1, 2, 0), a)
			st := &scriptedTrigger{fakeDags: h.dags, errs: tt.errs, idempotent: tt.idempotent}
			h.eng.SetAdapters(map[string]sekisho.Sensor{config.TypeGlueJob: h.jobs}, map[string]sekisho.Trigger{config.TypeAirflowDag: st})
			h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 1, 0), end: jst(1, 2, 0), final: sekisho.JobSucceeded}}
			h.runUntil(jst(1, 4, 0), time.Minute, time.Hour)
			r := h.run("a", "2026-11-01")
			trs, _ := h.st.Transitions(context.Background(), r.ID)
			last := trs[len(trs)-1]
			if r.State != tt.state || last.Reason != tt.reason {
				t.Fatalf("state %s via %s, want %s via %s (%s)", r.State, last.Reason, tt.state, tt.reason, r.Message)
			}
			if len(h.dags.posts) != tt.posts {
				t.Errorf("posts = %d, want %d", len(h.dags.posts), tt.posts)
			}
			ns, _ := h.st.Notices(context.Background(), r.ID)
			if tt.notice != "" && (len(ns) != 1 || ns[0].Kind != tt.notice) {
				t.Errorf("notices = %+v, want one %s", ns, tt.notice)
			}
		})
	}
}

func TestRestartWithIntentResendsOnlyIdempotentTriggers(t *testing.T) {
	for _, idem := range []bool{true, false} {
		t.Run(fmt.Sprintf("idempotent=%v", idem), func(t *testing.T) {
			a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
			h := newHarness(t, jst(1, 2, 0), a)
			h.crashAfterIntent("a", "2026-11-01", jst(1, 2, 0))
			h.restartWith(&scriptedTrigger{fakeDags: h.dags, idempotent: idem})
			h.step()
			r := h.run("a", "2026-11-01")
			if idem && (r.State != sekisho.StateTriggered || len(h.dags.posts) != 1) {
				t.Fatalf("idempotent trigger after restart: %s, %d posts", r.State, len(h.dags.posts))
			}
			if !idem && (r.State != sekisho.StateFailed || len(h.dags.posts) != 0 || !strings.Contains(r.Message, "check")) {
				t.Fatalf("non-idempotent trigger after restart: %s, %d posts, %q", r.State, len(h.dags.posts), r.Message)
			}
		})
	}
}

// crashAfterIntent steps the engine once (the gate opens), then writes
// the intent of p's run on date by hand: what a crash right after the
// intent leaves in the store.
func (h *harness) crashAfterIntent(p, date string, at time.Time) {
	h.t.Helper()
	h.step()
	r := h.run(p, date)
	next := r
	next.IntentAt = at
	if _, err := h.st.Apply(context.Background(), r, next, at, storeStep()); err != nil {
		h.t.Fatal(err)
	}
}

// landingTrigger is a non-idempotent trigger whose request may take up to
// within to reach the downstream (sekisho.LandingBound).
type landingTrigger struct {
	*scriptedTrigger
	within time.Duration
}

func (l landingTrigger) LandsWithin() time.Duration { return l.within }

// TestRestartWaitsForADeadDaemonsRequestToLand: after a crash between the
// intent and the answer, a trigger without an idempotency key is called
// unknown only once its request, if sent, must have landed (issue 28):
// told earlier, an operator would find no job, rerun, and get two.
func TestRestartWaitsForADeadDaemonsRequestToLand(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
	h := newHarness(t, jst(1, 2, 0), a)
	h.crashAfterIntent("a", "2026-11-01", jst(1, 2, 0))
	h.clock.Advance(5 * time.Second)
	h.restartWith(landingTrigger{&scriptedTrigger{fakeDags: h.dags}, 30 * time.Second})
	posts := len(h.dags.posts)
	h.step()
	r := h.run("a", "2026-11-01")
	if r.State != sekisho.StateWaiting || !strings.Contains(r.Message, "may still reach") {
		t.Fatalf("5 s after the intent: %s %q, want waiting for the request to land", r.State, r.Message)
	}
	h.clock.Advance(24 * time.Second)
	h.step()
	if r = h.run("a", "2026-11-01"); r.State != sekisho.StateWaiting {
		t.Fatalf("29 s after the intent: %s, want still waiting", r.State)
	}
	h.clock.Advance(time.Second) // the wake-up at intent + 30 s
	h.step()
	r = h.run("a", "2026-11-01")
	if r.State != sekisho.StateFailed || !strings.Contains(r.Message, "check") || len(h.dags.posts) != posts {
		t.Fatalf("30 s after the intent: %s %q, %d new posts; want failed unknown and no post", r.State, r.Message, len(h.dags.posts)-posts)
	}
	trs, _ := h.st.Transitions(context.Background(), r.ID)
	if last := trs[len(trs)-1]; last.Reason != sekisho.ReasonTriggerUnknown {
		t.Errorf("last transition %s, want %s", last.Reason, sekisho.ReasonTriggerUnknown)
	}
	// Nothing learned since the intent: the operator's rerun goes through.
	if r, err := h.eng.Rerun(context.Background(), "a", "2026-11-01", By{Who: ByAPI}); err != nil || r.Attempt != 2 {
		t.Errorf("rerun: attempt %d, %v", r.Attempt, err)
	}
}

// TestAJobLearnedSinceTheIntentIsAdopted: the dead daemon's trigger got
// its answer and wrote the job to the ledger, but died before recording
// it. The restarted daemon follows that job instead of calling the
// attempt unknown (issue 28).
func TestAJobLearnedSinceTheIntentIsAdopted(t *testing.T) {
	ctx := context.Background()
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
	h := newHarness(t, jst(1, 2, 0), a)
	h.crashAfterIntent("a", "2026-11-01", jst(1, 2, 0))
	key := config.TriggerResource(dagTrigger).Key()
	if err := h.st.LearnJob(ctx, key, "older", jst(1, 1, 59)); err != nil { // before the intent: not this attempt's
		t.Fatal(err)
	}
	if err := h.st.LearnJob(ctx, key, "sekisho__a__2026-11-01__1", jst(1, 2, 0).Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(5 * time.Second)
	h.restartWith(landingTrigger{&scriptedTrigger{fakeDags: h.dags}, 30 * time.Second})
	h.step()
	r := h.run("a", "2026-11-01")
	if r.State == sekisho.StateFailed || r.ExternalID != "sekisho__a__2026-11-01__1" || len(h.dags.posts) != 0 {
		t.Fatalf("5 s after the intent, the job learned: %s %q %q, %d posts; want it adopted, no post", r.State, r.ExternalID, r.Message, len(h.dags.posts))
	}
	trs, _ := h.st.Transitions(ctx, r.ID)
	if len(trs) < 2 || trs[1].To != sekisho.StateTriggered || trs[1].Detail["adopted"] == nil {
		t.Errorf("transitions %+v, want waiting -> triggered, adopted", trs)
	}
}

// TestJobsLearnedSinceTheIntentAreNamedAndGuardTheRerun: two jobs of the
// workflow were learned since a dead daemon's intent; which is the
// attempt's is unknown. The attempt fails naming both, and a rerun is
// refused over them until the operator reruns anyway (issue 28).
func TestJobsLearnedSinceTheIntentAreNamedAndGuardTheRerun(t *testing.T) {
	ctx := context.Background()
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
	h := newHarness(t, jst(1, 2, 0), a)
	h.crashAfterIntent("a", "2026-11-01", jst(1, 2, 0))
	key := config.TriggerResource(dagTrigger).Key()
	for i, id := range []string{"job-77", "job-78"} {
		if err := h.st.LearnJob(ctx, key, id, jst(1, 2, 0).Add(time.Duration(i+1)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Advance(5 * time.Second)
	h.restartWith(landingTrigger{&scriptedTrigger{fakeDags: h.dags}, 30 * time.Second})
	h.step()
	r := h.run("a", "2026-11-01")
	if r.State != sekisho.StateFailed || !strings.Contains(r.Message, "job-77, job-78") {
		t.Fatalf("5 s after the intent, two jobs learned: %s %q; want failed unknown naming both", r.State, r.Message)
	}
	_, err := h.eng.Rerun(ctx, "a", "2026-11-01", By{Who: ByAPI})
	if !errors.Is(err, sekisho.ErrConflict) || !strings.Contains(err.Error(), "job-77") || !strings.Contains(err.Error(), "--anyway") {
		t.Fatalf("rerun over jobs the attempt may have started: %v; want a conflict naming them", err)
	}
	if r, err = RerunAnyway(ctx, h.st, h.cfg, "a", "2026-11-01", h.clock.Now(), By{Who: ByCLI}); err != nil || r.Attempt != 2 {
		t.Fatalf("rerun anyway: attempt %d, %v", r.Attempt, err)
	}
}

func TestDownstreamFailureRerunAndRecovery(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
	a.MaxDuration = 20 * time.Minute
	h := newHarness(t, jst(1, 2, 0), a)
	h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 1, 0), end: jst(1, 2, 0), final: sekisho.JobSucceeded}}
	h.dags.fail["sekisho__a__2026-11-01__1"] = true
	h.runUntil(jst(1, 3, 0), 5*time.Minute, time.Hour)
	r := h.run("a", "2026-11-01")
	if r.State != sekisho.StateFailed || r.Message != "task build_mart failed" {
		t.Fatalf("after a failing DAG: %s %q", r.State, r.Message)
	}
	if _, err := h.eng.Rerun(context.Background(), "a", "2026-11-01", By{Who: ByAPI}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.eng.Rerun(context.Background(), "a", "2026-11-01", By{Who: ByAPI}); !errors.Is(err, sekisho.ErrConflict) {
		t.Fatalf("rerun of an open run: %v", err)
	}
	h.runUntil(jst(1, 4, 0), 5*time.Minute, time.Hour)
	r = h.run("a", "2026-11-01")
	if r.State != sekisho.StateSucceeded || r.Attempt != 2 || r.ExternalID != "sekisho__a__2026-11-01__2" {
		t.Fatalf("after rerun: %+v", r)
	}
	var kinds []string
	ns, _ := h.st.Notices(context.Background(), r.ID)
	for _, n := range ns {
		kinds = append(kinds, string(n.Kind))
	}
	want := "long_running run_failed long_running recovery"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("notices = %s, want %s", got, want)
	}
	if _, err := Skip(context.Background(), h.st, "a", "2026-11-01", h.clock.Now(), By{Who: ByCLI}); !errors.Is(err, sekisho.ErrConflict) {
		t.Errorf("skip of a success: %v", err)
	}
}

func TestRunsKeepTheConfigTheyStartedWith(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, nil)
	h := newHarness(t, jst(1, 2, 0), a)
	h.step()
	// Reload: a now also waits for y, which never runs.
	b := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x"), glueUp("y", "y")}, nil)
	h.eng.SetConfig(&config.Config{Timezone: "Asia/Tokyo", Location: tokyo, Pipelines: []*config.Pipeline{b}})
	h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 1, 0), end: jst(1, 2, 10), final: sekisho.JobSucceeded},
		{id: "x2", start: jst(2, 1, 0), end: jst(2, 2, 10), final: sekisho.JobSucceeded}}
	h.runUntil(jst(2, 3, 0), 5*time.Minute, time.Hour)
	if r := h.run("a", "2026-11-01"); r.State != sekisho.StateSucceeded {
		t.Errorf("the open run took the new config: %s", r.State)
	}
	if r := h.run("a", "2026-11-02"); r.State != sekisho.StateWaiting {
		t.Errorf("the next gate ignored the new config: %s", r.State)
	}
}

func TestPushedEventsSkipTheWait(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, nil)
	a.PokeInterval = time.Hour
	h := newHarness(t, jst(1, 2, 0), a)
	h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 1, 0), end: jst(1, 9, 0), final: sekisho.JobSucceeded}}
	h.step() // polls: running since 01:00
	h.clock.Advance(10 * time.Minute)
	if err := h.eng.Ingest(context.Background(), sekisho.Resource{Type: config.TypeGlueJob, ID: "x"},
		sekisho.JobRun{ExternalID: "x1", State: sekisho.JobSucceeded, FinishedAt: jst(1, 2, 10)}); err != nil {
		t.Fatal(err)
	}
	h.step()
	r := h.run("a", "2026-11-01")
	if r.State != sekisho.StateSucceeded || !r.FinishedAt.Equal(jst(1, 2, 10)) {
		t.Fatalf("after the event: %s at %v", r.State, r.FinishedAt)
	}
	if err := h.eng.Ingest(context.Background(), sekisho.Resource{Type: config.TypeGlueJob, ID: "unknown"},
		sekisho.JobRun{ExternalID: "u", State: sekisho.JobSucceeded}); !errors.Is(err, sekisho.ErrNotFound) {
		t.Fatalf("event for an unwatched job: %v", err)
	}
}

func TestRunOpensGatesOnTheSchedule(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, nil)
	h := newHarness(t, jst(1, 1, 59), a)
	opened := make(chan struct{}, 1)
	eng, err := New(h.cfg, Options{Store: h.st, Clock: h.clock, Logger: discard, Tick: time.Hour,
		Sensors: map[string]sekisho.Sensor{config.TypeGlueJob: h.jobs},
		OnNotice: func() { // a gate that opens wakes the notice sender
			select {
			case opened <- struct{}{}:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	// The loop waits on its hourly ticker and on gocron's 02:00 timer.
	bctx, bcancel := context.WithTimeout(ctx, 10*time.Second)
	defer bcancel()
	if err := h.clock.BlockUntilContext(bctx, 2); err != nil {
		cancel()
		t.Fatalf("the scheduler did not start: %v (Run: %v)", err, <-done)
	}
	if _, err := h.st.Run(ctx, "a", "2026-11-01"); err == nil {
		t.Fatal("the gate opened before 02:00")
	}
	h.clock.Advance(time.Minute)
	select {
	case <-opened:
	case <-bctx.Done():
		t.Fatal("the 02:00 gate did not open")
	}
	if r, err := h.st.Run(ctx, "a", "2026-11-01"); err != nil || !r.GateAt.Equal(jst(1, 2, 0)) {
		t.Errorf("gate: %+v, %v", r, err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestAtRiskFromHistoryThenDelay(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
	h := newHarness(t, jst(1, 1, 0), a)
	h.dags.duration = time.Hour
	var script []scripted
	for d := 1; d <= 5; d++ { // five normal days: upstream done 04:00, DAG done 05:00
		script = append(script, scripted{id: fmt.Sprintf("x%d", d), start: jst(d, 1, 0), end: jst(d, 4, 0), final: sekisho.JobSucceeded})
	}
	// Day 6: the upstream is late and finishes at 06:30.
	script = append(script, scripted{id: "x6", start: jst(6, 1, 0), end: jst(6, 6, 30), final: sekisho.JobSucceeded})
	h.jobs.runs["glue_job:x"] = script
	h.runUntil(jst(6, 8, 0), 5*time.Minute, time.Hour)
	var got []string
	for d := 1; d <= 6; d++ {
		r := h.run("a", fmt.Sprintf("2026-11-%02d", d))
		ns, _ := h.st.Notices(context.Background(), r.ID)
		for _, n := range ns {
			got = append(got, fmt.Sprintf("%d %s @%s", d, n.Kind, n.CreatedAt.In(tokyo).Format("15:04")))
		}
	}
	// At 05:05 the DAG's usual hour no longer fits before 06:00.
	want := "6 at_risk @05:05, 6 delay @06:00, 6 recovery @07:30"
	if strings.Join(got, ", ") != want {
		t.Fatalf("notices = %s, want %s", strings.Join(got, ", "), want)
	}
}

func TestOperatorInAnotherProcessReachesTheLoop(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, dagTrigger)
	h := newHarness(t, jst(1, 2, 0), a)
	h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 1, 0), end: jst(1, 2, 0), final: sekisho.JobSucceeded}}
	h.dags.fail["sekisho__a__2026-11-01__1"] = true
	h.runUntil(jst(1, 3, 0), 5*time.Minute, time.Hour)
	if r := h.run("a", "2026-11-01"); r.State != sekisho.StateFailed {
		t.Fatalf("state %s", r.State)
	}
	// `sekisho rerun` beside the daemon: its own connection to the file.
	other, err := teststore.Open(context.Background(), h.path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := Rerun(context.Background(), other, h.cfg, "a", "2026-11-01", h.clock.Now(), By{Who: ByCLI}); err != nil {
		t.Fatal(err)
	}
	h.runUntil(jst(1, 4, 0), 5*time.Minute, time.Hour)
	if r := h.run("a", "2026-11-01"); r.State != sekisho.StateSucceeded || r.Attempt != 2 {
		t.Fatalf("the loop missed a rerun written by another process: %s attempt %d", r.State, r.Attempt)
	}
}
