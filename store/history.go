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
	all, err := s.RunTimesOf(ctx, []string{pipeline}, before, n)
	return all[pipeline], err
}

// RunTimesOf is RunTimes of several pipelines in one query, by pipeline:
// what a listing of every open run reads, instead of a query per run.
func (s *Store) RunTimesOf(ctx context.Context, pipelines []string, before string, n int) (map[string][][3]time.Time, error) {
	type row struct {
		pipeline string
		times    [3]time.Time
	}
	out := map[string][][3]time.Time{}
	if len(pipelines) == 0 {
		return out, nil
	}
	rows, err := queryAll(ctx, s.r, "run times", func(sc scanner) (row, error) {
		var r row
		var g, t, ok sql.NullString
		err := sc.Scan(&r.pipeline, &g, &t, &ok)
		r.times = [3]time.Time{parseTS(g), parseTS(t), parseTS(ok)}
		return r, err
	}, `SELECT pipeline, gate_at, COALESCE(triggered_at, gate_at), first_success_at FROM (
			SELECT pipeline, gate_at, triggered_at, first_success_at, logical_date, id,
				ROW_NUMBER() OVER (PARTITION BY pipeline ORDER BY logical_date DESC, id DESC) AS nth
			FROM runs WHERE pipeline IN (`+placeholders(len(pipelines))+`) AND first_success_at IS NOT NULL AND logical_date < ?
		) t WHERE nth <= ? ORDER BY pipeline, logical_date DESC, id DESC`,
		append(strArgs(pipelines), before, n)...)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		out[r.pipeline] = append(out[r.pipeline], r.times)
	}
	return out, nil
}

// UpstreamTimes returns, per upstream of a pipeline, the gate of each of
// the pipeline's last n runs before date that saw the upstream succeed,
// and the start and finish of that upstream's latest succeeded run in it,
// newest first: the upstreams' history the ETA projection reads.
func (s *Store) UpstreamTimes(ctx context.Context, pipeline, before string, n int) (map[string][][3]time.Time, error) {
	all, err := s.UpstreamTimesOf(ctx, []string{pipeline}, before, n)
	if err != nil {
		return nil, err
	}
	if all[pipeline] == nil {
		return map[string][][3]time.Time{}, nil
	}
	return all[pipeline], nil
}

// UpstreamTimesOf is UpstreamTimes of several pipelines in one query, by
// pipeline and upstream.
func (s *Store) UpstreamTimesOf(ctx context.Context, pipelines []string, before string, n int) (map[string]map[string][][3]time.Time, error) {
	type row struct {
		pipeline, upstream string
		times              [3]time.Time
	}
	out := map[string]map[string][][3]time.Time{}
	if len(pipelines) == 0 {
		return out, nil
	}
	rows, err := queryAll(ctx, s.r, "upstream times", func(sc scanner) (row, error) {
		var r row
		var g, st, fin sql.NullString
		err := sc.Scan(&r.pipeline, &r.upstream, &g, &st, &fin)
		r.times = [3]time.Time{parseTS(g), parseTS(st), parseTS(fin)}
		return r, err
	}, `SELECT r.pipeline, o.upstream, r.gate_at, o.started_at, o.finished_at FROM runs r JOIN upstream_observations o ON o.run_id = r.id
		WHERE r.id IN (SELECT id FROM (
			SELECT id, ROW_NUMBER() OVER (PARTITION BY pipeline ORDER BY logical_date DESC, id DESC) AS nth
			FROM runs WHERE pipeline IN (`+placeholders(len(pipelines))+`) AND logical_date < ?) t WHERE nth <= ?)
		AND o.id = (SELECT MAX(id) FROM upstream_observations WHERE run_id = r.id AND upstream = o.upstream AND state = 'succeeded')
		ORDER BY r.pipeline, r.logical_date DESC, r.id DESC`, append(strArgs(pipelines), before, n)...)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		if out[r.pipeline] == nil {
			out[r.pipeline] = map[string][][3]time.Time{}
		}
		out[r.pipeline][r.upstream] = append(out[r.pipeline][r.upstream], r.times)
	}
	return out, nil
}
