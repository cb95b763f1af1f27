// Package observe derives OpenTelemetry traces and OpenLineage events from
// the store's append-only transitions, apart from the engine.
//
// A Service tails the transitions table with one durable cursor per sink
// (store table observe_cursors). It moves a sink's cursor only past the
// transitions that sink delivered, so an outage of the collector or of the
// lineage endpoint delays spans and events and loses none: the transitions
// and the cursor together are their durable outbox. Ids are derived from the
// run (tracing.TraceID, lineage.RunID), so a transition delivered twice
// around a crash names the same span or run both times.
package observe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/lineage"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/tracing"
)

// Defaults of Options.
const (
	DefaultInterval = 5 * time.Second
	DefaultBatch    = 500
	// firstLookBack is how far back a sink that never ran starts: runs of
	// the last two days get their traces and events, older history does not
	// flood the collector.
	firstLookBack = 48 * time.Hour
	// gapWait is how long a hole in the transition ids is waited for: on
	// PostgreSQL a transaction holding a lower id may commit after a higher
	// one; a rolled-back id never comes, and is passed after this.
	gapWait = 30 * time.Second
)

// Options configure a Service. Store and Config are required.
type Options struct {
	Store   *store.Store
	Config  func() *config.Config // the current config (reloads apply)
	Clock   clockwork.Clock       // default real
	Logger  *slog.Logger
	Version string // service.version of the traces
	// Getenv reads the OTEL_* variables; default os.Getenv.
	Getenv   func(string) string
	Interval time.Duration // between passes; default DefaultInterval
	Batch    int           // transitions per read; default DefaultBatch

	// Traces and Lineage replace the exporters built from the environment
	// and the config (tests, benchmarks).
	Traces  *tracing.Exporter
	Lineage *lineage.Client
}

// Service is the tailing service. Build it with New; a nil *Service (nothing
// configured) does nothing.
type Service struct {
	o     Options
	sinks []sink
	gaps  map[string]gap
}

type gap struct {
	after int64
	since time.Time
}

// sink turns one transition into deliveries; an error wrapping
// lineage.ErrRefused is logged and passed, any other stops the pass.
type sink interface {
	name() string
	deliver(ctx context.Context, t sekisho.Transition) error
	close(ctx context.Context) error
}

// Start builds the service from the environment (OTEL_*) and the config
// (lineage:) and runs it until ctx ends. It returns at once, with nil, when
// neither traces nor lineage are configured. This is the one call the
// daemon makes.
func Start(ctx context.Context, st *store.Store, cfg func() *config.Config, clock clockwork.Clock, log *slog.Logger, version string) error {
	s, err := New(ctx, Options{Store: st, Config: cfg, Clock: clock, Logger: log, Version: version})
	if err != nil || s == nil {
		return err
	}
	return s.Run(ctx)
}

// New builds the service; it returns nil when nothing is configured.
func New(ctx context.Context, o Options) (*Service, error) {
	if o.Store == nil || o.Config == nil {
		return nil, errors.New("observe: a store and a config are required")
	}
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	s := &Service{o: o, gaps: map[string]gap{}}
	if o.Traces == nil && tracing.Enabled(o.Getenv) {
		exp, err := tracing.NewFromEnv(ctx, o.Version, o.Getenv)
		if err != nil {
			return nil, err
		}
		o.Traces = exp
	}
	if o.Traces != nil {
		s.sinks = append(s.sinks, &traceSink{st: o.Store, exp: o.Traces, cfg: o.Config})
	}
	if lc := o.Config().Lineage; o.Lineage == nil && lc.URL != "" {
		c, err := lineage.New(lc, lineage.Options{})
		if err != nil {
			return nil, err
		}
		o.Lineage = c
	}
	if o.Lineage != nil {
		s.sinks = append(s.sinks, &lineageSink{st: o.Store, client: o.Lineage, cfg: o.Config})
	}
	if len(s.sinks) == 0 {
		return nil, nil
	}
	s.o = o
	for _, k := range s.sinks {
		o.Logger.Info("observability on", "sink", k.name())
	}
	return s, nil
}

