package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// Tests of what both stores must do alike beyond the single-store tests in
// store_test.go: the same schema, the same view results, the lease and
// fencing, and schema versions.

// describe lists the tables and views of s with their columns, in order.
func describe(t *testing.T, s *Store) map[string][]string {
	t.Helper()
	ctx := context.Background()
	out := map[string][]string{}
	q := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type IN ('table','view') AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid`
	if s.Dialect() == Postgres {
		q = `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()
			ORDER BY table_name, ordinal_position`
	}
	rows, err := s.r.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], col)
	}
	delete(out, "data_versions") // PostgreSQL's stand-in for PRAGMA data_version
	return out
}

func TestBothStoresHaveTheSameSchema(t *testing.T) {
	lite := openAt(t, storetest.Location(t, "sqlite"))
	pg := openAt(t, storetest.Location(t, "postgres"))
	a, b := describe(t, lite), describe(t, pg)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("schemas differ\nsqlite:   %v\npostgres: %v", a, b)
	}
	for _, want := range []string{"runs", "transitions", "upstream_observations", "notices", "slo_daily", "run_summary", "leader_lease"} {
		if a[want] == nil {
			t.Errorf("no %s in the schema", want)
		}
	}
	va, _ := lite.SchemaVersion(context.Background())
	vb, _ := pg.SchemaVersion(context.Background())
	if va != KnownSchemaVersion() || vb != va {
		t.Fatalf("schema versions sqlite %d postgres %d, binary %d", va, vb, KnownSchemaVersion())
	}
}

// viewFixture writes runs covering every branch of slo_daily: met, missed,
// no deadline, skipped, failed past its deadline, open before its
// deadline, succeeded without a recover_by, and a rerun.
func viewFixture(t *testing.T, s *Store, future string) {
	t.Helper()
	ctx := context.Background()
	rows := []struct {
		p, d, state                                  string
		attempt                                      int
		gate, deadline, recoverBy, success, finished any
	}{
		{"met", "2026-11-21", "succeeded", 1, "2026-11-20T17:00:00.000Z", "2026-11-20T21:00:00.000Z", "2026-11-21T15:00:00.000Z", "2026-11-20T19:30:00.250Z", "2026-11-20T19:30:00.250Z"},
		{"late", "2026-11-21", "succeeded", 2, "2026-11-20T17:00:00.000Z", "2026-11-20T21:00:00.000Z", "2026-11-21T15:00:00.000Z", "2026-11-20T23:00:00.500Z", "2026-11-21T01:00:00.000Z"},
		{"nodeadline", "2026-11-21", "succeeded", 1, "2026-11-20T17:00:00.000Z", nil, nil, "2026-11-20T18:00:00.000Z", "2026-11-20T18:00:00.000Z"},
		{"skipped", "2026-11-21", "skipped", 1, "2026-11-20T17:00:00.000Z", "2026-11-20T21:00:00.000Z", "2026-11-21T15:00:00.000Z", nil, nil},
		{"failed", "2026-11-21", "failed", 1, "2026-11-20T17:00:00.000Z", "2026-11-20T21:00:00.000Z", "2026-11-21T15:00:00.000Z", nil, "2026-11-20T18:00:00.000Z"},
		{"open", "2099-01-01", "waiting", 1, "2026-11-20T17:00:00.000Z", future, future, nil, nil},
	}
	for _, r := range rows {
		var id int64
		err := s.w.QueryRowContext(ctx, `INSERT INTO runs (pipeline, logical_date, run_key, attempt, state, gate_at, attempt_at, timeout_at,
			deadline, recover_by, first_success_at, finished_at, spec, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?) RETURNING id`,
			r.p, r.d, r.d, r.attempt, r.state, r.gate, r.gate, r.gate, r.deadline, r.recoverBy, r.success, r.finished, r.gate).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < r.attempt; i++ {
			insertTransitionRow(t, s, id, r.p, r.d)
		}
		if _, err := s.AddNotice(ctx, sekisho.Notice{RunID: id, Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "n-" + r.p, CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
}

func insertTransitionRow(t *testing.T, s *Store, id int64, p, d string) {
	t.Helper()
	err := s.withTx(context.Background(), func(tx *sql.Tx) error {
		return s.insertTransition(context.Background(), tx, sekisho.Transition{RunID: id, Pipeline: p, LogicalDate: d, Attempt: 1,
			To: sekisho.StateWaiting, At: t0, Reason: sekisho.ReasonGateOpened})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dump renders every row of a query as text, so two stores' answers compare.
func dump(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			parts[i] = fmt.Sprintf("%s=%v", cols[i], v)
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestViewsAnswerAlike(t *testing.T) {
	lite := openAt(t, storetest.Location(t, "sqlite"))
	pg := openAt(t, storetest.Location(t, "postgres"))
	future := time.Now().UTC().Add(48 * time.Hour).Format(sekisho.TimeLayout)
	viewFixture(t, lite, future)
	viewFixture(t, pg, future)
	for _, q := range []string{
		`SELECT * FROM slo_daily ORDER BY pipeline, logical_date`,
		`SELECT * FROM run_summary ORDER BY run_id`,
	} {
		a, b := dump(t, lite.r, q), dump(t, pg.r, q)
		if len(a) != 6 || !reflect.DeepEqual(a, b) {
			t.Errorf("%s\nsqlite:\n  %s\npostgres:\n  %s", q, strings.Join(a, "\n  "), strings.Join(b, "\n  "))
		}
	}
	// Spot checks against the hand-computed answers (one store suffices:
	// the two agree).
	got := dump(t, lite.r, `SELECT pipeline, slo_met, sla_met, duration_seconds FROM slo_daily ORDER BY pipeline`)
	want := []string{
		"pipeline=failed slo_met=0 sla_met=0 duration_seconds=<nil>",
		"pipeline=late slo_met=0 sla_met=1 duration_seconds=21600",
		"pipeline=met slo_met=1 sla_met=1 duration_seconds=9000",
		"pipeline=nodeadline slo_met=<nil> sla_met=<nil> duration_seconds=3600",
		"pipeline=open slo_met=<nil> sla_met=<nil> duration_seconds=<nil>",
		"pipeline=skipped slo_met=<nil> sla_met=<nil> duration_seconds=<nil>",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("slo_daily\n got %q\nwant %q", got, want)
	}
}

func TestNoticesThreadsAndJobsAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-21")
		if ok, err := s.AddNotice(ctx, sekisho.Notice{RunID: r.ID, Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "a", CreatedAt: t0}); !ok || err != nil {
			t.Fatalf("add: %v %v", ok, err)
		}
		if ok, _ := s.AddNotice(ctx, sekisho.Notice{RunID: r.ID, Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "a", CreatedAt: t0}); ok {
			t.Fatal("a second notice with the same key was added")
		}
		pending, _ := s.PendingNotices(ctx, 10)
		if len(pending) != 1 {
			t.Fatalf("pending = %d", len(pending))
		}
		id := pending[0].ID
		if err := s.StartNoticeTry(ctx, id, t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.FailNoticeTry(ctx, id, t0.Add(2*time.Minute), "rate_limited"); err != nil {
			t.Fatal(err)
		}
		// Two tries turned away by a rate limit give their try back, but
		// never the first: an attempt went out.
		for range 2 {
			if err := s.StartNoticeTry(ctx, id, t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
			if err := s.ThrottledNoticeTry(ctx, id, t0.Add(2*time.Minute), "ratelimited"); err != nil {
				t.Fatal(err)
			}
		}
		if p, _ := s.PendingNotices(ctx, 10); len(p) != 1 || p[0].Tries != 1 || !p[0].NextTryAt.Equal(t0.Add(2*time.Minute)) {
			t.Fatalf("after throttled tries: %+v", p)
		}
		if ok, err := s.FinishNotice(ctx, id, t0.Add(3*time.Minute), "hello"); !ok || err != nil {
			t.Fatalf("finish: %v %v", ok, err)
		}
		if ok, _ := s.FinishNotice(ctx, id, t0, "again"); ok {
			t.Fatal("a sent notice was marked sent again")
		}
		all, _ := s.AllNotices(ctx)
		if len(all) != 1 || all[0].Tries != 1 || all[0].Text != "hello" || !all[0].SentAt.Equal(t0.Add(3*time.Minute)) {
			t.Fatalf("notice = %+v", all)
		}
		if n, _ := s.OutboxBacklog(ctx); n != 0 {
			t.Fatalf("backlog %d", n)
		}
		if err := s.SaveThread(ctx, r.ID, "C1", "1.1", t0); err != nil {
			t.Fatal(err)
		}
		s.SaveThread(ctx, r.ID, "C2", "2.2", t0)
		if ch, ts, ok, _ := s.Thread(ctx, r.ID); !ok || ch != "C1" || ts != "1.1" {
			t.Fatalf("thread %s %s %v", ch, ts, ok)
		}
		s.LearnJob(ctx, "trocco/1", "10", t0)
		s.LearnJob(ctx, "trocco/1", "10", t0)
		s.LearnJob(ctx, "trocco/1", "11", t0.Add(time.Hour))
		if ids, _ := s.LearnedJobs(ctx, "trocco/1", t0.Add(time.Minute)); !reflect.DeepEqual(ids, []string{"11"}) {
			t.Fatalf("learned = %v", ids)
		}
		runs, _ := s.Runs(ctx, RunFilter{Pipeline: "p", From: "2026-11-01", Limit: 5})
		if len(runs) != 1 || runs[0].ID != r.ID {
			t.Fatalf("runs = %+v", runs)
		}
		on, _ := s.RunsOn(ctx, []string{"2026-11-21", "2026-11-22"})
		if len(on) != 1 {
			t.Fatalf("runs on = %d", len(on))
		}
	})
}

func TestLeaseAndFencing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		a, b := openAt(t, loc), openAt(t, loc)
		la, err := a.ClaimLease(ctx, "a", 0, 6*time.Second)
		if err != nil || !la.Held("a") || la.Epoch != 1 {
			t.Fatalf("a's claim: %+v %v", la, err)
		}
		if d := la.ExpiresAt.Sub(la.Now); d != 6*time.Second {
			t.Fatalf("lease runs %v after the database's now, want 6s", d)
		}
		// b cannot take a live lease.
		lb, err := b.ClaimLease(ctx, "b", 0, 6*time.Second)
		if err != nil || lb.Held("b") || lb.Holder != "a" || lb.Epoch != 1 {
			t.Fatalf("b's claim of a live lease: %+v %v", lb, err)
		}
		// a renews under the same epoch.
		if la, err = a.ClaimLease(ctx, "a", 1, 6*time.Second); err != nil || !la.Held("a") || la.Epoch != 1 {
			t.Fatalf("renewal: %+v %v", la, err)
		}
		// Writes under a's epoch go through.
		actx := WithEpoch(ctx, 1)
		r := gate(t, a, "p", "2026-11-21")
		next := r
		next.State = sekisho.StateTriggered
		r2, err := a.Apply(actx, r, next, t0, Step{Reason: sekisho.ReasonConditionMet})
		if err != nil {
			t.Fatalf("apply as leader: %v", err)
		}
		// The lease runs out (the database's clock passed it: a was
		// paused); b takes it with the next epoch.
		if _, err := a.w.ExecContext(ctx, `UPDATE leader_lease SET expires_at = ?`, "2000-01-01T00:00:00.000Z"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.AddNotice(actx, sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "x", CreatedAt: t0}); !errors.Is(err, ErrFenced) {
			t.Fatalf("write on an expired lease: %v, want ErrFenced", err)
		}
		lb, err = b.ClaimLease(ctx, "b", 0, 6*time.Second)
		if err != nil || !lb.Held("b") || lb.Epoch != 2 {
			t.Fatalf("b's takeover: %+v %v", lb, err)
		}
		// a wakes up: every kind of write of epoch 1 is refused and
		// leaves nothing behind.
		stale := r2
		stale.State = sekisho.StateRunning
		if _, err := a.Apply(actx, r2, stale, t0, Step{Reason: sekisho.ReasonConditionMet,
			Notices: []sekisho.Notice{{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "y"}}}); !errors.Is(err, ErrFenced) {
			t.Fatalf("stale apply: %v", err)
		}
		if _, _, err := a.OpenGate(actx, sekisho.Run{Pipeline: "q", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil); !errors.Is(err, ErrFenced) {
			t.Fatalf("stale open gate: %v", err)
		}
		if _, err := a.RecordObservation(actx, r.ID, 1, sekisho.Observation{Upstream: "u", State: sekisho.JobRunning, ObservedAt: t0}); !errors.Is(err, ErrFenced) {
			t.Fatalf("stale observation: %v", err)
		}
		if err := a.StartNoticeTry(actx, 1, t0); !errors.Is(err, ErrFenced) {
			t.Fatalf("stale notice claim: %v", err)
		}
		if _, err := a.ClaimLease(ctx, "a", 1, 6*time.Second); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.Run(ctx, "p", "2026-11-21"); got.State != sekisho.StateTriggered || got.Version != r2.Version {
			t.Fatalf("a fenced write changed the run: %+v", got)
		}
		if n, _ := a.OutboxBacklog(ctx); n != 0 {
			t.Fatalf("a fenced write queued %d notices", n)
		}
		// The new leader's writes go through; writes without an epoch
		// (operator commands, pushed events) are not fenced.
		if _, err := b.Apply(WithEpoch(ctx, 2), r2, stale, t0, Step{Reason: sekisho.ReasonConditionMet}); err != nil {
			t.Fatalf("new leader's apply: %v", err)
		}
		if _, err := a.AddNotice(ctx, sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "op", CreatedAt: t0}); err != nil {
			t.Fatalf("unfenced write: %v", err)
		}
		// Release hands over at once, and the next leader's epoch grows.
		if err := b.ReleaseLease(ctx, "b", 2); err != nil {
			t.Fatal(err)
		}
		if cur, _ := a.ReadLease(ctx); cur.Held("b") || cur.Holder != "" {
			t.Fatalf("after release: %+v", cur)
		}
		if la, err = a.ClaimLease(ctx, "a", 1, 6*time.Second); err != nil || !la.Held("a") || la.Epoch != 3 {
			t.Fatalf("claim after release: %+v %v", la, err)
		}
		// A release by a replica that no longer holds the lease does nothing.
		if err := b.ReleaseLease(ctx, "b", 2); err != nil {
			t.Fatal(err)
		}
		if cur, _ := a.ReadLease(ctx); !cur.Held("a") || cur.Epoch != 3 {
			t.Fatalf("stale release changed the lease: %+v", cur)
		}
	})
}

// On PostgreSQL a fenced write holds the lease row until it commits, so a
// new leader cannot take over in the middle of an old leader's write.
func TestTakeoverWaitsForTheOldLeadersWrite(t *testing.T) {
	loc := pgtest.URL(t)
	ctx := context.Background()
	a, b := openAt(t, loc), openAt(t, loc)
	if _, err := a.ClaimLease(ctx, "a", 0, 6*time.Second); err != nil {
		t.Fatal(err)
	}
	inTx := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- a.withTx(WithEpoch(ctx, 1), func(tx *sql.Tx) error {
			close(inTx)
			<-release
			return nil
		})
	}()
	<-inTx
	expire := func() error {
		tx, err := b.w.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '300ms'`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE leader_lease SET expires_at = ?`, "2000-01-01T00:00:00.000Z"); err != nil {
			return err
		}
		return tx.Commit()
	}
	if err := expire(); err == nil || !strings.Contains(err.Error(), "lock timeout") {
		t.Fatalf("the lease row changed under an open fenced write: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := expire(); err != nil {
		t.Fatalf("after the write: %v", err)
	}
}

func TestSchemaNewerThanTheBinaryIsRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		s := openAt(t, loc)
		if _, err := s.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			999, "999_future.up.sql", ts(t0)); err != nil {
			t.Fatal(err)
		}
		for _, opts := range [][]Option{nil, {Create()}} {
			_, err := Open(ctx, loc, opts...)
			if !errors.Is(err, ErrSchemaNewer) {
				t.Fatalf("open %v: err = %v, want ErrSchemaNewer", opts, err)
			}
			want := fmt.Sprintf("schema is at version 999, this binary knows up to %d", KnownSchemaVersion())
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("error %q does not say %q", err, want)
			}
		}
	})
}

// TestOpenNeverMigrates: Open creates nothing and changes no schema; only
// Migrate does, and Current tells a store that needs it.
func TestOpenNeverMigrates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		if _, err := Open(ctx, loc); !errors.Is(err, ErrNoStore) {
			t.Fatalf("err = %v, want ErrNoStore", err)
		}
		s := openRaw(t, loc, Create())
		if v, _ := s.SchemaVersion(ctx); v != 0 {
			t.Fatalf("Open with Create migrated to version %d", v)
		}
		if err := s.Current(ctx); !errors.Is(err, ErrSchemaOlder) || !strings.Contains(err.Error(), "sekisho migrate") {
			t.Fatalf("Current on an empty store = %v, want ErrSchemaOlder saying to run sekisho migrate", err)
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		if v, _ := s.SchemaVersion(ctx); v != KnownSchemaVersion() || s.Current(ctx) != nil {
			t.Fatalf("after Migrate: version %d, Current %v", v, s.Current(ctx))
		}
	})
}

// A store created at migration 001 and filled by that version keeps its
// history when today's binary opens it: the reading commands use it as it
// is, the daemon migrates it, and the old rows read back the same.
func TestUpgradeFromMigration001(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		old := openMigratedTo(t, loc, 1)
		if v, _ := old.SchemaVersion(ctx); v != 1 {
			t.Fatalf("old store at version %d", v)
		}
		// The rows as sekisho of migration 001 wrote them: its SQL, by hand,
		// not today's code (which writes tables 001 does not have).
		fin := ts(t0.Add(3 * time.Hour))
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO runs (id, pipeline, logical_date, attempt, state, gate_at, attempt_at, timeout_at, deadline, recover_by,
				finished_at, first_success_at, spec, updated_at, version) VALUES (1, 'p', '2026-11-21', 1, 'succeeded', ?, ?, ?, ?, ?, ?, ?, '{}', ?, 2)`,
				[]any{ts(t0), ts(t0), ts(t0.Add(6 * time.Hour)), ts(t0.Add(4 * time.Hour)), ts(t0.Add(22 * time.Hour)), fin, fin, fin}},
			{`INSERT INTO transitions (run_id, pipeline, logical_date, attempt, from_state, to_state, at, reason) VALUES
				(1, 'p', '2026-11-21', 1, '', 'waiting', ?, 'gate_opened'), (1, 'p', '2026-11-21', 1, 'waiting', 'succeeded', ?, 'condition_met')`,
				[]any{ts(t0), fin}},
			{`INSERT INTO notices (run_id, pipeline, logical_date, attempt, kind, dedupe_key, created_at, next_try_at)
				VALUES (1, 'p', '2026-11-21', 1, 'upstream_failed', 'k', ?, ?)`, []any{fin, fin}},
			{`INSERT INTO upstream_observations (run_id, attempt, upstream, type, state, observed_at)
				VALUES (1, 1, 'u', 'glue_job', 'succeeded', ?)`, []any{ts(t0)}},
		} {
			if _, err := old.w.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatal(err)
			}
		}
		if old.Dialect() == Postgres {
			// Move the id sequence past the hand-written id, as inserts
			// through the sequence would have.
			if _, err := old.w.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('runs', 'id'), 1)`); err != nil {
				t.Fatal(err)
			}
		}
		r := sekisho.Run{ID: 1}
		old.Close()

		reader := openRaw(t, loc)
		if err := reader.Current(ctx); !errors.Is(err, ErrSchemaOlder) {
			t.Fatalf("Current on the old store = %v, want ErrSchemaOlder", err)
		}
		if got, err := reader.Run(ctx, "p", "2026-11-21"); err != nil || got.State != sekisho.StateSucceeded {
			t.Fatalf("reading the old store: %+v %v", got, err)
		}
		if v, _ := reader.SchemaVersion(ctx); v != 1 {
			t.Fatalf("a reading open migrated the store to %d", v)
		}

		s := openAt(t, loc)
		if v, _ := s.SchemaVersion(ctx); v != KnownSchemaVersion() {
			t.Fatalf("migrated to %d, want %d", v, KnownSchemaVersion())
		}
		got, err := s.Run(ctx, "p", "2026-11-21")
		if err != nil || got.State != sekisho.StateSucceeded || !got.FirstSuccessAt.Equal(t0.Add(3*time.Hour)) || got.Version != 2 {
			t.Fatalf("run after the upgrade: %+v %v", got, err)
		}
		trs, _ := s.Transitions(ctx, r.ID)
		obs, _ := s.Observations(ctx, r.ID)
		ns, _ := s.Notices(ctx, r.ID)
		if len(trs) != 2 || len(obs) != 1 || len(ns) != 1 {
			t.Fatalf("after the upgrade: %d transitions, %d observations, %d notices", len(trs), len(obs), len(ns))
		}
		var slo, sla int
		if err := s.r.QueryRowContext(ctx, `SELECT slo_met, sla_met FROM slo_daily WHERE pipeline = 'p'`).Scan(&slo, &sla); err != nil || slo != 1 || sla != 1 {
			t.Fatalf("slo_daily after the upgrade: %d %d %v", slo, sla, err)
		}
		// The new binary writes to the upgraded store, fenced or not.
		if _, err := s.ClaimLease(ctx, "me", 0, time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.OpenGate(WithEpoch(ctx, 1), sekisho.Run{Pipeline: "p", LogicalDate: "2026-11-22", Key: "2026-11-22", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPushedEventsQueue(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := sekisho.Resource{Type: "glue_job", ID: "export"}
		for i, st := range []sekisho.JobState{sekisho.JobRunning, sekisho.JobSucceeded, sekisho.JobFailed} {
			if err := s.QueuePushedEvent(ctx, r, sekisho.JobRun{ExternalID: fmt.Sprintf("jr_%d", i), State: st,
				StartedAt: t0, FinishedAt: t0.Add(time.Duration(i) * time.Minute)}, t0); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.TakePushedEvents(ctx, 2)
		if err != nil || len(got) != 2 || got[0].Run.ExternalID != "jr_0" || got[1].Run.State != sekisho.JobSucceeded ||
			got[0].Resource != r || !got[1].Run.FinishedAt.Equal(t0.Add(time.Minute)) {
			t.Fatalf("first take: %+v %v", got, err)
		}
		// A fenced replica takes nothing, and the event stays queued.
		if _, err := s.TakePushedEvents(WithEpoch(ctx, 99), 10); !errors.Is(err, ErrFenced) {
			t.Fatalf("fenced take: %v", err)
		}
		got, _ = s.TakePushedEvents(ctx, 10)
		if len(got) != 1 || got[0].Run.ExternalID != "jr_2" {
			t.Fatalf("second take: %+v", got)
		}
		if got, _ = s.TakePushedEvents(ctx, 10); len(got) != 0 {
			t.Fatalf("queue not empty: %+v", got)
		}
	})
}

// TestEmptyPushedQueueTakesNoWrite: the leader takes the queue twice a
// second, and an empty one is looked at on a reader, so the take neither
// waits for the writer nor holds it. Another connection holds the queue's
// write lock with an event not committed yet: the take answers that the
// queue is empty, with no error, where a write transaction would wait for
// the lock. Once that event is committed, it is taken.
func TestEmptyPushedQueueTakesNoWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		s := openAt(t, loc)
		ctx := context.Background()
		raw, err := RawDB(loc)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		tx, err := raw.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if s.Dialect() == Postgres {
			// DELETE needs ROW EXCLUSIVE, which this mode refuses; a
			// SELECT's ACCESS SHARE it allows.
			if _, err := tx.ExecContext(ctx, `LOCK TABLE pushed_events IN SHARE ROW EXCLUSIVE MODE`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pushed_events (resource_type, connection, resource_id, external_id, state,
			started_at, finished_at, message, received_at) VALUES ('glue_job', '', 'export', 'jr_1', 'SUCCEEDED', NULL, NULL, '', ?)`, ts(t0)); err != nil {
			t.Fatal(err)
		}
		// A bound, not a wait: a take that needs the writer fails here.
		bound, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if got, err := s.TakePushedEvents(bound, 10); err != nil || len(got) != 0 {
			t.Fatalf("take of the empty queue while the writer is held: %+v, %v", got, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got, err := s.TakePushedEvents(ctx, 10); err != nil || len(got) != 1 || got[0].Run.ExternalID != "jr_1" {
			t.Fatalf("take after the commit: %+v, %v", got, err)
		}
	})
}

