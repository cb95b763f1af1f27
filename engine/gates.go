package engine

import (
	"context"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
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

// gateBatch is how many gates one transaction opens. A batch is one
// fsync instead of one per gate, and small enough (a few milliseconds) that
// a pushed event waiting for the loop is not held up by 10,000 gates due
// at one instant: the loop takes one batch per pass and handles events
// between them.
const gateBatch = 128

// gateScan is how many pipelines one pass looks at for due gates: working
// out the fire times of 10,000 schedules due at one instant takes a few
// hundred milliseconds, which a pushed event should not wait for.
const gateScan = 256

// gateTimes is when each pipeline's next gate fires.
type gateTimes struct {
	// next is, by position in cfg.Pipelines, the next gate to check for
	// (zero: the schedule never fires again). A slice, not a map by name:
	// it holds an entry for every pipeline (issue 23).
	next    []time.Time
	cfg     *config.Config // the config they were computed for
	soonest time.Time      // the earliest of next; zero: scan
	due     []dueGate      // gates found due and not yet opened, in scan order
	scan    int            // a scan under way: the next pipeline to look at (0: none)
}

// dueGate is a gate whose fire time has come.
type dueGate struct {
	p      *config.Pipeline
	fireAt time.Time
}

// openDueGates opens the gates whose fire time has come, one batch per
// call; it wakes the loop again while some are left, so the passes between
// batches take pushed events and answers. The first scan for a pipeline
// (start-up, or a pipeline added by a reload) looks back over the catch-up
// window, so a restart at 02:05 does not lose 02:00's gate.
func (e *Engine) openDueGates(ctx context.Context, cfg *config.Config, now time.Time) error {
	e.findDueGates(cfg, now)
	for len(e.gate.due) > 0 {
		n := min(len(e.gate.due), gateBatch)
		if err := e.openGates(ctx, e.gate.due[:n]); err != nil {
			return err
		}
		e.gate.due = e.gate.due[n:]
		if len(e.gate.due) == 0 {
			e.gate.due = nil
		} else if !e.opts.Sync {
			// Sync mode (tests driving Step by hand) opens every due
			// gate in the pass, in the same batches.
			e.Kick()
			break
		}
	}
	if e.gate.scan > 0 {
		e.Kick() // the scan goes on in the next pass
	}
	return nil
}

// findDueGates adds to gate.due every gate whose fire time has come and
// moves each pipeline's next gate past them.
func (e *Engine) findDueGates(cfg *config.Config, now time.Time) {
	if e.gate.cfg != cfg || len(e.gate.next) != len(cfg.Pipelines) {
		// A new configuration (or pipelines added to this one): keep the
		// next gate of pipelines that still exist with the same schedule,
		// look back for new ones. Gates found due and not opened yet are
		// found again, under cfg.
		old := map[string]time.Time{}
		if prev := e.gate.cfg; prev != nil {
			for i, t := range e.gate.next {
				if !t.IsZero() && i < len(prev.Pipelines) {
					old[prev.Pipelines[i].Name] = t
				}
			}
		}
		for _, g := range e.gate.due {
			if t, ok := old[g.p.Name]; !ok || g.fireAt.Before(t) {
				old[g.p.Name] = g.fireAt
			}
		}
		e.gate.due = nil
		e.gate.next = make([]time.Time, len(cfg.Pipelines))
		for i, p := range cfg.Pipelines {
			if prev := e.gate.cfg; prev != nil {
				if op := prev.Pipeline(p.Name); op != nil && op.Schedule == p.Schedule && op.Timezone == p.Timezone {
					if t, ok := old[p.Name]; ok {
						e.gate.next[i] = t
						continue
					}
				}
			}
			e.gate.next[i] = lookback(p, now)
		}
		e.gate.cfg = cfg
		e.gate.soonest, e.gate.scan = time.Time{}, 0
	}
	// Scanning 10,000 pipelines every tick is the engine's largest cost
	// while it waits: skip it until the earliest next gate.
	if e.gate.scan == 0 && !e.gate.soonest.IsZero() && now.Before(e.gate.soonest) {
		return
	}
	// A scan looks at gateScan pipelines per pass (all in Sync mode) and
	// goes on from there in the next.
	first, last := e.gate.scan, len(cfg.Pipelines)
	if !e.opts.Sync {
		last = min(last, first+gateScan)
	}
	var fires config.Fires // pipelines on one schedule share its fire times
	for i, p := range cfg.Pipelines[first:last] {
		i += first
		from := e.gate.next[i]
		if from.IsZero() || now.Before(from) {
			continue
		}
		// NextFire is strictly after its argument, so step back a
		// nanosecond to include a fire exactly at from.
		t := fires.Next(p, from.Add(-time.Nanosecond))
		for !t.IsZero() && !t.After(now) {
			if caughtUp(p, t, now) {
				e.gate.due = append(e.gate.due, dueGate{p: p, fireAt: t})
			}
			t = fires.Next(p, t)
		}
		e.gate.next[i] = t // zero: the schedule never fires again
	}
	if last < len(cfg.Pipelines) {
		e.gate.scan = last
		return
	}
	e.gate.scan = 0
	var soonest time.Time
	for _, t := range e.gate.next {
		if !t.IsZero() && (soonest.IsZero() || t.Before(soonest)) {
			soonest = t
		}
	}
	e.gate.soonest = soonest
}

// gateRun is the run a gate of p that fired at fireAt creates.
func gateRun(p *config.Pipeline, fireAt time.Time) store.Gate {
	date := sekisho.DateOf(fireAt, p.Location)
	return store.Gate{Run: sekisho.Run{
		Pipeline:    p.Name,
		LogicalDate: date,
		Key:         p.RunKey(fireAt),
		GateAt:      fireAt.UTC(),
		TimeoutAt:   p.TimeoutOn(date, fireAt).UTC(),
		Deadline:    p.Deadline(date, fireAt),
		RecoverBy:   p.RecoverBy(date, fireAt),
		Spec:        p.SpecFor(date, fireAt),
	}, Detail: map[string]any{"schedule": p.Schedule, "timezone": p.Timezone}}
}

// openGates creates the runs of gates in one transaction; a run that
// exists already (the gate opened before a restart, or by another replica)
// is left as it is.
func (e *Engine) openGates(ctx context.Context, gates []dueGate) error {
	batch := make([]store.Gate, len(gates))
	for i, g := range gates {
		batch[i] = gateRun(g.p, g.fireAt)
	}
	created, err := e.st.OpenGates(ctx, batch)
	if err != nil {
		return err
	}
	cfg, j := e.Config(), 0
	for _, run := range created {
		e.remember(run)
		// created come in the order of gates, some perhaps left out.
		for j < len(gates) && (batch[j].Run.Pipeline != run.Pipeline || batch[j].Run.Key != run.Key) {
			j++
		}
		if rec, ok := e.runs.recs[run.ID]; ok {
			rec.loaded = true // a new run has no observations to read
			// The snapshot of a pipeline that renders nothing per run is
			// its Spec: the loaded pipeline is what prepare would find
			// (config.PipelineForRun), without writing the snapshot a
			// second time to compare it, 10,000 times as 10,000 gates
			// open (issue 23).
			if j < len(gates) && rec.spec == nil {
				if p := gates[j].p; !p.RendersPerRun() && cfg.Pipeline(run.Pipeline) == p {
					_ = prepareFrom(rec, p) // an error is prepare's to report, later
				}
			}
		}
		e.log.Info("gate opened", "pipeline", run.Pipeline, "key", run.Key, "attempt", run.Attempt, "run", run.ID)
		if e.opts.Metrics != nil {
			e.opts.Metrics.Transition("", sekisho.StateWaiting)
		}
	}
	if len(created) > 0 {
		e.noticed()
	}
	return nil
}
