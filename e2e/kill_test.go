package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
)

var killsFlag = flag.Int("e2e.kills", 32, "SIGKILLs in TestKillAroundTrigger")

// TestKillAroundTrigger SIGKILLs the real daemon at random moments around
// its triggers (issue 4) and checks, at the end, that every attempt created
// exactly one DAG run and at most one TROCCO workflow job, that every run
// finished, and that every history is a valid path through the machine.
//
// Each round the operator reruns every finished run while the daemon is
// down, so the restarted daemon finds attempts whose condition already
// holds and triggers within a few hundred milliseconds of starting: the
// random kill lands before the intent, between the intent and the answer,
// between the answer and its record, or while following the downstream.
func TestKillAroundTrigger(t *testing.T) {
	h := newHarness(t, *seedFlag)
	rng := rand.New(rand.NewPCG(*seedFlag, 4))
	w := h.world
	now := time.Now().UTC()
	w.Glue.PlanRun("export-a", gluesim.Run{Start: now.Add(-2 * time.Minute), Duration: time.Minute})
	w.Trocco.AddJob(55, now.Add(-2*time.Minute), troccosim.Outcome{RunFor: time.Minute, Status: "succeeded"})
	dagOf, defOf := map[string]string{}, map[string]int64{}
	var ps []Pipeline
	gate := now.Add(2 * time.Second)
	for i := range 2 {
		for _, v := range []string{"v1", "v2"} {
			name := fmt.Sprintf("kill_%s_%d", v, i)
			dag := "dag_" + name
			w.Airflow.AddDAG(dag, airflowsim.DAG{Duration: 800 * time.Millisecond})
			dagOf[name] = dag
			up := GlueUpstream("src", "export-a")
			if v == "v2" {
				up = TroccoJobUpstream("src", 55)
			}
			ps = append(ps, Pipeline{Name: name, Schedule: CronAt(gate), Upstreams: []string{up}, Trigger: AirflowTrigger(v, dag)})
		}
		name := fmt.Sprintf("kill_trocco_%d", i)
		def := int64(700 + i)
		w.Trocco.DefineWorkflow(def, troccosim.Outcome{RunFor: 500 * time.Millisecond, Status: "succeeded"})
		defOf[name] = def
		ps = append(ps, Pipeline{Name: name, Schedule: CronAt(gate), Upstreams: []string{GlueUpstream("src", "export-a")}, Trigger: TroccoTrigger(def)})
	}
	// Slow answers stretch the moment between a trigger's intent and its
	// answer to hundreds of milliseconds, so random kills land in it.
	w.Airflow.SetFaults(airflowsim.Faults{Slow: 0.6, SlowDelay: 400 * time.Millisecond})
	w.Trocco.SetFaults(troccosim.Faults{Slow: 0.6, SlowFor: 400 * time.Millisecond})
	cfg := h.writeConfig(w.Config(Settings{}, ps))
	ctx := context.Background()
	date := sekisho.DateOf(gate, time.UTC)

	start := time.Now()
	if err := h.d.Start(); err != nil {
		t.Fatal(err)
	}
	st := h.store()
	reruns := 0
	for i := 0; i < *killsFlag; i++ {
		// Most kills land in the first second after start, where the
		// triggers go out; some later, while the downstream is followed.
		delay := time.Duration(50+rng.IntN(900)) * time.Millisecond
		if rng.IntN(4) == 0 {
			delay = time.Duration(900+rng.IntN(1500)) * time.Millisecond
		}
		time.Sleep(delay)
		if err := h.d.Kill(); err != nil {
			t.Fatal(err)
		}
		reruns += h.rerunFinished(st, cfg, ps, date, func(sekisho.Run) bool { return true })
		if err := h.d.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// The last daemon lives: every open attempt must finish. A TROCCO
	// attempt a kill left between intent and answer ends one request
	// timeout after its intent (the dead daemon's POST may land until then).
	var open []sekisho.Run
	if !h.d.WaitFor(30*time.Second+troccoapi.DefaultTimeout, func() bool {
		var err error
		if open, err = st.OpenRuns(ctx); err != nil {
			t.Fatal(err)
		}
		return len(open) == 0
	}) {
		t.Fatalf("%d runs still open, e.g. %s %s %s (%s)", len(open), open[0].Pipeline, open[0].LogicalDate, open[0].State, open[0].Message)
	}
	if err := h.d.Stop(); err != nil {
		t.Error(err)
	}
	hs := h.checkRuns(st, ps, dagOf, defOf)
	trig := w.Airflow.Triggers()
	if n := len(w.Airflow.InvalidRequests()); n != 0 {
		t.Errorf("airflow saw %d requests off the OpenAPI document: %+v", n, w.Airflow.InvalidRequests()[0])
	}
	// Every attempt ends as it should: Airflow ones succeed (409 makes a
	// repeat harmless), TROCCO ones succeed or fail as unknown.
	attempts, unknown := checkAttemptEnds(t, hs, defOf)
	conflicts := 0
	for _, tr := range trig {
		if tr.Status == 409 {
			conflicts++
		}
	}
	h.checkNoSecrets()
	t.Logf("seed %d: %d kills, %d starts, %d reruns, %d attempts (%d trocco unknown, %d of them with a job a dead daemon's POST started), %d airflow 409 repeats, %s",
		*seedFlag, *killsFlag, h.d.Starts, reruns, attempts, unknown, len(UnknownsWithJobs(hs, w.Trocco.PipelineJobs, defOf)), conflicts, time.Since(start).Round(time.Millisecond))
}
