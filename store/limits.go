package store

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"time"
)

// SetNextCheck records when a resource (its Resource.Key) is checked next.
func (s *Store) SetNextCheck(ctx context.Context, resourceKey string, at, now time.Time) error {
	return s.SetNextChecks(ctx, map[string]time.Time{resourceKey: at}, now)
}

// SetNextChecks publishes when each of many resources (by key) is checked
// next, in one transaction: the engine publishes a pass's polls together,
// where a transaction per poll made 2,000 resources a write every 30 ms
// competing with the loop's own.
func (s *Store) SetNextChecks(ctx context.Context, at map[string]time.Time, now time.Time) error {
	if len(at) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(at))
	return s.quietTx(ctx, func(tx *sql.Tx) error {
		if st := s.stmt(ctx, tx, s.stmts.nextCheck); st != nil {
			// SQLite: one prepared statement a resource costs less than
			// parsing a statement of many rows each time.
			for _, k := range keys {
				if _, err := st.ExecContext(ctx, k, ts(at[k]), ts(now)); err != nil {
					return err
				}
			}
			return nil
		}
		for part := range slices.Chunk(keys, 500) {
			args := make([]any, 0, 3*len(part))
			for _, k := range part {
				args = append(args, k, ts(at[k]), ts(now))
			}
			if _, err := tx.ExecContext(ctx, nextCheckUpsert+valueRows("(?, ?, ?)", len(part))+nextCheckConflict, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// nextCheckUpsert and nextCheckConflict enclose SetNextChecks' rows.
const (
	nextCheckUpsert   = `INSERT INTO poll_schedule (resource_key, next_check_at, updated_at) VALUES `
	nextCheckConflict = `
				ON CONFLICT (resource_key) DO UPDATE SET next_check_at = excluded.next_check_at, updated_at = excluded.updated_at`
)

// NextChecks returns the next check of every scheduled resource, by key.
func (s *Store) NextChecks(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT resource_key, next_check_at FROM poll_schedule`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var key string
		var at sql.NullString
		if err := rows.Scan(&key, &at); err != nil {
			return nil, err
		}
		out[key] = parseTS(at)
	}
	return out, rows.Err()
}

// DropNextChecks forgets the schedule of resources no run waits on any more.
func (s *Store) DropNextChecks(ctx context.Context, keep map[string]bool) error {
	rows, err := s.r.QueryContext(ctx, `SELECT resource_key FROM poll_schedule`)
	if err != nil {
		return err
	}
	var drop []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return err
		}
		if !keep[k] {
			drop = append(drop, k)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return s.quietTx(ctx, func(tx *sql.Tx) error {
		for _, k := range drop {
			if _, err := tx.ExecContext(ctx, `DELETE FROM poll_schedule WHERE resource_key = ?`, k); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForgetNextChecks forgets the schedule of the resources keys names, in
// one statement per 500: the engine forgets the few it stopped polling,
// where DropNextChecks reads every row.
func (s *Store) ForgetNextChecks(ctx context.Context, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return s.quietTx(ctx, func(tx *sql.Tx) error {
		for part := range slices.Chunk(keys, 500) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM poll_schedule WHERE resource_key IN (`+placeholders(len(part))+`)`,
				strArgs(part)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecordEventTest remembers that a test send of source (e.g. "trocco")
// arrived at; it changes no run.
func (s *Store) RecordEventTest(ctx context.Context, source string, at time.Time) error {
	_, err := s.quietExec(ctx, `INSERT INTO event_tests (source, last_at) VALUES (?, ?)
		ON CONFLICT (source) DO UPDATE SET last_at = excluded.last_at`, source, ts(at))
	return err
}

// LastEventTest is when the last test send of source arrived; zero if none.
func (s *Store) LastEventTest(ctx context.Context, source string) (time.Time, error) {
	var at sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT last_at FROM event_tests WHERE source = ?`, source).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	return parseTS(at), err
}

// UpstreamFinishes returns when an upstream of a pipeline finished
// successfully on its last n runs, newest first: the history pollplan
// schedules a resource's checks from (SPEC §13). A run counted once, by
// its latest successful observation.
func (s *Store) UpstreamFinishes(ctx context.Context, pipeline, upstream string, n int) ([]time.Time, error) {
	return scanTimes(s.query(ctx, s.stmts.finishes, upstreamFinishesQuery, pipeline, upstream, n))
}

const upstreamFinishesQuery = `SELECT MAX(o.finished_at) FROM upstream_observations o
		JOIN runs r ON r.id = o.run_id
		WHERE r.pipeline = ? AND o.upstream = ? AND o.state = 'succeeded' AND o.finished_at IS NOT NULL
		GROUP BY o.run_id
		ORDER BY MAX(o.finished_at) DESC
		LIMIT ?`

// RecordGrant remembers one call a connection's budget granted.
func (s *Store) RecordGrant(ctx context.Context, connection string, at time.Time) error {
	return s.quietTx(ctx, func(tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, s.stmts.recordGrant, recordGrantQuery, connection, ts(at))
		return err
	})
}

const recordGrantQuery = `INSERT INTO budget_grants (connection, at) VALUES (?, ?)`

// Grants returns a connection's grants at or after since, oldest first.
func (s *Store) Grants(ctx context.Context, connection string, since time.Time) ([]time.Time, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT at FROM budget_grants WHERE connection = ? AND at >= ? ORDER BY at`,
		connection, ts(since))
	return scanTimes(rows, err)
}

// PruneGrants forgets grants before a time (older than any budget window).
func (s *Store) PruneGrants(ctx context.Context, before time.Time) error {
	_, err := s.quietExec(ctx, `DELETE FROM budget_grants WHERE at < ?`, ts(before))
	return err
}

// scanTimes reads a one-column query of stored times, leaving out NULLs.
func scanTimes(rows *sql.Rows, err error) ([]time.Time, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var at sql.NullString
		if err := rows.Scan(&at); err != nil {
			return nil, err
		}
		if t := parseTS(at); !t.IsZero() {
			out = append(out, t)
		}
	}
	return out, rows.Err()
}
