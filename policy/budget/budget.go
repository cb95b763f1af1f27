// Package budget keeps every call to one connection within the vendor's
// request limit (SPEC §13). One Budget per connection is shared by the
// sensor polls, event look-ups, triggers and follow-ups of that connection;
// a call waits, on the injected clock, until a slot is free, so the vendor
// never answers 429.
//
// The budget counts in sliding windows: at most Requests calls in any
// interval of length Per, and at most Daily calls in any 24 hours. A
// sliding window never exceeds a fixed window of the same length however
// the vendor aligns its windows, so the budget stays safe without knowing
// where the vendor's 15 minutes or its day begin.
//
// Urgent calls (triggers and follow-ups of triggered runs) go first: a poll
// never takes a slot while an urgent call waits, and polls leave a reserve
// of a tenth of each window (at least one slot) free for urgent calls that
// have not arrived yet.
package budget

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
)

// Limit is one connection's request limit; zero values mean unlimited.
type Limit struct {
	Requests int           // calls per Per
	Per      time.Duration // the window of Requests
	Daily    int           // calls per 24 hours
}

// Set reports whether the limit bounds anything.
func (l Limit) Set() bool { return l.Requests > 0 && l.Per > 0 || l.Daily > 0 }

// String is the limit as pipelines.yaml writes it.
func (l Limit) String() string {
	switch {
	case l.Requests > 0 && l.Daily > 0:
		return fmt.Sprintf("%d per %s, %d a day", l.Requests, l.Per, l.Daily)
	case l.Requests > 0:
		return fmt.Sprintf("%d per %s", l.Requests, l.Per)
	case l.Daily > 0:
		return fmt.Sprintf("%d a day", l.Daily)
	}
	return "unlimited"
}

// TROCCO is TROCCO's documented account-wide limit, the default of
// connections.trocco.rate_limit.
var TROCCO = Limit{Requests: 100, Per: 15 * time.Minute, Daily: 10000}

// Day is the window of Limit.Daily.
const Day = 24 * time.Hour

// Interval is the shortest mean interval between calls the limit allows
// over a long run: the stricter of Per/Requests and Day/Daily. Zero when
// unlimited.
func (l Limit) Interval() time.Duration {
	var d time.Duration
	if l.Requests > 0 && l.Per > 0 {
		d = l.Per / time.Duration(l.Requests)
	}
	if l.Daily > 0 {
		if dd := Day / time.Duration(l.Daily); dd > d {
			d = dd
		}
	}
	return d
}

// PollShare is the share of the limit that polls may use: what is left
// after the urgent reserve.
func (l Limit) PollShare() float64 {
	if !l.Set() {
		return 1
	}
	n := l.Requests
	if n <= 0 {
		n = l.Daily
	}
	return float64(n-reserve(n)) / float64(n)
}

// reserve is how many slots of a window of n polls leave free.
func reserve(n int) int {
	if n <= 1 {
		return 0
	}
	return max(1, int(math.Ceil(float64(n)/10)))
}

// Priority orders callers waiting for a slot.
type Priority int

// Priorities: Poll is the default of a context without one.
const (
	Poll   Priority = iota // sensor polls and look-ups
	Urgent                 // triggers and follow-ups of triggered runs
)

type priorityKey struct{}

// WithPriority marks the calls made under ctx.
func WithPriority(ctx context.Context, p Priority) context.Context {
	return context.WithValue(ctx, priorityKey{}, p)
}

// PriorityOf is the priority ctx carries, Poll by default.
func PriorityOf(ctx context.Context) Priority {
	p, _ := ctx.Value(priorityKey{}).(Priority)
	return p
}

// Budget is one connection's share of the vendor's limit. A nil *Budget
// is unlimited. It is safe for concurrent use.
type Budget struct {
	name  string
	limit Limit
	clock clockwork.Clock

	mu      sync.Mutex
	window  []time.Time // grants within Per, oldest first
	day     []time.Time // grants within Day, oldest first
	urgent  int         // urgent callers waiting
	wake    chan struct{}
	granted [2]int64
	waited  time.Duration
	onGrant func(time.Time, Priority)
}

// New returns the budget of connection name; nil when limit is unset.
func New(name string, limit Limit, clock clockwork.Clock) *Budget {
	if !limit.Set() {
		return nil
	}
	if clock == nil {
		clock = clockwork.NewRealClock()
	}
	return &Budget{name: name, limit: limit, clock: clock, wake: make(chan struct{})}
}

