package glue_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
)

// TestWorkflowRunsInAnyOrder reads a workflow whose runs come oldest
// first, five to a page: the runs inside the window are on the last
// pages, and every one of them is found.
func TestWorkflowRunsInAnyOrder(t *testing.T) {
	for _, oldestFirst := range []bool{false, true} {
		var simOpts []gluesim.Option
		if oldestFirst {
			simOpts = append(simOpts, gluesim.WithWorkflowRunsOldestFirst())
		}
		e := newEnvWith(t, clockwork.NewFakeClockAt(t0), simOpts, glue.WithPageSize(5))
		e.sim.AddWorkflow("nightly")
		for d := range 30 {
			e.sim.PlanWorkflowRun("nightly", gluesim.WorkflowRun{Start: t0.Add(-time.Hour - time.Duration(d)*24*time.Hour), Duration: 20 * time.Minute})
		}
		runs, err := e.sensor.Runs(context.Background(), workflow("nightly"), t0.Add(-3*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 3 {
			t.Errorf("oldest first %v: %d runs in the window, want 3", oldestFirst, len(runs))
		}
		if got := e.sim.Requests().ByTarget["GetWorkflowRuns"]; got != 6 {
			t.Errorf("oldest first %v: %d pages read, want all 6", oldestFirst, got)
		}
	}
}
