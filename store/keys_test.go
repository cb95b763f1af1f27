package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// A store of the schema before run keys (migration 008), filled with daily
// runs as that release wrote them, keeps every run as it was when today's
// binary migrates it: the same ids, fields, versions, transitions, notices
// and observations, each run keyed by its logical date. Afterwards a
// pipeline may hold many runs on one date (one per sub-daily key), and a
// second run with a key already taken is still refused.
func TestMigrationToRunKeysKeepsDailyRuns(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		old := openMigratedTo(t, loc, keysVersion-1)
		dates := []string{"2026-11-20", "2026-11-21", "2026-11-22"}
		for i, d := range dates {
			gate := t0.AddDate(0, 0, i-1)
			for _, p := range []string{"alpha", "beta"} {
				var id int64
				err := old.w.QueryRowContext(ctx, `INSERT INTO runs (pipeline, logical_date, attempt, state, gate_at, attempt_at,
					timeout_at, deadline, recover_by, finished_at, first_success_at, external_id, spec, updated_at, version)
					VALUES (?, ?, 2, 'succeeded', ?, ?, ?, ?, ?, ?, ?, ?, '{"name":"x"}', ?, 5) RETURNING id`,
					p, d, ts(gate), ts(gate.Add(time.Hour)), ts(gate.Add(6*time.Hour)), ts(gate.Add(4*time.Hour)),
					ts(gate.Add(22*time.Hour)), ts(gate.Add(3*time.Hour)), ts(gate.Add(3*time.Hour)),
					sekisho.DagRunID(p, d, 2), ts(gate.Add(3*time.Hour))).Scan(&id)
				if err != nil {
					t.Fatal(err)
				}
				for _, q := range []string{
					`INSERT INTO transitions (run_id, pipeline, logical_date, attempt, from_state, to_state, at, reason) VALUES (?, ?, ?, 1, '', 'waiting', ?, 'gate_opened')`,
					`INSERT INTO notices (run_id, pipeline, logical_date, attempt, kind, dedupe_key, created_at, next_try_at) VALUES (?, ?, ?, 1, 'delay', 'delay:' || ?, ?, ?)`,
					`INSERT INTO upstream_observations (run_id, attempt, upstream, type, state, observed_at) VALUES (?, 1, 'u', 'glue_job', 'succeeded', ?)`,
				} {
					args := []any{id, p, d, ts(gate)}
					switch {
					case q[12] == 'n':
						args = []any{id, p, d, p + d, ts(gate), ts(gate)}
					case q[12] == 'u':
						args = []any{id, ts(gate)}
					}
					if _, err := old.w.ExecContext(ctx, q, args...); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		// A reading command of today's binary reads the old store as it is.
		reader := openRaw(t, loc)
		before, err := reader.Runs(ctx, RunFilter{})
		if err != nil || len(before) != 6 {
			t.Fatalf("reading the old store: %d runs, %v", len(before), err)
		}
		beforeTr, _ := reader.Transitions(ctx, before[0].ID)
		old.Close()
		reader.Close()

		s := openAt(t, loc)
		after, err := s.Runs(ctx, RunFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before, after) {
			t.Fatalf("runs changed in the migration\nbefore: %+v\nafter:  %+v", before, after)
		}
		for _, r := range after {
			if r.Key != r.LogicalDate {
				t.Errorf("run %d: key %q, want its logical date %q", r.ID, r.Key, r.LogicalDate)
			}
			got, err := s.Run(ctx, r.Pipeline, r.LogicalDate)
			if err != nil || got.ID != r.ID || got.Version != 5 {
				t.Errorf("run %s %s by its key: %+v %v", r.Pipeline, r.LogicalDate, got, err)
			}
			trs, _ := s.Transitions(ctx, r.ID)
			ns, _ := s.Notices(ctx, r.ID)
			obs, _ := s.Observations(ctx, r.ID)
			if len(trs) != 1 || trs[0].Key != r.LogicalDate || len(ns) != 1 || ns[0].Key != r.LogicalDate || len(obs) != 1 {
				t.Errorf("run %d after the migration: %+v %+v %d observations", r.ID, trs, ns, len(obs))
			}
		}
		if afterTr, _ := s.Transitions(ctx, before[0].ID); !reflect.DeepEqual(beforeTr, afterTr) {
			t.Errorf("transitions changed\nbefore: %+v\nafter:  %+v", beforeTr, afterTr)
		}
		if s.Dialect() == SQLite {
			rows, err := s.r.QueryContext(ctx, `PRAGMA foreign_key_check`)
			if err != nil {
				t.Fatal(err)
			}
			if rows.Next() {
				t.Error("foreign keys broken by the rebuild of runs")
			}
			rows.Close()
		}
		// Now a date holds one run per key: an hourly pipeline's 13:00 and
		// 14:00 beside the daily run of the same date.
		for _, key := range []string{"2026-11-21T13:00", "2026-11-21T14:00"} {
			r, created, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "alpha", LogicalDate: "2026-11-21", Key: key,
				GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil)
			if err != nil || !created || r.Key != key {
				t.Fatalf("open %s: %+v %v %v", key, r, created, err)
			}
		}
		if _, created, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "alpha", LogicalDate: "2026-11-21", Key: "2026-11-21",
			GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil); err != nil || created {
			t.Fatalf("a second run of a taken key: created %v, %v", created, err)
		}
		if _, _, err := s.OpenGate(ctx, sekisho.Run{Pipeline: "alpha", LogicalDate: "2026-11-21", Key: "2026-11-22T01:00",
			GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil); err == nil {
			t.Fatal("a key of another date was accepted")
		}
		if _, err := s.Run(ctx, "alpha", "2026-11-23"); !errors.Is(err, sekisho.ErrNotFound) {
			t.Fatalf("missing key: %v", err)
		}
	})
}
