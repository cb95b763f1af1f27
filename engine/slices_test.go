package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// TestPassesTakeRunsInSlices: a pass that must look at more than passRuns
// runs (here every open run, after a start) reconciles passRuns of them
// and leaves the rest for the next passes, and a pushed event that comes
// meanwhile is taken before the runs carried over, though its run is the
// last in gate order.
func TestPassesTakeRunsInSlices(t *testing.T) {
	const n = 2*passRuns + 88
	ps := gateFleet(n - 1)
	last := pipeline("zz", "0 2 * * *", []config.Upstream{glueUp("u", "pushed")}, nil)
	ps = append(ps, last)
	h := newHarness(t, jst(1, 2, 0), ps...)
	ctx := context.Background()
	// The gates opened before the start (another process, a restart):
	// the first pass reads every open run and looks at each.
	for i := 0; i < n; i += gateBatch {
		var gates []dueGate
		for _, p := range ps[i:min(i+gateBatch, n)] {
			gates = append(gates, dueGate{p: p, fireAt: jst(1, 2, 0)})
		}
		if err := h.eng.openGates(ctx, gates); err != nil {
			t.Fatal(err)
		}
	}
	// Upstreams that do not answer: no poll answer selects a run.
	eng := looseEngine(t, h.st, h.clock, h.cfg, silentJobs{})
	ctx, cancel := context.WithCancel(ctx)
	defer eng.wg.Wait()
	defer cancel()
	looked := func() int { // runs whose first look recorded their upstream
		obs, err := h.st.LatestObservationsOn(ctx, []string{"2026-11-01"})
		if err != nil {
			t.Fatal(err)
		}
		return len(obs)
	}
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if got := looked(); got != passRuns || len(eng.pass.rest) != n-passRuns {
		t.Fatalf("first pass looked at %d runs, left %d; want %d and %d", got, len(eng.pass.rest), passRuns, n-passRuns)
	}
	// The last run's upstream finishes, pushed by an event.
	if err := eng.Ingest(ctx, sekisho.Resource{Type: config.TypeGlueJob, ID: "pushed"},
		sekisho.JobRun{ExternalID: "jr_1", State: sekisho.JobSucceeded, StartedAt: jst(1, 1, 0), FinishedAt: jst(1, 2, 0)}); err != nil {
		t.Fatal(err)
	}
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if r := h.run("zz", "2026-11-01"); r.State != sekisho.StateSucceeded {
		t.Fatalf("the pushed run is %s after the second pass, want succeeded", r.State)
	}
	if got := looked(); got != 2*passRuns {
		t.Fatalf("second pass: %d runs looked at, want %d", got, 2*passRuns)
	}
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if got := looked(); got != n || len(eng.pass.rest) != 0 {
		t.Fatalf("third pass: %d runs looked at (want %d), %d left", got, n, len(eng.pass.rest))
	}
}

// TestEventsCountWhateverThePass: an event counts when it arrives before
// the loop has planned the run waiting on it (the gate is due, its run not
// open yet), and a redelivery after the run moved on is taken and changes
// nothing; only an event for a resource no pipeline waits on is refused.
// Before, Ingest asked the poller whether the resource was planned, which
// raced with the loop: TestConcurrentPathMovesEveryRun failed about once
// in 30 runs on a loaded machine when the third of three deliveries came
// after the runs had moved on.
func TestEventsCountWhateverThePass(t *testing.T) {
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("x", "x")}, nil)
	a.PokeInterval = 6 * time.Hour // polls alone would see the finish hours later
	h := newHarness(t, jst(1, 2, 0), a)
	h.jobs.runs["glue_job:x"] = []scripted{{id: "x1", start: jst(1, 1, 0), end: jst(1, 9, 0), final: sekisho.JobSucceeded}}
	ctx := context.Background()
	ev := sekisho.JobRun{ExternalID: "x1", State: sekisho.JobSucceeded, FinishedAt: jst(1, 2, 0)}
	x := sekisho.Resource{Type: config.TypeGlueJob, ID: "x"}
	if err := h.eng.Ingest(ctx, x, ev); err != nil {
		t.Fatalf("an event before the gate's first pass: %v", err)
	}
	h.step()
	if r := h.run("a", "2026-11-01"); r.State != sekisho.StateSucceeded {
		t.Fatalf("after the event and one pass: %s, want succeeded", r.State)
	}
	for i := range 3 {
		if err := h.eng.Ingest(ctx, x, ev); err != nil {
			t.Fatalf("redelivery %d: %v", i, err)
		}
		h.step()
	}
	if trs, _ := h.st.Transitions(ctx, h.run("a", "2026-11-01").ID); len(trs) != 2 {
		t.Errorf("redeliveries changed the run: %+v", trs)
	}
	if err := h.eng.Ingest(ctx, sekisho.Resource{Type: config.TypeGlueJob, ID: "other"}, ev); !errors.Is(err, sekisho.ErrNotFound) {
		t.Errorf("an event for a job no pipeline waits on: %v, want not found", err)
	}
}

