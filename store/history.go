package store

import (
	"context"
	"database/sql"
	"slices"
	"time"
)

// historyBatch bounds the pipelines one history query names.
const historyBatch = 500

// RunTimes returns, per pipeline, for its last n successful runs before
// date, newest first, each run's gate, trigger (the gate, for a run never
// triggered) and first success: the history the ETA projection reads
// (policy/eta.Reader, SPEC §21). A pipeline without such runs is absent.
// One query serves many pipelines: the engine reads the histories of a
// batch of new gates at once.
func (s *Store) RunTimes(ctx context.Context, pipelines []string, before string, n int) (map[string][][3]time.Time, error) {
	type row struct {
		pipeline string
		times    [3]time.Time
	}
	out := map[string][][3]time.Time{}
	for names := range slices.Chunk(pipelines, historyBatch) {
		rows, err := queryAll(ctx, s.r, "run times", func(sc scanner) (row, error) {
			var r row
			var g, t, ok sql.NullString
			err := sc.Scan(&r.pipeline, &g, &t, &ok)
			r.times = [3]time.Time{parseTS(g), parseTS(t), parseTS(ok)}
			return r, err
		}, `SELECT pipeline, gate_at, COALESCE(triggered_at, gate_at), first_success_at FROM (
				SELECT pipeline, gate_at, triggered_at, first_success_at,
					ROW_NUMBER() OVER (PARTITION BY pipeline ORDER BY logical_date DESC) AS n
				FROM runs WHERE pipeline IN (`+placeholders(len(names))+`) AND first_success_at IS NOT NULL AND logical_date < ?) t
			WHERE n <= ? ORDER BY pipeline, n`, append(strArgs(names), before, n)...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			out[r.pipeline] = append(out[r.pipeline], r.times)
		}
	}
	return out, nil
}

// UpstreamTimes returns, per pipeline and upstream, the gate of each of
// the pipeline's last n runs before date that saw the upstream succeed,
// and the start and finish of that upstream's latest succeeded run in it,
// newest first: the upstreams' history the ETA projection reads.
func (s *Store) UpstreamTimes(ctx context.Context, pipelines []string, before string, n int) (map[string]map[string][][3]time.Time, error) {
	type row struct {
		pipeline, upstream string
		times              [3]time.Time
	}
	out := map[string]map[string][][3]time.Time{}
	for names := range slices.Chunk(pipelines, historyBatch) {
		rows, err := queryAll(ctx, s.r, "upstream times", func(sc scanner) (row, error) {
			var r row
			var g, st, fin sql.NullString
			err := sc.Scan(&r.pipeline, &r.upstream, &g, &st, &fin)
			r.times = [3]time.Time{parseTS(g), parseTS(st), parseTS(fin)}
			return r, err
		}, `SELECT r.pipeline, o.upstream, r.gate_at, o.started_at, o.finished_at FROM runs r JOIN upstream_observations o ON o.run_id = r.id
			WHERE r.id IN (SELECT id FROM (
					SELECT id, ROW_NUMBER() OVER (PARTITION BY pipeline ORDER BY logical_date DESC) AS n
					FROM runs WHERE pipeline IN (`+placeholders(len(names))+`) AND logical_date < ?) t
				WHERE n <= ?)
			AND o.id = (SELECT MAX(id) FROM upstream_observations WHERE run_id = r.id AND upstream = o.upstream AND state = 'succeeded')
			ORDER BY r.pipeline, r.logical_date DESC`, append(strArgs(names), before, n)...)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if out[r.pipeline] == nil {
				out[r.pipeline] = map[string][][3]time.Time{}
			}
			out[r.pipeline][r.upstream] = append(out[r.pipeline][r.upstream], r.times)
		}
	}
	return out, nil
}
