package store

import (
	"context"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestObservationValues keeps a data check's value and reason with each
// observation, writes a changed value as a change, and reads back the
// values of succeeded days as the history of SPEC §21: the value at
// success, not the short load before it, and none of a day that never
// succeeded.
func TestObservationValues(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		v := func(x float64) *float64 { return &x }
		day := func(date string, succeed bool, obs ...sekisho.Observation) {
			r := gate(t, s, "mart", date)
			for _, o := range obs {
				o.Upstream, o.Type, o.ObservedAt = "rows", "sql", t0
				if _, err := s.RecordObservation(ctx, r.ID, 1, o); err != nil {
					t.Fatal(err)
				}
			}
			if succeed {
				next := r
				next.State, next.FinishedAt, next.FirstSuccessAt = sekisho.StateSucceeded, t0.Add(time.Hour), t0.Add(time.Hour)
				if _, err := s.Apply(ctx, r, next, next.FinishedAt, Step{Reason: sekisho.ReasonConditionMet}); err != nil {
					t.Fatal(err)
				}
			}
		}
		day("2026-11-30", true, sekisho.Observation{State: sekisho.JobSucceeded, Value: v(40000)})
		// A short load held the gate, then the late rows arrived.
		day("2026-12-01", true,
			sekisho.Observation{State: sekisho.JobPending, Value: v(1200), Reason: sekisho.ReasonExpectationFailed, Message: "value 1,200 is outside"},
			sekisho.Observation{State: sekisho.JobSucceeded, Value: v(41000)})
		day("2026-12-02", false, sekisho.Observation{State: sekisho.JobSucceeded, Value: v(99)})
		day("2026-12-03", true, sekisho.Observation{State: sekisho.JobSucceeded}) // no number
		day("2026-12-04", true, sekisho.Observation{State: sekisho.JobSucceeded, Value: v(0.5)})

		got, err := s.UpstreamValues(ctx, "mart", "rows", "2026-11-30", "2026-12-04")
		if err != nil {
			t.Fatal(err)
		}
		want := []DatedValue{{"2026-11-30", 40000}, {"2026-12-01", 41000}}
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
			t.Fatalf("UpstreamValues = %v, want %v", got, want)
		}
		if other, _ := s.UpstreamValues(ctx, "mart", "other", "2026-01-01", "2027-01-01"); len(other) != 0 {
			t.Errorf("another upstream's values: %v", other)
		}
		r, err := s.Run(ctx, "mart", "2026-12-01")
		if err != nil {
			t.Fatal(err)
		}
		all, _ := s.Observations(ctx, r.ID)
		if len(all) != 2 || all[0].Value == nil || *all[0].Value != 1200 || all[0].Reason != sekisho.ReasonExpectationFailed ||
			*all[1].Value != 41000 || all[1].Reason != "" {
			t.Fatalf("observations = %+v", all)
		}
		// The same observation with another value is a change.
		o := all[1]
		o.Value = v(41001)
		if wrote, err := s.RecordObservation(ctx, r.ID, 1, o); !wrote || err != nil {
			t.Errorf("a changed value was not written: %v %v", wrote, err)
		}
		if wrote, _ := s.RecordObservation(ctx, r.ID, 1, o); wrote {
			t.Error("the same value was written again")
		}
	})
}
