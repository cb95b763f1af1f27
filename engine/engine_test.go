package engine

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

var tokyo = mustLoc("Asia/Tokyo")

func mustLoc(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

func jst(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, tokyo) }

func tod(s string) sekisho.TimeOfDay {
	t, err := sekisho.ParseTimeOfDay(s)
	if err != nil {
		panic(err)
	}
	return t
}

// fakeJobs is a scripted upstream: runs per resource, revealed as the clock passes.
type fakeJobs struct {
	clock clockwork.Clock
	mu    sync.Mutex
	runs  map[string][]scripted
	calls map[string]int
}

type scripted struct {
	id         string
	start, end time.Time
	final      sekisho.JobState
	message    string
	skipped    bool // the vendor skipped it (final is then JobFailed)
}

func (f *fakeJobs) Runs(_ context.Context, r sekisho.Resource, since time.Time) ([]sekisho.JobRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[r.Key()]++
	now := f.clock.Now()
	var out []sekisho.JobRun
	for _, s := range f.runs[r.Key()] {
		if now.Before(s.start) || s.start.Before(since) {
			continue
		}
		jr := sekisho.JobRun{ExternalID: s.id, State: sekisho.JobRunning, StartedAt: s.start}
		if !now.Before(s.end) {
			jr.State, jr.FinishedAt, jr.Message, jr.Skipped = s.final, s.end, s.message, s.skipped
		}
		out = append(out, jr)
	}
	return out, nil
}

// fakeDags is a scripted downstream that runs every triggered DAG run for a fixed time.
type fakeDags struct {
	clock    clockwork.Clock
	mu       sync.Mutex
	duration time.Duration
	fail     map[string]bool
	started  map[string]time.Time
	posts    []string
}

func (f *fakeDags) Start(_ context.Context, req sekisho.TriggerRequest) (sekisho.JobRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := sekisho.DagRunID(req.Pipeline, req.LogicalDate, req.Attempt)
	f.posts = append(f.posts, id)
	if _, ok := f.started[id]; !ok {
		f.started[id] = f.clock.Now()
	}
	return sekisho.JobRun{ExternalID: id, State: sekisho.JobPending}, nil
}

func (f *fakeDags) Status(_ context.Context, req sekisho.TriggerRequest, id string) (sekisho.JobRun, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := f.started[id]
	jr := sekisho.JobRun{ExternalID: id, State: sekisho.JobRunning, StartedAt: start}
	if end := start.Add(f.duration); !f.clock.Now().Before(end) {
		jr.State, jr.FinishedAt = sekisho.JobSucceeded, end
		if f.fail[id] {
			jr.State, jr.Message = sekisho.JobFailed, "task build_mart failed"
		}
	}
	return jr, nil
}

func (f *fakeDags) Idempotent() bool { return true }

func pipeline(name, schedule string, ups []config.Upstream, trig *sekisho.TriggerSpec) *config.Pipeline {
	return &config.Pipeline{Name: name, Schedule: schedule, Timezone: "Asia/Tokyo", Location: tokyo,
		PokeInterval: 5 * time.Minute, Timeout: 6 * time.Hour, WindowStart: tod("00:00"), Upstreams: ups,
		Condition: "all", OnUpstreamFailure: "wait", Trigger: trig,
		SLO: &config.SLO{Deadline: tod("06:00"), Objective: 0.95}}
}

type harness struct {
	t     *testing.T
	clock *clockwork.FakeClock
	st    *store.Store
	eng   *Engine
	jobs  *fakeJobs
	dags  *fakeDags
	cfg   *config.Config
	path  string
}

