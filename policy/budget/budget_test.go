package budget_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/policy/budget"
)

var t0 = time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)

func TestNilBudgetIsUnlimited(t *testing.T) {
	var b *budget.Budget = budget.New("x", budget.Limit{}, nil)
	if b != nil {
		t.Fatal("an unset limit must give no budget")
	}
	if err := b.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestLimitFigures(t *testing.T) {
	tests := []struct {
		name     string
		l        budget.Limit
		interval time.Duration
		share    float64
		text     string
	}{
		{"trocco", budget.TROCCO, 9 * time.Second, 0.9, "100 per 15m0s, 10000 a day"},
		{"daily binds", budget.Limit{Requests: 100, Per: time.Minute, Daily: 1440}, time.Minute, 0.9, "100 per 1m0s, 1440 a day"},
		{"glue", budget.Limit{Requests: 5, Per: time.Second}, 200 * time.Millisecond, 0.8, "5 per 1s"},
		{"unlimited", budget.Limit{}, 0, 1, "unlimited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.Interval(); got != tt.interval {
				t.Errorf("Interval = %s, want %s", got, tt.interval)
			}
			if got := tt.l.PollShare(); got != tt.share {
				t.Errorf("PollShare = %v, want %v", got, tt.share)
			}
			if got := tt.l.String(); got != tt.text {
				t.Errorf("String = %q, want %q", got, tt.text)
			}
		})
	}
}

// grants runs n callers of priority p and returns when each was granted.
func grants(t *testing.T, clk *clockwork.FakeClock, b *budget.Budget, n int, p budget.Priority) (func() []time.Time, *sync.WaitGroup) {
	var wg sync.WaitGroup
	ctx := budget.WithPriority(context.Background(), p)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := b.Wait(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	return func() []time.Time { return stamps(b, p) }, &wg
}

// stamped records, per budget, the time the budget itself stamped on each
// grant: reading the fake clock after Wait returns would race the driver
// moving it on.
var stamped sync.Map // *budget.Budget -> *grantLog

type grantLog struct {
	mu sync.Mutex
	at map[budget.Priority][]time.Time
}

// record makes b log its grants for stamps.
func record(b *budget.Budget) {
	g := &grantLog{at: map[budget.Priority][]time.Time{}}
	stamped.Store(b, g)
	b.OnGrant(func(at time.Time, p budget.Priority) {
		g.mu.Lock()
		g.at[p] = append(g.at[p], at)
		g.mu.Unlock()
	})
}

// stamps returns the grant times of priority p logged since record(b), in order.
func stamps(b *budget.Budget, p budget.Priority) []time.Time {
	v, ok := stamped.Load(b)
	if !ok {
		return nil
	}
	g := v.(*grantLog)
	g.mu.Lock()
	defer g.mu.Unlock()
	out := append([]time.Time(nil), g.at[p]...)
	sort.Slice(out, func(i, j int) bool { return out[i].Before(out[j]) })
	return out
}

// maxIn is the most grants in any interval of length per.
func maxIn(at []time.Time, per time.Duration) int {
	best := 0
	for i := range at {
		n := 0
		for j := i; j < len(at) && at[j].Sub(at[i]) < per; j++ {
			n++
		}
		best = max(best, n)
	}
	return best
}

// drive advances the fake clock in steps until done is closed.
func drive(t *testing.T, clk *clockwork.FakeClock, step time.Duration, wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		default:
		}
		if i > 100000 {
			t.Fatal("callers never finished")
		}
		clk.Advance(step)
		time.Sleep(50 * time.Microsecond) // let woken callers take their slots
	}
}

func TestNeverExceeded(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	lim := budget.Limit{Requests: 10, Per: time.Minute, Daily: 30}
	b := budget.New("trocco", lim, clk)
	// The grant times as the budget stamps them: a caller reading the clock
	// after Wait returns may already see the next step of drive.
	var mu sync.Mutex
	var all []time.Time
	b.OnGrant(func(at time.Time, _ budget.Priority) { mu.Lock(); all = append(all, at); mu.Unlock() })
	_, wg1 := grants(t, clk, b, 15, budget.Poll)
	_, wg2 := grants(t, clk, b, 10, budget.Urgent)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { wg1.Wait(); wg.Done() }()
	go func() { wg2.Wait(); wg.Done() }()
	drive(t, clk, 5*time.Second, &wg)
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Before(all[j]) })
	if len(all) != 25 {
		t.Fatalf("granted %d, want 25", len(all))
	}
	if n := maxIn(all, time.Minute); n > 10 {
		t.Errorf("%d calls within a minute, limit 10", n)
	}
	if n := maxIn(all, budget.Day); n > 30 {
		t.Errorf("%d calls within a day, limit 30", n)
	}
	if s := b.Stats(); s.Polls != 15 || s.Urgent != 10 {
		t.Errorf("stats %+v", s)
	}
}