// Limit is the budget's limit; unlimited for a nil budget.
func (b *Budget) Limit() Limit {
	if b == nil {
		return Limit{}
	}
	return b.limit
}

// Wait takes one slot for a call at ctx's priority, waiting on the clock
// until one is free. It fails only when ctx ends first.
func (b *Budget) Wait(ctx context.Context) error {
	if b == nil {
		return nil
	}
	p := PriorityOf(ctx)
	start := b.clock.Now()
	b.mu.Lock()
	if p == Urgent {
		b.urgent++
	}
	for {
		now := b.clock.Now()
		b.expire(now)
		wait, ok := b.free(now, p)
		if ok {
			b.window = append(b.window, now)
			b.day = append(b.day, now)
			if p == Urgent {
				b.urgent--
				b.signal() // polls held back for this call may look again
			}
			b.granted[p]++
			b.waited += now.Sub(start)
			record := b.onGrant
			b.mu.Unlock()
			if record != nil {
				record(now, p)
			}
			return nil
		}
		wake := b.wake
		b.mu.Unlock()
		t := b.clock.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			b.mu.Lock()
			if p == Urgent {
				b.urgent--
				b.signal()
			}
			b.mu.Unlock()
			return fmt.Errorf("%s request budget (%s): %w", b.name, b.limit, ctx.Err())
		case <-t.Chan():
		case <-wake:
			t.Stop()
		}
		b.mu.Lock()
	}
}

// signal wakes every waiter to look again; b.mu is held.
func (b *Budget) signal() {
	close(b.wake)
	b.wake = make(chan struct{})
}

// expire drops grants that left their windows; b.mu is held.
func (b *Budget) expire(now time.Time) {
	drop := func(ts []time.Time, per time.Duration) []time.Time {
		i := 0
		for i < len(ts) && !ts[i].Add(per).After(now) {
			i++
		}
		return ts[i:]
	}
	if b.limit.Requests > 0 {
		b.window = drop(b.window, b.limit.Per)
	} else {
		b.window = b.window[:0]
	}
	if b.limit.Daily > 0 {
		b.day = drop(b.day, Day)
	} else {
		b.day = b.day[:0]
	}
}

// free reports whether a call at priority p may go now, or else how long
// until a slot frees; b.mu is held.
func (b *Budget) free(now time.Time, p Priority) (time.Duration, bool) {
	var wait time.Duration
	ok := true
	check := func(ts []time.Time, n int, per time.Duration) {
		if n <= 0 {
			return
		}
		keep := 0
		if p == Poll {
			keep = reserve(n) + b.urgent
		}
		if len(ts)+keep < n {
			return
		}
		ok = false
		// The slot frees when enough of the oldest grants expire.
		i := len(ts) + keep - n
		if i >= len(ts) {
			i = len(ts) - 1
		}
		w := per
		if i >= 0 {
			w = ts[i].Add(per).Sub(now)
		}
		if w > wait {
			wait = w
		}
	}
	check(b.window, b.limit.Requests, b.limit.Per)
	check(b.day, b.limit.Daily, Day)
	if wait <= 0 {
		wait = time.Millisecond
	}
	return wait, ok
}

// Restore counts grants made before this budget existed (by the daemon's
// previous process, read back from the store), so a restart does not spend
// again what its window has already spent.
func (b *Budget) Restore(grants []time.Time) {
	if b == nil || len(grants) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	merge := func(ts []time.Time) []time.Time {
		out := append(append([]time.Time(nil), ts...), grants...)
		slices.SortFunc(out, func(a, c time.Time) int { return a.Compare(c) })
		return out
	}
	b.window, b.day = merge(b.window), merge(b.day)
	b.expire(b.clock.Now())
}

// OnGrant sets a function called with the time and priority of every
// grant, before the call it grants is sent: the daemon records grants in the
// store with it.
func (b *Budget) OnGrant(f func(at time.Time, p Priority)) {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.onGrant = f
	b.mu.Unlock()
}

// Stats is what a budget has granted so far.
type Stats struct {
	Polls, Urgent int64
	Waited        time.Duration // summed over every call
}

// Stats reports the grants so far; zero for a nil budget.
func (b *Budget) Stats() Stats {
	if b == nil {
		return Stats{}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return Stats{Polls: b.granted[Poll], Urgent: b.granted[Urgent], Waited: b.waited}
}
