package e2e

import (
	"context"
	"testing"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// checkRuns reads every run's history from st and checks, against the
// simulators' records: one run per pipeline, every history a valid path,
// one DAG run per attempt (dagOf) and at most one TROCCO workflow job per
// attempt (defOf).
func (h *harness) checkRuns(st *store.Store, ps []Pipeline, dagOf map[string]string, defOf map[string]int64) []History {
	h.t.Helper()
	hs, err := ReadHistories(context.Background(), st)
	if err != nil {
		h.t.Fatal(err)
	}
	if len(hs) != len(ps) {
		h.t.Errorf("%d runs, want one per pipeline (%d)", len(hs), len(ps))
	}
	reportProblems(h.t, "history", CheckPaths(hs))
	reportProblems(h.t, "airflow", CheckAirflowOnce(hs, h.world.Airflow.Triggers(), h.world.Airflow.Clears(), dagOf))
	if bad := CheckTroccoOnce(hs, h.world.Trocco.PipelineJobs, defOf); len(bad) > 0 {
		reportProblems(h.t, "trocco", bad)
		for _, l := range DescribeTroccoJobs(hs, h.world.Trocco.PipelineJobs, defOf) {
			h.t.Log(l)
		}
	}
	return hs
}

// checkAttemptEnds checks every attempt ended as it should: Airflow ones
// succeed (409 makes a repeat harmless), TROCCO ones (defOf) succeed or
// fail as unknown. It returns the attempts and the unknown ones.
func checkAttemptEnds(t *testing.T, hs []History, defOf map[string]int64) (attempts, unknown int) {
	t.Helper()
	for _, h := range hs {
		for _, a := range h.Attempts() {
			attempts++
			state, reason := a.End()
			switch {
			case state == sekisho.StateSucceeded:
			case defOf[h.Run.Pipeline] != 0 && state == sekisho.StateFailed && reason == sekisho.ReasonTriggerUnknown:
				unknown++
			default:
				t.Errorf("%s attempt %d ended %s (%s): %s", h.Run.Pipeline, a.N, state, reason, h.Run.Message)
			}
		}
	}
	return attempts, unknown
}
