package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
)

const incDay = "2026-11-21"

// exportChange is the change incident.Decide makes when pipeline p, run r,
// sees the export's run jr_1 fail.
func exportChange(p string, r int64, state sekisho.State, at time.Time) sekisho.IncidentChange {
	return sekisho.IncidentChange{
		Cause: sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: incDay, Resource: "glue_job:hegel-rds-export",
			Upstream: "hegel_export", ExternalID: "jr_1", State: "failed"},
		Members: []sekisho.IncidentMember{{Pipeline: p, Date: incDay, RunID: r, Role: sekisho.RoleAffected,
			Kind: sekisho.NoticeUpstreamFailed, State: state, JoinedAt: at}}}
}

const exportKey = "job:glue_job:hegel-rds-export#jr_1"

func incidentNotices(t *testing.T, s *Store) []sekisho.Notice {
	t.Helper()
	all, err := s.AllNotices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []sekisho.Notice
	for _, n := range all {
		if n.Kind.IsIncident() {
			out = append(out, n)
		}
	}
	return out
}

// to moves a run to state through Apply with a step's incident changes and
// notices.
func to(t *testing.T, s *Store, r sekisho.Run, state sekisho.State, at time.Time, ns []sekisho.Notice, changes ...sekisho.IncidentChange) sekisho.Run {
	t.Helper()
	next := r
	next.State = state
	got, err := s.Apply(context.Background(), r, next, at, Step{Reason: "test", Notices: ns, Incidents: changes})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mustIncident(t *testing.T, s *Store, key string) sekisho.Incident {
	t.Helper()
	inc, err := s.Incident(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return inc
}

// TestIncidentChangesAreWrittenAsTold: the store decides nothing about
// incidents (incident.Decide does); it opens, refreshes, reopens and
// resolves exactly as a change says, in the step's transaction, and
// writing a change twice doubles nothing.
func TestIncidentChangesAreWrittenAsTold(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a, b := gate(t, s, "mart_a", incDay), gate(t, s, "mart_b", incDay)
		at := t0.Add(-20 * time.Minute)
		opened := sekisho.Notice{Kind: sekisho.NoticeIncidentOpened, LogicalDate: incDay,
			DedupeKey: sekisho.NoticeKey(sekisho.NoticeIncidentOpened, sekisho.NoticeSubject{Incident: exportKey}),
			Facts:     sekisho.NoticeFacts{Incident: exportKey}}
		a = to(t, s, a, sekisho.StateBlocked, at, []sekisho.Notice{opened}, exportChange("mart_a", a.ID, sekisho.StateBlocked, at))

		// Written twice, as after a restart: nothing doubles.
		delay := sekisho.Notice{RunID: b.ID, Pipeline: "mart_b", LogicalDate: incDay, Kind: sekisho.NoticeDelay, DedupeKey: "delay:" + "mart_b"}
		for i, want := range []int{1, 0} {
			c := exportChange("mart_b", b.ID, sekisho.StateWaiting, at.Add(time.Hour))
			if n, err := s.AddNoticesWithIncidents(ctx, []sekisho.Notice{delay}, []sekisho.IncidentChange{c}, at.Add(time.Duration(i+1)*time.Hour)); err != nil || n != want {
				t.Fatalf("write %d: added %d, %v", i, n, err)
			}
		}
		inc := mustIncident(t, s, exportKey)
		if !inc.Open() || len(inc.Members) != 2 || len(incidentNotices(t, s)) != 1 {
			t.Fatalf("incident = %+v, notices %d: want one open incident with two members and its opening message", inc, len(incidentNotices(t, s)))
		}
		if n := incidentNotices(t, s)[0]; n.RunID != 0 {
			t.Fatalf("opening message = %+v: an incident's message belongs to no run, even written with one", n)
		}

		// A refresh keeps the role and the joining time; a zero run id keeps the stored one.
		refresh := exportChange("mart_a", 0, sekisho.StateWaiting, at.Add(3*time.Hour))
		refresh.Members[0].Role, refresh.Members[0].Kind = sekisho.RoleAffected, sekisho.NoticeTimedOut
		a = to(t, s, a, sekisho.StateWaiting, at.Add(3*time.Hour), nil, refresh)
		if m, _ := mustIncident(t, s, exportKey).Member("mart_a", incDay); m.State != sekisho.StateWaiting ||
			m.Kind != sekisho.NoticeTimedOut || m.RunID != a.ID || !m.JoinedAt.Equal(at) {
			t.Fatalf("mart_a's member = %+v: state and kind refreshed, run and joining time kept", m)
		}

		// Resolved as told; resolving it again is a stale decision and writes nothing.
		done := exportChange("mart_a", 0, sekisho.StateSucceeded, at)
		done.ResolvedAt = at.Add(4 * time.Hour)
		a = to(t, s, a, sekisho.StateSucceeded, at.Add(4*time.Hour), nil, done)
		if inc := mustIncident(t, s, exportKey); inc.Open() || !inc.ResolvedAt.Equal(done.ResolvedAt) {
			t.Fatalf("incident = %+v, want resolved at %v", inc, done.ResolvedAt)
		}
		next := b
		next.State = sekisho.StateSkipped
		again := exportChange("mart_b", 0, sekisho.StateSkipped, at)
		again.ResolvedAt = at.Add(5 * time.Hour)
		if _, err := s.Apply(ctx, b, next, at.Add(5*time.Hour), Step{Reason: "test", Incidents: []sekisho.IncidentChange{again}}); !errors.Is(err, sekisho.ErrConflict) {
			t.Fatalf("resolving a resolved incident: %v, want ErrConflict", err)
		}
		if got, _ := s.RunByID(ctx, b.ID); got.State != b.State {
			t.Fatalf("the refused step moved the run to %s", got.State)
		}

		// The same cause coming back opens it again.
		a = to(t, s, a, sekisho.StateBlocked, at.Add(6*time.Hour), nil, exportChange("mart_a", a.ID, sekisho.StateBlocked, at))
		if inc := mustIncident(t, s, exportKey); !inc.Open() {
			t.Fatalf("incident = %+v, want open again", inc)
		}
		if open, _ := s.OpenIncidents(ctx); len(open) != 1 {
			t.Fatalf("open incidents = %+v", open)
		}
	})
}

