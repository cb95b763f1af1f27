package engine

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// poller shares one request per distinct upstream resource per poke
// interval among every run that waits on it. Resources no open run waits on
// are dropped and not polled.
type poller struct {
	e       *Engine
	mu      sync.Mutex
	res     map[string]*resource
	changed map[string]bool // resources whose view changed since the loop last looked
	// queue holds every tracked resource not under way, earliest nextDue
	// first: a pass takes the due ones off its top instead of looking at
	// all 2,000 resources each time the earliest falls due (about 33 times
	// a second at 10,000 pipelines).
	queue dueQueue
	// swept: a plan has had the planner forget the next checks of every
	// resource not polled (loop-owned).
	swept bool
}

type resource struct {
	r        sekisho.Resource
	since    time.Time     // earliest window start among the waiting runs
	interval time.Duration // shortest poke interval among them
	nextDue  time.Time
	inflight bool
	qi       int  // index in poller.queue; -1 while under way
	have     bool // at least one poll answered
	runs     []sekisho.JobRun
	polled   time.Time // when the last successful poll answered
	fetched  time.Time // the since of the last successful poll
	err      string
	errAt    time.Time
	// pushed holds runs reported by events; they count until a poll reports
	// the same run ended, since polling stays the source of truth but may lag.
	pushed map[string]sekisho.JobRun
}

// demand is what one pass needs of a resource.
type demand struct {
	r        sekisho.Resource
	since    time.Time
	interval time.Duration
}

func newPoller(e *Engine) *poller {
	return &poller{e: e, res: map[string]*resource{}, changed: map[string]bool{}}
}

// drainChanged returns the resources whose view changed since the last call.
func (p *poller) drainChanged() map[string]bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.changed
	p.changed = map[string]bool{}
	return c
}

// plan brings the set of polled resources in line with the pass's
// demand and returns the resources due now. After a whole plan (whole:
// planDemand worked out every open run again) every resource is looked
// at; otherwise only the keys the plan touched since the poller last took
// it (planRun, unplanRun): a run triggered among 10,000 changes one or
// two resources, and comparing all 2,000 each time was a fifth of the
// waiting daemon's CPU. When it dropped resources no run waits on any
// more, it has the planner forget their published next checks (after
// unlocking: that is store I/O); its first plan forgets every published
// one it does not poll, so those an earlier process left go too.
func (p *poller) plan(ctx context.Context, want map[string]demand, touched map[string]bool, whole bool, now time.Time) []*resource {
	due, dropped := p.planLocked(want, touched, whole, now)
	var err error
	switch {
	case !p.swept && (whole || len(touched) > 0):
		keep := make(map[string]bool, len(want))
		for key := range want {
			keep[key] = true
		}
		err = p.e.planner.Keep(ctx, keep)
		p.swept = err == nil
	case len(dropped) > 0:
		err = p.e.planner.Forget(ctx, dropped)
	}
	if err != nil {
		p.e.log.Warn("forget next checks", "err", err)
	}
	return due
}

func (p *poller) planLocked(want map[string]demand, touched map[string]bool, whole bool, now time.Time) (due []*resource, dropped []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if whole {
		for key := range p.res {
			if _, ok := want[key]; !ok {
				dropped = append(dropped, p.drop(key))
			}
		}
		for key, d := range want {
			p.track(key, d, now)
		}
	} else {
		for key := range touched {
			if d, ok := want[key]; ok {
				p.track(key, d, now)
			} else if _, ok := p.res[key]; ok {
				dropped = append(dropped, p.drop(key))
			}
		}
	}
	for len(p.queue) > 0 && !now.Before(p.queue[0].nextDue) {
		rs := heap.Pop(&p.queue).(*resource)
		rs.inflight = true
		due = append(due, rs)
	}
	return due, dropped
}

