package engine

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// runCache is the loop's copy of the open runs. Reading 10,000 open runs
// (each with its config snapshot) from SQLite on every pass costs far more
// than reconciling them, so the loop reads them once and keeps the copy in
// step with its own writes. It reads them again when the store may have
// changed behind its back: another process wrote (the data version moved),
// an operator action came through this process, a write lost a race, or
// the copy is older than reloadEvery full passes.
type runCache struct {
	open    map[int64]sekisho.Run
	ids     []int64          // open run ids in gate order
	byKey   map[string]int64 // pipeline/date → open run id
	closed  map[string]sekisho.Run
	version int64
	at      time.Time
}

// reloadEvery is how many FullEvery periods the copy is trusted when
// nothing says it is stale: a safety net behind the data version.
const reloadEvery = 10

func runKey(r sekisho.Run) string { return r.Pipeline + "/" + r.LogicalDate }

// loadRuns reads the open runs from the store when the copy may be stale,
// and reports whether it did.
func (e *Engine) loadRuns(ctx context.Context, now time.Time) (bool, error) {
	v, err := e.st.DataVersion(ctx)
	if err != nil {
		return false, err
	}
	c := &e.cache
	if c.open != nil && !e.dirty.Swap(false) && v == c.version && now.Sub(c.at) < reloadEvery*e.opts.FullEvery && !now.Before(c.at) {
		return false, nil
	}
	runs, err := e.st.OpenRuns(ctx)
	if err != nil {
		return false, err
	}
	c.open = make(map[int64]sekisho.Run, len(runs))
	c.byKey = make(map[string]int64, len(runs))
	c.ids = c.ids[:0]
	for _, r := range runs {
		c.open[r.ID] = r
		c.byKey[runKey(r)] = r.ID
		c.ids = append(c.ids, r.ID)
	}
	c.closed = map[string]sekisho.Run{}
	c.version, c.at = v, now
	e.demandDirty = true
	return true, nil
}

// apply writes a run's change and keeps the cache in step with it.
func (e *Engine) apply(ctx context.Context, prev, next sekisho.Run, at time.Time, step store.Step) (sekisho.Run, error) {
	got, err := e.st.Apply(ctx, prev, next, at, step)
	if err != nil {
		if errors.Is(err, sekisho.ErrConflict) {
			e.dirty.Store(true) // someone else moved it: read the store again
		}
		return got, err
	}
	e.remember(got)
	return got, nil
}

// remember records a run the loop created or changed, and marks it for the
// next pass.
func (e *Engine) remember(r sekisho.Run) {
	c := &e.cache
	if c.open == nil {
		return
	}
	key := runKey(r)
	for _, dep := range e.deps[key] {
		e.touched[dep] = true // runs waiting on this one look again
	}
	prev, had := c.open[r.ID]
	if r.State.Terminal() {
		if had {
			delete(c.open, r.ID)
			delete(c.byKey, key)
			i := sort.Search(len(c.ids), func(i int) bool { return c.ids[i] >= r.ID })
			if i < len(c.ids) && c.ids[i] == r.ID {
				c.ids = append(c.ids[:i], c.ids[i+1:]...)
			}
			delete(e.wakes, r.ID)
			e.demandDirty = true
		}
		c.closed[key] = r
		return
	}
	if !had {
		i := sort.Search(len(c.ids), func(i int) bool { return c.ids[i] >= r.ID })
		c.ids = append(c.ids, 0)
		copy(c.ids[i+1:], c.ids[i:])
		c.ids[i] = r.ID
		e.demandDirty = true
	} else if waits(prev.State) != waits(r.State) || prev.Attempt != r.Attempt {
		e.demandDirty = true
	}
	c.open[r.ID] = r
	c.byKey[key] = r.ID
	delete(c.closed, key)
	e.touched[r.ID] = true
}

// waits reports whether a run in state s watches its upstreams.
func waits(s sekisho.State) bool { return s == sekisho.StateWaiting || s == sekisho.StateBlocked }

// openRun finds another pipeline's open run.
func (e *Engine) openRun(pipeline, date string) (sekisho.Run, bool) {
	id, ok := e.cache.byKey[pipeline+"/"+date]
	if !ok {
		return sekisho.Run{}, false
	}
	r, ok := e.cache.open[id]
	return r, ok
}

// closedRun finds another pipeline's run that is not open: from the cache
// of finished runs, else from the store.
func (e *Engine) closedRun(ctx context.Context, pipeline, date string) (sekisho.Run, error) {
	key := pipeline + "/" + date
	if r, ok := e.cache.closed[key]; ok {
		return r, nil
	}
	r, err := e.st.Run(ctx, pipeline, date)
	if err != nil {
		return r, err
	}
	if e.cache.closed != nil && r.State.Terminal() {
		e.cache.closed[key] = r
	}
	return r, nil
}

// window is the start of a run's upstream window, worked out once.
func (e *Engine) window(p *config.Pipeline, r sekisho.Run) time.Time {
	k := attemptKey{r.ID, r.Attempt}
	if w, ok := e.windows[k]; ok {
		return w
	}
	w := p.Window(r.LogicalDate)
	e.windows[k] = w
	return w
}

func (e *Engine) setWake(id int64, at time.Time) {
	if at.IsZero() {
		delete(e.wakes, id)
		return
	}
	e.wakes[id] = at
}

// wakeFor is the next time something can happen to run r by the clock
// alone: its timeout, its deadline, the moment the usual downstream run time
// no longer fits before the deadline (at_risk), max_duration passing, a
// follow-up check or a trigger retry. Zero if none.
func (e *Engine) wakeFor(p *config.Pipeline, r sekisho.Run, now time.Time) time.Time {
	var at time.Time
	consider := func(t time.Time) {
		if t.After(now) && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	const past = time.Millisecond // the checks compare with "after"
	if waits(r.State) {
		consider(r.TimeoutAt)
	}
	if !r.Deadline.IsZero() && r.FirstSuccessAt.IsZero() {
		consider(r.Deadline)
		if h := e.history[p.Name]; h != nil && h.n >= minHistory && r.TriggeredAt.IsZero() {
			consider(r.Deadline.Add(-h.down).Add(past))
		}
	}
	if p.MaxDuration > 0 {
		if r.State == sekisho.StateRunning && !r.StartedAt.IsZero() {
			consider(r.StartedAt.Add(p.MaxDuration).Add(past))
		}
		if waits(r.State) {
			for _, u := range p.Upstreams {
				if o, ok := e.recorded[obsKey{r.ID, u.Name}]; ok && o.State == sekisho.JobRunning && !o.StartedAt.IsZero() {
					consider(o.StartedAt.Add(p.MaxDuration).Add(past))
				}
			}
		}
	}
	k := attemptKey{r.ID, r.Attempt}
	if t, ok := e.follows[k]; ok {
		consider(t)
	}
	if rs, ok := e.nextTry[k]; ok {
		consider(rs.at)
	}
	return at
}