func TestIncidentCauseStateIsWrittenWhenTheCauseSpoke(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		a := gate(t, s, "mart_a", incDay)
		change := func(state string, spoke bool) sekisho.IncidentChange {
			return sekisho.IncidentChange{Cause: sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: incDay, Pipeline: "mart_a",
				State: state, Message: state}, CauseSpoke: spoke,
				Members: []sekisho.IncidentMember{{Pipeline: "mart_a", Date: incDay, Role: sekisho.RoleCause, Kind: sekisho.NoticeDelay, State: sekisho.StateWaiting}}}
		}
		a = to(t, s, a, sekisho.StateWaiting, t0, nil, change(sekisho.CauseLate, true))
		a = to(t, s, a, sekisho.StateTimedOut, t0.Add(time.Hour), nil, change("timed_out", true))
		to(t, s, a, sekisho.StateTimedOut, t0.Add(2*time.Hour), nil, change("failed", false))
		if inc := mustIncident(t, s, "run:mart_a#"+incDay); inc.Cause.State != "timed_out" || inc.Cause.Message != "timed_out" {
			t.Fatalf("cause = %+v: taken when the cause spoke, kept otherwise", inc.Cause)
		}
	})
}

func TestIncidentsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	s := openAt(t, path)
	r, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "mart_a", LogicalDate: incDay, GateAt: t0, TimeoutAt: t0.Add(time.Hour), Spec: []byte(`{}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := exportChange("mart_a", r.ID, sekisho.StateBlocked, t0)
	if _, err := s.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{ch}, t0); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveIncidentThread(ctx, ch.Key(), "C1", "111.1", t0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{ch}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveIncidentThread(ctx, ch.Key(), "C1", "222.2", t0); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Incidents(ctx, IncidentFilter{})
	if len(all) != 1 || len(all[0].Members) != 1 {
		t.Fatalf("after a restart: incidents %+v", all)
	}
	if _, ts, ok, _ := s.IncidentThread(ctx, ch.Key()); !ok || ts != "111.1" {
		t.Fatalf("thread = %s %v, want the first one kept", ts, ok)
	}
}

// TestIncidentsMigrationOnPostgres applies 008 to a fresh PostgreSQL
// database and checks the keys that make incident writes idempotent.
func TestIncidentsMigrationOnPostgres(t *testing.T) {
	u := pgtest.URL(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	body, err := os.ReadFile("migrations/postgres/008_incidents_silences.up.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, string(body)); err != nil {
		t.Fatalf("008 on postgres: %v", err)
	}
	for range 2 {
		if _, err := conn.Exec(ctx, `INSERT INTO incidents (incident_key, logical_date, cause_kind, opened_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT (incident_key) DO NOTHING`, "job:x#1", "2026-11-21", "job", "2026-11-20T16:40:00.000Z"); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `INSERT INTO incident_threads (incident_id, channel, ts, created_at)
			SELECT id, $1, $2, $3 FROM incidents WHERE incident_key = $4 ON CONFLICT (incident_id) DO NOTHING`,
			"C1", "1.1", "2026-11-20T16:40:00.000Z", "job:x#1"); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM incidents i JOIN incident_threads t ON t.incident_id = i.id`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows = %d, err %v", n, err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO incident_members (incident_id, pipeline, logical_date, role, kind, state, joined_at, updated_at)
		VALUES (999, 'p', '2026-11-21', 'affected', 'delay', 'waiting', 'x', 'x')`); err == nil {
		t.Fatal("a member of no incident was accepted")
	}
}
