package daemon

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/store"
)

// budgets keeps each connection's budget across reloads: the vendor's
// window does not restart when the config does, so a reload that built a
// fresh, empty budget could spend a window's worth twice. Keyed by clock
// and store, so daemons in one process (tests, the demo) never share one.
var budgets = struct {
	sync.Mutex
	m map[budgetKey]*budget.Budget
}{m: map[budgetKey]*budget.Budget{}}

type budgetKey struct {
	clock clockwork.Clock
	st    *store.Store
	name  string
	limit budget.Limit
}

// pruneEvery is how many grants pass between prunings of the stored ones.
const pruneEvery = 500

// budgetFor is the one budget of a connection with this limit. A new one
// starts from the grants the store holds for the last day, the previous
// process's included, and records each grant there before its call is
// sent, so neither a reload nor a restart spends a window twice.
func budgetFor(clock clockwork.Clock, st *store.Store, log *slog.Logger, name string, limit budget.Limit) *budget.Budget {
	if !limit.Set() {
		return nil
	}
	budgets.Lock()
	defer budgets.Unlock()
	k := budgetKey{clock, st, name, limit}
	if b, ok := budgets.m[k]; ok {
		return b
	}
	b := budget.New(name, limit, clock)
	budgets.m[k] = b
	if st == nil {
		return b
	}
	ctx := context.Background()
	since := clock.Now().Add(-budget.Day)
	if err := st.PruneGrants(ctx, since); err != nil {
		log.Warn("request budget: prune stored grants", "connection", name, "err", err)
	}
	grants, err := st.Grants(ctx, name, since)
	if err != nil {
		log.Warn("request budget: read stored grants; starting empty", "connection", name, "err", err)
	}
	b.Restore(grants)
	var mu sync.Mutex
	n := 0
	b.OnGrant(func(at time.Time, _ budget.Priority) {
		if err := st.RecordGrant(ctx, name, at); err != nil {
			log.Warn("request budget: grant not recorded", "connection", name, "err", err)
		}
		mu.Lock()
		n++
		prune := n%pruneEvery == 0
		mu.Unlock()
		if prune {
			_ = st.PruneGrants(ctx, at.Add(-budget.Day))
		}
	})
	return b
}
