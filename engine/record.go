package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
	"github.com/sekisho-dev/sekisho/store"
)

// runRec is the loop's record of one open run: its row as last written or
// read, and all the loop remembers about it. Records are made by
// runTable.set and dropped by runTable.drop, nowhere else; the fields above
// the line belong to the attempt and start over when a rerun begins.
type runRec struct {
	run      sekisho.Run
	spec     *config.Pipeline // the config the attempt carries (SPEC §4 rule 6); nil until parsed
	cond     *condition.Expr  // spec's condition, parsed
	window   time.Time        // start of the upstream window; zero until worked out
	inflight bool             // a trigger or status request is under way
	retry    retryState       // the last trigger request failed transiently
	followAt time.Time        // not before: the next downstream status check
	landAt   time.Time        // a dead daemon's trigger request may land until then (sekisho.LandingBound)
	// ---
	recorded observations    // per upstream, the observation last written
	queued   map[string]bool // dedupe keys already in the outbox
	wakeAt   time.Time       // look at it then, whatever else happens (zero: never)
	// loaded: recorded holds what the store had when the loop took the
	// run (read once, or nothing: the loop opened it), so an upstream not
	// checked yet needs no read.
	loaded bool
	// projected is the run's last projected success (SPEC §21), so the
	// loop wakes when time alone would carry it past the deadline; nil
	// until one is made. A pointer: only runs with a deadline have one,
	// and the record of every open run is kept (issue 23).
	projected *eta.Projection
}

// retryState is the memory of a trigger request that failed transiently.
type retryState struct {
	at    time.Time // not before
	fails int
	ours  bool // this process sent the request, so it is known not to have been accepted
}

// runTable holds the loop's records of the open runs. Reading 10,000 open
// runs (each with its config snapshot) from SQLite on every pass costs far
// more than reconciling them, so the loop reads them once and keeps the
// records in step with its own writes. It reads them again when the store
// may have changed behind its back: another process wrote (the data version
// moved), an operator action came through this process, a write lost a race,
// or the copy is older than reloadEvery full passes.
type runTable struct {
	recs    map[int64]*runRec
	order   []int64                // open run ids in gate order
	byKey   map[string]int64       // pipeline/key → open run id
	closed  map[string]sekisho.Run // finished runs, as other pipelines' upstreams
	version int64                  // the store's data version when read
	at      time.Time              // when read
	touched []int64                // runs to look at in the next pass
	soonest time.Time              // no later than the earliest wakeAt (zero: none)
}

// reloadEvery is how many FullEvery periods the copy is trusted when
// nothing says it is stale: a safety net behind the data version.
const reloadEvery = 10

func runKey(r sekisho.Run) string { return r.Pipeline + "/" + r.Key }

// set records r as the run's latest row: it creates the record of a run
// that opened and drops the record of a run that ended. It reports whether
// what the run waits on may have changed.
func (t *runTable) set(r sekisho.Run) (replan bool) {
	key := runKey(r)
	rec, had := t.recs[r.ID]
	if r.State.Terminal() {
		t.closed[key] = r
		return had && t.drop(r.ID)
	}
	delete(t.closed, key)
	if !had {
		rec = &runRec{}
		t.recs[r.ID] = rec
		t.byKey[key] = r.ID
		// Ids grow as gates open: a new run goes last, and only a
		// reloaded older one pays for the copy.
		if n := len(t.order); n == 0 || t.order[n-1] < r.ID {
			t.order = append(t.order, r.ID)
		} else {
			i := sort.Search(n, func(i int) bool { return t.order[i] >= r.ID })
			t.order = append(t.order, 0)
			copy(t.order[i+1:], t.order[i:])
			t.order[i] = r.ID
		}
		replan = true
	} else if waits(rec.run.State) != waits(r.State) || rec.run.Attempt != r.Attempt {
		replan = true
	}
	if had && rec.run.Attempt != r.Attempt {
		*rec = runRec{recorded: rec.recorded, loaded: rec.loaded, queued: rec.queued} // a new attempt starts clean
	}
	if rec.spec != nil {
		r.Spec = nil // parsed already; the store keeps the JSON (Apply leaves it alone when empty)
	}
	rec.run = r
	return replan
}

// touch has a run looked at in the next pass.
func (t *runTable) touch(id int64) { t.touched = append(t.touched, id) }

