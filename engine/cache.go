package engine

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// cacheTTL bounds how long the open runs kept in memory are trusted without
// reading them again, as a safety net behind the data version check.
const cacheTTL = 5 * time.Minute

// runCache is the loop's copy of the open runs. Reading 10,000 open runs
// (each with its config snapshot) from SQLite on every pass costs far more
// than reconciling them, so the loop reads them once and keeps the copy in
// step with its own writes. It reads them again when the store may have
// changed behind its back: another process wrote (the data version moved),
// an operator action came through this process, a write lost a race, or
// the copy is older than cacheTTL.
type runCache struct {
	open    map[int64]sekisho.Run
	closed  map[string]sekisho.Run // recently finished runs by pipeline/date, for pipeline upstreams
	version int64
	at      time.Time
}

// openRuns returns the open runs in id order (gate order), from memory
// unless they may be stale.
func (e *Engine) openRuns(ctx context.Context, now time.Time) ([]sekisho.Run, error) {
	v, err := e.st.DataVersion(ctx)
	if err != nil {
		return nil, err
	}
	c := &e.cache
	if c.open == nil || e.dirty.Swap(false) || v != c.version || now.Sub(c.at) >= cacheTTL || now.Before(c.at) {
		runs, err := e.st.OpenRuns(ctx)
		if err != nil {
			return nil, err
		}
		c.open = make(map[int64]sekisho.Run, len(runs))
		for _, r := range runs {
			c.open[r.ID] = r
		}
		c.closed = map[string]sekisho.Run{}
		c.version, c.at = v, now
		return runs, nil
	}
	runs := make([]sekisho.Run, 0, len(c.open))
	for _, r := range c.open {
		runs = append(runs, r)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID < runs[j].ID })
	return runs, nil
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

// remember records a run the loop created or changed.
func (e *Engine) remember(r sekisho.Run) {
	c := &e.cache
	if c.open == nil {
		return
	}
	if r.State.Terminal() {
		delete(c.open, r.ID)
		c.closed[r.Pipeline+"/"+r.LogicalDate] = r
		return
	}
	c.open[r.ID] = r
	delete(c.closed, r.Pipeline+"/"+r.LogicalDate)
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