func TestReadPoolRefusesWrites(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		if _, err := s.ReadDB().Exec(`INSERT INTO learned_jobs (resource, job_id, learned_at) VALUES (?, ?, ?)`, "r", "1", ts(t0)); err == nil {
			t.Fatal("the read pool wrote a row")
		}
	})
}

func TestQueryAlertsAlike(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		a := QueryAlert{Watch: "w", Warehouse: "dwh", Key: "123@t", User: "etl", PID: "123", StartedAt: t0, Text: "SELECT 1", AlertedAt: t0.Add(time.Hour)}
		n := sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "qa-1"}
		if ok, err := s.AddQueryAlert(ctx, a, n); !ok || err != nil {
			t.Fatalf("add: %v %v", ok, err)
		}
		if ok, _ := s.AddQueryAlert(ctx, a, sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "qa-2"}); ok {
			t.Fatal("the same query alerted twice")
		}
		open, err := s.OpenQueryAlerts(ctx, "w")
		if err != nil || len(open) != 1 || open[0].Key != "123@t" || !open[0].StartedAt.Equal(t0) {
			t.Fatalf("open: %+v %v", open, err)
		}
		if err := s.SaveQueryThread(ctx, "w", "123@t", "C1", "1.2"); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.EndQueryAlert(ctx, open[0].ID, t0.Add(2*time.Hour), sekisho.Notice{}); !ok || err != nil {
			t.Fatalf("end: %v %v", ok, err)
		}
		got, err := s.QueryAlertByKey(ctx, "w", "123@t")
		if err != nil || got.ThreadTS != "1.2" || !got.EndedAt.Equal(t0.Add(2*time.Hour)) {
			t.Fatalf("by key: %+v %v", got, err)
		}
		if total, open, err := s.CountQueryAlerts(ctx); total != 1 || open != 0 || err != nil {
			t.Fatalf("count %d %d %v", total, open, err)
		}
		if n, _ := s.OutboxBacklog(ctx); n != 1 {
			t.Fatalf("notices queued: %d", n)
		}
	})
}

