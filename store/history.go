package store

import (
	"context"
	"database/sql"
	"time"
)

// Durations is how long one past run took to its first success: from the
// gate, and from the trigger (the gate, for a run never triggered).
type Durations struct {
	Total      time.Duration // gate → first success
	Downstream time.Duration // trigger → first success
}

// RecentDurations returns the durations of a pipeline's last n successful
// runs before date, newest first: the history the engine's at_risk estimate
// reads.
func (s *Store) RecentDurations(ctx context.Context, pipeline, before string, n int) ([]Durations, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT gate_at, COALESCE(triggered_at, gate_at), first_success_at FROM runs
		WHERE pipeline = ? AND first_success_at IS NOT NULL AND logical_date < ? ORDER BY logical_date DESC LIMIT ?`,
		pipeline, before, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Durations
	for rows.Next() {
		var g, t, ok sql.NullString
		if err := rows.Scan(&g, &t, &ok); err != nil {
			return nil, err
		}
		success := parseTS(ok)
		out = append(out, Durations{Total: success.Sub(parseTS(g)), Downstream: success.Sub(parseTS(t))})
	}
	return out, rows.Err()
}
