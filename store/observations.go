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
	err := s.quietTx(ctx, func(tx *sql.Tx) error {
		prev, ok, err := latestObservation(ctx, tx, runID, o.Upstream)
		if err != nil {
			return err
		}
		if ok && sameObservation(prev, o) {
			return nil
		}
		wrote = true
		_, err = tx.ExecContext(ctx, `INSERT INTO upstream_observations (run_id, attempt, upstream, type, state, external_id,
			started_at, finished_at, message, error, observed_at, value, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			runID, attempt, o.Upstream, o.Type, string(o.State), o.ExternalID, nts(o.StartedAt), nts(o.FinishedAt),
			o.Message, o.Error, ts(o.ObservedAt), nullFloat(o.Value), o.Reason)
		return err
	})
	if wrote {
		s.changed() // most checks see nothing new: only a new row is a change
	}
	if err != nil {
		return false, fmt.Errorf("store: record observation: %w", err)
	}
	return wrote, nil
}

func sameObservation(a, b sekisho.Observation) bool {
	return a.State == b.State && a.ExternalID == b.ExternalID && a.Message == b.Message && a.Error == b.Error &&
		a.Reason == b.Reason && sameValue(a.Value, b.Value) &&
		a.StartedAt.Truncate(time.Millisecond).Equal(b.StartedAt.Truncate(time.Millisecond)) &&
		a.FinishedAt.Truncate(time.Millisecond).Equal(b.FinishedAt.Truncate(time.Millisecond))
}

// sameValue reports whether two data check values are the same (both
// absent, or equal).
func sameValue(a, b *float64) bool {
	return (a == nil) == (b == nil) && (a == nil || *a == *b)
}

func nullFloat(v *float64) sql.NullFloat64 {
	if v == nil {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: *v, Valid: true}
}

const obsColumns = `upstream, type, state, external_id, started_at, finished_at, message, error, observed_at, value, reason`

func scanObservation(sc scanner) (sekisho.Observation, error) {
	var o sekisho.Observation
	var state, observed string
	var started, finished sql.NullString
	var value sql.NullFloat64
	if err := sc.Scan(&o.Upstream, &o.Type, &state, &o.ExternalID, &started, &finished, &o.Message, &o.Error, &observed,
		&value, &o.Reason); err != nil {
		return o, err
	}
	if value.Valid {
		o.Value = &value.Float64
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

// DatedValue is a data check's value on one logical date.
type DatedValue struct {
	Date  string
	Value float64
}

// UpstreamValues returns a data check's values on the pipeline's succeeded
// days from since up to (not including) before, oldest first: per run, the
// value of the latest succeeded observation that has one. It is the
// history an expectation's vs_history compares with (SPEC §21).
func (s *Store) UpstreamValues(ctx context.Context, pipeline, upstream, since, before string) ([]DatedValue, error) {
	return queryAll(ctx, s.r, "upstream values", func(sc scanner) (DatedValue, error) {
		var d DatedValue
		err := sc.Scan(&d.Date, &d.Value)
		return d, err
	}, `SELECT r.logical_date, o.value FROM runs r JOIN upstream_observations o ON o.run_id = r.id
		WHERE r.pipeline = ? AND r.logical_date >= ? AND r.logical_date < ? AND r.first_success_at IS NOT NULL
		AND o.id = (SELECT MAX(id) FROM upstream_observations WHERE run_id = r.id AND upstream = ?
			AND state = 'succeeded' AND value IS NOT NULL)
		ORDER BY r.logical_date`, pipeline, since, before, upstream)
}
