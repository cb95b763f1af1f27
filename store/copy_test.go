package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// fillHistory writes some of everything a daemon leaves behind.
func fillHistory(t *testing.T, s *Store, days int) {
	t.Helper()
	ctx := context.Background()
	for d := 0; d < days; d++ {
		date := t0.AddDate(0, 0, d).Format(sekisho.DateLayout)
		for _, p := range []string{"alpha", "beta"} {
			r := gate(t, s, p, date)
			next := r
			next.State, next.ExternalID, next.TriggeredAt = sekisho.StateTriggered, "dag-"+date, t0.Add(time.Hour)
			r2, err := s.Apply(ctx, r, next, t0.Add(time.Hour), Step{Reason: sekisho.ReasonConditionMet,
				Notices: []sekisho.Notice{{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: p + date, Text: "é ' \" ?"}}})
			if err != nil {
				t.Fatal(err)
			}
			done := r2
			done.State, done.FinishedAt, done.FirstSuccessAt = sekisho.StateSucceeded, t0.Add(2*time.Hour), t0.Add(2*time.Hour)
			if _, err := s.Apply(ctx, r2, done, done.FinishedAt, Step{Reason: sekisho.ReasonConditionMet, Detail: map[string]any{"n": d}}); err != nil {
				t.Fatal(err)
			}
			s.RecordObservation(ctx, r.ID, 1, sekisho.Observation{Upstream: "u", Type: "glue_job", State: sekisho.JobSucceeded,
				ExternalID: "jr_" + date, StartedAt: t0, FinishedAt: t0.Add(30 * time.Minute), ObservedAt: t0})
			s.SaveThread(ctx, r.ID, "C1", fmt.Sprintf("%d.1", r.ID), t0)
		}
		s.LearnJob(ctx, "trocco/9", date, t0)
	}
	if _, err := s.AddNotice(ctx, sekisho.Notice{Kind: sekisho.NoticeConfigInvalid, DedupeKey: "config", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

func TestCopyAllIntoPostgreSQL(t *testing.T) {
	ctx := context.Background()
	lite := openAt(t, storetest.Location(t, "sqlite"))
	fillHistory(t, lite, 40)
	pg := openAt(t, storetest.Location(t, "postgres"))
	counts, err := CopyAll(ctx, lite, pg)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Table] = c.Rows
	}
	want := map[string]int64{"runs": 80, "transitions": 240, "upstream_observations": 80, "notices": 81,
		"slack_threads": 80, "learned_jobs": 40}
	for table, n := range got {
		if _, ok := want[table]; !ok && n == 0 {
			delete(got, table) // a table of history the fixture leaves empty (incidents, silences, …)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
	// latest_observations is not copied: dst's triggers keep it as the
	// observations arrive.
	var latest int64
	if err := pg.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM latest_observations`).Scan(&latest); err != nil || latest != 80 {
		t.Errorf("%d latest observations after the copy (%v), want one of each of the 80 copied", latest, err)
	}
	pos := map[string]int{}
	for i, c := range counts {
		pos[c.Table] = i
	}
	for _, child := range []string{"transitions", "upstream_observations", "notices", "slack_threads"} {
		if pos[child] < pos["runs"] {
			t.Fatalf("%s copied before runs, which it refers to: %v", child, counts)
		}
	}
	for _, q := range []string{
		`SELECT * FROM runs ORDER BY id`, `SELECT * FROM transitions ORDER BY id`,
		`SELECT * FROM upstream_observations ORDER BY id`, `SELECT * FROM notices ORDER BY id`,
		`SELECT * FROM slack_threads ORDER BY run_id`, `SELECT * FROM learned_jobs ORDER BY resource, job_id`,
		`SELECT * FROM slo_daily ORDER BY pipeline, logical_date`, `SELECT * FROM run_summary ORDER BY run_id`,
	} {
		a, b := dump(t, lite.r, q), dump(t, pg.r, q)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s differs after the copy:\nsqlite   %v\npostgres %v", q, a[:min(2, len(a))], b[:min(2, len(b))])
		}
	}
	// New rows get fresh ids after the copied ones.
	r, created, err := pg.OpenGate(ctx, sekisho.Run{Pipeline: "gamma", LogicalDate: "2027-01-01", Key: "2027-01-01", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil)
	if err != nil || !created || r.ID != 81 {
		t.Fatalf("new run after the copy: id %d created %v err %v", r.ID, created, err)
	}
	// A second copy into the same (now non-empty) store is refused and
	// changes nothing.
	if _, err := CopyAll(ctx, lite, pg); !errors.Is(err, ErrTargetNotEmpty) {
		t.Fatalf("copy into a non-empty store: %v", err)
	}
	var n int
	pg.r.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&n)
	if n != 81 {
		t.Fatalf("runs after the refused copy: %d", n)
	}
}
