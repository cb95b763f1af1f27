package store

import (
	"context"
	"testing"
	"time"
)

func TestWatchStatus(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		get := func() map[string]WatchStatus {
			t.Helper()
			ws, err := s.WatchStatuses(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]WatchStatus{}
			for _, w := range ws {
				out[w.Watch] = w
			}
			return out
		}
		if len(get()) != 0 {
			t.Fatal("a new store has watch statuses")
		}
		set := func(w WatchStatus) {
			t.Helper()
			if err := s.SetWatchStatus(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		hidden := "role \"sekisho\" cannot see other roles' sessions"
		set(WatchStatus{Watch: "pg_long", Warehouse: "pg", Error: hidden, CheckedAt: t0})
		set(WatchStatus{Watch: "rs_long", Warehouse: "rs", CheckedAt: t0})
		got := get()
		if w := got["pg_long"]; w.Error != hidden || w.Warehouse != "pg" || !w.CheckedAt.Equal(t0) || !w.FailingSince.Equal(t0) {
			t.Fatalf("pg_long = %+v", w)
		}
		if w := got["rs_long"]; w.Error != "" || !w.FailingSince.IsZero() || !w.CheckedAt.Equal(t0) {
			t.Fatalf("rs_long = %+v", w)
		}
		// A failure after a failure keeps when the failing began.
		set(WatchStatus{Watch: "pg_long", Warehouse: "pg", Error: "timeout", CheckedAt: t0.Add(time.Minute)})
		if w := get()["pg_long"]; w.Error != "timeout" || !w.CheckedAt.Equal(t0.Add(time.Minute)) || !w.FailingSince.Equal(t0) {
			t.Fatalf("pg_long after a second failure = %+v", w)
		}
		// A success clears it; the next failure starts anew.
		set(WatchStatus{Watch: "pg_long", Warehouse: "pg", CheckedAt: t0.Add(2 * time.Minute)})
		if w := get()["pg_long"]; w.Error != "" || !w.FailingSince.IsZero() {
			t.Fatalf("pg_long after a success = %+v", w)
		}
		set(WatchStatus{Watch: "pg_long", Warehouse: "pg", Error: hidden, CheckedAt: t0.Add(3 * time.Minute)})
		if w := get()["pg_long"]; !w.FailingSince.Equal(t0.Add(3 * time.Minute)) {
			t.Fatalf("pg_long failing again = %+v", w)
		}
		if ws, _ := s.WatchStatuses(ctx); len(ws) != 2 || ws[0].Watch != "pg_long" || ws[1].Watch != "rs_long" {
			t.Fatalf("statuses not by name: %+v", ws)
		}
	})
}
