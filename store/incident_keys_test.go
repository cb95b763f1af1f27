package store

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// Two hours of one sub-daily pipeline blocked by the same failed job run
// are two members of its incident, each named by its run key; one hour
// moving on refreshes its own member only.
func TestIncidentMembersAreRuns(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		keys := []string{incDay + "T12:00", incDay + "T13:00"}
		var runs []sekisho.Run
		for _, key := range keys {
			r, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "hourly", LogicalDate: incDay, Key: key, GateAt: t0,
				TimeoutAt: t0.Add(time.Hour), Spec: []byte(`{}`)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			runs = append(runs, r)
		}
		hourChange := func(r sekisho.Run, state sekisho.State) sekisho.IncidentChange {
			c := exportChange("hourly", r.ID, state, t0)
			c.Cause.RunKey = keys[0] // the first run that met the job's failure
			c.Members[0].RunKey = r.Key
			return c
		}
		for _, r := range runs {
			to(t, s, r, sekisho.StateBlocked, t0, nil, hourChange(r, sekisho.StateBlocked))
		}
		inc := mustIncident(t, s, exportKey)
		if len(inc.Members) != 2 || inc.Cause.RunKey != keys[0] || inc.Cause.Date != incDay {
			t.Fatalf("incident: cause %+v, members %+v; want two members, the cause naming the 12:00 run", inc.Cause, inc.Members)
		}
		for i, key := range keys {
			m, ok := inc.Member("hourly", key)
			if !ok || m.RunID != runs[i].ID || m.Date != incDay || m.RunKey != key {
				t.Errorf("member %s: %+v %v", key, m, ok)
			}
		}
		if _, err := s.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{hourChange(runs[1], sekisho.StateSucceeded)}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		inc = mustIncident(t, s, exportKey)
		if m, _ := inc.Member("hourly", keys[0]); m.State != sekisho.StateBlocked {
			t.Errorf("12:00 member = %s, want blocked: only the 13:00 run moved", m.State)
		}
		if m, _ := inc.Member("hourly", keys[1]); m.State != sekisho.StateSucceeded {
			t.Errorf("13:00 member = %s, want succeeded", m.State)
		}
		// An hour's own failure is its own incident, keyed by the hour.
		own := sekisho.IncidentChange{Cause: sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: incDay, RunKey: keys[1],
			Pipeline: "hourly", State: "failed"}, CauseSpoke: true, Members: []sekisho.IncidentMember{{Pipeline: "hourly",
			Date: incDay, RunKey: keys[1], RunID: runs[1].ID, Role: sekisho.RoleCause, Kind: sekisho.NoticeRunFailed, State: sekisho.StateFailed}}}
		if _, err := s.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{own}, t0.Add(2*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if got := mustIncident(t, s, "run:hourly#"+keys[1]); got.Cause.RunKey != keys[1] || len(got.Members) != 1 {
			t.Errorf("the 13:00 run's own incident: %+v", got)
		}
	})
}

// A store just before migration 14 holding incidents of daily runs is read by
// today's binary without migrating (the keys are the dates), and keeps
// every incident as it was once migrated: members keyed by their dates,
// the same cause keys, and a member of that date refreshed, not doubled.
func TestMigrationToIncidentRunKeysKeepsIncidents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		old := openMigratedTo(t, loc, incidentKeysVersion-1)
		for i, key := range []string{exportKey, "run:mart_a#" + incDay} {
			kind, pipeline, resource, ext := sekisho.CauseJob, "", "glue_job:hegel-rds-export", "jr_1"
			if i == 1 {
				kind, pipeline, resource, ext = sekisho.CauseRun, "mart_a", "", ""
			}
			var id int64
			if err := old.w.QueryRowContext(ctx, `INSERT INTO incidents (incident_key, logical_date, cause_kind, cause_pipeline,
				cause_resource, cause_external_id, cause_state, opened_at)
				VALUES (?, ?, ?, ?, ?, ?, 'failed', ?) RETURNING id`, key, incDay, kind, pipeline, resource, ext, ts(t0)).Scan(&id); err != nil {
				t.Fatal(err)
			}
			for _, p := range []string{"mart_a", "mart_b"} {
				if _, err := old.w.ExecContext(ctx, `INSERT INTO incident_members (incident_id, pipeline, logical_date, run_id, role, kind, state, joined_at, updated_at)
					VALUES (?, ?, ?, 7, 'affected', 'upstream_failed', 'blocked', ?, ?)`, id, p, incDay, ts(t0), ts(t0)); err != nil {
					t.Fatal(err)
				}
			}
		}
		reader := openRaw(t, loc)
		before, err := reader.Incidents(ctx, IncidentFilter{})
		if err != nil || len(before) != 2 {
			t.Fatalf("reading the old store: %d incidents, %v", len(before), err)
		}
		old.Close()
		reader.Close()

		s := openAt(t, loc)
		after, err := s.Incidents(ctx, IncidentFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("incidents changed in the migration\nbefore: %+v\nafter:  %+v", before, after)
		}
		for _, inc := range after {
			if inc.Cause.RunKey != incDay || inc.Cause.Key() != inc.Key {
				t.Errorf("incident %s: cause %+v", inc.Key, inc.Cause)
			}
			for _, m := range inc.Members {
				if m.RunKey != incDay {
					t.Errorf("incident %s member %s: key %q, want its date", inc.Key, m.Pipeline, m.RunKey)
				}
			}
		}
		// A change built as before run keys (a date, no key) refreshes the
		// migrated member instead of adding one.
		c := exportChange("mart_a", 7, sekisho.StateSucceeded, t0)
		if _, err := s.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{c}, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		inc := mustIncident(t, s, exportKey)
		if m, _ := inc.Member("mart_a", incDay); len(inc.Members) != 2 || m.State != sekisho.StateSucceeded {
			t.Fatalf("after a change to a migrated member: %+v", inc.Members)
		}
	})
}
