package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/internal/wire"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/warehouse"
	"github.com/sekisho-dev/sekisho/watch"
)

// newWatches builds the runner of cfg's watches (SPEC §15) on clients of
// the warehouses they name; nil without watches. The daemon runs it beside
// the engine; the config it starts with stays until restart.
func newWatches(ctx context.Context, cfg *config.Config, st *store.Store, clock clockwork.Clock, log *slog.Logger, tune wire.Tuning, kick func()) (*watch.Runner, error) {
	if len(cfg.Watches) == 0 {
		return nil, nil
	}
	ws := map[string]*config.Warehouse{}
	for _, w := range cfg.Watches {
		ws[w.Warehouse] = cfg.Connections.Warehouses[w.Warehouse]
	}
	clients, err := warehouse.OpenAll(ctx, ws, tune.Warehouse)
	if err != nil {
		return nil, fmt.Errorf("watches: %w", err)
	}
	return watch.New(cfg, st, clients, clock, log, kick), nil
}
