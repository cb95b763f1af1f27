package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// openAt opens the store at loc as sekisho run does: created if missing,
// then migrated.
func openAt(t testing.TB, loc string) *Store {
	t.Helper()
	s := openRaw(t, loc, Create())
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// openMigratedTo opens the store at loc, created if missing, with the
// migrations up to version applied: a store an earlier release wrote.
func openMigratedTo(t *testing.T, loc string, version int) *Store {
	t.Helper()
	s := openRaw(t, loc, Create())
	if err := s.migrate(context.Background(), version); err != nil {
		t.Fatal(err)
	}
	return s
}

// openRaw opens the store at loc as it is.
func openRaw(t testing.TB, loc string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), loc, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// eachStore runs fn against a fresh SQLite store and a fresh PostgreSQL
// store: every store test is a conformance test of both.
func eachStore(t *testing.T, fn func(t *testing.T, s *Store)) {
	storetest.Each(t, func(t *testing.T, loc string) { fn(t, openAt(t, loc)) })
}

var t0 = time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC) // 02:00 JST on the 21st

func gate(t *testing.T, s *Store, pipeline, date string) sekisho.Run {
	t.Helper()
	r, created, err := s.OpenGate(context.Background(), sekisho.Run{Pipeline: pipeline, LogicalDate: date, Key: date, GateAt: t0,
		TimeoutAt: t0.Add(6 * time.Hour), Deadline: t0.Add(4 * time.Hour), RecoverBy: t0.Add(22 * time.Hour), Spec: []byte(`{}`)}, nil)
	if err != nil || !created {
		t.Fatalf("open gate: created=%v err=%v", created, err)
	}
	return r
}

func TestOpenGateIsIdempotent(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-21")
		again, created, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "p", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0.Add(time.Minute),
			TimeoutAt: t0, Spec: []byte(`{}`)}, nil)
		if err != nil || created || again.ID != r.ID || !again.GateAt.Equal(t0) {
			t.Fatalf("second open: created=%v id=%d/%d gate=%v err=%v", created, again.ID, r.ID, again.GateAt, err)
		}
		trs, _ := s.Transitions(ctx, r.ID)
		if len(trs) != 1 || trs[0].To != sekisho.StateWaiting || trs[0].From != "" || trs[0].Reason != sekisho.ReasonGateOpened {
			t.Fatalf("transitions = %+v", trs)
		}
	})
}

func TestApplyCompareAndSet(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-21")
		next := r
		next.State = sekisho.StateTriggered
		next.ExternalID = "dag-1"
		n := sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "k1", Pipeline: "p"}
		got, err := s.Apply(ctx, r, next, t0.Add(time.Minute), Step{Reason: sekisho.ReasonConditionMet, Notices: []sekisho.Notice{n, n}})
		if err != nil || got.Version != r.Version+1 {
			t.Fatalf("apply: %v %+v", err, got)
		}
		// A writer holding the old version loses.
		stale := r
		stale.State = sekisho.StateSkipped
		if _, err := s.Apply(ctx, r, stale, t0, Step{Reason: sekisho.ReasonOperatorSkip}); !errors.Is(err, sekisho.ErrConflict) {
			t.Fatalf("stale apply err = %v", err)
		}
		stored, _ := s.Run(ctx, "p", "2026-11-21")
		if stored.State != sekisho.StateTriggered || stored.ExternalID != "dag-1" {
			t.Fatalf("stored = %+v", stored)
		}
		trs, _ := s.Transitions(ctx, r.ID)
		if len(trs) != 2 || trs[1].From != sekisho.StateWaiting || trs[1].To != sekisho.StateTriggered {
			t.Fatalf("transitions = %+v", trs)
		}
		notices, _ := s.Notices(ctx, r.ID)
		if len(notices) != 1 {
			t.Fatalf("dedupe failed: %d notices", len(notices))
		}
		// A state change without a reason is refused.
		bad := got
		bad.State = sekisho.StateRunning
		if _, err := s.Apply(ctx, got, bad, t0, Step{}); err == nil {
			t.Fatal("apply without reason succeeded")
		}
	})
}

func TestTransitionsAreAppendOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		r := gate(t, s, "p", "2026-11-21")
		if _, err := s.w.Exec(`UPDATE transitions SET reason = 'x' WHERE run_id = ?`, r.ID); err == nil {
			t.Fatal("update of a transition succeeded")
		}
		if _, err := s.w.Exec(`DELETE FROM transitions WHERE run_id = ?`, r.ID); err == nil {
			t.Fatal("delete of a transition succeeded")
		}
	})
}

func TestSecondDaemonRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	a := openAt(t, path)
	if err := a.LockDaemon(); err != nil {
		t.Fatal(err)
	}
	b, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if err := b.LockDaemon(); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock err = %v", err)
	}
	a.Close()
	if err := b.LockDaemon(); err != nil {
		t.Fatalf("lock after release: %v", err)
	}
}

func TestOpenRefusesMissingDirectory(t *testing.T) {
	_, err := Open(context.Background(), filepath.Join(t.TempDir(), "nope", "s.db"), Create())
	if err == nil {
		t.Fatal("open in a missing directory succeeded")
	}
}

func TestObservationsKeepChangesOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-21")
		o := sekisho.Observation{Upstream: "u", Type: "glue_job", State: sekisho.JobRunning, ExternalID: "jr_1", StartedAt: t0, ObservedAt: t0}
		for i := 0; i < 3; i++ {
			o.ObservedAt = t0.Add(time.Duration(i) * time.Minute)
			s.RecordObservation(ctx, r.ID, 1, o)
		}
		o.State = sekisho.JobSucceeded
		o.FinishedAt = t0.Add(5 * time.Minute)
		if wrote, err := s.RecordObservation(ctx, r.ID, 1, o); !wrote || err != nil {
			t.Fatalf("change not written: %v", err)
		}
		all, _ := s.Observations(ctx, r.ID)
		if len(all) != 2 {
			t.Fatalf("rows = %d, want 2", len(all))
		}
		latest, _ := s.LatestObservations(ctx, r.ID)
		if latest["u"].State != sekisho.JobSucceeded || !latest["u"].FinishedAt.Equal(o.FinishedAt) {
			t.Fatalf("latest = %+v", latest["u"])
		}
	})
}

func TestSLODailyView(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-21")
		next := r
		next.State = sekisho.StateSucceeded
		next.FinishedAt = t0.Add(3 * time.Hour)
		next.FirstSuccessAt = next.FinishedAt
		if _, err := s.Apply(ctx, r, next, next.FinishedAt, Step{Reason: sekisho.ReasonConditionMet}); err != nil {
			t.Fatal(err)
		}
		late := gate(t, s, "q", "2026-11-21")
		n2 := late
		n2.State = sekisho.StateSucceeded
		n2.FinishedAt = t0.Add(5 * time.Hour)
		n2.FirstSuccessAt = n2.FinishedAt
		s.Apply(ctx, late, n2, n2.FinishedAt, Step{Reason: sekisho.ReasonConditionMet})
		rows, err := s.r.Query(`SELECT pipeline, slo_met, sla_met, duration_seconds, attempts FROM slo_daily ORDER BY pipeline`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		want := map[string][4]int{"p": {1, 1, 10800, 1}, "q": {0, 1, 18000, 1}}
		for rows.Next() {
			var p string
			var slo, sla, dur, att int
			rows.Scan(&p, &slo, &sla, &dur, &att)
			if want[p] != [4]int{slo, sla, dur, att} {
				t.Errorf("%s: got %v want %v", p, [4]int{slo, sla, dur, att}, want[p])
			}
		}
	})
}

func TestSLODailyLeavesOpenDaysUndecided(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		r, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "p", LogicalDate: "2099-01-01", Key: "2099-01-01", GateAt: now,
			TimeoutAt: now.Add(time.Hour), Deadline: now.Add(time.Hour), RecoverBy: now.Add(2 * time.Hour), Spec: []byte(`{}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		past := gate(t, s, "q", "2026-11-21") // deadline long passed, never succeeded
		var slo, sla sql.NullInt64
		if err := s.r.QueryRow(`SELECT slo_met, sla_met FROM slo_daily WHERE pipeline = ?`, r.Pipeline).Scan(&slo, &sla); err != nil {
			t.Fatal(err)
		}
		if slo.Valid || sla.Valid {
			t.Errorf("open run before its deadline: slo_met=%v sla_met=%v, want NULL", slo, sla)
		}
		if err := s.r.QueryRow(`SELECT slo_met, sla_met FROM slo_daily WHERE pipeline = ?`, past.Pipeline).Scan(&slo, &sla); err != nil {
			t.Fatal(err)
		}
		if !slo.Valid || slo.Int64 != 0 || !sla.Valid || sla.Int64 != 0 {
			t.Errorf("missed day: slo_met=%v sla_met=%v, want 0, 0", slo, sla)
		}
	})
}

func TestDataVersionSeesOtherWriters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		a, b := openAt(t, loc), openAt(t, loc)
		v0, _ := a.DataVersion(ctx)
		if _, _, err := a.OpenGate(ctx, sekisho.Run{Pipeline: "p", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil); err != nil {
			t.Fatal(err)
		}
		if v1, _ := a.DataVersion(ctx); v1 != v0 {
			t.Fatalf("own write changed the data version: %d -> %d", v0, v1)
		}
		if _, _, err := b.OpenGate(ctx, sekisho.Run{Pipeline: "q", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil); err != nil {
			t.Fatal(err)
		}
		if v2, _ := a.DataVersion(ctx); v2 == v0 {
			t.Fatal("another connection's write did not change the data version")
		}
	})
}

func TestApplyKeepsTheSpecWhenNextHasNone(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "p", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0,
			Spec: []byte(`{"name":"p"}`)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		next := r
		next.Spec = nil
		next.Message = "x"
		if _, err := s.Apply(ctx, r, next, t0, Step{}); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Run(ctx, "p", "2026-11-21")
		if string(got.Spec) != `{"name":"p"}` || got.Message != "x" {
			t.Fatalf("spec %q message %q", got.Spec, got.Message)
		}
	})
}
