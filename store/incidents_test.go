package store

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/incident"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
)

// cascadeGraph: report_c waits on mart_a, report_d on mart_b.
type cascadeGraph map[string][]string

func (g cascadeGraph) Upstreams(p string) []string { return g[p] }

func exportFailed(r sekisho.Run) incident.Trouble {
	return incident.Trouble{Pipeline: r.Pipeline, Date: r.LogicalDate, RunID: r.ID, State: sekisho.StateBlocked,
		Kind: sekisho.NoticeUpstreamFailed, Upstream: "hegel_export", Resource: "glue_job:hegel-rds-export", ExternalID: "jr_1"}
}

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

func kinds(ns []sekisho.Notice) []string {
	var out []string
	for _, n := range ns {
		out = append(out, string(n.Kind)+"/"+n.Facts.Reason)
	}
	return out
}

// to moves a run to state through Apply with the step's incident changes.
func to(t *testing.T, s *Store, r sekisho.Run, state sekisho.State, at time.Time, changes ...incident.Change) sekisho.Run {
	t.Helper()
	next := r
	next.State = state
	got, err := s.Apply(context.Background(), r, next, at, Step{Reason: "test", Incidents: changes})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestIncidentCascadeInTheTransitionsTransaction(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		g := cascadeGraph{"report_c": {"mart_a"}, "report_d": {"mart_b"}}
		const day = "2026-11-21"
		runs := map[string]sekisho.Run{}
		for _, p := range []string{"mart_a", "mart_b", "report_c", "report_d"} {
			runs[p] = gate(t, s, p, day)
		}
		at := t0.Add(-20 * time.Minute) // 01:40 JST
		place := func(tr incident.Trouble) incident.Change {
			open, err := s.OpenIncidents(ctx)
			if err != nil {
				t.Fatal(err)
			}
			d := incident.Place(g, open, tr, at)
			if !d.Suppress {
				t.Fatalf("%s's %s is not folded into the incident", tr.Pipeline, tr.Kind)
			}
			return d.Change
		}
		// The two direct pipelines go blocked on the failed export run.
		for _, p := range []string{"mart_a", "mart_b"} {
			runs[p] = to(t, s, runs[p], sekisho.StateBlocked, at, place(exportFailed(runs[p])))
		}
		// The other two are late at their deadline: no state change carries it.
		at = at.Add(4 * time.Hour)
		for _, p := range []string{"report_c", "report_d"} {
			c := place(incident.Trouble{Pipeline: p, Date: day, RunID: runs[p].ID, State: sekisho.StateWaiting, Kind: sekisho.NoticeDelay})
			delay := sekisho.Notice{RunID: runs[p].ID, Pipeline: p, LogicalDate: day, Kind: sekisho.NoticeDelay, DedupeKey: "delay:" + p}
			if n, err := s.AddNoticesWithIncidents(ctx, []sekisho.Notice{delay}, []incident.Change{c}, at); err != nil || n != 1 {
				t.Fatalf("added %d, %v", n, err)
			}
			// Written twice, as after a restart: nothing doubles.
			if n, err := s.AddNoticesWithIncidents(ctx, []sekisho.Notice{delay}, []incident.Change{c}, at.Add(time.Minute)); err != nil || n != 0 {
				t.Fatalf("added again %d, %v", n, err)
			}
		}
		all, err := s.Incidents(ctx, IncidentFilter{Date: day})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 || len(all[0].Members) != 4 || len(all[0].Affected()) != 4 || !all[0].Open() {
			t.Fatalf("incidents = %+v, want one open incident with four affected pipelines", all)
		}
		if m, _ := all[0].Member("mart_a", day); m.State != sekisho.StateBlocked || m.RunID != runs["mart_a"].ID {
			t.Fatalf("mart_a's member = %+v: state follows the run", m)
		}
		if got := kinds(incidentNotices(t, s)); len(got) != 4 || got[0] != "incident_opened/" || got[3] != "incident_updated/joined" {
			t.Fatalf("incident notices = %v, want opened then three joined", got)
		}

		// The export is rerun; the four recover one by one.
		at = at.Add(time.Hour)
		for _, p := range []string{"mart_a", "mart_b", "report_c", "report_d"} {
			runs[p] = to(t, s, runs[p], sekisho.StateSucceeded, at)
		}
		all, _ = s.Incidents(ctx, IncidentFilter{Date: day})
		if all[0].Open() || !all[0].ResolvedAt.Equal(at) {
			t.Fatalf("incident = %+v, want resolved at %v", all[0], at)
		}
		got := kinds(incidentNotices(t, s))
		want := []string{"incident_opened/", "incident_updated/joined", "incident_updated/joined", "incident_updated/joined",
			"incident_updated/recovered", "incident_updated/recovered", "incident_updated/recovered", "incident_resolved/"}
		if len(got) != len(want) {
			t.Fatalf("incident notices = %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("incident notices = %v, want %v", got, want)
			}
		}
		for _, n := range incidentNotices(t, s) {
			if n.RunID != 0 || n.Facts.Incident != all[0].Key {
				t.Fatalf("notice %+v: an incident's notice belongs to no run and names its incident", n)
			}
		}
		if open, _ := s.OpenIncidents(ctx); len(open) != 0 {
			t.Fatalf("open incidents = %+v", open)
		}
	})
}

