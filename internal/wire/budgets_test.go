package wire

import (
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/internal/budget"
)

func TestBudgetOutlivesAReload(t *testing.T) {
	clk := clockwork.NewFakeClock()
	l := budget.Limit{Requests: 100, Per: 15 * time.Minute}
	a, b := budgetFor(clk, "trocco", l), budgetFor(clk, "trocco", l)
	if a == nil || a != b {
		t.Fatal("a reload with the same limit must keep the budget and what it has spent")
	}
	if budgetFor(clk, "trocco", budget.Limit{Requests: 50, Per: 15 * time.Minute}) == a {
		t.Error("a changed limit must give a new budget")
	}
	if budgetFor(clockwork.NewFakeClock(), "trocco", l) == a {
		t.Error("daemons on different clocks must not share a budget")
	}
	if budgetFor(clk, "glue", budget.Limit{}) != nil {
		t.Error("no limit, no budget")
	}
}