func TestUrgentFirstAndReserve(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	b := budget.New("trocco", budget.Limit{Requests: 10, Per: time.Minute}, clk)
	ctx := context.Background()
	// Polls get 9 of 10 at once; the tenth slot is the urgent reserve.
	for i := range 9 {
		if err := b.Wait(ctx); err != nil {
			t.Fatal(i, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := b.Wait(cctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("a poll took the reserve: %v", err)
	}
	if err := b.Wait(budget.WithPriority(ctx, budget.Urgent)); err != nil {
		t.Fatal("urgent call did not get the reserve:", err)
	}
}

// TestWaitingUrgentHoldsBackPolls: a poll waiting beside an urgent caller
// leaves it the slot it needs, besides the reserve. Two polls fill a window
// of three at t0 and the urgent reserve the third at t0+10s; at t0+1m two
// slots free at once. Counting only the reserve, the poll would fit then,
// beside the urgent caller; counting the waiting urgent caller too, it
// waits until t0+1m10s.
func TestWaitingUrgentHoldsBackPolls(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	b := budget.New("trocco", budget.Limit{Requests: 3, Per: time.Minute}, clk)
	ctx := context.Background()
	for range 2 {
		if err := b.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(10 * time.Second)
	if err := b.Wait(budget.WithPriority(ctx, budget.Urgent)); err != nil {
		t.Fatal(err)
	}
	record(b)
	urgent, wgU := grants(t, clk, b, 1, budget.Urgent)
	clk.BlockUntilContext(ctx, 1)
	polls, wgP := grants(t, clk, b, 1, budget.Poll)
	clk.BlockUntilContext(ctx, 2)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { wgU.Wait(); wgP.Wait(); wg.Done(); wg.Done() }()
	drive(t, clk, time.Second, &wg)
	u, p := urgent(), polls()
	if len(u) != 1 || len(p) != 1 {
		t.Fatalf("grants: urgent %v, polls %v", u, p)
	}
	if !u[0].Before(p[0]) {
		t.Errorf("urgent granted %s, not before the poll %s", u[0], p[0])
	}
	if u[0].Before(t0.Add(time.Minute)) {
		t.Errorf("urgent granted at %s inside a full window", u[0])
	}
	if p[0].Before(t0.Add(time.Minute + 10*time.Second)) {
		t.Errorf("poll granted at %s, before the reserve freed at t0+1m10s", p[0])
	}
}

func TestTransportDrawsEveryRequest(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	b := budget.New("glue", budget.Limit{Requests: 3, Per: time.Second}, clk)
	hc := budget.Client(nil, b)
	if _, ok := hc.Transport.(*budget.Transport); !ok {
		t.Fatalf("transport %T", hc.Transport)
	}
	if budget.Client(hc, nil) != hc {
		t.Error("a nil budget must leave the client as it is")
	}
}

func TestDailyLimit(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	b := budget.New("trocco", budget.Limit{Daily: 3}, clk)
	ctx := context.Background()
	done, cancel := context.WithCancel(ctx)
	cancel()
	urgent := budget.WithPriority(ctx, budget.Urgent)
	for _, step := range []struct {
		ctx  context.Context
		ok   bool
		wait time.Duration
	}{
		{ctx, true, 0}, {ctx, true, 0},
		{done, false, 0}, // the third is the urgent reserve
		{urgent, true, 0},
		{budget.WithPriority(done, budget.Urgent), false, 0}, // full for the day
		{urgent, true, 0}, // after the day has passed
	} {
		if step.ctx == urgent && b.Stats().Urgent == 1 {
			clk.Advance(budget.Day)
		}
		err := b.Wait(step.ctx)
		if (err == nil) != step.ok {
			t.Fatalf("at %s: err %v, want ok=%v", clk.Now(), err, step.ok)
		}
	}
}

// TestRestoreCarriesTheWindowOverARestart: a new process's budget, given
// the grants its predecessor recorded, does not spend them again.
func TestRestoreCarriesTheWindowOverARestart(t *testing.T) {
	clk := clockwork.NewFakeClockAt(t0)
	lim := budget.Limit{Requests: 10, Per: time.Minute}
	first := budget.New("trocco", lim, clk)
	var recorded []time.Time
	first.OnGrant(func(at time.Time, _ budget.Priority) { recorded = append(recorded, at) })
	ctx := context.Background()
	for range 9 {
		if err := first.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if len(recorded) != 9 {
		t.Fatalf("recorded %d grants, want 9", len(recorded))
	}
	clk.Advance(10 * time.Second) // the daemon restarts
	second := budget.New("trocco", lim, clk)
	second.Restore(recorded)
	done, cancel := context.WithCancel(ctx)
	cancel()
	if err := second.Wait(done); err == nil {
		t.Fatal("the restarted budget spent a window its predecessor had used up")
	}
	clk.Advance(50 * time.Second) // the old grants leave the window
	if err := second.Wait(ctx); err != nil {
		t.Fatal(err)
	}
}
