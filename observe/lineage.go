package observe

import (
	"context"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/lineage"
	"github.com/sekisho-dev/sekisho/store"
)

// lineageSink sends an attempt's OpenLineage events: START when it is
// triggered, COMPLETE or FAIL when it ends, ABORT when it times out or is
// skipped. An attempt that ends without being triggered (a gate-only
// pipeline, an upstream failure, a timeout) gets its START, dated at the
// attempt's start, just before its end, so every run has both.
type lineageSink struct {
	st     *store.Store
	client *lineage.Client
	cfg    func() *config.Config
}

func (s *lineageSink) name() string                { return "lineage" }
func (s *lineageSink) close(context.Context) error { return nil }

// EventType is the OpenLineage event of a transition to state to; empty
// for one that sends none.
func EventType(to sekisho.State) string {
	switch to {
	case sekisho.StateTriggered:
		return lineage.Start
	case sekisho.StateSucceeded:
		return lineage.Complete
	case sekisho.StateFailed:
		return lineage.Fail
	case sekisho.StateTimedOut, sekisho.StateSkipped:
		return lineage.Abort
	}
	return ""
}

func (s *lineageSink) deliver(ctx context.Context, t sekisho.Transition) error {
	typ := EventType(t.To)
	if typ == "" || t.From == "" {
		return nil
	}
	r, err := s.st.RunByID(ctx, t.RunID)
	if err != nil {
		return err
	}
	cfg := s.cfg()
	ns := config.DefaultLineageNamespace
	var inputs []lineage.Dataset
	if cfg != nil {
		if cfg.Lineage.Namespace != "" {
			ns = cfg.Lineage.Namespace
		}
		if p := cfg.Pipeline(t.Pipeline); p != nil {
			inputs = lineage.Inputs(ns, cfg, p)
			if err := s.checks(ctx, t, p, inputs); err != nil {
				return err
			}
		}
	}
	f := lineage.Facts{Namespace: ns, Pipeline: t.Pipeline, Date: t.Key, Attempt: t.Attempt,
		GateAt: r.GateAt, Type: typ, At: t.At, Inputs: inputs}
	if typ == lineage.Fail || typ == lineage.Abort {
		f.Message = message(t)
	}
	if t.To.Terminal() && (t.From == sekisho.StateWaiting || t.From == sekisho.StateBlocked) {
		h, err := history(ctx, s.st, t)
		if err != nil {
			return err
		}
		start := f
		start.Type, start.At, start.Message = lineage.Start, h.start, ""
		if err := s.client.Send(ctx, lineage.NewEvent(start)); err != nil {
			return err
		}
	}
	return s.client.Send(ctx, lineage.NewEvent(f))
}

// checks adds to each data check's input (a sql upstream with
// expectations, a reconcile) what it said when the run moved: its verdict
// and its number (SPEC §21). inputs are p's, in its upstreams' order.
func (s *lineageSink) checks(ctx context.Context, t sekisho.Transition, p *config.Pipeline, inputs []lineage.Dataset) error {
	var obs map[string]sekisho.Observation
	for i, u := range p.Upstreams {
		kind := ""
		switch {
		case u.Type == config.TypeReconcile:
			kind = "reconcile"
		case u.Type == config.TypeSQL && u.DataCheck != nil && u.DataCheck.Expect != nil:
			kind = "expect"
		default:
			continue
		}
		if obs == nil {
			var err error
			if obs, err = s.st.ObservationsAt(ctx, t.RunID, t.At); err != nil {
				return err
			}
		}
		o, ok := obs[u.Name]
		if !ok || o.Value == nil || i >= len(inputs) {
			continue
		}
		held := o.State == sekisho.JobSucceeded && o.Reason == ""
		inputs[i].InputFacets = lineage.CheckFacets(lineage.Check{Assertion: kind, Success: held, Value: o.Value})
	}
	return nil
}
