package daemon

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/warehouse"
	"github.com/sekisho-dev/sekisho/watch"
)

// newWatches builds the runner of cfg's watches (SPEC §15) on clients of
// the warehouses they name; nil without watches. Run runs it beside the
// engine, for `sekisho run` and the demo alike; the config it starts with stays until
// restart.
func newWatches(ctx context.Context, cfg *config.Config, st *store.Store, clock clockwork.Clock, log *slog.Logger, tune Tuning, kick func()) (*watch.Runner, error) {
	if len(cfg.Watches) == 0 {
		return nil, nil
	}
	ws := map[string]*config.Warehouse{}
	for _, w := range cfg.Watches {
		ws[w.Warehouse] = cfg.Connections.Warehouses[w.Warehouse]
	}
	clients, err := warehouse.OpenAll(ctx, ws, warehouseOptions(tune, clock, st, log))
	if err != nil {
		return nil, fmt.Errorf("watches: %w", err)
	}
	return watch.New(cfg, st, clients, clock, log, kick), nil
}

// replacedGrace is how long a replaced sensor's connections stay open after
// a reload, so a check already under way on them can finish.
const replacedGrace = 5 * time.Minute

// closeReplaced closes, after a grace period, the connections of sensors a
// reload replaced (the sql sensor's warehouse pools). The channel is closed
// once they are.
func closeReplaced(clock clockwork.Clock, old map[string]sekisho.Sensor) <-chan struct{} {
	done := make(chan struct{})
	c, ok := old[config.TypeSQL].(io.Closer)
	if !ok {
		close(done)
		return done
	}
	clock.AfterFunc(replacedGrace, func() {
		c.Close()
		close(done)
	})
	return done
}