func TestHeldNoticeIsNotDueUntilItsTime(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		r := gate(t, s, "p", "2026-11-21")
		if _, err := s.AddNotice(ctx, sekisho.Notice{RunID: r.ID, Kind: sekisho.NoticeUpstreamFailed, DedupeKey: "held", CreatedAt: t0}); err != nil {
			t.Fatal(err)
		}
		pending, _ := s.PendingNotices(ctx, 10)
		if n, err := s.OutboxDue(ctx, t0); n != 1 || err != nil {
			t.Fatalf("due before the hold = %d, %v; want 1", n, err)
		}
		until := t0.Add(30 * time.Second)
		if err := s.HoldNotice(ctx, pending[0].ID, until); err != nil {
			t.Fatal(err)
		}
		if n, _ := s.OutboxDue(ctx, t0.Add(29*time.Second)); n != 0 {
			t.Errorf("due during the hold = %d, want 0", n)
		}
		if n, _ := s.OutboxDue(ctx, until); n != 1 {
			t.Errorf("due at the hold's end = %d, want 1", n)
		}
		if n, _ := s.OutboxBacklog(ctx); n != 1 {
			t.Errorf("backlog = %d, want 1 (held is still undelivered)", n)
		}
		again, _ := s.PendingNotices(ctx, 10)
		if again[0].Tries != pending[0].Tries {
			t.Errorf("a hold counted a try: %d -> %d", pending[0].Tries, again[0].Tries)
		}
	})
}
