package engine

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// Step is one reconcile pass: apply the results of finished requests, open
// due gates, start due polls, and take the next step of the open runs that
// need one. A pass looks only at the runs something happened to — a poll
// answer or event for a resource they wait on, a result, a change of a
// pipeline they wait on, a time they asked to be woken at (a timeout, a
// deadline, a follow-up check) — and at every open run once per FullEvery,
// after a reload and when the store changed behind the engine's back.
func (e *Engine) Step(ctx context.Context) error {
	cfg := e.Config()
	e.applyResults(ctx)
	now := e.clock.Now()
	if err := e.openDueGates(ctx, cfg, now); err != nil {
		return err
	}
	reloaded, err := e.loadRuns(ctx, now)
	if err != nil {
		return err
	}
	full := reloaded || cfg != e.pass.cfg || !now.Before(e.pass.lastFull.Add(e.opts.FullEvery))
	if full || e.demand.dirty {
		e.planDemand()
	} else if len(e.demand.added) > 0 {
		e.planAdded()
	}
	for _, rs := range e.poller.plan(ctx, e.demand.want, e.demand.touched, e.demand.whole, now) {
		e.spawnPoll(ctx, rs)
	}
	e.demand.whole, e.demand.touched = false, nil
	for _, fn := range e.events.drain() {
		fn(ctx) // after the plan: the runs of gates opened in this pass wait on their resources
	}
	if e.opts.Sync {
		now = e.clock.Now()
	}
	sel := e.selectRuns(full, now)
	if full {
		e.pass.lastFull, e.pass.cfg = now, cfg
	}
	err = e.reconcileSelected(ctx, sel, now)
	e.flushObservations(ctx)
	if err != nil {
		return err
	}
	if e.opts.Sync {
		e.applyResults(ctx)
		e.flushObservations(ctx)
	}
	e.publishNextChecks(ctx)
	return nil
}

// publishNextChecks writes when each resource polled since the last
// publish is checked next (SPEC §13), for the status and the API: at most
// once a tick. Each poll that falls due wakes the loop for a pass of its
// own, so once a pass was a write transaction per poll (2,000 a minute at
// 10,000 pipelines, an eighth of the waiting daemon's CPU); the loop
// passes at least once a tick, so a next check is shown a tick late at
// most. Sync mode (tests) publishes every pass.
func (e *Engine) publishNextChecks(ctx context.Context) {
	now := e.clock.Now()
	if !e.opts.Sync && now.Sub(e.pass.published) < e.opts.Tick {
		return
	}
	e.pass.published = now
	if err := e.planner.Publish(ctx, now); err != nil && ctx.Err() == nil {
		e.log.Warn("poll plan: publish next checks", "err", err)
	}
}

// passRuns bounds the runs one pass reconciles outside Sync mode. A pass
// that has more to look at (every open run after a reload or once per
// FullEvery, the runs of a batch of new gates) takes them in slices, one
// per pass, and wakes the loop for the next: a pushed event or a
// request's answer waits for one slice at most, and runs it selects go
// before the ones carried over.
const passRuns = 256

