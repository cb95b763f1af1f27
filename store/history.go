package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The ETA projection's history (policy/eta, SPEC §21) is each pipeline's
// last runs before a date. A listing reads it for every open run at once:
// at 10,000 pipelines with a month of runs each, one query over every
// pipeline's runs (a window function partitioned by pipeline, the names
// in one IN list) walked all 300,000 past runs and their observations,
// ~5 s and 1 GB. Each pipeline's runs are read instead as SLOReader reads
// them: a batch of pipelines a statement (a VALUES list), a correlated
// subquery a pipeline that walks its newest n runs in the index runs_slo
// (pipeline, logical_date) and stops, its records handed back as one text
// value. A pipeline costs its n runs, not the whole table; one without a
// run before the date costs one probe of that index and no row (most of
// a new store's, and a pipeline's first day).

// historyBatch is how many pipelines one statement of the history asks
// for (a var: the tests make short batches).
var historyBatch = 256

// runTimesRecords are a pipeline's (v.p) newest ?2 successful runs before
// ?1, newest first, as records of gate|trigger|first success.
const runTimesRecords = `(SELECT string_agg(gate_at || '|' || COALESCE(triggered_at, gate_at) || '|' || first_success_at, ';'
		ORDER BY logical_date DESC, id DESC)
	FROM (SELECT id, logical_date, gate_at, triggered_at, first_success_at FROM runs
		WHERE pipeline = v.p AND first_success_at IS NOT NULL AND logical_date < ?1
		ORDER BY logical_date DESC, id DESC LIMIT ?2) t)`

// upstreamTimesRecords are, of a pipeline's (v.p) newest ?2 runs before
// ?1, newest first, the succeeded observations of each upstream, latest
// first, as records of the run's id|its gate|the upstream's start|finish|
// its name (the name last: it is a config name, [a-z0-9_-], and is the
// rest of the record). The reader keeps the first of a run's upstream: a
// MAX(id) look-up a row was half of the query's time.
const upstreamTimesRecords = `(SELECT string_agg(r.id || '|' || r.gate_at || '|' || COALESCE(o.started_at, '') || '|' ||
		COALESCE(o.finished_at, '') || '|' || o.upstream, ';' ORDER BY r.logical_date DESC, r.id DESC, o.upstream, o.id DESC)
	FROM (SELECT id, logical_date, gate_at FROM runs WHERE pipeline = v.p AND logical_date < ?1
		ORDER BY logical_date DESC, id DESC LIMIT ?2) r
	JOIN upstream_observations o ON o.run_id = r.id AND o.state = 'succeeded')`

// eachHistory calls fn with each of pipelines that has a run before the
// date, and its run times' and upstream times' records (the queries
// above; empty for none), a batch of historyBatch pipelines a query of
// one prepared statement.
func (s *Store) eachHistory(ctx context.Context, pipelines []string, before string, n int,
	fn func(pipeline, runs, upstreams string)) error {
	var runs, ups sql.NullString
	err := s.eachBatch(ctx, pipelines, "SELECT v.i, "+runTimesRecords+",\n\t"+upstreamTimesRecords+`
		FROM v WHERE EXISTS (SELECT 1 FROM runs WHERE pipeline = v.p AND logical_date < ?1)`,
		[]any{before, n}, []any{&runs, &ups}, func(p string) { fn(p, runs.String, ups.String) })
	if err != nil {
		return fmt.Errorf("store: history: %w", err)
	}
	return nil
}

// eachRecord calls fn with each ';'-separated record of records, cut
// into fields '|'-separated fields (the last one is the rest of the
// record).
func eachRecord(records string, fields int, fn func(f []string)) {
	f := make([]string, fields)
	for records != "" {
		var rec string
		rec, records, _ = strings.Cut(records, ";")
		for i := range fields - 1 {
			f[i], rec, _ = strings.Cut(rec, "|")
		}
		f[fields-1] = rec
		fn(f)
	}
}

// recordTime is a record's stored instant (sekisho.TimeLayout), zero for "".
func recordTime(s string) time.Time { return parseTS(sql.NullString{String: s, Valid: s != ""}) }

// RunTimes returns, for a pipeline's last n successful runs before date,
// newest first, each run's gate, trigger (the gate, for a run never
// triggered) and first success: the history the ETA projection reads
// (policy/eta.Reader, SPEC §21).
func (s *Store) RunTimes(ctx context.Context, pipeline, before string, n int) ([][3]time.Time, error) {
	var out [][3]time.Time
	err := s.EachLineTimes(ctx, []string{pipeline}, before, n, func(_ string, runs [][3]time.Time, _ []string, _ [][][3]time.Time) {
		out = append(out, runs...)
	})
	return out, err
}

// UpstreamTimes returns, per upstream of a pipeline, the gate of each of
// the pipeline's last n runs before date that saw the upstream succeed,
// and the start and finish of that upstream's latest succeeded run in it,
// newest first: the upstreams' history the ETA projection reads.
func (s *Store) UpstreamTimes(ctx context.Context, pipeline, before string, n int) (map[string][][3]time.Time, error) {
	out := map[string][][3]time.Time{}
	err := s.EachLineTimes(ctx, []string{pipeline}, before, n, func(_ string, _ [][3]time.Time, names []string, times [][][3]time.Time) {
		for i, u := range names {
			out[u] = append(out[u], times[i]...)
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachLineTimes is RunTimes and UpstreamTimes of several pipelines, in a
// query a batch of them: fn is called with each pipeline that has a run
// before the date, its run times, and its upstreams (names, in the order
// first seen) with their times. fn must not keep the lists (the next call
// reuses them); the names it may. A listing of every open run reads them
// so, summarising each pipeline's as it comes (policy/eta.ReadMany)
// instead of holding 300,000 runs' times.
func (s *Store) EachLineTimes(ctx context.Context, pipelines []string, before string, n int,
	fn func(pipeline string, runs [][3]time.Time, upstreams []string, upstreamTimes [][][3]time.Time)) error {
	var (
		runs  [][3]time.Time
		names []string
		times [][][3]time.Time
	)
	return s.eachHistory(ctx, pipelines, before, n, func(p, runRecs, upRecs string) {
		runs, names = runs[:0], names[:0]
		eachRecord(runRecs, 3, func(f []string) {
			runs = append(runs, [3]time.Time{recordTime(f[0]), recordTime(f[1]), recordTime(f[2])})
		})
		var run, upstream string // the last record's: a run's upstream comes latest first
		eachRecord(upRecs, 5, func(f []string) {
			if f[0] == run && f[4] == upstream {
				return
			}
			run, upstream = f[0], f[4]
			i := slices.Index(names, upstream)
			if i < 0 {
				i = len(names)
				// Its own copy: a substring would keep the pipeline's
				// whole records (kilobytes) alive in a caller's map.
				names = append(names, strings.Clone(upstream))
				if i == len(times) {
					times = append(times, nil)
				}
				times[i] = times[i][:0]
			}
			times[i] = append(times[i], [3]time.Time{recordTime(f[1]), recordTime(f[2]), recordTime(f[3])})
		})
		fn(p, runs, names, times[:len(names)])
	})
}
