package engine

import (
	"context"
	"slices"
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
// logical date (the days before it do not change).
func (e *Engine) historyOf(ctx context.Context, pipeline, date string) eta.History {
	if h, ok := e.history[pipeline]; ok && h.date == date {
		return h.h
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