// Run passes over the new transitions every Interval until ctx ends, then
// releases the exporters.
func (s *Service) Run(ctx context.Context) error {
	if s == nil {
		return nil
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		s.Close(cctx)
	}()
	t := s.o.Clock.NewTicker(s.o.Interval)
	defer t.Stop()
	for {
		if err := s.Pass(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("observability pass", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.Chan():
		}
	}
}

// Close releases the exporters. Calling it twice is safe.
func (s *Service) Close(ctx context.Context) error {
	if s == nil {
		return nil
	}
	var errs []error
	for _, k := range s.sinks {
		errs = append(errs, k.close(ctx))
	}
	return errors.Join(errs...)
}

// Pass delivers, for every sink, the transitions after its cursor, and
// moves the cursor past those delivered. A delivery that fails leaves the
// cursor before it: the next pass tries again from there.
func (s *Service) Pass(ctx context.Context) error {
	var errs []error
	for _, k := range s.sinks {
		errs = append(errs, s.passSink(ctx, k))
	}
	return errors.Join(errs...)
}

func (s *Service) passSink(ctx context.Context, k sink) error {
	st := s.o.Store
	cur, err := st.Cursor(ctx, k.name())
	if err != nil {
		return err
	}
	now := s.o.Clock.Now()
	if cur == 0 {
		if cur, err = st.LastTransitionBefore(ctx, now.Add(-firstLookBack)); err != nil {
			return err
		}
	}
	for {
		ts, err := st.TransitionsAfter(ctx, cur, s.o.Batch)
		if err != nil {
			return err
		}
		last, stop, derr := s.deliver(ctx, k, cur, ts, now)
		if last > cur {
			if err := st.AdvanceCursor(ctx, k.name(), last, now); err != nil {
				return err
			}
			cur = last
		}
		if derr != nil || stop || len(ts) < s.o.Batch {
			return derr
		}
	}
}

// deliver hands ts to k in order and returns the id of the last one
// delivered (or refused), and whether to stop at a hole in the ids.
func (s *Service) deliver(ctx context.Context, k sink, cur int64, ts []sekisho.Transition, now time.Time) (int64, bool, error) {
	last := cur
	for _, t := range ts {
		if t.ID != last+1 && last > 0 {
			g, seen := s.gaps[k.name()]
			if !seen || g.after != last {
				s.gaps[k.name()] = gap{after: last, since: now}
				return last, true, nil
			}
			if now.Sub(g.since) < gapWait {
				return last, true, nil
			}
		}
		delete(s.gaps, k.name())
		if err := k.deliver(ctx, t); err != nil {
			if errors.Is(err, lineage.ErrRefused) {
				s.o.Logger.Warn("observability: delivery refused, skipped", "sink", k.name(), "transition", t.ID,
					"pipeline", t.Pipeline, "date", t.LogicalDate, "key", t.Key, "attempt", t.Attempt, "err", err)
			} else {
				return last, true, fmt.Errorf("%s: transition %d of %s %s: %w", k.name(), t.ID, t.Pipeline, t.LogicalDate, err)
			}
		}
		last = t.ID
	}
	return last, false, nil
}

// attemptHistory is what a sink needs of one attempt besides the
// transition at hand: when it began and when it was triggered.
type attemptHistory struct {
	start       time.Time
	triggeredAt time.Time
	externalID  string
	triggerType string
}

func history(ctx context.Context, st *store.Store, t sekisho.Transition) (attemptHistory, error) {
	all, err := st.Transitions(ctx, t.RunID)
	if err != nil {
		return attemptHistory{}, err
	}
	h := attemptHistory{start: t.At}
	first := true
	for _, x := range all {
		if x.Attempt != t.Attempt || x.ID > t.ID {
			continue
		}
		if first {
			h.start, first = x.At, false
		}
		if x.To == sekisho.StateTriggered {
			h.triggeredAt = x.At
			h.externalID, _ = x.Detail["external_id"].(string)
			h.triggerType, _ = x.Detail["trigger"].(string)
		}
	}
	return h, nil
}

func message(t sekisho.Transition) string {
	if m, ok := t.Detail["message"].(string); ok && m != "" {
		return m
	}
	return t.Reason
}
