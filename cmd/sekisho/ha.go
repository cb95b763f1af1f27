package main

import (
	"context"
	"errors"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/ha"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/web"
)

// The daemon's part in high availability (SPEC §14). Every replica runs
// the elector, the HTTP server (board, API, pushed events and operator
// actions, all written to the shared store) and /metrics; only the leader
// runs the engine and the notice sender, under the lease's epoch, so every
// write they make is fenced by the store. On a single SQLite daemon the
// elector takes the lease at its first tick and nothing else changes.

// newElector builds the replica's elector. It keeps the wall clock even
// when the daemon runs on a test clock: the lease runs on the database's
// clock, which no test speeds up.
func newElector(o daemonOptions) *ha.Elector {
	return ha.New(o.st, ha.Options{Lease: o.cfg.HA.Lease, Clock: clockwork.NewRealClock(), Logger: o.log, Listen: true})
}

// clusterView is the elector's status for /api/v1/cluster and the board.
func clusterView(el *ha.Elector) func() web.Cluster {
	return func() web.Cluster {
		s := el.Status()
		return web.Cluster{Store: s.Store, Self: s.Self, Role: string(s.Role), Leader: s.Leader, Epoch: s.Epoch,
			LeaseExpiresAt: s.LeaseExpiresAt}
	}
}

// runElected starts the elector and, for every term this replica leads,
// the engine and the notice sender with the term's context: it carries
// the epoch (store.WithEpoch) and ends with the term.
func (d *daemon) runElected(ctx context.Context, start func(name string, fn func() error)) {
	start("elector", func() error { return d.elector.Run(ctx) })
	start("leader", func() error {
		return d.elector.Lead(ctx, func(term context.Context) error {
			errs := make(chan error, 3)
			go func() { errs <- d.eng.Run(term) }()
			go func() { errs <- d.sender.Run(term) }()
			go func() { errs <- d.takePushedEvents(term) }()
			return errors.Join(<-errs, <-errs, <-errs)
		})
	})
}

// relayEvents takes pushed events for the web server: the leader's engine
// ingests them at once; a follower, whose engine does not run, keeps them
// in the store for the leader (takePushedEvents).
type relayEvents struct{ d *daemon }

func (r relayEvents) Ingest(ctx context.Context, res sekisho.Resource, run sekisho.JobRun) error {
	if r.d.elector.IsLeader(ctx) == nil {
		return r.d.eng.Ingest(ctx, res, run)
	}
	return r.d.o.st.QueuePushedEvent(ctx, res, run, r.d.o.clock.Now())
}

// Learn records the job id in the store, which the leader reads.
func (r relayEvents) Learn(ctx context.Context, res sekisho.Resource, jobID string) error {
	return r.d.eng.Learn(ctx, res, jobID)
}

// takePushedEvents hands the events followers kept to the leader's engine,
// twice a second, until the term ends.
func (d *daemon) takePushedEvents(term context.Context) error {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		evs, err := d.o.st.TakePushedEvents(term, 100)
		if err != nil && term.Err() == nil && !errors.Is(err, store.ErrFenced) {
			d.o.log.Warn("take pushed events", "err", err)
		}
		for _, ev := range evs {
			// An event no open run waits on is answered 404 on the leader;
			// kept by a follower it is simply dropped here.
			_ = d.eng.Ingest(term, ev.Resource, ev.Run)
		}
		select {
		case <-term.Done():
			return nil
		case <-t.C:
		}
	}
}
