package engine

import (
	"context"
	"errors"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/expect"
)

// Data checks (SPEC §21): a sql upstream's number held against its
// expectations, and a reconcile's source against its target. The judging
// is policy/expect's; here the loop gives it the value and the history.

// judged is a sql upstream's observation after its expectations: the
// value's verdict replaces the check rule's "above zero". A value outside
// the band keeps the upstream pending (block) or passes it with the
// data_anomaly reason (warn); either way the message names value and band.
func judged(c *config.DataCheck, o sekisho.Observation, date string, history []expect.Point) sekisho.Observation {
	v := expect.Judge(c.Expect, date, *o.Value, history)
	o.Message = v.Message
	switch {
	case v.OK:
		o.State, o.Reason = sekisho.JobSucceeded, ""
	case c.OnViolation == config.OnViolationWarn:
		o.State, o.Reason = sekisho.JobSucceeded, sekisho.ReasonDataAnomaly
	default:
		o.State, o.Reason = sekisho.JobPending, sekisho.ReasonExpectationFailed
	}
	if o.State == sekisho.JobSucceeded {
		// The sensor dates a value from when it was first seen: that is
		// when this value passed.
		o.FinishedAt = o.StartedAt
	} else {
		o.FinishedAt = time.Time{}
	}
	return o
}

// reconciled is a reconcile upstream's observation from its source's and
// target's latest check runs: pending until both answered with a number,
// succeeded once they agree within the tolerance.
func reconciled(c *config.DataCheck, o sekisho.Observation, src, tgt sekisho.JobRun) sekisho.Observation {
	o.StartedAt = src.StartedAt
	if tgt.StartedAt.After(o.StartedAt) {
		o.StartedAt = tgt.StartedAt
	}
	switch {
	case src.Value == nil:
		o.Message = "waiting for the source's number: " + src.Message
		return o
	case tgt.Value == nil:
		o.Message = "waiting for the target's number: " + tgt.Message
		return o
	}
	rc := expect.Reconcile(*src.Value, *tgt.Value, c.Tolerance)
	o.Value, o.Message = tgt.Value, rc.Message
	if rc.OK {
		o.State, o.FinishedAt = sekisho.JobSucceeded, o.StartedAt
	} else {
		o.Reason = sekisho.ReasonReconcileMismatch
	}
	return o
}

// observeReconcile reads a reconcile upstream's two queries from the
// poller (each shared with every other upstream that runs it).
func (e *Engine) observeReconcile(ctx context.Context, rec *runRec, u config.Upstream, o sekisho.Observation) obsView {
	c := u.DataCheck
	if c == nil || c.Source == nil || c.Target == nil {
		o.Error = "a reconcile upstream needs a source and a target"
		return obsView{Observation: o}
	}
	src := e.poller.view(c.Source.Resource().Key(), rec.window)
	tgt := e.poller.view(c.Target.Resource().Key(), rec.window)
	var errs []error
	for _, v := range []view{src, tgt} {
		if v.err != "" && !v.errAt.Before(v.at) {
			errs = append(errs, errors.New(v.err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		o.Error = err.Error()
	}
	if !src.found || !tgt.found {
		if prev, ok := rec.recorded.get(u.Name); ok && !src.have && !tgt.have {
			prev.ObservedAt, prev.Error = o.ObservedAt, o.Error
			return obsView{Observation: prev} // not checked since a restart: the last record stands
		}
		o.Message = "waiting for both queries to answer"
		return obsView{Observation: o}
	}
	return obsView{Observation: reconciled(c, o, src.run, tgt.run)}
}

// valuesOf returns a sql upstream's values on its pipeline's succeeded
// days before date, as far back as vs_history looks: read once per
// upstream and logical date (the days before a date do not change).
func (e *Engine) valuesOf(ctx context.Context, p *config.Pipeline, u config.Upstream, date string) []expect.Point {
	if u.DataCheck == nil || u.DataCheck.Expect == nil || u.DataCheck.Expect.VsHistory == nil {
		return nil
	}
	key := p.Name + "/" + u.Name
	if h, ok := e.values[key]; ok && h.date == date {
		return h.points
	}
	h := valueHistory{date: date}
	if day, err := time.Parse(sekisho.DateLayout, date[:min(len(date), len(sekisho.DateLayout))]); err == nil {
		since := day.AddDate(0, 0, -u.DataCheck.Expect.VsHistory.Days).Format(sekisho.DateLayout)
		vals, err := e.st.UpstreamValues(ctx, p.Name, u.Name, since, date)
		if err != nil {
			e.log.Warn("read a data check's history", "pipeline", p.Name, "upstream", u.Name, "err", err)
			return nil // not cached: read again next time
		}
		for _, v := range vals {
			h.points = append(h.points, expect.Point{Date: v.Date, Value: v.Value})
		}
	}
	e.values[key] = h
	return h.points
}

// valueHistory is a data check's values as read for one logical date.
type valueHistory struct {
	date   string
	points []expect.Point
}

func sameValue(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}