func newHarness(t *testing.T, start time.Time, pipelines ...*config.Pipeline) *harness {
	t.Helper()
	clock := clockwork.NewFakeClockAt(start)
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := teststore.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	jobs := &fakeJobs{clock: clock, runs: map[string][]scripted{}, calls: map[string]int{}}
	dags := &fakeDags{clock: clock, duration: 30 * time.Minute, fail: map[string]bool{}, started: map[string]time.Time{}}
	cfg := &config.Config{Timezone: "Asia/Tokyo", Location: tokyo, Pipelines: pipelines}
	eng, err := New(cfg, Options{Store: st, Clock: clock, Sync: true, Jitter: -1, FullEvery: 1000 * time.Hour, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sensors:  map[string]sekisho.Sensor{config.TypeGlueJob: jobs, config.TypeTroccoJob: jobs},
		Triggers: map[string]sekisho.Trigger{config.TypeAirflowDag: dags}})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, clock: clock, st: st, eng: eng, jobs: jobs, dags: dags, cfg: cfg, path: path}
}

// runUntil steps the engine every step of fake time until end, and every
// quiet step (no open run) while nothing is open.
func (h *harness) runUntil(end time.Time, step, quiet time.Duration) {
	h.t.Helper()
	ctx := context.Background()
	for {
		if err := h.eng.Step(ctx); err != nil {
			h.t.Fatal(err)
		}
		if !h.clock.Now().Before(end) {
			return
		}
		d := step
		if open, _ := h.st.OpenRuns(ctx); len(open) == 0 {
			d = quiet
		}
		h.clock.Advance(d)
	}
}

// history renders every transition as "pipeline date #attempt from->to reason @HH:MM(JST day)".
func (h *harness) history() []string {
	h.t.Helper()
	ctx := context.Background()
	runs, err := h.st.Runs(ctx, store.RunFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID < runs[j].ID })
	var out []string
	for _, r := range runs {
		trs, _ := h.st.Transitions(ctx, r.ID)
		if err := ValidPath(trs); err != nil {
			h.t.Errorf("%s %s: %v", r.Pipeline, r.LogicalDate, err)
		}
		for _, tr := range trs {
			from := string(tr.From)
			if from == "" {
				from = "-"
			}
			out = append(out, fmt.Sprintf("%s %s #%d %s->%s %s @%s", r.Pipeline, r.LogicalDate[8:], tr.Attempt,
				from, tr.To, tr.Reason, tr.At.In(tokyo).Format("02 15:04")))
		}
	}
	return out
}

