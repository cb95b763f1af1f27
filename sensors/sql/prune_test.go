package sql

import (
	"context"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// TestOutcomeDatesAndForgetting: an unchanged answer keeps its date (an
// unchanged observation), a changed one starts a new date, and the
// queries of past days are forgotten.
func TestOutcomeDatesAndForgetting(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
	sim := redshiftsim.New(clock)
	srv := sim.NewServer()
	defer srv.Close()
	rows := int64(0)
	sim.Answer("SELECT COUNT(*) FROM t WHERE d = '2026-03-02'", func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{rows}, nil })
	sim.Answer("SELECT COUNT(*) FROM t WHERE d = '2026-03-05'", func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{rows}, nil })
	c, err := warehouse.Open(context.Background(), &config.Warehouse{Name: "rs", Type: config.WarehouseRedshift, Region: "us-east-1",
		WorkgroupName: "wg", Database: "dev", Endpoint: srv.URL}, warehouse.Options{AWSAccessKey: "a", AWSSecretKey: "s", StatementPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s := New(map[string]warehouse.Client{"rs": c}, clock)
	day1 := sekisho.Resource{Type: config.TypeSQL, Connection: "rs", ID: "SELECT COUNT(*) FROM t WHERE d = '2026-03-02'"}
	check := func(r sekisho.Resource) sekisho.JobRun {
		t.Helper()
		runs, err := s.Runs(context.Background(), r, time.Time{})
		if err != nil || len(runs) != 1 {
			t.Fatalf("Runs = %v, %v", runs, err)
		}
		return runs[0]
	}
	first := check(day1)
	clock.Advance(time.Minute)
	if again := check(day1); again != first || again.State != sekisho.JobPending {
		t.Errorf("an unchanged answer changed the run: %+v then %+v", first, again)
	}
	rows = 3
	clock.Advance(time.Minute)
	done := check(day1)
	if done.State != sekisho.JobSucceeded || !done.StartedAt.Equal(clock.Now()) || done.ExternalID == first.ExternalID {
		t.Errorf("after the rows landed: %+v", done)
	}
	clock.Advance(72 * time.Hour)
	check(sekisho.Resource{Type: config.TypeSQL, Connection: "rs", ID: "SELECT COUNT(*) FROM t WHERE d = '2026-03-05'"})
	if _, kept := s.seen[day1.Key()]; kept || len(s.seen) != 1 {
		t.Errorf("a query of three days ago is still remembered: %v", s.seen)
	}
}
