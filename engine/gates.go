package engine

import (
	"context"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// cronSpec returns the pipeline's schedule with its time zone attached, and
// whether it has a leading seconds field.
func cronSpec(p *config.Pipeline) (string, bool) {
	expr := strings.TrimSpace(p.Schedule)
	withSeconds := !strings.HasPrefix(expr, "@") && len(strings.Fields(expr)) == 6
	return "CRON_TZ=" + p.Location.String() + " " + expr, withSeconds
}

// lookback is how far back gates are caught up: the pipeline's timeout, and
// at least the start of today in its zone (SPEC §4 rule 1).
func lookback(p *config.Pipeline, now time.Time) time.Time {
	local := now.In(p.Location)
	start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, p.Location)
	if t := now.Add(-p.MaxTimeout()); t.Before(start) {
		return t
	}
	return start
}

// caughtUp reports whether a gate that fired at t is still to be opened at
// now: today's always (SPEC §4 rule 1), an earlier one while its timeout
// is ahead. lookback already bounds a duration timeout; a time-of-day one
// ("+1bd 09:00") is bounded loosely by MaxTimeout and exactly here.
func caughtUp(p *config.Pipeline, t, now time.Time) bool {
	if !p.TimeoutAt.Set || sekisho.DateOf(t, p.Location) == sekisho.DateOf(now, p.Location) {
		return true
	}
	return p.TimeoutOn(sekisho.DateOf(t, p.Location), t).After(now)
}

// gateTimes is when each pipeline's next gate fires.
type gateTimes struct {
	next    map[string]time.Time // pipeline → next gate to check for
	cfg     *config.Config       // the config they were computed for
	soonest time.Time            // the earliest of next; zero: scan
}

// openDueGates opens every gate whose fire time has come. The first pass
// for a pipeline (start-up, or a pipeline added by a reload) looks back over
// the catch-up window, so a restart at 02:05 does not lose 02:00's gate.
func (e *Engine) openDueGates(ctx context.Context, cfg *config.Config, now time.Time) error {
	if e.gate.cfg != cfg {
		// A new configuration: keep the next gate of pipelines that still
		// exist with the same schedule, look back for new ones.
		old := e.gate.next
		e.gate.next = make(map[string]time.Time, len(cfg.Pipelines))
		for _, p := range cfg.Pipelines {
			if prev := e.gate.cfg; prev != nil {
				if op := prev.Pipeline(p.Name); op != nil && op.Schedule == p.Schedule && op.Timezone == p.Timezone {
					if t, ok := old[p.Name]; ok {
						e.gate.next[p.Name] = t
						continue
					}
				}
			}
			e.gate.next[p.Name] = lookback(p, now)
		}
		e.gate.cfg = cfg
		e.gate.soonest = time.Time{}
	}
	// Scanning 10,000 pipelines every tick is the engine's largest cost
	// while it waits: skip it until the earliest next gate.
	if !e.gate.soonest.IsZero() && now.Before(e.gate.soonest) {
		return nil
	}
	opened := false
	var soonest time.Time
	for _, p := range cfg.Pipelines {
		from, ok := e.gate.next[p.Name]
		if !ok || now.Before(from) {
			continue
		}
		// NextFire is strictly after its argument, so step back a
		// nanosecond to include a fire exactly at from.
		t := p.NextFire(from.Add(-time.Nanosecond))
		for !t.IsZero() && !t.After(now) {
			if caughtUp(p, t, now) {
				if _, err := e.openGate(ctx, p, t); err != nil {
					return err
				}
				opened = true
			}
			t = p.NextFire(t)
		}
		if t.IsZero() {
			delete(e.gate.next, p.Name) // the schedule never fires again
		} else {
			e.gate.next[p.Name] = t
		}
	}
	for _, t := range e.gate.next {
		if soonest.IsZero() || t.Before(soonest) {
			soonest = t
		}
	}
	e.gate.soonest = soonest
	if opened {
		e.noticed()
	}
	return nil
}

// openGate creates the run whose gate fired at fireAt, if it does not exist.
func (e *Engine) openGate(ctx context.Context, p *config.Pipeline, fireAt time.Time) (bool, error) {
	date := sekisho.DateOf(fireAt, p.Location)
	r := sekisho.Run{
		Pipeline:    p.Name,
		LogicalDate: date,
		GateAt:      fireAt.UTC(),
		TimeoutAt:   p.TimeoutOn(date, fireAt).UTC(),
		Deadline:    p.Deadline(date),
		RecoverBy:   p.RecoverBy(date),
		Spec:        p.SpecFor(date, fireAt),
	}
	run, created, err := e.st.OpenGate(ctx, r, map[string]any{"schedule": p.Schedule, "timezone": p.Timezone})
	if err != nil {
		return false, err
	}
	if created {
		e.remember(run)
		e.log.Info("gate opened", "pipeline", p.Name, "date", date, "attempt", run.Attempt, "run", run.ID)
		if e.opts.Metrics != nil {
			e.opts.Metrics.Transition("", sekisho.StateWaiting)
		}
	}
	return created, nil
}