func TestThreeDaysOfAChain(t *testing.T) {
	export := []config.Upstream{{Name: "hegel_export", Type: config.TypeGlueJob, JobName: "hegel-rds-export"}}
	a := pipeline("a", "0 2 * * *", export, &sekisho.TriggerSpec{Type: config.TypeAirflowDag, Connection: "prod", DagID: "mart"})
	b := pipeline("b", "0 2 * * *", []config.Upstream{{Name: "a", Type: config.TypePipeline, Pipeline: "a"}}, nil)
	c := pipeline("c", "30 2 * * *", []config.Upstream{{Name: "b", Type: config.TypePipeline, Pipeline: "b"}}, nil)
	h := newHarness(t, jst(1, 1, 0), a, b, c)
	key := "glue_job:hegel-rds-export"
	h.jobs.runs[key] = []scripted{
		// Day 1: normal.
		{id: "jr_1", start: jst(1, 1, 0), end: jst(1, 2, 30), final: sekisho.JobSucceeded},
		// Day 2: fails, an engineer reruns it, it succeeds.
		{id: "jr_2", start: jst(2, 1, 0), end: jst(2, 2, 20), final: sekisho.JobFailed, message: "Connection refused"},
		{id: "jr_3", start: jst(2, 3, 0), end: jst(2, 3, 40), final: sekisho.JobSucceeded},
		// Day 3: nothing runs: the gate times out.
	}
	h.runUntil(jst(3, 9, 0), 5*time.Minute, 30*time.Minute)

	want := []string{
		"a 01 #1 -->waiting gate_opened @01 02:00",
		"a 01 #1 waiting->triggered condition_met @01 02:30",
		"a 01 #1 triggered->running dag_run_running @01 02:35",
		"a 01 #1 running->succeeded dag_run_success @01 03:00",
		"b 01 #1 -->waiting gate_opened @01 02:00",
		"b 01 #1 waiting->succeeded condition_met @01 03:05",
		"c 01 #1 -->waiting gate_opened @01 02:30",
		"c 01 #1 waiting->succeeded condition_met @01 03:05",
		"a 02 #1 -->waiting gate_opened @02 02:00",
		"a 02 #1 waiting->blocked upstream_failed @02 02:20",
		"a 02 #1 blocked->waiting upstream_recovered @02 03:00",
		"a 02 #1 waiting->triggered condition_met @02 03:40",
		"a 02 #1 triggered->running dag_run_running @02 03:45",
		"a 02 #1 running->succeeded dag_run_success @02 04:10",
		"b 02 #1 -->waiting gate_opened @02 02:00",
		"b 02 #1 waiting->succeeded condition_met @02 04:15",
		"c 02 #1 -->waiting gate_opened @02 02:30",
		"c 02 #1 waiting->succeeded condition_met @02 04:15",
		"a 03 #1 -->waiting gate_opened @03 02:00",
		"a 03 #1 waiting->timed_out timeout @03 08:00",
		"b 03 #1 -->waiting gate_opened @03 02:00",
		"b 03 #1 waiting->timed_out timeout @03 08:00",
		"c 03 #1 -->waiting gate_opened @03 02:30",
		"c 03 #1 waiting->blocked upstream_failed @03 08:00",
		"c 03 #1 blocked->timed_out timeout @03 08:30",
	}
	got := h.history()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("transitions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantNotices := []string{
		"a 02 upstream_failed hegel_export jr_2 Connection refused @02 02:20",
		// SPEC §17: the failed export run is an incident, a the affected.
		" 02 incident_opened job:glue_job:hegel-rds-export#jr_2 @02 02:20",
		"a 02 recovery @02 04:10",
		" 02 incident_resolved job:glue_job:hegel-rds-export#jr_2 @02 04:10",
		// Day 3: a is late on its own (the cause); b and c wait on it.
		// A step's own notice is queued before the messages it causes.
		"a 03 delay @03 06:00",
		"b 03 delay @03 06:00",
		" 03 incident_opened run:a#2026-11-03 @03 06:00",
		"c 03 delay @03 06:00",
		" 03 incident_updated run:a#2026-11-03 joined c @03 06:00",
		"a 03 timed_out @03 08:00",
		"b 03 upstream_failed a a/2026-11-03#1 a is timed_out: the condition did not hold before the timeout @03 08:00",
		"b 03 timed_out @03 08:00",
		"c 03 upstream_failed b b/2026-11-03#1 b is timed_out: the condition did not hold before the timeout @03 08:00",
		"c 03 timed_out @03 08:30",
	}
	if got := h.notices(); strings.Join(got, "\n") != strings.Join(wantNotices, "\n") {
		t.Errorf("notices:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantNotices, "\n"))
	}
	// One DAG run per (pipeline, date, attempt).
	if got := strings.Join(h.dags.posts, " "); got != "sekisho__a__2026-11-01__1 sekisho__a__2026-11-02__1" {
		t.Errorf("trigger posts = %s", got)
	}
}

func (h *harness) notices() []string {
	ns, err := h.st.AllNotices(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	var out []string
	for _, n := range ns {
		line := fmt.Sprintf("%s %s %s", n.Pipeline, n.LogicalDate[8:], n.Kind)
		for _, f := range []string{n.Facts.Upstream, n.Facts.ExternalID, n.Facts.Message} {
			if f != "" && n.Kind == sekisho.NoticeUpstreamFailed {
				line += " " + f
			}
		}
		if n.Facts.Incident != "" {
			line += " " + n.Facts.Incident
			if n.Facts.Reason != "" {
				line += " " + n.Facts.Reason + " " + n.Facts.Upstream
			}
		}
		out = append(out, line+" @"+n.CreatedAt.In(tokyo).Format("02 15:04"))
	}
	return out
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func storeStep() store.Step { return store.Step{} }

func storeFilter() store.RunFilter { return store.RunFilter{} }
