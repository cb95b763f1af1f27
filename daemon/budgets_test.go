package daemon

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

func TestBudgetOutlivesAReloadAndARestart(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := teststore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	clk := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC))
	l := budget.Limit{Requests: 10, Per: 15 * time.Minute}
	a, b := budgetFor(clk, st, log, "trocco", l), budgetFor(clk, st, log, "trocco", l)
	if a == nil || a != b {
		t.Fatal("a reload with the same limit must keep the budget and what it has spent")
	}
	if budgetFor(clk, st, log, "trocco", budget.Limit{Requests: 50, Per: 15 * time.Minute}) == a {
		t.Error("a changed limit must give a new budget")
	}
	if budgetFor(clk, st, log, "glue", budget.Limit{}) != nil {
		t.Error("no limit, no budget")
	}
	for range 9 {
		if err := a.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The daemon restarts: a new process, the same store.
	st.Close()
	st2, err := teststore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	c := budgetFor(clk, st2, log, "trocco", l)
	if c == a {
		t.Fatal("a new store must give a new budget")
	}
	full, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Wait(full); err == nil {
		t.Error("the restarted budget spent the grants of the previous process again")
	}
}

// TestWarehouseBudgetShared: the sql sensor's clients and the long-query
// watch's clients of one warehouse draw from one budget.
func TestWarehouseBudgetShared(t *testing.T) {
	st, err := teststore.Open(context.Background(), filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clockwork.NewFakeClock()
	log := slog.New(slog.DiscardHandler)
	w := &config.Warehouse{Name: "analytics", RateLimit: config.RateLimit{Requests: 20, Per: time.Second}}
	sensors, watches := warehouseOptions(Tuning{}, clk, st, log), warehouseOptions(Tuning{}, clk, st, log)
	a, b := sensors.Budget(w), watches.Budget(w)
	if a == nil || a != b || a.Limit() != (budget.Limit{Requests: 20, Per: time.Second}) {
		t.Fatalf("budgets %p %p (%v): want one of 20 per second", a, b, a.Limit())
	}
	if sensors.Budget(&config.Warehouse{Name: "bq"}) != nil {
		t.Error("a warehouse without rate_limit has no budget")
	}
}