// TestPlanFollowsRunsThatStopWaiting: runs that are triggered or end leave
// the plan one by one (their resources and the runs they waited on), and
// the plan kept that way is the one planning every open run again gives.
func TestPlanFollowsRunsThatStopWaiting(t *testing.T) {
	var ps []*config.Pipeline
	for i := range 20 {
		a := fmt.Sprintf("a%02d", i)
		ps = append(ps, pipeline(a, "0 2 * * *", []config.Upstream{glueUp("u", fmt.Sprintf("job%d", i%5))}, nil))
		ps = append(ps, pipeline(fmt.Sprintf("b%02d", i), "0 2 * * *",
			[]config.Upstream{{Name: "a", Type: config.TypePipeline, Pipeline: a}, glueUp("v", "shared")}, nil))
	}
	h := newHarness(t, jst(1, 2, 0), ps...)
	for j := range 5 {
		end := jst(1, 9, 0)
		if j < 2 {
			end = jst(1, 2, 30) // job0 and job1 finish: 8 a runs and the 8 b runs on them end
		}
		h.jobs.runs[fmt.Sprintf("glue_job:job%d", j)] = []scripted{{id: "r", start: jst(1, 1, 0), end: end, final: sekisho.JobSucceeded}}
	}
	h.jobs.runs["glue_job:shared"] = []scripted{{id: "s", start: jst(1, 1, 0), end: jst(1, 1, 30), final: sekisho.JobSucceeded}}
	h.step()
	h.clock.Advance(35 * time.Minute)
	h.step() // one pass: 16 runs end, the plan follows without planning again
	runs, _ := h.st.OpenRuns(context.Background())
	if len(runs) != 24 {
		t.Fatalf("%d runs open, want 24", len(runs))
	}
	if h.eng.demand.dirty || h.eng.demand.whole || !h.eng.demand.touched["glue_job:job0"] || !h.eng.demand.touched["glue_job:job1"] {
		t.Fatalf("the plan was marked for planning again, or its changed resources were not noted: %v", h.eng.demand.touched)
	}
	// The next pass's poller looks at the touched resources only, and
	// polls exactly what the plan wants.
	h.step()
	if h.eng.demand.touched != nil {
		t.Errorf("touched %v after the poller took them", h.eng.demand.touched)
	}
	h.eng.poller.mu.Lock()
	polled := slices.Sorted(maps.Keys(h.eng.poller.res))
	h.eng.poller.mu.Unlock()
	if wanted := slices.Sorted(maps.Keys(h.eng.demand.want)); !slices.Equal(polled, wanted) {
		t.Errorf("polled %v, want %v", polled, wanted)
	}
	kept := h.eng.demand
	h.eng.planDemand()
	full := h.eng.demand
	if !reflect.DeepEqual(kept.want, full.want) || !reflect.DeepEqual(kept.waiters, full.waiters) || !reflect.DeepEqual(kept.deps, full.deps) {
		t.Fatalf("plan kept run by run:\n%v\n%v\n%v\nplanned again:\n%v\n%v\n%v", kept.want, kept.waiters, kept.deps, full.want, full.waiters, full.deps)
	}
	if _, ok := full.want["glue_job:job0"]; ok || len(full.want) != 4 || len(full.deps) != 12 {
		t.Errorf("plan: %d resources (want 4: job2..job4, shared), %d awaited runs (want 12)", len(full.want), len(full.deps))
	}
}

// TestGateScanIsSliced: a pass looks at gateScan pipelines for due gates
// and wakes the loop to look at the rest, so working out 10,000 fire times
// at one instant does not hold a pass; every gate opens all the same, once.
func TestGateScanIsSliced(t *testing.T) {
	const n = 2*gateScan + 10
	h := newHarness(t, jst(1, 2, 0), gateFleet(n)...)
	ctx, cancel := context.WithCancel(context.Background())
	eng := looseEngine(t, h.st, h.clock, h.cfg, silentJobs{})
	defer eng.wg.Wait()
	defer cancel()
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if eng.gate.scan != gateScan || len(eng.gate.due) != gateScan-gateBatch || !kicked(eng) {
		t.Fatalf("after the first pass: scan at %d (want %d), %d due left (want %d)", eng.gate.scan, gateScan, len(eng.gate.due), gateScan-gateBatch)
	}
	for pass := 0; pass < 20 && (eng.gate.scan > 0 || len(eng.gate.due) > 0); pass++ {
		kicked(eng)
		if err := eng.Step(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runs, err := h.st.OpenRuns(ctx)
	if err != nil || len(runs) != n || eng.gate.scan != 0 || !eng.gate.soonest.After(jst(1, 2, 0)) {
		t.Fatalf("%d runs open (want %d, %v), scan at %d, next gate %v", len(runs), n, err, eng.gate.scan, eng.gate.soonest)
	}
}

// TestPendingOrder: pending and order give the pass order (gate order,
// the late ones last) to the runs selected or carried over and not done,
// for random sets; a run both selected and carried is listed once.
func TestPendingOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for range 200 {
		sel, done, late := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
		var carried []int64
		union := map[int64]bool{}
		for range rng.IntN(300) {
			id := rng.Int64N(1 << 40)
			switch rng.IntN(3) {
			case 0:
				sel[id] = true
			case 1:
				carried = append(carried, id)
			default:
				sel[id] = true
				carried = append(carried, id)
			}
			union[id] = true
			if rng.IntN(4) == 0 {
				done[id] = true
			}
			if rng.IntN(3) == 0 {
				late[id] = true
			}
		}
		slices.Sort(carried)
		carried = slices.Compact(carried)
		isLate := func(id int64) bool { return late[id] }
		got := pending(sel, carried, done, isLate)
		var want, lateOnes, byOrder []int64
		for id := range union {
			if !done[id] {
				if late[id] {
					lateOnes = append(lateOnes, id)
				} else {
					want = append(want, id)
				}
				byOrder = append(byOrder, id)
			}
		}
		slices.Sort(want)
		slices.Sort(lateOnes)
		want = append(want, lateOnes...)
		if !slices.Equal(got, want) {
			t.Fatalf("pending %v, want %v", got, want)
		}
		slices.SortFunc(byOrder, func(a, b int64) int { return order(a, b, isLate) })
		if !slices.Equal(byOrder, want) {
			t.Fatalf("sorted by order %v, want %v", byOrder, want)
		}
	}
}
