package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Queries of the observability services (package observe): they tail the
// append-only transitions with a durable cursor each, and read a run's
// observations to describe it.

// Cursor returns the id of the last transition the named service delivered,
// 0 when it has delivered none.
func (s *Store) Cursor(ctx context.Context, name string) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT transition_id FROM observe_cursors WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: cursor %s: %w", name, err)
	}
	return id, nil
}

// AdvanceCursor moves the named cursor to transition id; it never moves a
// cursor back, so two processes catching up at once cannot undo each other.
func (s *Store) AdvanceCursor(ctx context.Context, name string, id int64, at time.Time) error {
	_, err := s.quietExec(ctx, `INSERT INTO observe_cursors (name, transition_id, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET transition_id = excluded.transition_id, updated_at = excluded.updated_at
		WHERE observe_cursors.transition_id < excluded.transition_id`, name, id, ts(at))
	if err != nil {
		return fmt.Errorf("store: advance cursor %s: %w", name, err)
	}
	return nil
}

// LastTransitionBefore returns the id of the last transition before at, 0
// when there is none: where a service that has never run starts tailing,
// so its first start does not replay years of history.
func (s *Store) LastTransitionBefore(ctx context.Context, at time.Time) (int64, error) {
	var id int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM transitions WHERE at < ?`, ts(at)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: last transition: %w", err)
	}
	return id, nil
}

// ObservationsAt returns, for each upstream of a run, the latest observation
// recorded at or before at: what sekisho knew of its upstreams then.
func (s *Store) ObservationsAt(ctx context.Context, runID int64, at time.Time) (map[string]sekisho.Observation, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+obsColumns+` FROM upstream_observations o
		WHERE run_id = ? AND id = (SELECT MAX(id) FROM upstream_observations
			WHERE run_id = o.run_id AND upstream = o.upstream AND observed_at <= ?)`, runID, ts(at))
	if err != nil {
		return nil, fmt.Errorf("store: observations at: %w", err)
	}
	defer rows.Close()
	return byUpstream(rows)
}

// byUpstream scans observation rows into a map by upstream name.
func byUpstream(rows *sql.Rows) (map[string]sekisho.Observation, error) {
	out := map[string]sekisho.Observation{}
	for rows.Next() {
		o, err := scanObservation(rows)
		if err != nil {
			return nil, fmt.Errorf("store: observations: %w", err)
		}
		out[o.Upstream] = o
	}
	return out, rows.Err()
}

func scanTransitions(rows *sql.Rows) ([]sekisho.Transition, error) {
	var out []sekisho.Transition
	for rows.Next() {
		var t sekisho.Transition
		var from, to, at, detail string
		if err := rows.Scan(&t.ID, &t.RunID, &t.Pipeline, &t.LogicalDate, &t.Key, &t.Attempt, &from, &to, &at, &t.Reason, &detail); err != nil {
			return nil, fmt.Errorf("store: transitions: %w", err)
		}
		t.From, t.To = sekisho.State(from), sekisho.State(to)
		t.At = parseTS(sql.NullString{String: at, Valid: true})
		if detail != "" && detail != "{}" {
			_ = json.Unmarshal([]byte(detail), &t.Detail)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
