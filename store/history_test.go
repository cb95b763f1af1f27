package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestLineHistory reads the history the ETA projection learns from: a
// pipeline's successful runs (gate, trigger, first success) and its
// upstreams' succeeded runs (the run's gate, the upstream run's start and
// finish), before a date, newest first.
func TestLineHistory(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// Three days of p: triggered 30 min after the gate, succeeded 90 min
		// after it; a day that never succeeded; another pipeline's day.
		for d := 18; d <= 20; d++ {
			r := gate(t, s, "p", fmt.Sprintf("2026-11-%02d", d))
			for _, o := range []sekisho.Observation{
				{Upstream: "glue", Type: "glue_job", State: sekisho.JobRunning, StartedAt: t0.Add(time.Minute), ObservedAt: t0},
				{Upstream: "glue", Type: "glue_job", State: sekisho.JobSucceeded, StartedAt: t0.Add(time.Duration(d) * time.Minute),
					FinishedAt: t0.Add(20 * time.Minute), ObservedAt: t0},
			} {
				if _, err := s.RecordObservation(ctx, r.ID, 1, o); err != nil {
					t.Fatal(err)
				}
			}
			next := r
			next.State, next.TriggeredAt = sekisho.StateTriggered, t0.Add(30*time.Minute)
			if r, err := s.Apply(ctx, r, next, t0, Step{Reason: "test"}); err != nil {
				t.Fatal(err)
			} else {
				next = r
				next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, t0.Add(time.Duration(d)*time.Hour), t0.Add(time.Duration(d)*time.Hour)
				if _, err := s.Apply(ctx, r, next, t0, Step{Reason: "test"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		gate(t, s, "p", "2026-11-17")
		gate(t, s, "q", "2026-11-19")
		got, err := s.RunTimes(ctx, "p", "2026-11-20", 30)
		if err != nil {
			t.Fatal(err)
		}
		want := [][3]time.Time{{t0, t0.Add(30 * time.Minute), t0.Add(19 * time.Hour)}, {t0, t0.Add(30 * time.Minute), t0.Add(18 * time.Hour)}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("RunTimes = %v, want %v (before the 20th, successes only, newest first)", got, want)
		}
		if got, _ := s.RunTimes(ctx, "p", "2026-11-21", 1); len(got) != 1 || !got[0][2].Equal(t0.Add(20*time.Hour)) {
			t.Errorf("limit 1 = %v, want the 20th only", got)
		}
		ups, err := s.UpstreamTimes(ctx, "p", "2026-11-20", 30)
		if err != nil {
			t.Fatal(err)
		}
		wantUps := [][3]time.Time{{t0, t0.Add(19 * time.Minute), t0.Add(20 * time.Minute)}, {t0, t0.Add(18 * time.Minute), t0.Add(20 * time.Minute)}}
		if len(ups) != 1 || fmt.Sprint(ups["glue"]) != fmt.Sprint(wantUps) {
			t.Errorf("UpstreamTimes = %v, want glue %v", ups, wantUps)
		}
	})
}
