package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Read queries of the status board, the JSON API and the metrics collectors.
// They fetch a whole day (or a few, across time zones) in one query each, so
// a board over thousands of pipelines costs two queries, not two per pipeline.

// RunsOn returns every run whose logical date is one of dates.
func (s *Store) RunsOn(ctx context.Context, dates []string) ([]sekisho.Run, error) {
	if len(dates) == 0 {
		return nil, nil
	}
	q := `SELECT ` + runColumns + ` FROM runs WHERE logical_date IN (` + placeholders(len(dates)) + `) ORDER BY pipeline`
	return s.queryRuns(ctx, q, strArgs(dates)...)
}

// LatestObservationsOn returns, for every run on one of dates, the latest
// observation of each of its upstreams, keyed by run id and upstream name.
func (s *Store) LatestObservationsOn(ctx context.Context, dates []string) (map[int64]map[string]sekisho.Observation, error) {
	out := map[int64]map[string]sekisho.Observation{}
	if len(dates) == 0 {
		return out, nil
	}
	q := `SELECT o.run_id, ` + prefixed("o.", obsColumns) + ` FROM upstream_observations o
		JOIN runs r ON r.id = o.run_id
		WHERE r.logical_date IN (` + placeholders(len(dates)) + `)
		AND o.id = (SELECT MAX(id) FROM upstream_observations WHERE run_id = o.run_id AND upstream = o.upstream)`
	rows, err := s.r.QueryContext(ctx, q, strArgs(dates)...)
	if err != nil {
		return nil, fmt.Errorf("store: latest observations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		o, err := scanObservation(prefixScanner{rows, &id})
		if err != nil {
			return nil, fmt.Errorf("store: latest observations: %w", err)
		}
		if out[id] == nil {
			out[id] = map[string]sekisho.Observation{}
		}
		out[id][o.Upstream] = o
	}
	return out, rows.Err()
}

// SLOAttainment counts, per pipeline, the days from..to (logical dates,
// inclusive) with an SLO verdict at now and how many of them met it, from
// the slo_daily view. An open run before its deadline has no verdict yet.
func (s *Store) SLOAttainment(ctx context.Context, from, to string, now time.Time) (map[string][2]int, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT pipeline, COALESCE(SUM(slo_met), 0), COUNT(slo_met) FROM slo_daily
		WHERE logical_date >= ? AND logical_date <= ?
		AND (slo_met = 1 OR state IN ('succeeded','failed','timed_out','skipped') OR deadline <= ?)
		GROUP BY pipeline`, from, to, ts(now))
	if err != nil {
		return nil, fmt.Errorf("store: slo attainment: %w", err)
	}
	defer rows.Close()
	out := map[string][2]int{}
	for rows.Next() {
		var p string
		var met, days int
		if err := rows.Scan(&p, &met, &days); err != nil {
			return nil, fmt.Errorf("store: slo attainment: %w", err)
		}
		out[p] = [2]int{met, days}
	}
	return out, rows.Err()
}

// prefixScanner scans a leading run id before the observation columns.
type prefixScanner struct {
	sc scanner
	id *int64
}

func (p prefixScanner) Scan(dest ...any) error {
	return p.sc.Scan(append([]any{p.id}, dest...)...)
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func strArgs(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// FirstRunDates returns, of the named pipelines, the logical date of each
// one's first run ever; a pipeline that never ran is absent. The SLO judge
// does not blame a pipeline for the days before it existed, so a day without
// a run is only missed from then on.
func (s *Store) FirstRunDates(ctx context.Context, pipelines []string) (map[string]string, error) {
	out := map[string]string{}
	if len(pipelines) == 0 {
		return out, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT pipeline, MIN(logical_date) FROM runs
		WHERE pipeline IN (`+placeholders(len(pipelines))+`) GROUP BY pipeline`, strArgs(pipelines)...)
	if err != nil {
		return nil, fmt.Errorf("store: first runs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var p, d string
		if err := rows.Scan(&p, &d); err != nil {
			return nil, fmt.Errorf("store: first runs: %w", err)
		}
		out[p] = d
	}
	return out, rows.Err()
}
