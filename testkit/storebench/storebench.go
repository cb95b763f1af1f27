// Package storebench measures the store's write path, the same way on
// SQLite and PostgreSQL, for cmd/sekisho-bench and cmd/sekisho-habench.
package storebench

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// TransitionsPerSecond opens n runs in the fresh store at loc and drives
// each through waiting → triggered → running → succeeded with store.Apply,
// the engine's only write path: one transaction (run row CAS + transition
// row) per transition, on the real store with its durability settings.
// With epoch > 0 every write is fenced by that lease epoch (WithEpoch), as
// a leader's are; the caller claims the lease first.
func TransitionsPerSecond(ctx context.Context, st *store.Store, n int, epoch int64) (float64, int, error) {
	if epoch > 0 {
		ctx = store.WithEpoch(ctx, epoch)
	}
	gate := time.Date(2026, 3, 1, 2, 0, 0, 0, time.UTC)
	runs := make([]sekisho.Run, n)
	for i := range runs {
		r, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: fmt.Sprintf("p%05d", i), LogicalDate: "2026-03-01", Key: "2026-03-01",
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
			next.ExternalID = sekisho.DagRunID(r.Pipeline, r.Key, 1)
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
