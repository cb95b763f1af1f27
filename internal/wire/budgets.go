package wire

import (
	"sync"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/internal/budget"
)

// budgets keeps each connection's budget across reloads: the vendor's
// window does not restart when the config does, so a reload that built a
// fresh, empty budget could spend a window's worth twice. Keyed by clock,
// so daemons on different clocks (tests, the demo) never share one.
var budgets = struct {
	sync.Mutex
	m map[budgetKey]*budget.Budget
}{m: map[budgetKey]*budget.Budget{}}

type budgetKey struct {
	clock clockwork.Clock
	name  string
	limit budget.Limit
}

// budgetFor is the one budget of a connection with this limit on clock.
func budgetFor(clock clockwork.Clock, name string, limit budget.Limit) *budget.Budget {
	if !limit.Set() {
		return nil
	}
	budgets.Lock()
	defer budgets.Unlock()
	k := budgetKey{clock, name, limit}
	b, ok := budgets.m[k]
	if !ok {
		b = budget.New(name, limit, clock)
		budgets.m[k] = b
	}
	return b
}
