package daemon

import (
	"context"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// retentionEvery is how often the leader looks for runs past store.retention:
// a day's worth appears once a day, so hourly keeps the backlog under an
// hour's runs.
const retentionEvery = time.Hour

// pruner prunes the store past store.retention (SPEC §19) on the leader:
// it is leader work (Run), so one replica prunes, fenced by its epoch like
// every leader write. Each batch is one short transaction of the store
// (store.Prune), and the engine's writes, queued on the same writer, go in
// between batches: pruning a year's backlog never holds the engine up for
// more than a batch.
type pruner struct {
	store  *store.Store
	config func() *config.Config
	clock  clockwork.Clock
	log    *slog.Logger
	batch  int // runs per transaction; store.PruneBatch when 0
	// between runs after each batch that removed runs (tests).
	between func(store.Pruned)
}

// Run prunes at once, then every retentionEvery, until term ends. A failed
// pass is logged and tried again at the next one: pruning is housekeeping
// and never stops the leader.
func (p *pruner) Run(term context.Context) error {
	for {
		if _, err := p.pass(term); err != nil && term.Err() == nil {
			p.log.Warn("prune: pass failed; trying again in an hour", "err", err)
		}
		select {
		case <-term.Done():
			return nil
		case <-p.clock.After(retentionEvery):
		}
	}
}

// pass prunes every finished run whose logical date is older than the
// retention (in the config's zone), batch by batch, and logs what went.
func (p *pruner) pass(ctx context.Context) (store.Pruned, error) {
	cfg := p.config()
	var total store.Pruned
	if cfg.Store.Retention <= 0 {
		return total, nil
	}
	now := p.clock.Now()
	before := sekisho.DateOf(now.Add(-cfg.Store.Retention), cfg.Location)
	for ctx.Err() == nil {
		b, err := p.store.Prune(ctx, before, p.batch, now)
		if err != nil {
			return total, err
		}
		total.Add(b)
		if b.Runs == 0 {
			break
		}
		if p.between != nil {
			p.between(b)
		}
	}
	if total.Runs > 0 {
		p.log.Info("pruned runs past store.retention", "before", before, "days", total.Days, "runs", total.Runs,
			"transitions", total.Transitions, "observations", total.Observations, "notices", total.Notices)
	}
	return total, ctx.Err()
}
