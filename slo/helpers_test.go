package slo

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// runRow is one runs row as the engine would have left it; times are the
// stored UTC text, written by hand so the fixtures do not reuse the code
// under test to compute them.
type runRow struct {
	pipeline, date, state string
	attempt               int
	gate, deadline        string
	recoverBy, success    string
	finished              string
}

// openFixture creates a migrated store, writes rows straight into it, and
// returns the store, as the CLI and the server use it.
func openFixture(t testing.TB, rows []runRow) *store.Store {
	t.Helper()
	return openFixtureAt(t, filepath.Join(t.TempDir(), "slo.db"), rows)
}

// openFixtureAt is openFixture on the store at loc, SQLite or PostgreSQL
// (testkit/storetest).
func openFixtureAt(t testing.TB, loc string, rows []runRow) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := teststore.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	w, err := store.RawDB(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for _, r := range rows {
		if r.attempt == 0 {
			r.attempt = 1
		}
		if _, err := w.ExecContext(ctx, `INSERT INTO runs (pipeline, logical_date, attempt, state, gate_at, attempt_at,
			timeout_at, deadline, recover_by, first_success_at, finished_at, spec, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?)`,
			r.pipeline, r.date, r.attempt, r.state, r.gate, r.gate, r.gate, null(r.deadline), null(r.recoverBy),
			null(r.success), null(r.finished), r.gate); err != nil {
			t.Fatalf("insert %+v: %v", r, err)
		}
	}
	if t, ok := t.(*testing.T); ok {
		viewAgrees(t, st, rows)
	}
	return st
}

// viewAgrees proves, on every fixture, that the slo_daily view BI tools
// read gives each row the verdicts Judge gives it. The view judges at the
// database's clock, so Judge does at the wall clock; a fixture day near it
// could straddle a deadline between the two reads, which no fixture has.
func viewAgrees(t *testing.T, st *store.Store, rows []runRow) {
	t.Helper()
	at := func(s string) time.Time {
		if s == "" {
			return time.Time{}
		}
		v, err := time.Parse(sekisho.TimeLayout, s)
		if err != nil {
			t.Fatalf("fixture time %q: %v", s, err)
		}
		return v
	}
	want := map[[2]string]Judgement{}
	now := time.Now()
	for _, r := range rows {
		want[[2]string{r.pipeline, r.date}] = Judge(Day{HasRun: true, State: sekisho.State(r.state), Deadline: at(r.deadline),
			RecoverBy: at(r.recoverBy), FirstSuccess: at(r.success), Finished: at(r.finished)}, now)
	}
	res, err := st.ReadDB().QueryContext(context.Background(), `SELECT pipeline, logical_date, slo_met, sla_met FROM slo_daily`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	seen := 0
	for res.Next() {
		var p, d string
		var sloMet, slaMet sql.NullBool
		if err := res.Scan(&p, &d, &sloMet, &slaMet); err != nil {
			t.Fatal(err)
		}
		seen++
		if j := want[[2]string{p, d}]; !sameVerdict(sloMet, j.SLO) || !sameVerdict(slaMet, j.SLA) {
			t.Errorf("%s %s: view slo_met %v sla_met %v, Judge slo %v sla %v", p, d, sloMet, slaMet, j.SLO.Bool(), j.SLA.Bool())
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Fatalf("view has %d rows, want %d", seen, len(want))
	}
}

func sameVerdict(view sql.NullBool, v Verdict) bool {
	if !v.Decided() {
		return !view.Valid
	}
	return view.Valid && view.Bool == (v == VerdictMet)
}

func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func tod(t testing.TB, s string) sekisho.TimeOfDay {
	t.Helper()
	v, err := sekisho.ParseTimeOfDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func pipeline(t testing.TB, name, schedule, tz, deadline string, objective float64) *config.Pipeline {
	p := &config.Pipeline{Name: name, Schedule: schedule, Timezone: tz, Location: zone(t, tz)}
	if deadline != "" {
		p.SLO = &config.SLO{Deadline: tod(t, deadline), Objective: objective}
	}
	return p
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
