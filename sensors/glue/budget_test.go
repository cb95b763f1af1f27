package glue_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
	"github.com/sekisho-dev/sekisho/testkit/budgettest"
)

// TestBudgetKeepsGlueUnderItsLimit: 30 calls through a {5 per second}
// budget against a simulator throttling past 5 per second: none is
// throttled. Without the budget the sixth call in a second is.
func TestBudgetKeepsGlueUnderItsLimit(t *testing.T) {
	limit := []gluesim.Option{gluesim.WithLimit(simlimit.Limit{Requests: 5, Per: time.Second})}
	for _, withBudget := range []bool{true, false} {
		clock := clockwork.NewFakeClockAt(t0)
		opts := []glue.Option{glue.WithRetry(1, time.Millisecond)}
		if withBudget {
			opts = append(opts, glue.WithBudget(budget.New("glue", budget.Limit{Requests: 5, Per: time.Second}, clock)))
		}
		e := newEnvWith(t, clock, limit, opts...)
		e.sim.AddJob("daily")
		done := make(chan struct{})
		failed := 0
		go func() {
			defer close(done)
			for range 30 {
				if _, err := e.sensor.Runs(context.Background(), job("daily"), t0.Add(-time.Hour)); err != nil {
					failed++
				}
			}
		}()
		budgettest.Drive(e.clock, 100*time.Millisecond, done)
		switch {
		case withBudget && (e.sim.Throttled() != 0 || failed != 0):
			t.Errorf("with the budget: %d throttled, %d failed", e.sim.Throttled(), failed)
		case !withBudget && e.sim.Throttled() == 0:
			t.Error("control: without a budget the simulator should throttle")
		}
	}
}