// reconcileSelected reconciles the selected runs in gate order; a run that
// moves selects the runs waiting on it (remember adds them to sel), so a
// chain moves in one pass: those later in the order are taken in the same
// round, those earlier in another. Runs carried over from the last pass's
// slice come after the ones sel names.
func (e *Engine) reconcileSelected(ctx context.Context, sel map[int64]bool, now time.Time) error {
	carried := e.pass.rest
	e.pass.rest = nil
	// A carried run selected afresh is not late. sel gains no carried run
	// during the pass (remember adds only runs not selected), so this
	// holds for the whole pass.
	late := func(id int64) bool { return !sel[id] && sortedHas(carried, id) }
	e.pass.sel, e.pass.carried = sel, carried
	defer func() { e.pass.sel, e.pass.carried, e.pass.added = nil, nil, nil }()
	left := passRuns
	hint := len(sel) + len(carried)
	if e.opts.Sync {
		left = -1 // tests driving Step look at everything in the pass
	} else {
		hint = min(hint, passRuns)
	}
	done := make(map[int64]bool, hint)
	for round := 0; round < 10; round++ {
		ids := pending(sel, carried, done, late)
		if len(ids) == 0 {
			break
		}
		if left < 0 {
			e.readHistories(ctx, ids, now)
		} else {
			e.readHistories(ctx, ids[:min(len(ids), left)], now)
		}
		for i := 0; i < len(ids); i++ {
			id := ids[i]
			if done[id] {
				continue
			}
			rec, ok := e.runs.recs[id]
			if !ok {
				done[id] = true
				continue
			}
			if left == 0 {
				// The slice is spent: the rest in the next pass.
				e.pass.rest = pending(sel, carried, done, late)
				slices.Sort(e.pass.rest)
				e.Kick()
				return nil
			}
			left--
			done[id] = true
			e.pass.added = e.pass.added[:0]
			if err := e.reconcileOne(ctx, rec, now); err != nil {
				return err
			}
			// Runs the step selected that come later in the order join
			// this round.
			var later []int64
			for _, dep := range e.pass.added {
				if !done[dep] && before(id, dep, late) {
					later = append(later, dep)
				}
			}
			if len(later) > 0 {
				ids = append(ids[:i+1:i+1], mergeOrdered(ids[i+1:], later, late)...)
			}
		}
	}
	return nil
}

// selected reports whether the pass under way looks at run id (remember
// adds the runs a step moves to it).
func (p *passState) selected(id int64) bool { return p.sel[id] || sortedHas(p.carried, id) }

func sortedHas(ids []int64, id int64) bool {
	_, ok := slices.BinarySearch(ids, id)
	return ok
}

// pending lists the runs of sel and carried not done yet, in the order a
// pass takes them: gate order, the late ones after the rest.
func pending(sel map[int64]bool, carried []int64, done map[int64]bool, late func(int64) bool) []int64 {
	// Sorted as keys that put the late ones last (lateBit): a comparison
	// that asked late of both runs was a tenth of the waiting daemon's CPU,
	// with a slice pass over 10,000 selected runs sorting them all twice.
	ids := make([]int64, 0, max(len(sel)+len(carried)-len(done), 0))
	for id := range sel {
		if !done[id] {
			ids = append(ids, passKey(id, late))
		}
	}
	for _, id := range carried {
		if !done[id] && !sel[id] {
			ids = append(ids, passKey(id, late))
		}
	}
	slices.Sort(ids)
	for i := range ids {
		ids[i] &^= lateBit
	}
	return ids
}

// lateBit marks a late run's id in its pass key: run ids are far below it.
const lateBit = int64(1) << 62

// passKey is a run's place in the order a pass takes runs: gate order
// (its id), the late ones after the rest.
func passKey(id int64, late func(int64) bool) int64 {
	if late(id) {
		return id | lateBit
	}
	return id
}

// order compares two runs in the order a pass takes them.
func order(a, b int64, late func(int64) bool) int {
	return cmp.Compare(passKey(a, late), passKey(b, late))
}

func before(a, b int64, late func(int64) bool) bool { return order(a, b, late) < 0 }

// mergeOrdered merges ids (in pass order) with more runs, leaving out
// those ids holds already.
func mergeOrdered(ids, more []int64, late func(int64) bool) []int64 {
	out := append(slices.Clone(ids), more...)
	slices.SortFunc(out, func(a, b int64) int { return order(a, b, late) })
	return slices.Compact(out)
}

