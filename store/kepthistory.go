package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Kept histories (migration 016): the summary of each pipeline's ETA
// history before a date, kept so the next reader (the daemon after a
// restart, a replica, `sekisho status`) reads one row a pipeline instead of
// its month of runs. The store keeps the summaries as text it does not
// read (policy/eta encodes them); the migration's triggers delete a
// pipeline's summaries of later dates whenever a write changes what they
// were made of. A reader:
//
//  1. EachKeptHistory: the kept summaries, and which pipelines have a
//     history but no summary;
//  2. ClaimHistories for those, before reading their times;
//  3. EachLineTimes, summarising each;
//  4. KeepHistories under the claim: a row that a write deleted since the
//     claim stays deleted, so a summary of older times is never kept.

// keptHistoryVersion is the migration that added eta_summaries.
const keptHistoryVersion = 16

// ErrNoKeptHistory is ClaimHistories' answer on a store whose schema
// predates kept histories (opened without migrating): the reader reads
// the times and keeps nothing.
var ErrNoKeptHistory = errors.New("store: this store's schema keeps no ETA history summaries (it predates migration 016)")

// keptHistoryDays is how long a date's summaries are kept once a later date
// is claimed: a listing shows the current logical dates and a few before.
const keptHistoryDays = 7

// EachKeptHistory calls fn, for each of pipelines, with its kept summary
// of the history before date over the last n runs (kept true), or, for a
// pipeline with a run before date but no summary kept, with kept false. A
// pipeline without a run before date has no history and is skipped. On a
// store without kept histories every pipeline comes with kept false.
func (s *Store) EachKeptHistory(ctx context.Context, pipelines []string, before string, n int,
	fn func(pipeline, summary string, kept bool)) error {
	if s.schema < keptHistoryVersion {
		for _, p := range pipelines {
			fn(p, "", false)
		}
		return nil
	}
	// On a store whose runs all start on or after date (its first day,
	// or the daemon bench's) no pipeline has a history: one probe of the
	// date index instead of one a pipeline.
	var earlier bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE logical_date < ?)`, before).Scan(&earlier); err != nil {
		return fmt.Errorf("store: kept histories: %w", err)
	}
	if !earlier {
		return nil
	}
	var summary sql.NullString
	err := s.eachBatch(ctx, pipelines, `SELECT v.i, s.summary FROM v
		LEFT JOIN eta_summaries s ON s.pipeline = v.p AND s.before_date = ?1 AND s.runs = ?2
		WHERE s.summary IS NOT NULL OR EXISTS (SELECT 1 FROM runs WHERE pipeline = v.p AND logical_date < ?1)`,
		[]any{before, n}, []any{&summary}, func(p string) { fn(p, summary.String, summary.Valid) })
	if err != nil {
		return fmt.Errorf("store: kept histories: %w", err)
	}
	return nil
}

// eachBatch runs q (after pipelineBatch's VALUES list v(i, p); its first
// two arguments first2) over pipelines a batch of historyBatch at a time,
// one prepared statement, scans each row's v.i and then dest, and calls fn
// with the pipeline v.i names.
func (s *Store) eachBatch(ctx context.Context, pipelines []string, q string, first2, dest []any, fn func(pipeline string)) error {
	if len(pipelines) == 0 {
		return nil
	}
	// In name order: the engine writes a day's runs (and their
	// observations) together, so neighbours by name share pages, and a
	// page read for one pipeline serves the next ones from SQLite's
	// cache. In a caller's order (a map's) every run was a page read:
	// 6.7 s instead of ~1 s for 10,000 pipelines with a month of runs.
	if !slices.IsSorted(pipelines) {
		pipelines = slices.Clone(pipelines)
		slices.Sort(pipelines)
	}
	batch := min(len(pipelines), historyBatch)
	stmt, err := s.r.PrepareContext(ctx, pipelineBatch(batch)+q)
	if err != nil {
		return err
	}
	defer stmt.Close()
	args := make([]any, 2+batch)
	copy(args, first2)
	var i int
	dest = append([]any{&i}, dest...)
	for len(pipelines) > 0 {
		part := pipelines[:min(len(pipelines), batch)]
		batchArgs(args, part)
		if err := eachScanned(ctx, stmt, args, dest, func() {
			if i >= 0 && i < len(part) {
				fn(part[i])
			}
		}); err != nil {
			return fmt.Errorf("%s…: %w", part[0], err)
		}
		pipelines = pipelines[len(part):]
	}
	return nil
}

// eachScanned runs stmt, scans each row into dest and calls fn.
func eachScanned(ctx context.Context, stmt *sql.Stmt, args, dest []any, fn func()) error {
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn()
	}
	return rows.Err()
}

// ClaimHistories claims the summaries of pipelines' histories before date
// over the last n runs, to be kept (KeepHistories) under the claim it
// returns: call it before reading the times the summaries are made of. A
// claim replaces any summary kept of those pipelines and date. It prunes
// the summaries of dates more than a week before date. It writes nothing
// a listing reads.
func (s *Store) ClaimHistories(ctx context.Context, pipelines []string, before string, n int) (int64, error) {
	if s.schema < keptHistoryVersion {
		return 0, ErrNoKeptHistory
	}
	claim := rand.Int64()
	if cutoff, ok := keptHistoryCutoff(before); ok {
		if _, err := s.quietExec(ctx, `DELETE FROM eta_summaries WHERE before_date < ?`, cutoff); err != nil {
			return 0, fmt.Errorf("store: claim kept histories: %w", err)
		}
	}
	err := s.eachKeptRow(ctx, pipelines, `INSERT INTO eta_summaries (pipeline, before_date, runs, claim, summary)
		VALUES (?, ?, ?, ?, NULL) ON CONFLICT (pipeline, before_date, runs) DO UPDATE SET claim = excluded.claim, summary = NULL`,
		func(i int, p string) []any { return []any{p, before, n, claim} })
	if err != nil {
		return 0, fmt.Errorf("store: claim kept histories: %w", err)
	}
	return claim, nil
}

// eachKeptRow runs the write q once for each of pipelines with args(i,
// pipeline), in a quiet transaction a batch of historyBatch: on SQLite a
// run's write waits for the one writer at most one batch (~1 ms), not the
// ~30 ms of 10,000 rows.
func (s *Store) eachKeptRow(ctx context.Context, pipelines []string, q string, args func(i int, pipeline string) []any) error {
	for from := 0; from < len(pipelines); from += historyBatch {
		part := pipelines[from:min(len(pipelines), from+historyBatch)]
		err := s.quietTx(ctx, func(tx *sql.Tx) error {
			if err := s.neverWaitLong(ctx, tx); err != nil {
				return err
			}
			stmt, err := tx.PrepareContext(ctx, q)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for i, p := range part {
				if _, err := stmt.ExecContext(ctx, args(from+i, p)...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// keptHistoryCutoff is the date before which summaries are pruned when
// date's are claimed: keptHistoryDays before it. ok is false for a date
// that does not start with a calendar day (none is pruned then).
func keptHistoryCutoff(date string) (string, bool) {
	if len(date) < len(time.DateOnly) {
		return "", false
	}
	d, err := time.Parse(time.DateOnly, date[:len(time.DateOnly)])
	if err != nil {
		return "", false
	}
	return d.AddDate(0, 0, -keptHistoryDays).Format(time.DateOnly), true
}

// KeepHistories keeps summaries[i] as pipelines[i]'s summary of its
// history before date over the last n runs, where the row is still under
// claim: one a write deleted since (its history changed) stays deleted.
// It writes nothing a listing reads.
func (s *Store) KeepHistories(ctx context.Context, claim int64, before string, n int, pipelines, summaries []string) error {
	if len(pipelines) != len(summaries) {
		return fmt.Errorf("store: keep histories: %d pipelines, %d summaries", len(pipelines), len(summaries))
	}
	err := s.eachKeptRow(ctx, pipelines, `UPDATE eta_summaries SET summary = ?
		WHERE pipeline = ? AND before_date = ? AND runs = ? AND claim = ?`,
		func(i int, p string) []any { return []any{summaries[i], p, before, n, claim} })
	if err != nil {
		return fmt.Errorf("store: keep histories: %w", err)
	}
	return nil
}

// keptHistoryLockWait is how long a claim or a keeping waits for a row
// lock on PostgreSQL before it gives up (and keeps nothing).
const keptHistoryLockWait = "100ms"

// neverWaitLong bounds how long tx waits for a row lock on PostgreSQL. A
// claim or a keeping locks many pipelines' summaries in name order while a
// run's write deletes them through the triggers in its own order, so the
// two can wait on each other; the cache's write gives up first, and the
// run's write is never the one PostgreSQL cancels as a deadlock's victim.
// SQLite has one writer and no row locks.
func (s *Store) neverWaitLong(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '`+keptHistoryLockWait+`'`)
	return err
}
