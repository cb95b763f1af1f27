package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
)

// TestRequestsQueueUnderTheBound: 200 requests spawned at once run at most
// MaxInFlight at a time, every one of them, and the workers stop when the
// queue is empty; no goroutine is started per request. (The order they
// run in is TestWorkQueueIsFirstInFirstOut's.)
func TestRequestsQueueUnderTheBound(t *testing.T) {
	h := newHarness(t, jst(1, 0, 0), pipeline("a", "0 0 * * *", []config.Upstream{glueUp("u", "j")}, nil))
	e := h.eng
	e.opts.Sync, e.opts.MaxInFlight = false, 3
	ctx := context.Background()
	select {
	case <-e.kick: // a wake the harness left
	default:
	}
	release := make(chan struct{})
	var running, most atomic.Int32
	var mu sync.Mutex
	var order []int
	for i := range 200 {
		e.spawnThen(ctx, func(context.Context) bool {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			running.Add(-1)
			return i%50 == 0
		})
	}
	e.work.mu.Lock()
	workers, queued := e.work.workers, len(e.work.fns)
	e.work.mu.Unlock()
	if workers != 3 || queued < 200-3 {
		t.Fatalf("%d workers, %d queued; want 3 workers and the rest queued", workers, queued)
	}
	close(release)
	e.wg.Wait()
	if most.Load() > 3 {
		t.Errorf("%d requests ran at once, bound 3", most.Load())
	}
	if len(order) != 200 {
		t.Fatalf("%d requests ran, want 200", len(order))
	}
	seen := map[int]bool{}
	for _, i := range order {
		seen[i] = true
	}
	if len(seen) != 200 {
		t.Fatalf("%d distinct requests ran, want 200", len(seen))
	}
	if e.work.workers != 0 || e.work.fns != nil {
		t.Errorf("after the queue emptied: %d workers, %d queued", e.work.workers, len(e.work.fns))
	}
	select {
	case <-e.kick:
	default:
		t.Error("a request that reported a change did not wake the loop")
	}
}

// The queue hands requests out in the order they came, and a worker that
// finds it empty stops.
func TestWorkQueueIsFirstInFirstOut(t *testing.T) {
	q := &workQueue{workers: 1}
	var got []int
	for i := range 5 {
		q.fns = append(q.fns, func(context.Context) bool { got = append(got, i); return false })
	}
	for {
		fn, ok := q.take()
		if !ok {
			break
		}
		fn(context.Background())
	}
	if len(got) != 5 || got[0] != 0 || got[4] != 4 || got[2] != 2 {
		t.Fatalf("taken in order %v", got)
	}
	if q.workers != 0 {
		t.Fatalf("%d workers after the queue emptied, want 0", q.workers)
	}
}

// TestDownstreamRequestsDoNotWaitForPolls: with every poll worker busy and
// polls queued (10,000 gates just opened), a trigger spawned after them
// runs at once, while the polls wait. Before, one queue held the trigger
// behind ~2,000 polls.
func TestDownstreamRequestsDoNotWaitForPolls(t *testing.T) {
	e := &Engine{opts: Options{MaxInFlight: 1}}
	ctx := context.Background()
	busy, release, triggered := make(chan struct{}), make(chan struct{}), make(chan struct{})
	polled := 0 // by the one poll worker, in turn
	e.spawnThen(ctx, func(context.Context) bool {
		close(busy)
		<-release
		polled++
		return false
	})
	<-busy
	for range 3 {
		e.spawnThen(ctx, func(context.Context) bool { polled++; return false })
	}
	e.spawn(ctx, func(context.Context) { close(triggered) })
	select {
	case <-triggered:
	case <-time.After(10 * time.Second): // a bound on a failure, not a wait for success
		t.Fatal("the trigger waited for the polls queued before it")
	}
	close(release)
	e.wg.Wait()
	if polled != 4 {
		t.Errorf("%d polls ran, want 4", polled)
	}
	if e.work.workers != 0 || e.down.workers != 0 {
		t.Errorf("workers left: %d polling, %d downstream", e.work.workers, e.down.workers)
	}
}