// reconcileOne takes the next step of one run and records when it wants to
// be looked at again.
func (e *Engine) reconcileOne(ctx context.Context, rec *runRec, now time.Time) error {
	if err := e.prepare(rec); err != nil {
		e.log.Error("unreadable run config", "pipeline", rec.run.Pipeline, "date", rec.run.LogicalDate, "key", rec.run.Key,
			"attempt", rec.run.Attempt, "err", err)
		return nil
	}
	r := rec.run
	err := e.settle(ctx, rec, r, nil, now)
	if e.runs.recs[r.ID] == rec {
		e.runs.wake(rec, wakeFor(rec, now))
	}
	if err != nil {
		if errors.Is(err, sekisho.ErrConflict) {
			return nil // someone else moved the run; the next pass reads the store again
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.log.Error("reconcile failed", "pipeline", r.Pipeline, "date", r.LogicalDate, "key", r.Key, "attempt", r.Attempt, "err", err)
	}
	return nil
}

// demandPlan is what the open runs wait on, worked out from their records
// by planDemand: an index, rebuilt when the waiting runs change in a way
// the incremental steps below do not cover.
type demandPlan struct {
	want    map[string]demand  // the resources waited on
	waiters map[string][]int64 // resource key → runs waiting on it
	deps    map[string][]int64 // pipeline/key → runs waiting on that run
	cfg     *config.Config     // the config the plan read other pipelines in
	dirty   bool               // the waiting runs changed: plan again
	// added are runs that opened since the plan and nothing else
	// changed: they are added to it (planAdded), so gates opening in
	// batches do not plan every open run again per batch.
	added []int64
	// whole: planDemand made the plan anew since the poller last took
	// it; otherwise touched holds the resources planRun and unplanRun
	// changed since then, the only ones the poller looks at again.
	whole   bool
	touched map[string]bool
}

// touch notes that the demand for resource key changed, for the poller.
func (d *demandPlan) touch(key string) {
	if d.whole {
		return // the poller looks at every resource anyway
	}
	if d.touched == nil {
		d.touched = map[string]bool{}
	}
	d.touched[key] = true
}

// planDemand works out, from the open runs, which resources are waited on
// (from which window, at which interval), which runs wait on each resource,
// and which runs wait on each other pipeline's run.
func (e *Engine) planDemand() {
	d := demandPlan{want: map[string]demand{}, waiters: map[string][]int64{}, deps: map[string][]int64{}, cfg: e.Config(), whole: true}
	for _, id := range e.runs.order {
		e.planRun(&d, id)
	}
	e.demand = d
}

// planAdded adds the runs opened since the last plan to it.
func (e *Engine) planAdded() {
	if e.demand.want == nil {
		e.planDemand()
		return
	}
	for _, id := range e.demand.added {
		e.planRun(&e.demand, id)
	}
	e.demand.added = nil
}

// planRun adds what one open run waits on to d.
func (e *Engine) planRun(d *demandPlan, id int64) {
	rec, ok := e.runs.recs[id]
	if !ok || !waits(rec.run.State) || e.prepare(rec) != nil {
		return
	}
	for _, u := range rec.spec.Upstreams {
		if u.Type == config.TypePipeline {
			for _, a := range awaitedRuns(rec.spec, rec.run, u, d.cfg.Pipeline(u.Pipeline)) {
				key := u.Pipeline + "/" + a.key
				d.deps[key] = append(d.deps[key], id)
			}
			continue
		}
		for _, res := range u.Resources() { // a reconcile polls two queries
			key := res.Key()
			d.want[key] = wanted(d.want[key], res, rec)
			d.waiters[key] = append(d.waiters[key], id)
			d.touch(key)
		}
	}
}

// wanted is w (zero: nothing yet) widened to what rec needs of res: the
// earliest window, the shortest poke interval.
func wanted(w demand, res sekisho.Resource, rec *runRec) demand {
	if w.r == (sekisho.Resource{}) || rec.window.Before(w.since) {
		w.since = rec.window
	}
	if w.r == (sekisho.Resource{}) || rec.spec.PokeInterval < w.interval {
		w.interval = rec.spec.PokeInterval
	}
	w.r = res
	return w
}

// unplanRun takes a run that stopped waiting (rec, as it was planned) out
// of the plan: from the waiters of its resources, whose demand is worked
// out again from the runs still waiting on them, and from the runs it
// waited on. Planning every open run again instead, whenever one of
// 10,000 was triggered, was a sixth of the daemon's CPU. It reports false
// when it cannot (no plan, or one made under another config): plan again.
func (e *Engine) unplanRun(rec *runRec, id int64) bool {
	d := &e.demand
	if d.want == nil || d.cfg != e.Config() || rec.spec == nil {
		return false
	}
	for _, u := range rec.spec.Upstreams {
		if u.Type == config.TypePipeline {
			for _, a := range awaitedRuns(rec.spec, rec.run, u, d.cfg.Pipeline(u.Pipeline)) {
				key := u.Pipeline + "/" + a.key
				if ids := without(d.deps[key], id); len(ids) > 0 {
					d.deps[key] = ids
				} else {
					delete(d.deps, key)
				}
			}
			continue
		}
		for _, res := range u.Resources() {
			key := res.Key()
			d.touch(key)
			ids := without(d.waiters[key], id)
			if len(ids) == 0 {
				delete(d.waiters, key)
				delete(d.want, key)
				continue
			}
			d.waiters[key] = ids
			var w demand
			for _, other := range ids {
				if orec, ok := e.runs.recs[other]; ok && orec.spec != nil {
					w = wanted(w, res, orec)
				}
			}
			d.want[key] = w
		}
	}
	return true
}

// without returns ids less every id (in place).
func without(ids []int64, id int64) []int64 {
	return slices.DeleteFunc(ids, func(x int64) bool { return x == id })
}

// selectRuns picks the runs this pass reconciles.
func (e *Engine) selectRuns(full bool, now time.Time) map[int64]bool {
	sel := make(map[int64]bool)
	if full {
		for id := range e.runs.recs {
			sel[id] = true
		}
	}
	for _, id := range e.runs.touched {
		sel[id] = true
	}
	e.runs.touched = e.runs.touched[:0]
	e.runs.due(now, sel)
	for key := range e.poller.drainChanged() {
		for _, id := range e.demand.waiters[key] {
			sel[id] = true
		}
	}
	return sel
}

func (e *Engine) applyResults(ctx context.Context) {
	for _, fn := range e.results.drain() {
		fn(ctx)
	}
}

// observe works out one upstream's observation for a run.
func (e *Engine) observe(ctx context.Context, rec *runRec, u config.Upstream, now time.Time) obsView {
	o := sekisho.Observation{Upstream: u.Name, Type: u.Type, State: sekisho.JobPending, ObservedAt: now}
	if u.Type == config.TypePipeline {
		return obsView{Observation: e.observePipeline(ctx, rec, u, o, now)}
	}
	if u.Type == config.TypeReconcile {
		return e.observeReconcile(ctx, rec, u, o)
	}
	v := e.poller.view(u.Resource().Key(), rec.window)
	if v.found {
		o.State = v.run.SkippedAs(u.SkippedIsSuccess)
		o.ExternalID = v.run.ExternalID
		o.StartedAt = v.run.StartedAt
		o.FinishedAt = v.run.FinishedAt
		o.Message = v.run.Message
		o.Value = v.run.Value
		if u.DataCheck != nil && u.DataCheck.Expect != nil && o.Value != nil {
			o = judged(u.DataCheck, o, rec.run.LogicalDate, e.valuesOf(ctx, rec.spec, u, rec.run.LogicalDate))
		}
	} else if !v.have {
		// Not checked yet: keep what the store last recorded, so a restart
		// does not forget that an upstream had already succeeded (or
		// failed: a blocked run must not flap to waiting and back).
		if _, ok := rec.recorded.get(u.Name); !ok && !rec.loaded {
			e.loadRecorded(ctx, rec)
		}
		if prev, ok := rec.recorded.get(u.Name); ok {
			prev.ObservedAt = now
			prev.Error = v.err
			return obsView{Observation: prev}
		}
	}
	if v.err != "" && !v.errAt.Before(v.at) {
		o.Error = v.err
	}
	return obsView{Observation: o, pushed: v.pushed}
}
