package observe

import (
	"context"
	"sort"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/tracing"
)

// Span attribute keys (docs/observability.md lists them).
const (
	AttrPipeline    = "sekisho.pipeline"
	AttrLogicalDate = "sekisho.logical_date"
	AttrAttempt     = "sekisho.attempt"
	AttrState       = "sekisho.state"
	AttrReason      = "sekisho.reason"
	AttrUpstream    = "sekisho.upstream"
	AttrUpstreamTyp = "sekisho.upstream.type"
	AttrExternalID  = "sekisho.external_id"
	AttrTrigger     = "sekisho.trigger.type"
	// A data check's number, why it held or warned, and what it said
	// (SPEC §21): the value and band, or a reconcile's two numbers.
	AttrCheckValue   = "sekisho.check.value"
	AttrCheckReason  = "sekisho.check.reason"
	AttrCheckMessage = "sekisho.check.message"
)

// traceSink makes the spans of an attempt as its transitions arrive: the
// waits and the trigger request when it is triggered, the downstream run
// and the root span when it ends. A span is exported once, when it ends,
// by whichever process sees its end; its ids come from the attempt.
type traceSink struct {
	st  *store.Store
	exp *tracing.Exporter
	cfg func() *config.Config
}

func (s *traceSink) name() string                    { return "traces" }
func (s *traceSink) close(ctx context.Context) error { return s.exp.Shutdown(ctx) }

func (s *traceSink) deliver(ctx context.Context, t sekisho.Transition) error {
	waited := t.From == sekisho.StateWaiting || t.From == sekisho.StateBlocked
	switch {
	case t.To == sekisho.StateTriggered, t.To.Terminal() && t.From != "":
	default:
		return nil
	}
	h, err := history(ctx, s.st, t)
	if err != nil {
		return err
	}
	a := tracing.Attempt{Pipeline: t.Pipeline, Date: t.Key, Attempt: t.Attempt}
	base := []attribute.KeyValue{attribute.String(AttrPipeline, t.Pipeline),
		attribute.String(AttrLogicalDate, t.LogicalDate), attribute.Int(AttrAttempt, t.Attempt)}
	var spans []tracing.Span
	if waited {
		ws, err := s.waits(ctx, t, h, base)
		if err != nil {
			return err
		}
		spans = append(spans, ws...)
	}
	triggerReasons := map[string]bool{sekisho.ReasonTriggerRejected: true, sekisho.ReasonDagPaused: true,
		sekisho.ReasonTriggerUnknown: true, sekisho.ReasonLogicalDateTaken: true}
	if t.To == sekisho.StateTriggered || (waited && triggerReasons[t.Reason]) {
		sp := tracing.Span{Part: tracing.PartTrigger, Parent: tracing.PartRoot, Name: "trigger",
			Kind: trace.SpanKindClient, Start: s.intent(ctx, t), End: t.At, Attrs: append(base[:3:3],
				attribute.String(AttrReason, t.Reason))}
		if ext, _ := t.Detail["external_id"].(string); ext != "" {
			sp.Attrs = append(sp.Attrs, attribute.String(AttrExternalID, ext))
		}
		if typ, _ := t.Detail["trigger"].(string); typ != "" {
			sp.Attrs = append(sp.Attrs, attribute.String(AttrTrigger, typ))
		}
		if t.To == sekisho.StateTriggered {
			sp.Status = codes.Ok
		} else {
			sp.Status, sp.Description = codes.Error, message(t)
		}
		spans = append(spans, sp)
	}
	if t.To.Terminal() {
		if !h.triggeredAt.IsZero() && !waited {
			sp := tracing.Span{Part: tracing.PartDownstream, Parent: tracing.PartRoot, Name: "downstream run",
				Kind: trace.SpanKindInternal, Start: h.triggeredAt, End: t.At,
				Attrs: append(base[:3:3], attribute.String(AttrState, string(t.To)), attribute.String(AttrReason, t.Reason))}
			if h.externalID != "" {
				sp.Attrs = append(sp.Attrs, attribute.String(AttrExternalID, h.externalID))
			}
			sp.Status, sp.Description = status(t)
			spans = append(spans, sp)
		}
		root := tracing.Span{Part: tracing.PartRoot, Name: "pipeline run", Kind: trace.SpanKindInternal,
			Start: h.start, End: t.At,
			Attrs: append(base[:3:3], attribute.String(AttrState, string(t.To)), attribute.String(AttrReason, t.Reason))}
		if h.externalID != "" {
			root.Attrs = append(root.Attrs, attribute.String(AttrExternalID, h.externalID))
		}
		root.Status, root.Description = status(t)
		spans = append(spans, root)
	}
	return s.exp.Export(ctx, a, spans)
}