// track polls the resource at key for demand d: a new one is due now; one
// polled already is due now if a new waiter looks further back than its
// last poll did. Callers hold p.mu.
func (p *poller) track(key string, d demand, now time.Time) {
	rs, ok := p.res[key]
	if !ok {
		rs = &resource{r: d.r, pushed: map[string]sekisho.JobRun{}, qi: -1}
		p.res[key] = rs
		heap.Push(&p.queue, rs) // nextDue zero: due now
	}
	rs.interval = d.interval
	if rs.have && d.since.Before(rs.fetched) {
		p.setDue(rs, now)
	}
	rs.since = d.since
}

// drop stops polling the resource at key and returns key. A poll under
// way finishes and is not queued again (requeue). Callers hold p.mu.
func (p *poller) drop(key string) string {
	if rs := p.res[key]; rs.qi >= 0 {
		heap.Remove(&p.queue, rs.qi)
	}
	delete(p.res, key)
	return key
}

// setDue moves a resource's next poll to t, keeping the queue in order.
// Callers hold p.mu.
func (p *poller) setDue(rs *resource, t time.Time) {
	rs.nextDue = t
	if rs.qi >= 0 {
		heap.Fix(&p.queue, rs.qi)
	}
}

// requeue ends a resource's poll: it is queued again for next, unless a
// plan dropped it meanwhile. Callers hold p.mu.
func (p *poller) requeue(rs *resource, next time.Time) {
	rs.inflight = false
	rs.nextDue = next
	if p.res[rs.r.Key()] == rs && rs.qi < 0 {
		heap.Push(&p.queue, rs)
	}
}

// dueQueue is a min-heap of resources by nextDue (container/heap).
type dueQueue []*resource

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].nextDue.Before(q[j].nextDue) }
func (q dueQueue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].qi, q[j].qi = i, j
}
func (q *dueQueue) Push(x any) {
	rs := x.(*resource)
	rs.qi = len(*q)
	*q = append(*q, rs)
}
func (q *dueQueue) Pop() any {
	old := *q
	rs := old[len(old)-1]
	old[len(old)-1] = nil
	rs.qi = -1
	*q = old[:len(old)-1]
	return rs
}

// soonestDue is the earliest time a tracked resource not under way falls
// due, so the loop can wake for it instead of waiting for its next tick:
// without it a poll could start up to a whole tick late, and the gate with it.
func (p *poller) soonestDue() (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.queue) == 0 {
		return time.Time{}, false
	}
	return p.queue[0].nextDue, true
}

// poll asks the sensor for one resource's runs and keeps the answer. It
// reports whether what the loop sees of the resource changed.
func (p *poller) poll(ctx context.Context, rs *resource) (changed bool) {
	defer func() {
		if changed {
			p.mu.Lock()
			p.changed[rs.r.Key()] = true
			p.mu.Unlock()
		}
	}()
	e := p.e
	p.mu.Lock()
	r, since, interval := rs.r, rs.since, rs.interval
	p.mu.Unlock()
	sensor := e.sensor(r.Type)
	start := e.clock.Now()
	var runs []sekisho.JobRun
	var err error
	if sensor == nil {
		err = errors.New("no sensor configured for " + r.Type)
	} else {
		cctx, cancel := context.WithTimeout(ctx, requestTimeout(interval))
		runs, err = sensor.Runs(cctx, r, since)
		cancel()
	}
	end := e.clock.Now()
	if e.opts.Metrics != nil {
		outcome := "ok"
		if err != nil {
			outcome = "error"
		}
		e.opts.Metrics.SensorCheck(r.Type, outcome, end.Sub(start))
	}
	// The planner reads the resource's history and publishes its answer
	// (store I/O): outside p.mu.
	planned, perr := e.planner.Next(ctx, r, interval, end)
	if perr != nil && ctx.Err() == nil {
		e.log.Warn("poll plan: store", "resource", r.Key(), "err", perr)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requeue(rs, p.nextDue(rs, end, planned))
	if err != nil {
		if ctx.Err() != nil {
			return false
		}
		// A failed check never changes an upstream's state: keep the last
		// known runs, remember the error for the board.
		msg := shortErr(err)
		changed = msg != rs.err
		rs.err, rs.errAt = msg, end
		e.log.Warn("upstream check failed", "resource", r.Key(), "err", rs.err)
		return changed
	}
	changed = !rs.have || rs.err != "" || !sameRuns(rs.runs, runs)
	rs.have, rs.runs, rs.polled, rs.fetched, rs.err = true, runs, end, since, ""
	for _, run := range runs {
		if pr, ok := rs.pushed[run.ExternalID]; ok && (run.State.Ended() || !pr.State.Ended()) {
			delete(rs.pushed, run.ExternalID)
			changed = true
		}
	}
	return changed
}

// nextDue is when a resource that has just been polled falls due again:
// the one answer to "when is this resource polled next". planned is the
// planner's answer (SPEC §13: dense near the resource's usual finish,
// sparse far from it, within its connection's budget); it is never sooner
// than the poke interval, and the jitter only delays it, by up to its share
// of the interval, so resources polled together drift apart without any
// being checked more often than its poke_interval. Callers hold p.mu.
func (p *poller) nextDue(rs *resource, now, planned time.Time) time.Time {
	if floor := now.Add(rs.interval); planned.Before(floor) {
		planned = floor
	}
	return planned.Add(p.e.spread(rs.interval))
}

// sameRuns reports whether two answers of a sensor hold the same runs in
// the same order.
func sameRuns(a, b []sekisho.JobRun) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.ExternalID != y.ExternalID || x.State != y.State || x.Message != y.Message || !sameValue(x.Value, y.Value) ||
			!x.StartedAt.Equal(y.StartedAt) || !x.FinishedAt.Equal(y.FinishedAt) {
			return false
		}
	}
	return true
}

