package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func TestRecentDurations(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		// Three days of p: triggered 30 min after the gate, succeeded 90 min
		// after it; a day that never succeeded; another pipeline's day.
		for d := 18; d <= 20; d++ {
			r := gate(t, s, "p", fmt.Sprintf("2026-11-%02d", d))
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
		got, err := s.RecentDurations(ctx, "p", "2026-11-20", 30)
		if err != nil {
			t.Fatal(err)
		}
		want := []Durations{{19 * time.Hour, 19*time.Hour - 30*time.Minute}, {18 * time.Hour, 18*time.Hour - 30*time.Minute}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("RecentDurations = %v, want %v (before the 20th, successes only, newest first)", got, want)
		}
		if got, _ := s.RecentDurations(ctx, "p", "2026-11-21", 1); len(got) != 1 || got[0].Total != 20*time.Hour {
			t.Errorf("limit 1 = %v, want the 20th only", got)
		}
	})
}
