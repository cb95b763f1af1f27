package demo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// Tail follows the transitions table (the public schema BI users read too)
// rather than the engine's logs, so the terminal shows exactly what the
// store recorded.
type Tail struct {
	DB    *sql.DB
	After int64 // the last id reported
}

// LastTransitionID returns the id of the newest transition, 0 for none.
func LastTransitionID(ctx context.Context, db *sql.DB) (int64, error) {
	var id sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(id) FROM transitions`).Scan(&id); err != nil {
		return 0, fmt.Errorf("demo: last transition: %w", err)
	}
	return id.Int64, nil
}

// Poll reports the transitions appended since the last call.
func (t *Tail) Poll(ctx context.Context, fn func(sekisho.Transition)) error {
	rows, err := t.DB.QueryContext(ctx, `SELECT id, run_id, pipeline, logical_date, attempt, from_state, to_state, at, reason, detail
		FROM transitions WHERE id > ? ORDER BY id LIMIT 500`, t.After)
	if err != nil {
		return fmt.Errorf("demo: read transitions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var tr sekisho.Transition
		var from, to, at, detail string
		if err := rows.Scan(&tr.ID, &tr.RunID, &tr.Pipeline, &tr.LogicalDate, &tr.Attempt, &from, &to, &at, &tr.Reason, &detail); err != nil {
			return fmt.Errorf("demo: read transitions: %w", err)
		}
		tr.From, tr.To = sekisho.State(from), sekisho.State(to)
		tr.At, _ = time.Parse(store.TimeLayout, at)
		_ = json.Unmarshal([]byte(detail), &tr.Detail)
		t.After = tr.ID
		fn(tr)
	}
	return rows.Err()
}

// Follow polls every interval until ctx ends, calling after (if set) once
// the transitions of a poll were reported.
func (t *Tail) Follow(ctx context.Context, every time.Duration, fn func(sekisho.Transition), after func()) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		_ = t.Poll(ctx, fn) // a busy moment is retried on the next tick
		if after != nil {
			after()
		}
	}
}
