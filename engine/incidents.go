package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/incident"
	"github.com/sekisho-dev/sekisho/store"
)

// openIncidents is the loop's copy of the open incidents (SPEC §17), kept
// current between reads with each decision's view of them once its write
// stood. It is read again from the store when it may be stale: at the
// start, when another process wrote (the runs are read again), and after a
// failed write.
type openIncidents struct {
	open  []sekisho.Incident
	fresh bool
	cfg   *config.Config // the config graph was built from
	graph *config.Graph
}

// decideIncidents asks incident.Decide what a step of run r (as the step
// leaves it) and the notices it queues do to the incidents. The executor
// writes the decision with the step, then commits its view with
// incidentsWritten.
func (e *Engine) decideIncidents(ctx context.Context, rec *runRec, r sekisho.Run, ns []sekisho.Notice, now time.Time) (incident.Decision, error) {
	v := &e.inc
	if !v.fresh {
		open, err := e.st.OpenIncidents(ctx)
		if err != nil {
			return incident.Decision{}, fmt.Errorf("open incidents: %w", err)
		}
		v.open, v.fresh = open, true
	}
	cfg := e.Config()
	if v.cfg != cfg {
		v.cfg, v.graph = cfg, cfg.Graph()
	}
	locate := func(p, u string) (string, string) {
		spec := rec.spec // the config the run's attempt carries
		if spec == nil || spec.Name != p {
			spec = cfg.Pipeline(p)
		}
		if spec == nil {
			return "", ""
		}
		return spec.UpstreamTarget(u)
	}
	return incident.Decide(v.graph, locate, v.open, incident.Step{Run: r, Notices: ns}, now), nil
}

// incidentsWritten takes the outcome of the write that carried a decision:
// on success its view stands; on failure (a conflict, a lost connection)
// the store is read again before the next decision.
func (e *Engine) incidentsWritten(d incident.Decision, err error) {
	if err != nil {
		e.inc.fresh = false
		return
	}
	e.inc.open = d.Open
}

// applyWithIncidents decides and writes what an operator's move of a run (a
// rerun, a skip) does to its incidents, in the run's own write: the CLI
// makes these moves without the daemon, so they cannot wait for its loop.
func applyWithIncidents(ctx context.Context, st *store.Store, prev, next sekisho.Run, at time.Time, step store.Step) (sekisho.Run, error) {
	open, err := st.OpenIncidents(ctx)
	if err != nil {
		return prev, err
	}
	d := incident.Decide(nil, nil, open, incident.Step{Run: next}, at)
	step.Notices, step.Incidents = append(step.Notices, d.Notices...), d.Changes
	return st.Apply(ctx, prev, next, at, step)
}

// unqueued leaves out the notices already in the outbox. decide leaves out
// those the record remembers queuing; after a restart the record remembers
// none, so the run's stored keys are read once, the first time a step of
// the run has notices. Without it a notice proposed again would be placed
// again, and could move the run into an incident opened after the notice
// went out on its own.
func (e *Engine) unqueued(ctx context.Context, rec *runRec, ns []sekisho.Notice) ([]sekisho.Notice, error) {
	if len(ns) == 0 {
		return ns, nil
	}
	if rec.queued == nil {
		stored, err := e.st.Notices(ctx, rec.run.ID)
		if err != nil {
			return nil, fmt.Errorf("queued notices: %w", err)
		}
		rec.queued = make(map[string]bool, len(stored))
		for _, n := range stored {
			rec.queued[n.DedupeKey] = true
		}
	}
	out := ns[:0:0]
	for _, n := range ns {
		if !rec.queued[n.DedupeKey] {
			out = append(out, n)
		}
	}
	return out, nil
}
