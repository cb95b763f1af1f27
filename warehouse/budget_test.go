package warehouse

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/sim/bigquerysim"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
)

// budgetedRedshift is a Redshift client on a simulator that throttles
// beyond 5 calls a second, its own budget (nil: none) on the same fake
// clock. stop ends the test's context at the simulator's first refusal.
func budgetedRedshift(t *testing.T, ctx context.Context, stop context.CancelFunc, limit budget.Limit) (Client, *redshiftsim.Sim, *clockwork.FakeClock, *budget.Budget) {
	t.Helper()
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	sim := redshiftsim.New(clock, redshiftsim.WithRegion("ap-northeast-1"), redshiftsim.WithCredentials("AKIDSEKISHO", "secret"),
		redshiftsim.WithLimit(simlimit.Limit{Requests: 5, Per: time.Second}))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sim.ServeHTTP(w, r)
		if sim.Throttled() > 0 {
			stop() // the SDK would back off and retry in real time
		}
	}))
	t.Cleanup(srv.Close)
	w := &config.Warehouse{Name: "analytics", Type: config.WarehouseRedshift, Region: "ap-northeast-1", Endpoint: srv.URL,
		WorkgroupName: "analytics", Database: "dev", RateLimit: config.RateLimit(limit)}
	b := budget.New("warehouse analytics", limit, clock)
	c, err := Open(ctx, w, Options{AWSAccessKey: "AKIDSEKISHO", AWSSecretKey: "secret", StatementPoll: time.Millisecond,
		Budget: func(*config.Warehouse) *budget.Budget { return b }})
	if err != nil {
		t.Fatal(err)
	}
	sim.Answer("SELECT true", func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{true}, nil })
	sim.StartQuery("etl", "INSERT INTO big SELECT * FROM huge")
	sim.GrantMonitor("IAMR:sekisho")
	return c, sim, clock, b
}

// checks runs 8 checks and 4 listings (about 50 Data API calls) and
// returns the first error; while they run, the fake clock moves a second
// whenever the budget waits on it. One caller, so no call is in flight
// while the clock moves: a grant is sent in the second it was granted.
func checks(ctx context.Context, c Client, clock *clockwork.FakeClock) error {
	wait, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		defer cancel()
		for i := range 12 {
			var err error
			if i%3 == 0 {
				_, err = c.Running(ctx)
			} else {
				_, err = c.Check(ctx, "SELECT true")
			}
			if err != nil {
				errc <- err
				return
			}
		}
		errc <- nil
	}()
	for clock.BlockUntilContext(wait, 1) == nil {
		clock.Advance(time.Second)
	}
	return <-errc
}

func TestRedshiftWithinBudgetIsNeverThrottled(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	c, sim, clock, b := budgetedRedshift(t, ctx, stop, budget.Limit{Requests: 5, Per: time.Second})
	if err := checks(ctx, c, clock); err != nil {
		t.Fatalf("under the budget: %v (throttled %d)", err, sim.Throttled())
	}
	if n := sim.Throttled(); n != 0 {
		t.Errorf("the simulator throttled %d calls made within the budget", n)
	}
	calls := 0
	for _, n := range sim.Stats().ByTarget {
		calls += n
	}
	if s := b.Stats(); calls < 40 || s.Polls != int64(calls) {
		t.Errorf("%d Data API calls answered, %d drawn from the budget; want every one of at least 40", calls, s.Polls)
	}
}

func TestRedshiftWithoutBudgetIsThrottled(t *testing.T) {
	// The control: the same calls with no budget meet the simulator's
	// limit, so the test above proves the budget, not a lenient simulator.
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	c, sim, clock, b := budgetedRedshift(t, ctx, stop, budget.Limit{})
	if b != nil {
		t.Fatal("an unset limit gave a budget")
	}
	err := checks(ctx, c, clock)
	if sim.Throttled() == 0 || err == nil {
		t.Fatalf("without a budget: %d throttled, error %v; want the simulator's limit met", sim.Throttled(), err)
	}
	if !strings.Contains(err.Error(), "ThrottlingException") && ctx.Err() == nil {
		t.Errorf("error %v, want ThrottlingException", err)
	}
}

func TestBigQueryDrawsFromBudget(t *testing.T) {
	sim := bigquerysim.New()
	srv := sim.NewServer()
	defer srv.Close()
	clock := clockwork.NewFakeClock()
	b := budget.New("warehouse bq", budget.Limit{Requests: 100, Per: time.Minute}, clock)
	w := &config.Warehouse{Name: "bq", Type: config.WarehouseBigQuery, Project: "my-project", Endpoint: bigquerysim.Endpoint(srv)}
	c, err := Open(context.Background(), w, Options{NoGoogleAuth: true, Budget: func(*config.Warehouse) *budget.Budget { return b }})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sim.Answer("SELECT true", func() ([]bigquerysim.Column, error) { return []bigquerysim.Column{{Type: "BOOLEAN", Value: true}}, nil })
	sim.Slow("SELECT true", 2)
	for range 3 {
		if ok, err := c.Check(context.Background(), "SELECT true"); err != nil || !ok.Passed {
			t.Fatalf("Check = %v, %v", ok, err)
		}
	}
	calls := 0
	for _, n := range sim.Calls() {
		calls += n
	}
	if s := b.Stats(); calls < 4 || s.Polls != int64(calls) {
		t.Errorf("%d REST calls answered, %d drawn from the budget; want every one", calls, s.Polls)
	}
}