// wake has a run looked at when the clock reaches at (zero: never).
func (t *runTable) wake(rec *runRec, at time.Time) {
	rec.wakeAt = at
	if !at.IsZero() && (t.soonest.IsZero() || at.Before(t.soonest)) {
		t.soonest = at
	}
}

// due returns the runs whose wake time has come, scanning the records
// only when the earliest wake time has.
func (t *runTable) due(now time.Time, sel map[int64]bool) {
	if t.soonest.IsZero() || now.Before(t.soonest) {
		return
	}
	t.soonest = time.Time{}
	for id, rec := range t.recs {
		switch {
		case rec.wakeAt.IsZero():
		case !now.Before(rec.wakeAt):
			sel[id] = true
		case t.soonest.IsZero() || rec.wakeAt.Before(t.soonest):
			t.soonest = rec.wakeAt
		}
	}
}

// drop forgets a run that is no longer open.
func (t *runTable) drop(id int64) bool {
	rec, ok := t.recs[id]
	if !ok {
		return false
	}
	delete(t.recs, id)
	delete(t.byKey, runKey(rec.run))
	if i := sort.Search(len(t.order), func(i int) bool { return t.order[i] >= id }); i < len(t.order) && t.order[i] == id {
		t.order = append(t.order[:i], t.order[i+1:]...)
	}
	return true
}

// loadRuns reads the open runs from the store when the copy may be stale,
// and reports whether it did. Records of runs still open keep what the loop
// remembers of them.
func (e *Engine) loadRuns(ctx context.Context, now time.Time) (bool, error) {
	v, err := e.st.DataVersion(ctx)
	if err != nil {
		return false, err
	}
	t := &e.runs
	if t.recs != nil && !e.dirty.Swap(false) && v == t.version && now.Sub(t.at) < reloadEvery*e.opts.FullEvery && !now.Before(t.at) {
		return false, nil
	}
	runs, err := e.st.OpenRuns(ctx)
	if err != nil {
		return false, err
	}
	if t.recs == nil {
		t.recs, t.byKey = map[int64]*runRec{}, map[string]int64{}
	}
	open := make(map[int64]bool, len(runs))
	for _, r := range runs {
		open[r.ID] = true
	}
	for id := range t.recs {
		if !open[id] {
			t.drop(id)
		}
	}
	t.closed = map[string]sekisho.Run{}
	for _, r := range runs {
		t.set(r)
	}
	t.version, t.at = v, now
	e.demand.dirty = true
	e.inc.fresh = false // another process may have moved incidents too
	return true, nil
}

// apply writes a run's change and keeps the records in step with it.
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

// remember records a run the loop created or changed, and has it and the
// runs waiting on it looked at: in this pass, and in the next.
func (e *Engine) remember(r sekisho.Run) {
	if e.runs.recs == nil {
		return // the first pass reads every open run anyway
	}
	for _, dep := range e.demand.deps[runKey(r)] {
		e.runs.touch(dep)
		if e.pass.sel != nil && !e.pass.selected(dep) {
			e.pass.sel[dep] = true
			e.pass.added = append(e.pass.added, dep)
		}
	}
	rec, had := e.runs.recs[r.ID]
	var was runRec // the record as planned
	if had {
		was = *rec
	}
	if e.runs.set(r) && !e.demand.dirty {
		switch {
		case !had && waits(r.State):
			e.demand.added = append(e.demand.added, r.ID) // a gate opened
		case had && waits(was.run.State) && !waits(r.State) && was.run.Attempt == r.Attempt:
			// Triggered, or ended. A run opened since the plan is not in
			// it yet, and planAdded leaves out a run that does not wait.
			if !slices.Contains(e.demand.added, r.ID) {
				e.demand.dirty = !e.unplanRun(&was, r.ID)
			}
		default:
			e.demand.dirty = true
		}
	}
	e.runs.touch(r.ID)
}

// waits reports whether a run in state s watches its upstreams.
func waits(s sekisho.State) bool { return s == sekisho.StateWaiting || s == sekisho.StateBlocked }

// openRun finds another pipeline's open run.
func (e *Engine) openRun(pipeline, date string) (sekisho.Run, bool) {
	if id, ok := e.runs.byKey[pipeline+"/"+date]; ok {
		return e.runs.recs[id].run, true
	}
	return sekisho.Run{}, false
}

