package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// transitionsPerSecond opens n runs and drives each through waiting →
// triggered → running → succeeded with store.Apply, the engine's only write
// path: one transaction (run row CAS + transition row) per transition, on
// the real store with its WAL and synchronous settings.
func transitionsPerSecond(ctx context.Context, n int) (float64, int, error) {
	dir, err := os.MkdirTemp("", "sekisho-bench-store-")
	if err != nil {
		return 0, 0, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, filepath.Join(dir, "s.db"))
	if err != nil {
		return 0, 0, err
	}
	defer st.Close()
	gate := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	runs := make([]sekisho.Run, n)
	for i := range runs {
		r, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: fmt.Sprintf("p%05d", i), LogicalDate: "2026-03-01",
			GateAt: gate, TimeoutAt: gate.Add(6 * time.Hour), Spec: []byte(`{}`)}, map[string]any{"bench": true})
		if err != nil {
			return 0, 0, err
		}
		runs[i] = r
	}
	steps := []struct {
		to     sekisho.State
		reason string
	}{
		{sekisho.StateTriggered, sekisho.ReasonConditionMet},
		{sekisho.StateRunning, sekisho.ReasonDownstreamRunning},
		{sekisho.StateSucceeded, sekisho.ReasonDownstreamSuccess},
	}
	start := time.Now()
	count := 0
	for _, s := range steps {
		for i, r := range runs {
			next := r
			next.State = s.to
			next.ExternalID = sekisho.DagRunID(r.Pipeline, r.LogicalDate, 1)
			got, err := st.Apply(ctx, r, next, gate.Add(time.Hour), store.Step{Reason: s.reason,
				Detail: map[string]any{"external_id": next.ExternalID}})
			if err != nil {
				return 0, 0, err
			}
			runs[i] = got
			count++
		}
	}
	return float64(count) / time.Since(start).Seconds(), count, nil
}
