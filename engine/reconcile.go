package engine

import (
	"context"
	"errors"
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
	replan := full || e.demand.dirty || len(e.demand.added) > 0
	if full || e.demand.dirty {
		e.planDemand()
	} else if replan {
		e.planAdded()
	}
	for _, rs := range e.poller.plan(ctx, e.demand.want, now, replan) {
		e.spawnPoll(ctx, rs)
	}
	if e.opts.Sync {
		now = e.clock.Now()
	}
	sel := e.selectRuns(full, now)
	if full {
		e.pass.lastFull, e.pass.cfg = now, cfg
	}
	// Reconcile in gate order; a run that moves selects the runs waiting on
	// it (remember adds them to sel), so a chain moves in one pass. Those
	// earlier in the order are taken in another round.
	e.pass.sel = sel
	defer func() { e.pass.sel = nil }()
	done := make(map[int64]bool, len(sel))
	for round := 0; round < 10 && len(sel) > 0; round++ {
		progressed := false
		for _, id := range append([]int64(nil), e.runs.order...) {
			if !sel[id] || done[id] {
				continue
			}
			done[id], progressed = true, true
			if rec, ok := e.runs.recs[id]; ok {
				if err := e.reconcileOne(ctx, rec, now); err != nil {
					return err
				}
			}
		}
		if !progressed {
			break
		}
	}
	e.pass.sel = nil
	if e.opts.Sync {
		e.applyResults(ctx)
	}
	return nil
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
// by planDemand: an index, rebuilt whenever the waiting runs change.
type demandPlan struct {
	want    map[string]demand  // the resources waited on
	waiters map[string][]int64 // resource key → runs waiting on it
	deps    map[string][]int64 // pipeline/key → runs waiting on that run
	dirty   bool               // the waiting runs changed: plan again
	// added are runs that opened since the plan and nothing else
	// changed: they are added to it (planAdded), so gates opening in
	// batches do not plan every open run again per batch.
	added []int64
}

// planDemand works out, from the open runs, which resources are waited on
// (from which window, at which interval), which runs wait on each resource,
// and which runs wait on each other pipeline's run.
func (e *Engine) planDemand() {
	d := demandPlan{want: map[string]demand{}, waiters: map[string][]int64{}, deps: map[string][]int64{}}
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
			for _, a := range awaitedRuns(rec.spec, rec.run, u, e.Config().Pipeline(u.Pipeline)) {
				key := u.Pipeline + "/" + a.key
				d.deps[key] = append(d.deps[key], id)
			}
			continue
		}
		for _, res := range u.Resources() { // a reconcile polls two queries
			key := res.Key()
			w, ok := d.want[key]
			if !ok || rec.window.Before(w.since) {
				w.since = rec.window
			}
			if !ok || rec.spec.PokeInterval < w.interval {
				w.interval = rec.spec.PokeInterval
			}
			w.r = res
			d.want[key] = w
			d.waiters[key] = append(d.waiters[key], id)
		}
	}
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
		if u.Expect != nil && o.Value != nil {
			o = judged(u, o, rec.run.LogicalDate, e.valuesOf(ctx, rec.spec, u, rec.run.LogicalDate))
		}
	} else if !v.have {
		// Not checked yet: keep what the store last recorded, so a restart
		// does not forget that an upstream had already succeeded (or
		// failed: a blocked run must not flap to waiting and back).
		if _, ok := rec.recorded[u.Name]; !ok {
			e.loadRecorded(ctx, rec)
		}
		if prev, ok := rec.recorded[u.Name]; ok {
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
