package daemon

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
// runs the engine, the notice sender and the observability exporter, under
// the lease's epoch, so every write they make is fenced by the store. On a
// single SQLite daemon the elector takes the lease at its first tick and
// nothing else changes.

// newElector builds the replica's elector. It keeps the wall clock even
// when the daemon runs on a test clock: the lease runs on the database's
// clock, which no test speeds up.
func newElector(o Options) *ha.Elector {
	return ha.New(o.Store, ha.Options{Lease: o.Config.HA.Lease, Clock: clockwork.NewRealClock(), Logger: o.Logger, Listen: true})
}

// Elector is the replica's leader elector.
func (d *Daemon) Elector() *ha.Elector { return d.elector }

// Cluster is the elector's view for /api/v1/cluster and the board's footer.
func (d *Daemon) Cluster() web.Cluster {
	s := d.elector.Status()
	return web.Cluster{Store: s.Store, Self: s.Self, Role: string(s.Role), Leader: s.Leader, Epoch: s.Epoch,
		LeaseExpiresAt: s.LeaseExpiresAt}
}

// runElected starts the elector and, for every term this replica leads,
// the leader's work with the term's context: it carries the epoch
// (store.WithEpoch) and ends with the term.
func (d *Daemon) runElected(ctx context.Context, start func(name string, fn func() error), work ...func(term context.Context) error) {
	work = append(work, d.takePushedEvents)
	start("elector", func() error { return d.elector.Run(ctx) })
	start("leader", func() error {
		return d.elector.Lead(ctx, func(term context.Context) error {
			errs := make(chan error, len(work))
			for _, w := range work {
				go func() { errs <- w(term) }()
			}
			var all []error
			for range work {
				all = append(all, <-errs)
			}
			return errors.Join(all...)
		})
	})
}

// relayEvents takes pushed events for the web server: the leader's engine
// ingests them at once; a follower, whose engine does not run, keeps them
// in the store for the leader (takePushedEvents).
type relayEvents struct{ d *Daemon }

func (r relayEvents) Ingest(ctx context.Context, res sekisho.Resource, run sekisho.JobRun) error {
	if r.d.elector.IsLeader(ctx) == nil {
		return r.d.eng.Ingest(ctx, res, run)
	}
	return r.d.o.Store.QueuePushedEvent(ctx, res, run, r.d.o.Clock.Now())
}

// Learn records the job id in the store, which the leader reads.
func (r relayEvents) Learn(ctx context.Context, res sekisho.Resource, jobID string) error {
	return r.d.eng.Learn(ctx, res, jobID)
}

// takePushedEvents hands the events followers kept to the leader's engine,
// twice a second, until the term ends.
func (d *Daemon) takePushedEvents(term context.Context) error {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		evs, err := d.o.Store.TakePushedEvents(term, 100)
		if err != nil && term.Err() == nil && !errors.Is(err, store.ErrFenced) {
			d.o.Logger.Warn("take pushed events", "err", err)
		}
		for _, ev := range evs {
			// An event no pipeline waits on is answered "ignored" on the
			// leader; kept by a follower it is simply dropped here.
			_ = d.eng.Ingest(term, ev.Resource, ev.Run)
		}
		select {
		case <-term.Done():
			return nil
		case <-t.C:
		}
	}
}
