package troccoapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/testkit/budgettest"
)

// TestBudgetKeepsTheAccountLimit sends three windows' worth of calls
// through TROCCO's default budget against the simulator enforcing the
// documented limit: every call succeeds and none is answered 429.
func TestBudgetKeepsTheAccountLimit(t *testing.T) {
	sim, srv, clk := newSim(t, 100)
	sim.DefineJob(55)
	b := budget.New("trocco", budget.TROCCO, clk)
	c := newClient(t, srv.URL, clk, troccoapi.WithBudget(b), troccoapi.WithRetry(0, time.Millisecond, time.Millisecond))
	done := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		defer close(done)
		for i := range 250 {
			ctx := context.Background()
			if i%10 == 0 {
				ctx = budget.WithPriority(ctx, budget.Urgent)
			}
			if _, err := c.ListJobs(ctx, 55, clk.Now().Add(-time.Hour), clk.Now(), "Asia/Tokyo"); err != nil {
				errs <- err
				return
			}
		}
	}()
	budgettest.Drive(clk, 10*time.Second, done)
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	if n := sim.Throttled(); n != 0 {
		t.Fatalf("the simulator answered 429 %d times", n)
	}
	if s := b.Stats(); s.Polls+s.Urgent != 250 {
		t.Errorf("budget granted %+v, want 250 calls", s)
	}
	if clk.Since(t0) < 30*time.Minute {
		t.Errorf("250 calls took %s; 100 per 15 minutes needs at least 30", clk.Since(t0))
	}
}

// TestWithoutBudgetThe101stCallIs429 is the control: the same calls
// without a budget run into the limit.
func TestWithoutBudgetThe101stCallIs429(t *testing.T) {
	sim, srv, clk := newSim(t, 100)
	sim.DefineJob(55)
	c := newClient(t, srv.URL, clk, troccoapi.WithRetry(0, time.Millisecond, time.Millisecond))
	var err error
	for range 101 {
		if _, err = c.ListJobs(context.Background(), 55, clk.Now().Add(-time.Hour), clk.Now(), "Asia/Tokyo"); err != nil {
			break
		}
	}
	if err == nil || sim.Throttled() != 1 {
		t.Fatalf("err %v throttled %d", err, sim.Throttled())
	}
}
