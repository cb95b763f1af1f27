package store

import (
	"context"
	"strings"
	"testing"
)

func TestFirstRunDatesAndTransitionsAfter(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
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
	})
}

func TestScanPublicReadsOnlyPublicTables(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
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
	})
}
