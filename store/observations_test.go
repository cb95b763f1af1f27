package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestRecordObservationsWritesChangesOnly: a batch writes, in one
// transaction, the observations that differ from each run's latest of
// that upstream (stored before, or earlier in the batch), and nothing else.
func TestRecordObservationsWritesChangesOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		var runs []sekisho.Run
		for i := range 3 {
			runs = append(runs, gate(t, s, fmt.Sprintf("p%d", i), "2026-11-21"))
		}
		pending := sekisho.Observation{Upstream: "u", Type: "glue_job", State: sekisho.JobPending, ObservedAt: t0}
		running := pending
		running.State, running.ExternalID, running.StartedAt = sekisho.JobRunning, "jr_1", t0
		if _, err := s.RecordObservation(ctx, runs[0].ID, 1, running); err != nil {
			t.Fatal(err)
		}
		ws := []ObservationWrite{
			{Run: runs[0].ID, Attempt: 1, Obs: running}, // stored already
			{Run: runs[1].ID, Attempt: 1, Obs: pending},
			{Run: runs[1].ID, Attempt: 1, Obs: pending}, // the same, twice in the batch
			{Run: runs[1].ID, Attempt: 1, Obs: running}, // then a change
			{Run: runs[2].ID, Attempt: 1, Obs: pending},
			{Run: runs[2].ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "v", Type: "trocco_job", State: sekisho.JobPending, ObservedAt: t0}},
		}
		n, err := s.RecordObservations(ctx, ws)
		if err != nil || n != 4 {
			t.Fatalf("RecordObservations = %d, %v; want 4 rows", n, err)
		}
		want := map[int64][]sekisho.JobState{
			runs[0].ID: {sekisho.JobRunning},
			runs[1].ID: {sekisho.JobPending, sekisho.JobRunning},
			runs[2].ID: {sekisho.JobPending, sekisho.JobPending},
		}
		for id, states := range want {
			all, err := s.Observations(ctx, id)
			if err != nil || len(all) != len(states) {
				t.Fatalf("run %d: %+v, %v; want %v", id, all, err, states)
			}
			for i, o := range all {
				if o.State != states[i] {
					t.Errorf("run %d row %d: %s, want %s", id, i, o.State, states[i])
				}
			}
		}
		latest, _ := s.LatestObservations(ctx, runs[1].ID)
		if o := latest["u"]; o.State != sekisho.JobRunning || o.ExternalID != "jr_1" || !o.StartedAt.Equal(t0) {
			t.Errorf("latest of run %d: %+v", runs[1].ID, o)
		}
		if n, err := s.RecordObservations(ctx, ws[3:]); err != nil || n != 0 {
			t.Errorf("the latest observations again wrote %d rows (%v), want none", n, err)
		}
	})
}

// TestRecordObservationsInChunksWritesEveryRow: a first look at many new
// gates writes rows in whole prepared chunks and the rest one at a time on
// SQLite, one statement on PostgreSQL; either way every row is stored
// with its own values, in order, and is its run's latest.
func TestRecordObservationsInChunksWritesEveryRow(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// Two whole chunks and a rest: a first look at 35 runs of two
		// upstreams.
		const n = obsChunk + 3
		var ws []ObservationWrite
		var runs []sekisho.Run
		for i := range n {
			r := gate(t, s, fmt.Sprintf("p%02d", i), "2026-11-21")
			runs = append(runs, r)
			for k, up := range []string{"extract", "load"} {
				ws = append(ws, ObservationWrite{Run: r.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: up, Type: "glue_job",
					State: sekisho.JobRunning, ExternalID: fmt.Sprintf("jr_%d_%d", i, k), StartedAt: t0.Add(time.Duration(i) * time.Minute),
					ObservedAt: t0.Add(time.Hour)}})
			}
		}
		if got, err := s.RecordObservations(ctx, ws); err != nil || got != len(ws) {
			t.Fatalf("RecordObservations = %d, %v; want %d rows", got, err, len(ws))
		}
		for i, r := range runs {
			all, err := s.Observations(ctx, r.ID)
			if err != nil || len(all) != 2 {
				t.Fatalf("run %d: %+v, %v; want its two rows", i, all, err)
			}
			latest, err := s.LatestObservations(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for k, up := range []string{"extract", "load"} {
				want := fmt.Sprintf("jr_%d_%d", i, k)
				if o := all[k]; o.Upstream != up || o.ExternalID != want || !o.StartedAt.Equal(t0.Add(time.Duration(i)*time.Minute)) {
					t.Errorf("run %d row %d: %+v, want %s %s", i, k, o, up, want)
				}
				if o := latest[up]; o.ExternalID != want {
					t.Errorf("run %d latest %s: %+v, want %s", i, up, o, want)
				}
			}
		}
	})
}

// TestRecordObservationsFencedWritesNothing: a batch under a stale epoch
// is refused whole.
func TestRecordObservationsFencedWritesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "a", "2026-11-21")
		l, err := s.ClaimLease(ctx, "a", 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		o := sekisho.Observation{Upstream: "u", Type: "glue_job", State: sekisho.JobPending, ObservedAt: t0}
		_, err = s.RecordObservations(WithEpoch(ctx, l.Epoch+1), []ObservationWrite{{Run: r.ID, Attempt: 1, Obs: o}, {Run: r.ID, Attempt: 1, Obs: o}})
		if !errors.Is(err, ErrFenced) {
			t.Fatalf("stale batch: %v", err)
		}
		if all, _ := s.Observations(ctx, r.ID); len(all) != 0 {
			t.Errorf("a fenced batch wrote %+v", all)
		}
	})
}
