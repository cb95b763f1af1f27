package store

import (
	"context"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// A cursor starts at 0, moves forward and never back: two services catching
// up at once cannot undo each other's progress.
func TestCursorOnlyMovesForward(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if c, err := s.Cursor(ctx, "traces"); err != nil || c != 0 {
			t.Fatalf("new cursor = %d, %v", c, err)
		}
		for _, step := range []struct{ to, want int64 }{{5, 5}, {9, 9}, {7, 9}, {9, 9}, {12, 12}} {
			if err := s.AdvanceCursor(ctx, "traces", step.to, t0); err != nil {
				t.Fatal(err)
			}
			if c, _ := s.Cursor(ctx, "traces"); c != step.want {
				t.Fatalf("advance to %d: cursor %d, want %d", step.to, c, step.want)
			}
		}
		if c, _ := s.Cursor(ctx, "lineage"); c != 0 {
			t.Fatalf("cursors are per name: lineage = %d", c)
		}
	})
}

// The tailing reads: transitions of every run after an id, in id order and
// in batches; the last one before a time; what was known of the upstreams
// at a moment.
func TestTailingQueries(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := gate(t, s, "a", "2026-11-21")
		b := gate(t, s, "b", "2026-11-21")
		next := a
		next.State = sekisho.StateTriggered
		if _, err := s.Apply(ctx, a, next, t0.Add(time.Hour), Step{Reason: sekisho.ReasonConditionMet,
			Detail: map[string]any{"external_id": "x"}}); err != nil {
			t.Fatal(err)
		}
		all, err := s.TransitionsAfter(ctx, 0, 10)
		if err != nil || len(all) != 3 {
			t.Fatalf("TransitionsAfter(0) = %d, %v", len(all), err)
		}
		if all[0].RunID != a.ID || all[1].RunID != b.ID || all[2].To != sekisho.StateTriggered || all[2].Detail["external_id"] != "x" {
			t.Fatalf("transitions %+v", all)
		}
		page, _ := s.TransitionsAfter(ctx, all[0].ID, 1)
		if len(page) != 1 || page[0].ID != all[1].ID {
			t.Fatalf("second page %+v", page)
		}
		if id, _ := s.LastTransitionBefore(ctx, t0.Add(time.Minute)); id != all[1].ID {
			t.Fatalf("last before the hour = %d, want %d", id, all[1].ID)
		}
		if id, _ := s.LastTransitionBefore(ctx, t0); id != 0 {
			t.Fatalf("last before the first = %d, want 0", id)
		}
		for i, st := range []sekisho.JobState{sekisho.JobRunning, sekisho.JobSucceeded} {
			if _, err := s.RecordObservation(ctx, a.ID, 1, sekisho.Observation{Upstream: "u", Type: "glue_job", State: st,
				ObservedAt: t0.Add(time.Duration(i+1) * 10 * time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		at15, _ := s.ObservationsAt(ctx, a.ID, t0.Add(15*time.Minute))
		at30, _ := s.ObservationsAt(ctx, a.ID, t0.Add(30*time.Minute))
		before, _ := s.ObservationsAt(ctx, a.ID, t0)
		if at15["u"].State != sekisho.JobRunning || at30["u"].State != sekisho.JobSucceeded || len(before) != 0 {
			t.Fatalf("at 15 min %v, at 30 min %v, before %v", at15, at30, before)
		}
	})
}
