package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// gateFleet is n pipelines gated at 02:00 JST, each on one of n/5 Glue jobs.
func gateFleet(n int) []*config.Pipeline {
	ps := make([]*config.Pipeline, n)
	for i := range ps {
		ps[i] = pipeline(fmt.Sprintf("p%05d", i), "0 2 * * *", []config.Upstream{glueUp("u", fmt.Sprintf("job%d", i%max(n/5, 1)))}, nil)
	}
	return ps
}

// looseEngine is an engine on h's store as the daemon runs it (no Sync),
// driven by hand with Step.
func looseEngine(t testing.TB, st *store.Store, clock clockwork.Clock, cfg *config.Config, jobs sekisho.Sensor) *Engine {
	t.Helper()
	eng, err := New(cfg, Options{Store: st, Clock: clock, Logger: discard, Jitter: -1, Tick: time.Hour,
		FullEvery: 1000 * time.Hour, Sensors: map[string]sekisho.Sensor{config.TypeGlueJob: jobs}})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// kicked reports whether the engine asked its loop for another pass.
func kicked(e *Engine) bool {
	select {
	case <-e.kick:
		return true
	default:
		return false
	}
}

// TestGatesOpenInBatchesBetweenPasses: 300 gates due at one instant open
// one batch per pass, each pass asking for the next at once, so the loop
// takes pushed events between batches instead of after every gate; a
// reload between batches neither loses nor doubles a gate.
func TestGatesOpenInBatchesBetweenPasses(t *testing.T) {
	h := newHarness(t, jst(1, 2, 0), gateFleet(300)...)
	eng := looseEngine(t, h.st, h.clock, h.cfg, h.jobs)
	ctx := context.Background()
	open := func() int {
		runs, err := h.st.OpenRuns(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(runs)
	}
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := open(); n != gateBatch || !kicked(eng) {
		t.Fatalf("after the first pass: %d open (want %d), kicked=%v", n, gateBatch, !kicked(eng))
	}
	// A reload between batches (same pipelines, a new config).
	cfg2 := &config.Config{Timezone: h.cfg.Timezone, Location: h.cfg.Location, Pipelines: gateFleet(300)}
	eng.SetConfig(cfg2)
	kicked(eng)
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := open(); n != 2*gateBatch || !kicked(eng) {
		t.Fatalf("after the second pass: %d open (want %d)", n, 2*gateBatch)
	}
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if n := open(); n != 300 || kicked(eng) {
		t.Fatalf("after the third pass: %d open (want 300), or asked for a fourth", n)
	}
	// The batches were added to the poll plan as they opened; it is the
	// plan a full planning of every open run gives.
	if len(eng.demand.added) != 0 || eng.demand.dirty {
		t.Fatalf("plan left with %d added, dirty=%v", len(eng.demand.added), eng.demand.dirty)
	}
	added := eng.demand
	eng.planDemand()
	if !reflect.DeepEqual(added.want, eng.demand.want) || !reflect.DeepEqual(added.waiters, eng.demand.waiters) ||
		len(added.want) != 60 {
		t.Fatalf("plan built batch by batch differs from a full one: %d vs %d resources", len(added.want), len(eng.demand.want))
	}
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	runs, _ := h.st.OpenRuns(ctx)
	for _, r := range runs {
		trs, err := h.st.Transitions(ctx, r.ID)
		if err != nil || len(trs) != 1 || !r.GateAt.Equal(jst(1, 2, 0)) || r.LogicalDate != "2026-11-01" {
			t.Fatalf("%s: gate %v date %s, transitions %+v %v", r.Pipeline, r.GateAt, r.LogicalDate, trs, err)
		}
	}
}

// TestSyncStepOpensEveryDueGate: a Step in Sync mode (tests driving the
// engine by hand) opens every due gate, in batches, before it returns.
func TestSyncStepOpensEveryDueGate(t *testing.T) {
	h := newHarness(t, jst(1, 2, 0), gateFleet(2*gateBatch+1)...)
	if err := h.eng.Step(context.Background()); err != nil {
		t.Fatal(err)
	}
	if runs, _ := h.st.OpenRuns(context.Background()); len(runs) != 2*gateBatch+1 {
		t.Fatalf("%d open, want %d", len(runs), 2*gateBatch+1)
	}
}

// silentJobs is an upstream that never answers (until the test ends), so a
// benchmark of gate opening measures the gates, not the first
// observations the answers would record.
type silentJobs struct{}

func (silentJobs) Runs(ctx context.Context, _ sekisho.Resource, _ time.Time) ([]sekisho.JobRun, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// BenchmarkGatesOpen opens 10,000 gates due at one instant on SQLite, as
// the daemon's loop does (a pass at a time, no Sync), and reports gates
// per second and the longest single pass: the longest a pushed event can
// wait for the loop.
func BenchmarkGatesOpen(b *testing.B) {
	const n = 10000
	ps := gateFleet(n)
	var total time.Duration
	var longest time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		ctx, cancel := context.WithCancel(context.Background())
		st, err := teststore.Open(ctx, filepath.Join(b.TempDir(), "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		clock := clockwork.NewFakeClockAt(jst(1, 2, 0))
		eng := looseEngine(b, st, clock, &config.Config{Timezone: "Asia/Tokyo", Location: tokyo, Pipelines: ps}, silentJobs{})
		for opened := 0; opened < n; {
			b.StartTimer()
			t := time.Now()
			if err := eng.Step(ctx); err != nil {
				b.Fatal(err)
			}
			d := time.Since(t)
			b.StopTimer()
			total += d
			longest = max(longest, d)
			runs, err := st.OpenRuns(ctx)
			if err != nil {
				b.Fatal(err)
			}
			opened = len(runs)
		}
		cancel()
		eng.wg.Wait()
		st.Close()
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "gates/s")
	b.ReportMetric(float64(longest.Milliseconds()), "longest-pass-ms")
}

// TestReloadKeepsTheNextGatesByName: the next gate of each pipeline is
// kept by position in its config, and a reload carries it over by name to
// a pipeline that kept its schedule, wherever it moved: an opened gate is
// not found due again. A pipeline whose schedule changed, or a new one,
// looks back for today's gate.
func TestReloadKeepsTheNextGatesByName(t *testing.T) {
	up := []config.Upstream{glueUp("u", "job")}
	a, b, c := pipeline("a", "0 2 * * *", up, nil), pipeline("b", "0 2 * * *", up, nil), pipeline("c", "0 2 * * *", up, nil)
	h := newHarness(t, jst(1, 2, 30), a, b, c)
	eng := looseEngine(t, h.st, h.clock, h.cfg, h.jobs)
	names := func() []string {
		var out []string
		for _, g := range eng.gate.due {
			out = append(out, g.p.Name+"@"+g.fireAt.In(tokyo).Format("15:04"))
		}
		eng.gate.due = nil // as if opened
		return out
	}
	now := jst(1, 2, 30)
	eng.findDueGates(h.cfg, now)
	if got := names(); !reflect.DeepEqual(got, []string{"a@02:00", "b@02:00", "c@02:00"}) {
		t.Fatalf("due under the first config: %v", got)
	}
	a2, d := pipeline("a", "30 2 * * *", up, nil), pipeline("d", "0 2 * * *", up, nil)
	cfg2 := &config.Config{Timezone: h.cfg.Timezone, Location: h.cfg.Location, Pipelines: []*config.Pipeline{c, a2, d}}
	eng.findDueGates(cfg2, now)
	if got := names(); !reflect.DeepEqual(got, []string{"a@02:30", "d@02:00"}) {
		t.Errorf("due after the reload: %v, want a's new gate and d's (c's opened already)", got)
	}
	want := []time.Time{jst(2, 2, 0), jst(2, 2, 30), jst(2, 2, 0)}
	for i, w := range want {
		if !eng.gate.next[i].Equal(w) {
			t.Errorf("next gate of %s: %v, want %v", cfg2.Pipelines[i].Name, eng.gate.next[i], w)
		}
	}
}

// TestNewGatesTakeTheLoadedPipeline: the run of a gate just opened from a
// pipeline that renders nothing per run is prepared with the loaded
// pipeline itself, as prepare would (its snapshot is that pipeline's
// Spec), and holds no snapshot bytes; a pipeline whose sql query each run
// renders is left to prepare, which reads the rendered snapshot.
func TestNewGatesTakeTheLoadedPipeline(t *testing.T) {
	plain := pipeline("plain", "0 2 * * *", []config.Upstream{glueUp("u", "j")}, nil)
	rows := config.Upstream{Name: "rows", Type: config.TypeSQL,
		DataCheck: &config.DataCheck{Warehouse: "bq", Query: "SELECT COUNT(*) FROM t WHERE d = '{{ .LogicalDate }}'"}}
	rendered := pipeline("rendered", "0 2 * * *", []config.Upstream{glueUp("u", "j"), rows}, nil)
	h := newHarness(t, jst(1, 1, 0), plain, rendered)
	h.step() // nothing due yet; the records are read
	if err := h.eng.openGates(context.Background(), []dueGate{{p: plain, fireAt: jst(1, 2, 0)}, {p: rendered, fireAt: jst(1, 2, 0)}}); err != nil {
		t.Fatal(err)
	}
	rec := func(name string) *runRec {
		r := h.eng.runs.recs[h.eng.runs.byKey[name+"/2026-11-01"]]
		if r == nil {
			t.Fatalf("no record of %s's run", name)
		}
		return r
	}
	if p := rec("plain"); p.spec != plain || p.cond == nil || p.run.Spec != nil || p.window.IsZero() {
		t.Fatalf("plain's new run: spec %p (loaded %p), cond %v, %d snapshot bytes, window %v", p.spec, plain, p.cond, len(p.run.Spec), p.window)
	}
	r := rec("rendered")
	if r.spec != nil || len(r.run.Spec) == 0 {
		t.Fatalf("rendered's new run was prepared at its gate (spec %p, %d snapshot bytes)", r.spec, len(r.run.Spec))
	}
	if err := h.eng.prepare(r); err != nil {
		t.Fatal(err)
	}
	if r.spec == rendered || !r.spec.Upstreams[1].Rendered || !strings.Contains(r.spec.Upstreams[1].Query, "2026-11-01") {
		t.Fatalf("rendered's run prepared with %+v, want its rendered snapshot", r.spec.Upstreams[1])
	}
}
