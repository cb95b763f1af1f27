package store

import (
	"context"
	"database/sql"
	"math"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// TestLatestObservationsAreKeptByTheirTriggers: latest_observations
// (migration 017) holds, of each upstream of each run, what picking the
// highest observation id of upstream_observations gives (the read of a
// store not migrated yet): filled by the migration from what an older
// schema wrote, kept as observations are recorded one at a time and in
// batches, against rows inserted out of id order, when the latest row is
// deleted (the one before takes its place) and when a run's rows are
// pruned; with texts holding the packing's separator and digits,
// multi-byte characters, and values that 15 digits would round. Its
// packed column is what packedObservation writes.
func TestLatestObservationsAreKeptByTheirTriggers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		old := openMigratedTo(t, loc, latestObservationsVersion-1)
		third, huge := 0.1+0.2, -1.7976931348623157e308
		a, b := gate(t, old, "a", "2026-11-21"), gate(t, old, "b", "2026-11-21")
		c := gate(t, old, "c", "2026-11-20")
		for _, w := range []ObservationWrite{
			{Run: a.ID, Obs: sekisho.Observation{Upstream: "extract", Type: "glue_job", State: sekisho.JobPending, ObservedAt: t0}},
			{Run: a.ID, Obs: sekisho.Observation{Upstream: "extract", Type: "glue_job", State: sekisho.JobRunning, ExternalID: "12:34|x",
				StartedAt: t0.Add(time.Minute), ObservedAt: t0.Add(time.Minute)}},
			{Run: a.ID, Obs: sekisho.Observation{Upstream: "件数:3", Type: "sql", State: sekisho.JobSucceeded, Message: "東京: 3件",
				Value: &third, StartedAt: t0, FinishedAt: t0.Add(2 * time.Minute), ObservedAt: t0.Add(2 * time.Minute)}},
			{Run: b.ID, Obs: sekisho.Observation{Upstream: "rows", Type: "sql", State: sekisho.JobFailed, Error: "5:x:y",
				Reason: "0:", Value: &huge, ObservedAt: t0}},
			{Run: c.ID, Obs: sekisho.Observation{Upstream: "extract", Type: "glue_job", State: sekisho.JobSucceeded, ObservedAt: t0}},
		} {
			if _, err := old.RecordObservation(ctx, w.Run, 1, w.Obs); err != nil {
				t.Fatal(err)
			}
		}
		old.Close()

		s := openAt(t, loc)
		dates := []string{"2026-11-20", "2026-11-21"}
		sameLatest(t, s, "after the migration", dates, 4)
		// Recorded one at a time and in a batch of several runs.
		if _, err := s.RecordObservation(ctx, a.ID, 1, sekisho.Observation{Upstream: "extract", Type: "glue_job",
			State: sekisho.JobSucceeded, ExternalID: "12:34|x", StartedAt: t0.Add(time.Minute), FinishedAt: t0.Add(9 * time.Minute),
			ObservedAt: t0.Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordObservations(ctx, []ObservationWrite{
			{Run: b.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "rows", Type: "sql", State: sekisho.JobSucceeded, ObservedAt: t0.Add(time.Hour)}},
			{Run: b.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "load", Type: "glue_job", State: sekisho.JobPending, ObservedAt: t0.Add(time.Hour)}},
			{Run: c.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "load", Type: "glue_job", State: sekisho.JobPending, ObservedAt: t0.Add(time.Hour)}},
		}); err != nil {
			t.Fatal(err)
		}
		sameLatest(t, s, "after recording", dates, 6)
		// Rows inserted out of id order (two writers committing in the
		// other order): the higher id stays the latest.
		insert := func(id int64, state sekisho.JobState) {
			t.Helper()
			if _, err := s.w.ExecContext(ctx, `INSERT INTO upstream_observations (id, run_id, attempt, upstream, type, state, observed_at)
				VALUES (?, ?, 1, 'load', 'glue_job', ?, ?)`, id, b.ID, string(state), ts(t0)); err != nil {
				t.Fatal(err)
			}
		}
		insert(1_000_000, sekisho.JobRunning)
		insert(999_999, sekisho.JobFailed)
		sameLatest(t, s, "after rows out of id order", dates, 6)
		if got := latestState(t, s, b.ID, "load"); got != sekisho.JobRunning {
			t.Errorf("b's load is %s, want the highest id's running", got)
		}
		// The latest row deleted: the one before it is the latest again.
		if _, err := s.w.ExecContext(ctx, `DELETE FROM upstream_observations WHERE id = 1000000`); err != nil {
			t.Fatal(err)
		}
		sameLatest(t, s, "after the latest row went", dates, 6)
		if got := latestState(t, s, b.ID, "load"); got != sekisho.JobFailed {
			t.Errorf("b's load is %s, want the row before's failed", got)
		}
		// A run's rows pruned: none of it is left.
		if _, err := s.w.ExecContext(ctx, `DELETE FROM upstream_observations WHERE run_id = ?`, c.ID); err != nil {
			t.Fatal(err)
		}
		sameLatest(t, s, "after pruning a run", dates, 4)
		var left int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM latest_observations WHERE run_id = ?`, c.ID).Scan(&left); err != nil || left != 0 {
			t.Errorf("a pruned run keeps %d latest rows (%v)", left, err)
		}
	})
}

// sameLatest checks that s's latest observations of dates, read from
// latest_observations, are the ones picked from upstream_observations,
// want of them, each row packed as packedObservation packs its
// observation, and no row left of an observation gone.
func sameLatest(t *testing.T, s *Store, when string, dates []string, want int) {
	t.Helper()
	ctx := context.Background()
	kept, err := s.LatestObservationsOn(ctx, dates)
	if err != nil {
		t.Fatal(err)
	}
	picked := pickedLatest(t, s, dates)
	n := 0
	for run, ups := range picked {
		for up, p := range ups {
			n++
			k, ok := kept[run][up]
			if !ok || observationText(k) != observationText(p) {
				t.Errorf("%s: run %d %s kept %s, want %s", when, run, up, observationText(k), observationText(p))
			}
			if p.Value != nil && (k.Value == nil || math.Float64bits(*k.Value) != math.Float64bits(*p.Value)) {
				t.Errorf("%s: run %d %s value %v, want exactly %v", when, run, up, k.Value, *p.Value)
			}
		}
	}
	if n != want || len(kept) != len(picked) {
		t.Errorf("%s: %d latest observations of %d runs picked, %d runs kept; want %d", when, n, len(picked), len(kept), want)
	}
	var differ, orphans int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM latest_observations l JOIN upstream_observations o ON o.id = l.obs_id
		WHERE l.packed <> `+packedObservation(s.dialect, "o")+` OR l.value IS DISTINCT FROM o.value
			OR l.run_id <> o.run_id OR l.upstream <> o.upstream`).Scan(&differ); err != nil {
		t.Fatal(err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM latest_observations l
		WHERE NOT EXISTS (SELECT 1 FROM upstream_observations o WHERE o.id = l.obs_id)`).Scan(&orphans); err != nil {
		t.Fatal(err)
	}
	if differ != 0 || orphans != 0 {
		t.Errorf("%s: %d latest rows differ from their observation, %d have none", when, differ, orphans)
	}
}

// pickedLatest is s's latest observations of dates as a store before
// migration 017 reads them: picked from upstream_observations.
func pickedLatest(t *testing.T, s *Store, dates []string) map[int64]map[string]sekisho.Observation {
	t.Helper()
	s.schema = latestObservationsVersion - 1
	defer func() { s.schema = KnownSchemaVersion() }()
	picked, err := s.LatestObservationsOn(context.Background(), dates)
	if err != nil {
		t.Fatal(err)
	}
	return picked
}

// latestState is the state of run's upstream in latest_observations.
func latestState(t *testing.T, s *Store, run int64, upstream string) sekisho.JobState {
	t.Helper()
	obs, err := s.LatestObservations(context.Background(), run)
	if err != nil {
		t.Fatal(err)
	}
	return obs[upstream].State
}

// TestUnpackRefusesMalformedRows: a packed row that does not hold exactly
// its texts is an error, not an observation made of its pieces.
func TestUnpackRefusesMalformedRows(t *testing.T) {
	good := "1:a1:b1:c0:0:0:0:0:20:2026-11-20T17:00:00Z0:"
	if o, err := unpackObservation(good, sql.NullFloat64{}); err != nil || o.Upstream != "a" || !o.ObservedAt.Equal(t0) {
		t.Fatalf("unpack %q: %+v, %v", good, o, err)
	}
	for _, bad := range []string{"", good + "x", good[:len(good)-2], "x:a" + good[3:], "-1:" + good[2:], "99:" + good[2:]} {
		if _, err := unpackObservation(bad, sql.NullFloat64{}); err == nil {
			t.Errorf("unpack %q: no error", bad)
		}
	}
}
