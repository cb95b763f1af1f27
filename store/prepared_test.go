package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// The hot statements run prepared on SQLite and plain on PostgreSQL, and
// answer the same either way: the lease check lets the leader's writes
// through and fences a stale epoch's, the poll schedule is written, the
// data version moves when another connection commits.
func TestHotStatements(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		if _, err := s.ClaimLease(ctx, "me", 0, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.withTx(WithEpoch(ctx, 1), func(*sql.Tx) error { return nil }); err != nil {
			t.Fatalf("the leader's write: %v", err)
		}
		if got, want := s.stmts.ready.Load(), s.dialect == SQLite; got != want {
			t.Fatalf("statements prepared: %v, want %v", got, want)
		}
		if err := s.withTx(WithEpoch(ctx, 2), func(*sql.Tx) error { return nil }); !errors.Is(err, ErrFenced) {
			t.Fatalf("a stale epoch's write: %v, want ErrFenced", err)
		}
		at := map[string]time.Time{}
		for i := range 30 {
			at[fmt.Sprintf("glue_job:j%02d", i)] = t0.Add(time.Duration(i) * time.Minute)
		}
		if err := s.SetNextChecks(ctx, at, t0); err != nil {
			t.Fatal(err)
		}
		at["glue_job:j07"] = t0.Add(time.Hour)
		if err := s.SetNextChecks(WithEpoch(ctx, 1), map[string]time.Time{"glue_job:j07": at["glue_job:j07"]}, t0); err != nil {
			t.Fatal(err)
		}
		got, err := s.NextChecks(ctx)
		if err != nil || len(got) != len(at) {
			t.Fatalf("next checks: %d %v, want %d", len(got), err, len(at))
		}
		for k, want := range at {
			if !got[k].Equal(want) {
				t.Errorf("%s next check %s, want %s", k, got[k], want)
			}
		}
		v0, err := s.DataVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := s.DataVersion(ctx); v != v0 {
			t.Fatalf("data version moved without a write: %d → %d", v0, v)
		}
		other := openRaw(t, s.Path())
		if _, _, err := other.OpenGate(ctx, sekisho.Run{Pipeline: "p", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil); err != nil {
			t.Fatal(err)
		}
		if v, err := s.DataVersion(ctx); err != nil || v == v0 {
			t.Fatalf("data version after another connection's write: %d %v (was %d)", v, err, v0)
		}
		// The poll planner's history read, prepared on the readers.
		if got, want := s.stmts.finishes != nil, s.dialect == SQLite; got != want {
			t.Fatalf("finishes prepared: %v, want %v", got, want)
		}
		run, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "q", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		fin := t0.Add(-time.Hour)
		if _, err := s.RecordObservations(ctx, []ObservationWrite{{Run: run.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "u", Type: "glue_job",
			State: sekisho.JobSucceeded, StartedAt: fin.Add(-time.Hour), FinishedAt: fin, ObservedAt: t0}}}); err != nil {
			t.Fatal(err)
		}
		for range 2 { // the second on a connection that has it prepared
			if got, err := s.UpstreamFinishes(ctx, "q", "u", 30); err != nil || len(got) != 1 || !got[0].Equal(fin) {
				t.Fatalf("finishes of q/u: %v %v, want [%v]", got, err, fin)
			}
		}
		// A followed downstream run's check: the run read, then moved on
		// with its transition, both prepared; a stale version still
		// conflicts.
		for _, st := range []*sql.Stmt{s.stmts.applyRun, s.stmts.insertTransition, s.stmts.runByID, s.stmts.recordGrant} {
			if got, want := st != nil, s.dialect == SQLite; got != want {
				t.Fatalf("apply's statements prepared: %v, want %v", got, want)
			}
		}
		next := run
		next.State, next.Message = sekisho.StateTriggered, "dag run queued"
		moved, err := s.Apply(ctx, run, next, t0, Step{Reason: "condition_met", Detail: map[string]any{"dag_run_id": "r1"}})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			got, err := s.RunByID(ctx, run.ID)
			if err != nil || got.State != sekisho.StateTriggered || got.Message != "dag run queued" || got.Version != moved.Version || got.Key != run.Key {
				t.Fatalf("run %d read back: %+v %v", run.ID, got, err)
			}
		}
		trs, err := s.Transitions(ctx, run.ID)
		if err != nil || len(trs) != 2 || trs[1].To != sekisho.StateTriggered || trs[1].Reason != "condition_met" || trs[1].Detail["dag_run_id"] != "r1" {
			t.Fatalf("transitions of run %d: %+v %v", run.ID, trs, err)
		}
		if _, err := s.Apply(ctx, run, next, t0, Step{Reason: "condition_met"}); !errors.Is(err, sekisho.ErrConflict) {
			t.Fatalf("apply on a stale version: %v, want ErrConflict", err)
		}
		if _, err := s.RunByID(ctx, run.ID+100); !errors.Is(err, sekisho.ErrNotFound) {
			t.Fatalf("a run that is not there: %v, want ErrNotFound", err)
		}
		// A budget's grants, each a transaction of its own.
		for i := range 2 {
			if err := s.RecordGrant(ctx, "glue", t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.Grants(ctx, "glue", t0); err != nil || len(got) != 2 || !got[1].Equal(t0.Add(time.Second)) {
			t.Fatalf("grants: %v %v", got, err)
		}
	})
}

// A store short of this binary's schema prepares nothing: the texts are
// picked for the schema, and Migrate writes through the same transactions.
func TestNoStatementsPreparedOnAnOlderSchema(t *testing.T) {
	ctx, s := context.Background(), openAt(t, filepath.Join(t.TempDir(), "sekisho.db"))
	s.closeStmts()
	s.schema = KnownSchemaVersion() - 1
	if err := s.withTx(ctx, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if s.stmts.ready.Load() {
		t.Fatal("statements prepared on an older schema")
	}
	s.schema = KnownSchemaVersion()
	if err := s.withTx(ctx, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if !s.stmts.ready.Load() {
		t.Fatal("statements not prepared on this binary's schema")
	}
}

// BenchmarkAnsweredCheck is the store work of a followed DAG run's
// answered check that moves it on (engine.answered): the run read, then
// an update with its transition.
func BenchmarkAnsweredCheck(b *testing.B) {
	ctx, s := context.Background(), openAt(b, filepath.Join(b.TempDir(), "sekisho.db"))
	run, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "p", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil)
	if err != nil {
		b.Fatal(err)
	}
	states := []sekisho.State{sekisho.StateTriggered, sekisho.StateRunning}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		got, err := s.RunByID(ctx, run.ID)
		if err != nil {
			b.Fatal(err)
		}
		next := got
		next.State = states[i%2]
		if run, err = s.Apply(ctx, got, next, t0, Step{Reason: "dag_run_running"}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkHotWrites is a pass's store work while pipelines wait, on
// SQLite: a fenced write, the poll schedule of ten resources, the data
// version.
func BenchmarkHotWrites(b *testing.B) {
	ctx, s := context.Background(), openAt(b, filepath.Join(b.TempDir(), "sekisho.db"))
	if _, err := s.ClaimLease(ctx, "me", 0, time.Hour); err != nil {
		b.Fatal(err)
	}
	lead := WithEpoch(ctx, 1)
	at := map[string]time.Time{}
	for i := range 10 {
		at[fmt.Sprintf("glue_job:j%02d", i)] = t0
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.withTx(lead, func(*sql.Tx) error { return nil }); err != nil {
			b.Fatal(err)
		}
		if err := s.SetNextChecks(lead, at, t0); err != nil {
			b.Fatal(err)
		}
		if _, err := s.DataVersion(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