func TestIncidentOfARunCauseIsAnnouncedWhenSomebodyIsAffected(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const day = "2026-11-21"
		a, c := gate(t, s, "mart_a", day), gate(t, s, "report_c", day)
		g := cascadeGraph{"report_c": {"mart_a"}}
		d := incident.Place(g, nil, incident.Trouble{Pipeline: "mart_a", Date: day, RunID: a.ID, State: sekisho.StateFailed,
			Kind: sekisho.NoticeRunFailed}, t0)
		a = to(t, s, a, sekisho.StateFailed, t0, d.Change)
		if n := incidentNotices(t, s); len(n) != 0 {
			t.Fatalf("a failed run alone queued %v: its own run_failed speaks for it", kinds(n))
		}
		open, _ := s.OpenIncidents(ctx)
		d = incident.Place(g, open, incident.Trouble{Pipeline: "report_c", Date: day, RunID: c.ID, State: sekisho.StateBlocked,
			Kind: sekisho.NoticeUpstreamFailed, UpstreamPipeline: "mart_a"}, t0.Add(time.Minute))
		if d.Change.Key() != "run:mart_a#"+day || !d.Suppress {
			t.Fatalf("decision = %+v", d)
		}
		c = to(t, s, c, sekisho.StateBlocked, t0.Add(time.Minute), d.Change)
		if got := kinds(incidentNotices(t, s)); len(got) != 1 || got[0] != "incident_opened/" {
			t.Fatalf("notices = %v, want the opening message", got)
		}
		// Skipping the cause and the affected run resolves it.
		a = to(t, s, a, sekisho.StateSkipped, t0.Add(time.Hour))
		c = to(t, s, c, sekisho.StateSucceeded, t0.Add(2*time.Hour))
		if got := kinds(incidentNotices(t, s)); len(got) != 2 || got[1] != "incident_resolved/" {
			t.Fatalf("notices = %v, want opened then resolved (the last recovery is in the resolution)", got)
		}
	})
}

func TestIncidentsSurviveARestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "mart_a", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0.Add(time.Hour), Spec: []byte(`{}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := incident.Place(cascadeGraph{}, nil, exportFailed(r), t0).Change
	if err := s.RecordIncidents(ctx, []incident.Change{ch}, t0); err != nil {
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
	open, _ := s.OpenIncidents(ctx)
	again := incident.Place(cascadeGraph{}, open, exportFailed(r), t0.Add(time.Minute)).Change
	if err := s.RecordIncidents(ctx, []incident.Change{again}, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveIncidentThread(ctx, ch.Key(), "C1", "222.2", t0); err != nil {
		t.Fatal(err)
	}
	all, _ := s.Incidents(ctx, IncidentFilter{})
	if len(all) != 1 || len(all[0].Members) != 1 || len(incidentNotices(t, s)) != 1 {
		t.Fatalf("after a restart: incidents %+v, notices %v", all, kinds(incidentNotices(t, s)))
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

func TestIncidentCauseStateFollowsItsRun(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		const day = "2026-11-21"
		a := gate(t, s, "mart_a", day)
		g := cascadeGraph{}
		place := func(kind sekisho.NoticeKind, state sekisho.State) incident.Change {
			open, _ := s.OpenIncidents(ctx)
			d := incident.Place(g, open, incident.Trouble{Pipeline: "mart_a", Date: day, RunID: a.ID, State: state, Kind: kind}, t0)
			return d.Change
		}
		if err := s.RecordIncidents(ctx, []incident.Change{place(sekisho.NoticeDelay, sekisho.StateWaiting)}, t0); err != nil {
			t.Fatal(err)
		}
		a = to(t, s, a, sekisho.StateTimedOut, t0.Add(time.Hour), place(sekisho.NoticeTimedOut, sekisho.StateTimedOut))
		inc, err := s.Incident(ctx, "run:mart_a#"+day)
		if err != nil || inc.Cause.State != "timed_out" || len(inc.Members) != 1 || inc.Members[0].Kind != sekisho.NoticeTimedOut {
			t.Fatalf("incident = %+v, %v: the cause is named as it is now", inc, err)
		}
	})
}