// closedRun finds another pipeline's run that is not open: from the
// records of finished runs, else from the store.
func (e *Engine) closedRun(ctx context.Context, pipeline, date string) (sekisho.Run, error) {
	key := pipeline + "/" + date
	if r, ok := e.runs.closed[key]; ok {
		return r, nil
	}
	r, err := e.st.Run(ctx, pipeline, date)
	if err != nil {
		return r, err
	}
	if e.runs.closed != nil && r.State.Terminal() {
		e.runs.closed[key] = r
	}
	return r, nil
}

// prepare parses the config a run's attempt carries, its condition and its
// window, once per attempt.
func (e *Engine) prepare(rec *runRec) error {
	if rec.spec != nil {
		return nil
	}
	p, err := config.PipelineForRun(rec.run.Spec, e.Config().Pipeline(rec.run.Pipeline))
	if err != nil {
		return err
	}
	return prepareFrom(rec, p)
}

// prepareFrom is prepare with the run's config read already.
func prepareFrom(rec *runRec, p *config.Pipeline) error {
	cond, err := condition.Parse(p.Condition, p.UpstreamNames())
	if err != nil {
		return fmt.Errorf("condition of %s: %w", p.Name, err)
	}
	rec.spec, rec.cond, rec.window = p, cond, p.Window(rec.run.LogicalDate, rec.run.GateAt)
	rec.run.Spec = nil // the parsed snapshot is all the loop needs
	return nil
}

// loadRecorded fills a record's last written observations from the store,
// once after a restart: they stand in for upstreams not checked yet.
func (e *Engine) loadRecorded(ctx context.Context, rec *runRec) {
	latest, err := e.st.LatestObservations(ctx, rec.run.ID)
	if err != nil {
		e.log.Error("read recorded observations", "run", rec.run.ID, "err", err)
		return
	}
	rec.loaded = true
	for _, o := range latest {
		if _, ok := rec.recorded.get(o.Upstream); !ok {
			rec.recorded.put(o, len(latest))
		}
	}
}

// observations are a run's last written observation of each upstream, one
// per upstream name. A slice searched by name rather than a map: a run
// holds a handful for as long as it is open, and a map of them (its
// buckets, an allocation per entry) was 800 bytes an open run at 10,000
// (issue 23).
type observations []sekisho.Observation

// get returns the observation of the named upstream.
func (os observations) get(name string) (sekisho.Observation, bool) {
	for _, o := range os {
		if o.Upstream == name {
			return o, true
		}
	}
	return sekisho.Observation{}, false
}

// put records o as its upstream's observation; n, the run's upstream
// count, sizes the slice when it is made.
func (os *observations) put(o sekisho.Observation, n int) {
	for i := range *os {
		if (*os)[i].Upstream == o.Upstream {
			(*os)[i] = o
			return
		}
	}
	if *os == nil {
		*os = make(observations, 0, max(n, 1))
	}
	*os = append(*os, o)
}

// forget drops the named upstream's observation.
func (os *observations) forget(name string) {
	*os = slices.DeleteFunc(*os, func(o sekisho.Observation) bool { return o.Upstream == name })
}

// wakeFor is the next time something can happen to a run by the clock
// alone: its timeout, its deadline, the moment its projection could pass
// the deadline (at_risk), max_duration passing, a follow-up check, a
// trigger retry, or the end of the wait for a dead daemon's trigger request
// to land. Zero if none.
func wakeFor(rec *runRec, now time.Time) time.Time {
	r, p := rec.run, rec.spec
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
		if p := rec.projected; p != nil && p.Known() && !p.At.After(r.Deadline) {
			// A projection grows no faster than the clock: it cannot pass
			// the deadline before its margin has elapsed (nor is it worth
			// a look more often than once a minute).
			consider(now.Add(max(r.Deadline.Sub(p.At), time.Minute)).Add(past))
		}
	}
	if p.MaxDuration > 0 {
		if r.State == sekisho.StateRunning && !r.StartedAt.IsZero() {
			consider(r.StartedAt.Add(p.MaxDuration).Add(past))
		}
		if waits(r.State) {
			for _, u := range p.Upstreams {
				if o, ok := rec.recorded.get(u.Name); ok && o.State == sekisho.JobRunning && !o.StartedAt.IsZero() {
					consider(o.StartedAt.Add(p.MaxDuration).Add(past))
				}
			}
		}
	}
	consider(rec.followAt)
	consider(rec.retry.at)
	consider(rec.landAt)
	return at
}
