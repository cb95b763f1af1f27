package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// RecordObservation appends o for a run's upstream when it differs from the
// latest stored one (state, external id, times, message or error), so the
// table holds changes, not every poll. It reports whether it wrote a row.
func (s *Store) RecordObservation(ctx context.Context, runID int64, attempt int, o sekisho.Observation) (bool, error) {
	wrote := false
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		prev, ok, err := latestObservation(ctx, tx, runID, o.Upstream)
		if err != nil {
			return err
		}
		if ok && sameObservation(prev, o) {
			return nil
		}
		wrote = true
		_, err = tx.ExecContext(ctx, `INSERT INTO upstream_observations (run_id, attempt, upstream, type, state, external_id,
			started_at, finished_at, message, error, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			runID, attempt, o.Upstream, o.Type, string(o.State), o.ExternalID, nts(o.StartedAt), nts(o.FinishedAt),
			o.Message, o.Error, ts(o.ObservedAt))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: record observation: %w", err)
	}
	return wrote, nil
}

func sameObservation(a, b sekisho.Observation) bool {
	return a.State == b.State && a.ExternalID == b.ExternalID && a.Message == b.Message && a.Error == b.Error &&
		a.StartedAt.Truncate(time.Millisecond).Equal(b.StartedAt.Truncate(time.Millisecond)) &&
		a.FinishedAt.Truncate(time.Millisecond).Equal(b.FinishedAt.Truncate(time.Millisecond))
}

const obsColumns = `upstream, type, state, external_id, started_at, finished_at, message, error, observed_at`

func scanObservation(sc scanner) (sekisho.Observation, error) {
	var o sekisho.Observation
	var state, observed string
	var started, finished sql.NullString
	if err := sc.Scan(&o.Upstream, &o.Type, &state, &o.ExternalID, &started, &finished, &o.Message, &o.Error, &observed); err != nil {
		return o, err
	}
	o.State = sekisho.JobState(state)
	o.StartedAt, o.FinishedAt = parseTS(started), parseTS(finished)
	o.ObservedAt = parseTS(sql.NullString{String: observed, Valid: true})
	return o, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

func latestObservation(ctx context.Context, q querier, runID int64, upstream string) (sekisho.Observation, bool, error) {
	o, err := scanObservation(q.QueryRowContext(ctx, `SELECT `+obsColumns+` FROM upstream_observations
		WHERE run_id = ? AND upstream = ? ORDER BY id DESC LIMIT 1`, runID, upstream))
	if err == sql.ErrNoRows {
		return o, false, nil
	}
	return o, err == nil, err
}

// LatestObservations returns the latest observation of each upstream of a run.
func (s *Store) LatestObservations(ctx context.Context, runID int64) (map[string]sekisho.Observation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+obsColumns+` FROM upstream_observations o
		WHERE run_id = ? AND id = (SELECT MAX(id) FROM upstream_observations WHERE run_id = o.run_id AND upstream = o.upstream)`, runID)
	if err != nil {
		return nil, fmt.Errorf("store: observations: %w", err)
	}
	defer rows.Close()
	return byUpstream(rows)
}

// Observations returns every observation row of a run, oldest first.
func (s *Store) Observations(ctx context.Context, runID int64) ([]sekisho.Observation, error) {
	return queryAll(ctx, s.r, "observations", scanObservation,
		`SELECT `+obsColumns+` FROM upstream_observations WHERE run_id = ? ORDER BY id`, runID)
}
