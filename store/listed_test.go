package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestListedReadsAreTheWholeReads: the listing's packed reads
// (EachListedRunOn, EachLatestObservationOn of latest_observations) give
// what the whole reads (RunsOn, the latest picked from
// upstream_observations) give of the fields a listing keeps, with
// times set and unset, reruns, a sub-daily pipeline's runs of a date in
// gate order, messages and names with the packing's separators, data
// check values, and dates not asked for left out.
func TestListedReadsAreTheWholeReads(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		one := 1.25
		for i, p := range []string{"a", "b|c", "d"} {
			for _, date := range []string{"2026-11-20", "2026-11-21"} {
				r := gate(t, s, p, date)
				obs := []sekisho.Observation{
					{Upstream: "glue", Type: "glue_job", State: sekisho.JobPending, ObservedAt: t0},
					{Upstream: "glue", Type: "glue_job", State: sekisho.JobRunning, ExternalID: "jr|1;2", StartedAt: t0.Add(time.Minute),
						ObservedAt: t0.Add(time.Minute)},
					{Upstream: "rows|x", Type: "sql", State: sekisho.JobSucceeded, Message: "a|b", Error: "e;|", Reason: "held|",
						Value: &one, StartedAt: t0, FinishedAt: t0.Add(3 * time.Minute), ObservedAt: t0.Add(4 * time.Minute)},
				}
				if i == 2 {
					obs = obs[:1]
				}
				for _, o := range obs {
					if _, err := s.RecordObservation(ctx, r.ID, 1, o); err != nil {
						t.Fatal(err)
					}
				}
				if i == 0 {
					continue
				}
				next := r
				next.State, next.TriggeredAt, next.StartedAt, next.Message = sekisho.StateRunning, t0.Add(time.Hour), t0.Add(61*time.Minute), "x|y"
				if i == 1 {
					next.State, next.FinishedAt, next.FirstSuccessAt, next.Attempt = sekisho.StateSucceeded, t0.Add(2*time.Hour), t0.Add(2*time.Hour), 3
				}
				if _, err := s.Apply(ctx, r, next, t0, Step{Reason: "test"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		// A sub-daily pipeline: three runs on the 21st, opened out of gate order.
		for _, h := range []int{13, 1, 7} {
			g := t0.Add(time.Duration(h) * time.Hour)
			key := fmt.Sprintf("2026-11-21T%02d:00", h)
			if _, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "h", LogicalDate: "2026-11-21", Key: key, GateAt: g,
				TimeoutAt: g.Add(time.Hour), Spec: []byte(`{}`)}, nil); err != nil {
				t.Fatal(err)
			}
		}
		dates := []string{"2026-11-21"}
		whole, err := s.RunsOn(ctx, dates)
		if err != nil {
			t.Fatal(err)
		}
		var listed []sekisho.Run
		if err := s.EachListedRunOn(ctx, dates, func(r sekisho.Run) { listed = append(listed, r) }); err != nil {
			t.Fatal(err)
		}
		if len(whole) != 6 || len(listed) != len(whole) {
			t.Fatalf("%d runs listed, %d whole, want 6", len(listed), len(whole))
		}
		for i, w := range whole {
			keep := sekisho.Run{ID: w.ID, Pipeline: w.Pipeline, LogicalDate: w.LogicalDate, Key: w.Key, Attempt: w.Attempt,
				State: w.State, Message: w.Message, GateAt: w.GateAt, TriggeredAt: w.TriggeredAt, StartedAt: w.StartedAt,
				FinishedAt: w.FinishedAt, FirstSuccessAt: w.FirstSuccessAt, Deadline: w.Deadline, RecoverBy: w.RecoverBy}
			if fmt.Sprintf("%+v", listed[i]) != fmt.Sprintf("%+v", keep) {
				t.Errorf("run %d listed\n%+v\nwant\n%+v", i, listed[i], keep)
			}
		}
		// Of two dates, the runs come by date, then pipeline, then gate.
		two := []string{"2026-11-21", "2026-11-20"}
		whole, err = s.RunsOn(ctx, two)
		if err != nil {
			t.Fatal(err)
		}
		listed = listed[:0]
		if err := s.EachListedRunOn(ctx, two, func(r sekisho.Run) { listed = append(listed, r) }); err != nil {
			t.Fatal(err)
		}
		slices.SortStableFunc(whole, func(a, b sekisho.Run) int { return strings.Compare(a.LogicalDate, b.LogicalDate) })
		if len(listed) != 9 || len(listed) != len(whole) {
			t.Fatalf("%d runs listed of two dates, %d whole, want 9", len(listed), len(whole))
		}
		for i, w := range whole {
			if l := listed[i]; l.ID != w.ID || l.Key != w.Key {
				t.Errorf("run %d of two dates listed: %s %s, want %s %s", i, l.Pipeline, l.Key, w.Pipeline, w.Key)
			}
		}
		wholeObs := pickedLatest(t, s, dates)
		n := 0
		if err := s.EachLatestObservationOn(ctx, dates, func(run int64, o sekisho.Observation) {
			n++
			w, ok := wholeObs[run][o.Upstream]
			if !ok || observationText(o) != observationText(w) {
				t.Errorf("run %d listed %s, want %s", run, observationText(o), observationText(w))
			}
		}); err != nil {
			t.Fatal(err)
		}
		if want := 2 + 2 + 1; n != want || len(wholeObs) != 3 {
			t.Errorf("%d observations listed (%d runs whole), want %d", n, len(wholeObs), want)
		}
	})
}

// observationText is o with its value, not the value's address.
func observationText(o sekisho.Observation) string {
	v := "none"
	if o.Value != nil {
		v = fmt.Sprint(*o.Value)
	}
	o.Value = nil
	return fmt.Sprintf("%+v value %s", o, v)
}