// status maps an attempt's end state to a span status.
func status(t sekisho.Transition) (codes.Code, string) {
	switch t.To {
	case sekisho.StateSucceeded:
		return codes.Ok, ""
	case sekisho.StateFailed, sekisho.StateTimedOut:
		return codes.Error, message(t)
	}
	return codes.Unset, "" // skipped: an operator's choice, not an error
}

// intent is when the trigger request of the attempt went out: the run's
// recorded intent when it belongs to this attempt, else the transition.
func (s *traceSink) intent(ctx context.Context, t sekisho.Transition) time.Time {
	r, err := s.st.RunByID(ctx, t.RunID)
	if err == nil && r.Attempt == t.Attempt && !r.IntentAt.IsZero() && !r.IntentAt.After(t.At) {
		return r.IntentAt
	}
	return t.At
}

// waits makes one span per upstream, from the attempt's start to the
// upstream's finish (or to the transition, for one that never finished).
func (s *traceSink) waits(ctx context.Context, t sekisho.Transition, h attemptHistory, base []attribute.KeyValue) ([]tracing.Span, error) {
	obs, err := s.st.ObservationsAt(ctx, t.RunID, t.At)
	if err != nil {
		return nil, err
	}
	if cfg := s.cfg(); cfg != nil {
		if p := cfg.Pipeline(t.Pipeline); p != nil {
			for _, u := range p.Upstreams {
				if _, ok := obs[u.Name]; !ok {
					obs[u.Name] = sekisho.Observation{Upstream: u.Name, Type: u.Type, State: sekisho.JobPending}
				}
			}
		}
	}
	names := make([]string, 0, len(obs))
	for n := range obs {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]tracing.Span, 0, len(names))
	for _, n := range names {
		o := obs[n]
		end := t.At
		if o.State.Ended() && !o.FinishedAt.IsZero() && o.FinishedAt.Before(t.At) {
			end = o.FinishedAt
		}
		if end.Before(h.start) {
			end = h.start // finished before this attempt began: nothing to wait for
		}
		sp := tracing.Span{Part: tracing.PartWait(n), Parent: tracing.PartRoot, Name: "upstream wait",
			Kind: trace.SpanKindInternal, Start: h.start, End: end,
			Attrs: append(base[:3:3], attribute.String(AttrUpstream, n), attribute.String(AttrUpstreamTyp, o.Type),
				attribute.String(AttrState, string(o.State)))}
		if o.ExternalID != "" {
			sp.Attrs = append(sp.Attrs, attribute.String(AttrExternalID, o.ExternalID))
		}
		if o.Value != nil {
			sp.Attrs = append(sp.Attrs, attribute.Float64(AttrCheckValue, *o.Value), attribute.String(AttrCheckMessage, o.Message))
		}
		if o.Reason != "" {
			sp.Attrs = append(sp.Attrs, attribute.String(AttrCheckReason, o.Reason))
		}
		switch o.State {
		case sekisho.JobSucceeded:
			sp.Status = codes.Ok
		case sekisho.JobFailed:
			sp.Status, sp.Description = codes.Error, o.Message
		}
		out = append(out, sp)
	}
	return out, nil
}