// requestTimeout bounds one sensor request: long enough for retries, short
// enough that a hung API does not hold a resource for many intervals.
func requestTimeout(interval time.Duration) time.Duration {
	t := 2 * interval
	if t < 30*time.Second {
		t = 30 * time.Second
	}
	if t > 5*time.Minute {
		t = 5 * time.Minute
	}
	return t
}

// view is what the poller knows of a resource for one run's window.
type view struct {
	run    sekisho.JobRun
	found  bool
	pushed bool // the run came from an event
	have   bool // any check has answered
	err    string
	errAt  time.Time
	at     time.Time
}

func (p *poller) view(key string, window time.Time) view {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs, ok := p.res[key]
	if !ok {
		return view{}
	}
	v := view{have: rs.have || len(rs.pushed) > 0, err: rs.err, errAt: rs.errAt, at: rs.polled}
	all := rs.runs
	if len(rs.pushed) > 0 {
		all = make([]sekisho.JobRun, 0, len(rs.runs)+len(rs.pushed))
		for _, r := range rs.runs {
			if _, ok := rs.pushed[r.ExternalID]; !ok {
				all = append(all, r)
			}
		}
		for _, r := range rs.pushed {
			all = append(all, r)
		}
	}
	v.run, v.found = sekisho.Latest(all, window)
	if v.found {
		_, v.pushed = rs.pushed[v.run.ExternalID]
	}
	return v
}

// push records a run reported by an event and marks the resource changed,
// so the pass looks at the runs waiting on it. A run of a resource no open
// run waits on is dropped: a later gate polls it anyway.
func (p *poller) push(r sekisho.Resource, run sekisho.JobRun, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs, ok := p.res[r.Key()]
	if !ok {
		return
	}
	// An event carries no start time: borrow it from the poll when the
	// run is known, else count the run as starting when the event says it ended.
	if run.StartedAt.IsZero() {
		for _, known := range rs.runs {
			if known.ExternalID == run.ExternalID {
				run.StartedAt = known.StartedAt
			}
		}
		if prev, ok := rs.pushed[run.ExternalID]; ok && run.StartedAt.IsZero() {
			run.StartedAt = prev.StartedAt
		}
		if run.StartedAt.IsZero() {
			run.StartedAt = run.FinishedAt
		}
		if run.StartedAt.IsZero() {
			run.StartedAt = now
		}
	}
	rs.pushed[run.ExternalID] = run
	p.changed[r.Key()] = true
}

// due makes a tracked resource due for an immediate poll.
func (p *poller) due(key string, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	rs, ok := p.res[key]
	if ok {
		p.setDue(rs, now)
	}
	return ok
}
