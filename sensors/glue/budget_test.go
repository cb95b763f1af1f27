package glue_test

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/internal/budget"
	"github.com/sekisho-dev/sekisho/internal/budget/budgettest"
	"github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
)

// TestBudgetKeepsGlueUnderItsLimit: 30 calls through a {5 per second}
// budget against a simulator throttling past 5 per second: none is
// throttled. Without the budget the sixth call in a second is.
func TestBudgetKeepsGlueUnderItsLimit(t *testing.T) {
	for _, withBudget := range []bool{true, false} {
		isolateAWS(t)
		clock := clockwork.NewFakeClockAt(t0)
		sim := gluesim.New(clock, gluesim.WithRegion(region), gluesim.WithCredentials(accessKey, secretKey),
			gluesim.WithLimit(simlimit.Limit{Requests: 5, Per: time.Second}))
		srv := sim.NewServer()
		t.Cleanup(srv.Close)
		sim.AddJob("daily")
		opts := []glue.Option{glue.WithStaticCredentials(accessKey, secretKey), glue.WithRetry(1, time.Millisecond)}
		if withBudget {
			opts = append(opts, glue.WithBudget(budget.New("glue", budget.Limit{Requests: 5, Per: time.Second}, clock)))
		}
		s, err := glue.New(context.Background(), &config.Glue{Region: region, Endpoint: srv.URL}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		var failed int
		go func() {
			defer close(done)
			for range 30 {
				if _, err := s.Runs(context.Background(), job("daily"), t0.Add(-time.Hour)); err != nil {
					failed++
				}
			}
		}()
		budgettest.Drive(clock, 100*time.Millisecond, done)
		switch {
		case withBudget && (sim.Throttled() != 0 || failed != 0):
			t.Errorf("with the budget: %d throttled, %d failed", sim.Throttled(), failed)
		case !withBudget && sim.Throttled() == 0:
			t.Error("control: without a budget the simulator should throttle")
		}
	}
}
