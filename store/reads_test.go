package store

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func TestFirstRunDatesAndTransitionsAfter(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if last, err := s.LastTransitionID(ctx); err != nil || last != 0 {
		t.Fatalf("empty store: last transition %d %v", last, err)
	}
	gate(t, s, "a", "2026-11-21")
	gate(t, s, "a", "2026-11-19")
	gate(t, s, "b", "2026-11-20")
	first, err := s.FirstRunDates(ctx, []string{"a", "b", "never"})
	if err != nil || len(first) != 2 || first["a"] != "2026-11-19" || first["b"] != "2026-11-20" {
		t.Fatalf("first runs = %v %v", first, err)
	}
	last, err := s.LastTransitionID(ctx)
	if err != nil || last != 3 {
		t.Fatalf("last transition = %d %v", last, err)
	}
	page, err := s.TransitionsAfter(ctx, 1, 1)
	if err != nil || len(page) != 1 || page[0].ID != 2 || page[0].Pipeline != "a" || page[0].LogicalDate != "2026-11-19" {
		t.Fatalf("page after 1 = %+v %v", page, err)
	}
}

func TestScanPublicReadsOnlyPublicTables(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	gate(t, s, "a", "2026-11-21")
	var got []string
	err := s.ScanPublic(ctx, "runs", []string{"pipeline", "state"}, "id", func(vals []any) error {
		got = append(got, vals[0].(string)+" "+vals[1].(string))
		return nil
	})
	if err != nil || strings.Join(got, ",") != "a waiting" {
		t.Fatalf("runs = %v %v", got, err)
	}
	for _, table := range []string{"notices", "runs; DROP TABLE runs", "schema_migrations"} {
		if err := s.ScanPublic(ctx, table, []string{"id"}, "id", func([]any) error { return nil }); err == nil {
			t.Errorf("%q was read", table)
		}
	}
}

func TestRecentSuccesses(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, d := range []string{"2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"} {
		r := gate(t, s, "a", d)
		if d == "2026-11-19" {
			continue // never succeeded
		}
		next := r
		next.State, next.FirstSuccessAt, next.FinishedAt = sekisho.StateSucceeded, t0.Add(time.Hour), t0.Add(time.Hour)
		if _, err := s.Apply(ctx, r, next, next.FinishedAt, Step{Reason: sekisho.ReasonConditionMet}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RecentSuccesses(ctx, "a", "2026-11-21", 30)
	if err != nil {
		t.Fatal(err)
	}
	var dates []string
	for _, r := range got {
		dates = append(dates, r.LogicalDate)
		if !r.FirstSuccessAt.Equal(t0.Add(time.Hour)) || !r.GateAt.Equal(t0) {
			t.Errorf("%s: gate %v first success %v", r.LogicalDate, r.GateAt, r.FirstSuccessAt)
		}
	}
	if strings.Join(dates, ",") != "2026-11-20,2026-11-18" {
		t.Fatalf("recent successes = %v", dates)
	}
	if got, _ := s.RecentSuccesses(ctx, "a", "2026-11-21", 1); len(got) != 1 || got[0].LogicalDate != "2026-11-20" {
		t.Fatalf("limit 1 = %+v", got)
	}
}
