package store

import (
	"context"
	"database/sql"
	"time"
)

// RunTimes returns, for a pipeline's last n successful runs before date,
// newest first, each run's gate, trigger (the gate, for a run never
// triggered) and first success: the history the ETA projection reads
// (policy/eta.Reader, SPEC §21).
func (s *Store) RunTimes(ctx context.Context, pipeline, before string, n int) ([][3]time.Time, error) {
	return queryAll(ctx, s.r, "run times", func(sc scanner) ([3]time.Time, error) {
		var g, t, ok sql.NullString
		err := sc.Scan(&g, &t, &ok)
		return [3]time.Time{parseTS(g), parseTS(t), parseTS(ok)}, err
	}, `SELECT gate_at, COALESCE(triggered_at, gate_at), first_success_at FROM runs
		WHERE pipeline = ? AND first_success_at IS NOT NULL AND logical_date < ? ORDER BY logical_date DESC LIMIT ?`,
		pipeline, before, n)
}

// UpstreamTimes returns, per upstream of a pipeline, the gate of each of
// the pipeline's last n runs before date that saw the upstream succeed,
// and the start and finish of that upstream's latest succeeded run in it,
// newest first: the upstreams' history the ETA projection reads.
func (s *Store) UpstreamTimes(ctx context.Context, pipeline, before string, n int) (map[string][][3]time.Time, error) {
	type row struct {
		upstream string
		times    [3]time.Time
	}
	rows, err := queryAll(ctx, s.r, "upstream times", func(sc scanner) (row, error) {
		var r row
		var g, st, fin sql.NullString
		err := sc.Scan(&r.upstream, &g, &st, &fin)
		r.times = [3]time.Time{parseTS(g), parseTS(st), parseTS(fin)}
		return r, err
	}, `SELECT o.upstream, r.gate_at, o.started_at, o.finished_at FROM runs r JOIN upstream_observations o ON o.run_id = r.id
		WHERE r.id IN (SELECT id FROM runs WHERE pipeline = ? AND logical_date < ? ORDER BY logical_date DESC LIMIT ?)
		AND o.id = (SELECT MAX(id) FROM upstream_observations WHERE run_id = r.id AND upstream = o.upstream AND state = 'succeeded')
		ORDER BY r.logical_date DESC`, pipeline, before, n)
	if err != nil {
		return nil, err
	}
	out := map[string][][3]time.Time{}
	for _, r := range rows {
		out[r.upstream] = append(out[r.upstream], r.times)
	}
	return out, nil
}
