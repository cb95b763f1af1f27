package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// preparedStmts are the SQLite statements the waiting daemon runs many
// times a minute, prepared once on their connection. modernc's driver
// parses every statement it is handed, and parsing SQL was an eighth of
// the daemon's CPU while 10,000 pipelines waited (issue 23); the lease
// check opens every write transaction, the poll schedule is written every
// pass, the data version is read every pass. PostgreSQL's driver (pgx)
// keeps a statement cache of its own, so there the plain statements serve.
type preparedStmts struct {
	mu    sync.Mutex
	ready atomic.Bool
	// fence is beginWrite's lease check, nextCheck SetNextChecks' upsert
	// of one resource, dataVersion DataVersion's pragma, latestObs the
	// look-up RecordObservations makes for one observation (a pass's
	// usual one: a poll's answer moves one run), insertObs its insert of
	// one row, which SQLite compiles with latest_observations' triggers
	// (migration 017): parsed afresh, the pair was twice the write;
	// insertObsChunk its insert of obsChunk rows, what a first look at
	// new gates writes most of its rows with.
	fence, nextCheck, dataVersion, latestObs, insertObs, insertObsChunk *sql.Stmt
	// finishes is UpstreamFinishes' query, on the readers (database/sql
	// prepares it on each reader connection as it first runs there): the
	// poll planner asks it once a day for each resource, 2,000 times as
	// 10,000 gates open at one instant, where parsing it was half the
	// planner's start-up CPU (issue 23).
	finishes *sql.Stmt
	// applyRun and insertTransition are Apply's update of the run and
	// insert of its transition, runByID the engine's read of a run when a
	// downstream request is answered (RunByID): the statements of a
	// followed DAG run's every check. recordGrant is RecordGrant's insert,
	// one for each request a budget lets through.
	applyRun, insertTransition, runByID, recordGrant *sql.Stmt
	made                                             []*sql.Stmt // all of them, closed by closeStmts
}

// prepare prepares the statements on the writer, unless they are already.
// It must not be called inside a write transaction: the writer has one
// connection. A store whose tables are not there yet (before Migrate)
// prepares nothing, and neither does one short of this binary's schema:
// the plain statements serve until a later call finds them.
func (s *Store) prepare(ctx context.Context) {
	p := &s.stmts
	// Only on the schema this binary knows: a statement's text (the run's
	// key column, say) is picked for it, and one prepared midway through
	// Migrate would keep an older text.
	if s.dialect != SQLite || p.ready.Load() || s.schema != KnownSchemaVersion() {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready.Load() {
		return
	}
	var made []*sql.Stmt
	// prepOn prepares q on db, the writer or the readers.
	prepOn := func(db *sql.DB, q string) *sql.Stmt {
		st, err := db.PrepareContext(ctx, q)
		if err != nil {
			return nil
		}
		made = append(made, st)
		return st
	}
	prep := func(q string) *sql.Stmt { return prepOn(s.w, q) }
	fence, next, version, latest := prep(s.fenceQuery()), prep(nextCheckUpsert+`(?, ?, ?)`+nextCheckConflict), prep(`PRAGMA data_version`), prep(latestObsQuery)
	insert, insertChunk := prep(obsInsert(1)), prep(obsInsert(obsChunk))
	apply, transition, grant := prep(applyRunQuery), prep(insertTransitionsQuery+transitionRow), prep(recordGrantQuery)
	finishes, byID := prepOn(s.r, upstreamFinishesQuery), prepOn(s.r, s.runByIDQuery())
	if fence == nil || next == nil || version == nil || latest == nil || insert == nil || insertChunk == nil || finishes == nil ||
		apply == nil || transition == nil || byID == nil || grant == nil {
		for _, st := range made {
			st.Close()
		}
		return
	}
	p.fence, p.nextCheck, p.dataVersion, p.latestObs, p.insertObs, p.insertObsChunk, p.finishes = fence, next, version, latest, insert, insertChunk, finishes
	p.applyRun, p.insertTransition, p.runByID, p.recordGrant = apply, transition, byID, grant
	p.made = made
	p.ready.Store(true)
}

// stmt is st for tx when the statements are prepared, and nil otherwise:
// the caller then runs its plain statement.
func (s *Store) stmt(ctx context.Context, tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	if !s.stmts.ready.Load() {
		return nil
	}
	return tx.StmtContext(ctx, st)
}

// exec runs q in tx with args: through st, q's prepared statement, when
// the statements are prepared.
func (s *Store) exec(ctx context.Context, tx *sql.Tx, st *sql.Stmt, q string, args ...any) (sql.Result, error) {
	if st := s.stmt(ctx, tx, st); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

// query runs the read q with args on the readers: through st, q's
// prepared statement, when the statements are prepared.
func (s *Store) query(ctx context.Context, st *sql.Stmt, q string, args ...any) (*sql.Rows, error) {
	if s.stmts.ready.Load() {
		return st.QueryContext(ctx, args...)
	}
	return s.r.QueryContext(ctx, q, args...)
}

// queryRow is query for one row.
func (s *Store) queryRow(ctx context.Context, st *sql.Stmt, q string, args ...any) *sql.Row {
	if s.stmts.ready.Load() {
		return st.QueryRowContext(ctx, args...)
	}
	return s.r.QueryRowContext(ctx, q, args...)
}

// closeStmts closes the prepared statements (Close).
func (s *Store) closeStmts() {
	p := &s.stmts
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ready.Load() {
		for _, st := range p.made {
			st.Close()
		}
		p.ready.Store(false)
	}
}
