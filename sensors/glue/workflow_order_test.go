package glue_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
)

// TestWorkflowRunsInAnyOrder reads a workflow whose runs come oldest
// first, five to a page: the runs inside the window are on the last
// pages, and every one of them is found.
func TestWorkflowRunsInAnyOrder(t *testing.T) {
	for _, oldestFirst := range []bool{false, true} {
		isolateAWS(t)
		clock := clockwork.NewFakeClockAt(t0)
		opts := []gluesim.Option{gluesim.WithRegion(region), gluesim.WithCredentials(accessKey, secretKey)}
		if oldestFirst {
			opts = append(opts, gluesim.WithWorkflowRunsOldestFirst())
		}
		sim := gluesim.New(clock, opts...)
		srv := sim.NewServer()
		t.Cleanup(srv.Close)
		s, err := glue.New(context.Background(), &config.Glue{Region: region, Endpoint: srv.URL},
			glue.WithStaticCredentials(accessKey, secretKey), glue.WithRetry(3, time.Millisecond), glue.WithPageSize(5))
		if err != nil {
			t.Fatal(err)
		}
		sim.AddWorkflow("nightly")
		for d := range 30 {
			sim.PlanWorkflowRun("nightly", gluesim.WorkflowRun{Start: t0.Add(-time.Hour - time.Duration(d)*24*time.Hour), Duration: 20 * time.Minute})
		}
		runs, err := s.Runs(context.Background(), workflow("nightly"), t0.Add(-3*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 3 {
			t.Errorf("oldest first %v: %d runs in the window, want 3", oldestFirst, len(runs))
		}
		if got := sim.Requests().ByTarget["GetWorkflowRuns"]; got != 6 {
			t.Errorf("oldest first %v: %d pages read, want all 6", oldestFirst, got)
		}
	}
}
