package engine

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// transitions is a Metrics that hands every state change to the test.
type transitions struct {
	mu       sync.Mutex
	finished map[sekisho.State]int
	ch       chan struct{}
}

func (m *transitions) SensorCheck(string, string, time.Duration) {}
func (m *transitions) GateLatency(string, time.Duration)         {}
func (m *transitions) Transition(_, to sekisho.State) {
	if !to.Terminal() {
		return
	}
	m.mu.Lock()
	m.finished[to]++
	m.mu.Unlock()
	m.ch <- struct{}{}
}

// TestConcurrentPathMovesEveryRun runs the engine as the daemon does (Run,
// requests in goroutines, no Sync) with the once-a-minute full pass off and
// the fake clock standing still: only the wake-ups a poll answer, a pushed
// event, a request's answer and a finished upstream pipeline cause can move
// the runs, and under -race the test proves they share no state unguarded.
func TestConcurrentPathMovesEveryRun(t *testing.T) {
	var ps []*config.Pipeline
	for i := range 12 {
		job := fmt.Sprintf("job%d", i%4)
		ps = append(ps, pipeline(fmt.Sprintf("a%02d", i), "0 2 * * *", []config.Upstream{glueUp("u", job)}, dagTrigger))
		ps = append(ps, pipeline(fmt.Sprintf("b%02d", i), "0 2 * * *",
			[]config.Upstream{{Name: "a", Type: config.TypePipeline, Pipeline: fmt.Sprintf("a%02d", i)}}, nil))
	}
	h := newHarness(t, jst(1, 2, 0), ps...)
	h.dags.duration = 0 // the DAG run is done when first asked about
	for j := range 3 {  // three jobs are done; job3 is still running when polled
		h.jobs.runs[fmt.Sprintf("glue_job:job%d", j)] = []scripted{{id: "r", start: jst(1, 1, 0), end: jst(1, 1, 30), final: sekisho.JobSucceeded}}
	}
	h.jobs.runs["glue_job:job3"] = []scripted{{id: "r3", start: jst(1, 1, 0), end: jst(1, 9, 0), final: sekisho.JobSucceeded}}
	m := &transitions{finished: map[sekisho.State]int{}, ch: make(chan struct{}, 64)}
	eng, err := New(h.cfg, Options{Store: h.st, Clock: h.clock, Logger: discard, Jitter: -1, Tick: time.Hour,
		FullEvery: 1000 * time.Hour, MaxInFlight: 4, Metrics: m,
		Sensors:  map[string]sekisho.Sensor{config.TypeGlueJob: h.jobs},
		Triggers: map[string]sekisho.Trigger{config.TypeAirflowDag: h.dags}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- eng.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	wait := func(n int) {
		t.Helper()
		for range n {
			select {
			case <-m.ch:
			case <-time.After(30 * time.Second): // a guard against a hang, not a schedule
				t.Fatalf("runs finished: %v; the loop was not woken", m.finished)
			}
		}
	}
	wait(18) // the nine pipelines on job0..job2 and the nine waiting on them
	// job3 finishes: an EventBridge event says so, with the clock still at 02:00.
	ev := sekisho.JobRun{ExternalID: "r3", State: sekisho.JobSucceeded, FinishedAt: jst(1, 2, 0)}
	var wg sync.WaitGroup
	for range 3 { // the same event, delivered three times at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := eng.Ingest(ctx, sekisho.Resource{Type: config.TypeGlueJob, ID: "job3"}, ev); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	wait(6)
	runs, err := h.st.Runs(ctx, storeFilter())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.State != sekisho.StateSucceeded {
			t.Errorf("%s %s is %s", r.Pipeline, r.LogicalDate, r.State)
		}
	}
	if len(runs) != 24 || m.finished[sekisho.StateSucceeded] != 24 {
		t.Errorf("%d runs, finished %v; want 24 succeeded", len(runs), m.finished)
	}
	h.dags.mu.Lock()
	defer h.dags.mu.Unlock()
	if len(h.dags.posts) != 12 {
		t.Errorf("%d trigger posts, want one per triggering pipeline (12)", len(h.dags.posts))
	}
}
