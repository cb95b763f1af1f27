package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// Stepper is one reconcile pass of the engine: *engine.Engine built with
// Options.Sync, so every request finishes inside the pass.
type Stepper interface {
	Step(ctx context.Context) error
}

// OpenRunner counts the runs still open; *store.Store satisfies it.
type OpenRunner interface {
	OpenRuns(ctx context.Context) ([]sekisho.Run, error)
}

// FillOptions drive the history fill.
type FillOptions struct {
	Engine Stepper
	Store  OpenRunner
	Config *config.Config
	Until  time.Time     // the fill stops with the clock here
	Step   time.Duration // clock step while runs are open (default 5m)
	// Settle, if set, runs after each pass: the demo waits there for the
	// notices of the pass to reach Slack, so they carry the right time.
	Settle func(ctx context.Context) error
}

// FillStats describe a history fill.
type FillStats struct {
	Passes int
	From   time.Time
	To     time.Time
}

// Fill moves the clock to o.Until as fast as the engine keeps up: a pass
// after every step while runs are open, a jump to the next gate or scripted
// action while none are. Each pass sees the world exactly as it is at that
// moment, so the history is the same as a live run would have written,
// timed to the step.
func (w *World) Fill(ctx context.Context, o FillOptions) (FillStats, error) {
	if o.Step <= 0 {
		o.Step = 5 * time.Minute
	}
	st := FillStats{From: w.Clock.Now()}
	for {
		now := w.Clock.Now()
		if err := w.Act(ctx, now); err != nil {
			return st, err
		}
		if err := o.Engine.Step(ctx); err != nil {
			return st, fmt.Errorf("demo: engine pass at %s: %w", now.Format(time.RFC3339), err)
		}
		st.Passes++
		if o.Settle != nil {
			if err := o.Settle(ctx); err != nil {
				return st, err
			}
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
		if !now.Before(o.Until) {
			st.To = now
			return st, nil
		}
		next := now.Add(o.Step)
		open, err := o.Store.OpenRuns(ctx)
		if err != nil {
			return st, fmt.Errorf("demo: open runs: %w", err)
		}
		if len(open) == 0 {
			if g := nextGate(o.Config, now); g.After(next) {
				next = g
			}
		}
		if a := w.NextAction(now); !a.IsZero() && a.Before(next) {
			next = a
		}
		if next.After(o.Until) {
			next = o.Until
		}
		w.Clock.Advance(next.Sub(now))
	}
}

// nextGate is the earliest schedule firing of any pipeline after now.
func nextGate(cfg *config.Config, now time.Time) time.Time {
	var first time.Time
	for _, p := range cfg.Pipelines {
		if t := p.NextFire(now); !t.IsZero() && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}

// Live moves the clock speed times faster than the wall clock, in steps of
// tick real time, carrying out the script's actions as their time comes,
// until ctx ends. onErr hears of actions that failed (default: ignored);
// the demo goes on, as the world would.
func (w *World) Live(ctx context.Context, speed float64, tick time.Duration, onErr func(error)) error {
	if speed <= 0 {
		return fmt.Errorf("demo: speed %v: want a positive number", speed)
	}
	if tick <= 0 {
		tick = 50 * time.Millisecond
	}
	step := time.Duration(float64(tick) * speed)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := w.Clock.Now()
		end := now.Add(step)
		// Stop at each action on the way, so an event carries its own time.
		for {
			a := w.NextAction(now)
			if a.IsZero() || a.After(end) {
				break
			}
			w.Clock.Advance(a.Sub(now))
			now = a
			if err := w.Act(ctx, now); err != nil && onErr != nil && ctx.Err() == nil {
				onErr(err)
			}
		}
		w.Clock.Advance(end.Sub(now))
		if err := w.Act(ctx, end); err != nil && onErr != nil && ctx.Err() == nil {
			onErr(err)
		}
	}
}
