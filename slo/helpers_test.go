package slo

import (
	"context"
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
	return st
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
