package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/incident"
)

// incidentView is the loop's copy of the open incidents (SPEC §17), kept
// current between reads by merging in the changes the loop writes. It is
// read again from the store when it may be stale: at the start, when
// another process wrote (the runs are read again), after a failed write,
// and after a write that may have resolved an incident (a member succeeded
// or was skipped; the store settles memberships in the run's transaction).
type incidentView struct {
	open  []incident.Incident
	fresh bool
	cfg   *config.Config // the config graph was built from
	graph *config.Graph
}

// fold places the trouble of the notices a step queues among the open
// incidents, for exec to write with them. It returns the changes and the
// open incidents as they will be once the write stands (commit them with
// incidentsWritten).
func (e *Engine) fold(ctx context.Context, rec *runRec, ns []sekisho.Notice, now time.Time) ([]incident.Change, []incident.Incident, error) {
	if len(ns) == 0 {
		return nil, nil, nil
	}
	v := &e.inc
	if !v.fresh {
		open, err := e.st.OpenIncidents(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("open incidents: %w", err)
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
	changes, open := incident.Fold(v.graph, v.open, ns, locate, now)
	return changes, open, nil
}

// incidentsWritten takes the outcome of the write that carried a fold's
// changes: on success the merged view stands; on failure (a conflict, a
// lost connection) the store is read again before the next fold. A run
// that became done may have resolved an incident it is a member of.
func (e *Engine) incidentsWritten(open []incident.Incident, err error, r sekisho.Run) {
	v := &e.inc
	switch {
	case err != nil:
		v.fresh = false
		return
	case open != nil:
		v.open = open
	}
	if r.State != sekisho.StateSucceeded && r.State != sekisho.StateSkipped {
		return
	}
	for _, inc := range v.open {
		if _, ok := inc.Member(r.Pipeline, r.LogicalDate); ok {
			v.fresh = false
			return
		}
	}
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
