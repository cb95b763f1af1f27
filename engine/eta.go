package engine

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/policy/eta"
)

// ETAs (SPEC §21): the engine projects an open run's success along its
// line with policy/eta, the one projection the status API, the board and
// the route map use too, from what the loop knows: the run's observations
// as of this pass, the records of the other open runs of its line, and the
// pipelines' histories.

// lineHistory is a pipeline's history as read for one logical date.
type lineHistory struct {
	date string
	h    eta.History
}

// historyOf returns what a pipeline's ETA learns from, read once per
// logical date (the days before it do not change). A history not read yet
// is asked for off the loop (readOff) and is empty until it comes: the
// run is projected from it on a later pass.
func (e *Engine) historyOf(ctx context.Context, pipeline, date string) eta.History {
	e.takeHistories()
	if h, ok := e.history[pipeline]; ok && h.date == date {
		return h.h
	}
	if !e.opts.Sync {
		e.readOff(ctx, date, []string{pipeline})
		return eta.History{}
	}
	h, err := eta.Read(ctx, e.st, pipeline, date)
	if err != nil {
		e.log.Warn("read a pipeline's history", "pipeline", pipeline, "err", err)
		return h // not cached: read again next time
	}
	e.history[pipeline] = lineHistory{date: date, h: h}
	return h
}

// readHistories reads, in one go per logical date, the histories the
// runs ids will project from and the loop has not read yet: a batch of new
// gates is a batch of pipelines seen for the first time that day, and two
// queries for all of them cost far less than two for each.
func (e *Engine) readHistories(ctx context.Context, ids []int64, now time.Time) {
	e.takeHistories()
	byDate := map[string][]string{}
	for _, id := range ids {
		rec, ok := e.runs.recs[id]
		if !ok || !needsETA(rec.run, now) {
			continue
		}
		p, date := rec.run.Pipeline, rec.run.LogicalDate
		if h, ok := e.history[p]; ok && h.date == date {
			continue
		}
		if !slices.Contains(byDate[date], p) {
			byDate[date] = append(byDate[date], p)
		}
	}
	for date, ps := range byDate {
		if !e.opts.Sync {
			e.readOff(ctx, date, ps)
			continue
		}
		if len(ps) < 2 {
			continue // historyOf reads it when the run needs it
		}
		hs, err := eta.ReadMany(ctx, e.st, ps, date)
		if err != nil {
			e.log.Warn("read pipelines' histories", "pipelines", len(ps), "err", err)
			continue // historyOf reads each again
		}
		for p, h := range hs {
			e.history[p] = lineHistory{date: date, h: h}
		}
	}
}

// historyReads are the ETA histories read off the loop. With a month of
// runs in the store, the histories of 10,000 pipelines whose gates opened
// together are ~2.6 s of queries (300,000 past runs); read on the loop,
// they held up each pass of the opening by ~65 ms, and every pushed event
// with it. One worker reads them, a batch of pipelines at a time, so the
// request workers and the store's other readers are not crowded out; the
// loop takes what was read at its next look (takeHistories). An at_risk
// notice may so come one look later after a start, never earlier.
type historyReads struct {
	q       workQueue
	mu      sync.Mutex
	reading map[[2]string]bool // pipeline, date: asked for and not read yet
	read    []lineRead         // read, not taken by the loop yet
}

type lineRead struct {
	pipeline string
	lineHistory
}

// readOff asks for the histories of ps on date off the loop, those not
// asked for already.
func (e *Engine) readOff(ctx context.Context, date string, ps []string) {
	r := &e.reads
	r.mu.Lock()
	if r.reading == nil {
		r.reading = map[[2]string]bool{}
	}
	var ask []string
	for _, p := range ps {
		if k := [2]string{p, date}; !r.reading[k] {
			r.reading[k] = true
			ask = append(ask, p)
		}
	}
	r.mu.Unlock()
	if len(ask) == 0 {
		return
	}
	e.spawnOn(ctx, &r.q, 1, func(ctx context.Context) bool {
		hs, err := eta.ReadMany(ctx, e.st, ask, date)
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range ask {
			delete(r.reading, [2]string{p, date}) // on an error, asked for again at the next look
		}
		if err != nil {
			e.log.Warn("read pipelines' histories", "pipelines", len(ask), "err", err)
			return false
		}
		for p, h := range hs {
			r.read = append(r.read, lineRead{pipeline: p, lineHistory: lineHistory{date: date, h: h}})
		}
		// No wake: a woken pass looks at the runs something happened
		// to, not these; they are projected at their next look (the
		// full pass at the latest), where an ETA hours ahead loses
		// nothing.
		return false
	})
}

// takeHistories moves the histories read off the loop into its own.
func (e *Engine) takeHistories() {
	r := &e.reads
	r.mu.Lock()
	read := r.read
	r.read = nil
	r.mu.Unlock()
	for _, l := range read {
		e.history[l.pipeline] = l.lineHistory
	}
}

// project is the run's projected success: its own upstreams as observed in
// this pass (ups, for a waiting run), the other runs of its line as the
// loop last recorded them.
func (e *Engine) project(ctx context.Context, rec *runRec, r sekisho.Run, ups map[string]obsView, now time.Time) eta.Projection {
	obs := slices.Clone(rec.recorded)
	for name, v := range ups {
		o := v.Observation
		o.Upstream = name
		obs.put(o, len(rec.spec.Upstreams))
	}
	in := eta.InputOfList(rec.spec, rec.cond, r, obs, e.historyOf(ctx, r.Pipeline, r.LogicalDate))
	lookup := func(pipeline string) (eta.Input, bool) {
		if other, ok := e.openRun(pipeline, r.LogicalDate); ok {
			orec := e.runs.recs[other.ID]
			if e.prepare(orec) != nil {
				return eta.Input{}, false
			}
			return eta.InputOfList(orec.spec, orec.cond, orec.run, orec.recorded, e.historyOf(ctx, pipeline, r.LogicalDate)), true
		}
		closed, err := e.closedRun(ctx, pipeline, r.LogicalDate)
		if err != nil {
			return eta.Input{}, false
		}
		return eta.Input{Pipeline: pipeline, Run: closed}, true
	}
	return eta.Along(in, lookup, now)
}
