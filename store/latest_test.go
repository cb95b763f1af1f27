package store

import (
	"context"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestLatestObservationIsTheLastRecorded: every read of the latest
// observations (of whole dates, of run ids, of one run, and the one that
// decides what a batch of writes changes) gives, of each upstream of each
// run, the observation recorded last, by row id: with several upstreams a
// run, several observations an upstream written between other runs' rows,
// a later row observed earlier than the one before it, and a run of a
// date not asked for left out.
func TestLatestObservationIsTheLastRecorded(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := gate(t, s, "a", "2026-11-21"), gate(t, s, "b", "2026-11-21")
		c, other := gate(t, s, "c", "2026-11-22"), gate(t, s, "a", "2026-11-20")
		obs := func(up string, state sekisho.JobState, id string, at time.Duration) sekisho.Observation {
			return sekisho.Observation{Upstream: up, Type: "glue_job", State: state, ExternalID: id, ObservedAt: t0.Add(at)}
		}
		// Rows in id order; want holds what each run's upstream was seen
		// last.
		writes := []ObservationWrite{
			{Run: a.ID, Obs: obs("extract", sekisho.JobPending, "", 10*time.Minute)},
			{Run: b.ID, Obs: obs("extract", sekisho.JobPending, "", 10*time.Minute)},
			{Run: a.ID, Obs: obs("load", sekisho.JobPending, "", 10*time.Minute)},
			{Run: other.ID, Obs: obs("extract", sekisho.JobFailed, "old", 0)},
			{Run: a.ID, Obs: obs("extract", sekisho.JobRunning, "jr_1", 20*time.Minute)},
			{Run: c.ID, Obs: obs("extract", sekisho.JobRunning, "jr_c", 20*time.Minute)},
			{Run: b.ID, Obs: obs("extract", sekisho.JobRunning, "jr_2", 20*time.Minute)},
			// Observed before the row above it (a clock set back, a check
			// that answered late): still the last recorded.
			{Run: a.ID, Obs: obs("extract", sekisho.JobSucceeded, "jr_1", 5*time.Minute)},
			{Run: b.ID, Obs: obs("extract", sekisho.JobFailed, "jr_2", 30*time.Minute)},
			{Run: c.ID, Obs: obs("load", sekisho.JobPending, "", 30*time.Minute)},
			{Run: b.ID, Obs: obs("load", sekisho.JobPending, "", 30*time.Minute)},
			{Run: a.ID, Obs: obs("zeta", sekisho.JobPending, "", 30*time.Minute)},
			{Run: b.ID, Obs: obs("extract", sekisho.JobRunning, "jr_3", 25*time.Minute)},
			{Run: a.ID, Obs: obs("zeta", sekisho.JobRunning, "z", 40*time.Minute)},
		}
		for _, w := range writes {
			if _, err := s.RecordObservation(ctx, w.Run, 1, w.Obs); err != nil {
				t.Fatal(err)
			}
		}
		want := map[int64]map[string]sekisho.Observation{}
		for _, w := range writes {
			if want[w.Run] == nil {
				want[w.Run] = map[string]sekisho.Observation{}
			}
			want[w.Run][w.Obs.Upstream] = w.Obs
		}
		check := func(how string, run int64, o sekisho.Observation) {
			t.Helper()
			w, ok := want[run][o.Upstream]
			if !ok || o.State != w.State || o.ExternalID != w.ExternalID || !o.ObservedAt.Equal(w.ObservedAt) {
				t.Errorf("%s: run %d %s: %s %q at %s, want %s %q at %s", how, run, o.Upstream, o.State, o.ExternalID,
					o.ObservedAt.Format(time.TimeOnly), w.State, w.ExternalID, w.ObservedAt.Format(time.TimeOnly))
			}
		}
		// count checks that each of runs got one observation of each of
		// its upstreams, and no other run any.
		count := func(how string, got map[int64]int, runs ...sekisho.Run) {
			t.Helper()
			if len(got) != len(runs) {
				t.Errorf("%s: observations of %d runs, want %d", how, len(got), len(runs))
			}
			for _, r := range runs {
				if got[r.ID] != len(want[r.ID]) {
					t.Errorf("%s: run %d has %d observations, want %d", how, r.ID, got[r.ID], len(want[r.ID]))
				}
			}
		}
		dates := []string{"2026-11-21", "2026-11-22"}
		on, err := s.LatestObservationsOn(ctx, dates)
		if err != nil {
			t.Fatal(err)
		}
		n := map[int64]int{}
		for run, ups := range on {
			for up, o := range ups {
				if up != o.Upstream {
					t.Errorf("LatestObservationsOn: run %d: %s under %s", run, o.Upstream, up)
				}
				check("LatestObservationsOn", run, o)
				n[run]++
			}
		}
		count("LatestObservationsOn", n, a, b, c)
		// checkLists checks lists of observations by run, as read by how.
		checkLists := func(how string, lists map[int64][]sekisho.Observation, err error, runs ...sekisho.Run) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			n := map[int64]int{}
			for run, list := range lists {
				for _, o := range list {
					check(how, run, o)
					n[run]++
				}
			}
			count(how, n, runs...)
		}
		lists, err := s.LatestObservationListsOn(ctx, dates)
		checkLists("LatestObservationListsOn", lists, err, a, b, c)
		n = map[int64]int{}
		if err := s.EachLatestObservationOn(ctx, dates, func(run int64, o sekisho.Observation) {
			check("EachLatestObservationOn", run, o)
			n[run]++
		}); err != nil {
			t.Fatal(err)
		}
		count("EachLatestObservationOn", n, a, b, c)
		lists, err = s.LatestObservationListsOf(ctx, []int64{b.ID, other.ID})
		checkLists("LatestObservationListsOf", lists, err, b, other)
		for _, r := range []sekisho.Run{a, b, c, other} {
			one, err := s.LatestObservations(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range one {
				check("LatestObservations", r.ID, o)
			}
			count("LatestObservations", map[int64]int{r.ID: len(one)}, r)
		}
		// A batch of writes stores what differs from the latest: the
		// latest again writes nothing, an earlier row again is a change.
		var again []ObservationWrite
		for run, ups := range want {
			for _, o := range ups {
				again = append(again, ObservationWrite{Run: run, Attempt: 1, Obs: o})
			}
		}
		if n, err := s.RecordObservations(ctx, again); err != nil || n != 0 {
			t.Errorf("the latest observations again wrote %d rows (%v), want none", n, err)
		}
		back := []ObservationWrite{{Run: a.ID, Attempt: 1, Obs: writes[4].Obs}, {Run: b.ID, Attempt: 1, Obs: writes[8].Obs},
			{Run: c.ID, Attempt: 1, Obs: writes[9].Obs}}
		if n, err := s.RecordObservations(ctx, back); err != nil || n != 2 {
			t.Errorf("two earlier observations and a latest one wrote %d rows (%v), want 2", n, err)
		}
	})
}
