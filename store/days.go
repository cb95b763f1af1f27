package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/sekisho-dev/sekisho"
)

// Whole days of runs and observations, for the status board, the JSON API,
// the digest and the metrics collectors. They fetch a whole day (or a few,
// across time zones) in one query each, so a board over thousands of
// pipelines costs a few queries, not a few per pipeline.

// RunsOn returns every run whose logical date is one of dates, by pipeline
// and gate (a sub-daily pipeline's latest run of a date comes last), without
// its config snapshot (Spec is empty): the listings never read it, and at
// 10,000 runs the snapshots were most of the bytes a listing read and
// threw away (BENCHMARKS.md, issue #23).
func (s *Store) RunsOn(ctx context.Context, dates []string) ([]sekisho.Run, error) {
	var out []sekisho.Run
	err := s.EachRunOn(ctx, dates, func(r sekisho.Run) { out = append(out, r) })
	return out, err
}

// EachRunOn is RunsOn handing each run to fn as it is read, for a caller
// that keeps something else than the runs (the status listing's cache):
// 10,000 runs are not all held at once.
func (s *Store) EachRunOn(ctx context.Context, dates []string, fn func(sekisho.Run)) error {
	if len(dates) == 0 {
		return nil
	}
	q := `SELECT ` + s.runListColumns() + ` FROM runs WHERE logical_date IN (` + placeholders(len(dates)) + `) ORDER BY pipeline, gate_at`
	return queryEach(ctx, s.r, "runs", newRunDest().scan, fn, q, strArgs(dates)...)
}

// EachListedRunOn is EachRunOn with the fields a listing keeps of a run:
// its id, pipeline, logical date, key, attempt, state, message and the
// times it judges and projects from (gate, trigger, start, finish, first
// success, deadline, recover by); the others are zero. The state, attempt,
// times, date and key come as one text value, as the observations' texts
// do (latest.go): 21 columns a run handed over one by one were
// most of the status listing's first read. The runs come by logical date,
// pipeline and gate: the index runs_date (logical_date, pipeline) gives the
// rows in that order but for the gate, so only the runs of a sub-daily
// pipeline on a date are put in gate order here; SQLite sorting every
// pipeline's one run by gate was a quarter of the query. The message
// comes as NULL when empty: SQLite hands a NULL over database/sql without
// the calls an empty text costs.
func (s *Store) EachListedRunOn(ctx context.Context, dates []string, fn func(sekisho.Run)) error {
	if len(dates) == 0 {
		return nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, pipeline, NULLIF(message, ''), state || '|' || attempt || '|' || gate_at || '|' ||
			COALESCE(triggered_at, '') || '|' || COALESCE(started_at, '') || '|' || COALESCE(finished_at, '') || '|' ||
			COALESCE(first_success_at, '') || '|' || COALESCE(deadline, '') || '|' || COALESCE(recover_by, '') || '|' ||
			logical_date || '|' || run_key
		FROM runs WHERE logical_date IN (`+placeholders(len(dates))+`) ORDER BY logical_date, pipeline, id`, strArgs(dates)...)
	if err != nil {
		return fmt.Errorf("store: runs: %w", err)
	}
	defer rows.Close()
	var (
		r       sekisho.Run
		message sql.NullString
		packed  string
		f       [11]string
		// same are the runs of one pipeline and date read so far, handed
		// to fn when the next one's come, in gate order.
		same []sekisho.Run
	)
	flush := func() {
		if len(same) > 1 {
			slices.SortStableFunc(same, func(a, b sekisho.Run) int { return a.GateAt.Compare(b.GateAt) })
		}
		for _, r := range same {
			fn(r)
		}
		same = same[:0]
	}
	// The state and date are copied out of the packed text, each distinct
	// one once, and a daily run's key is its date: a substring would keep
	// the whole text (~200 bytes) of every run alive in the listing's
	// cache.
	copies := map[string]string{}
	copied := func(s string) string {
		c, ok := copies[s]
		if !ok {
			c = strings.Clone(s)
			copies[c] = c
		}
		return c
	}
	dest := []any{&r.ID, &r.Pipeline, &message, &packed}
	for rows.Next() {
		r = sekisho.Run{}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("store: runs: %w", err)
		}
		r.Message = message.String
		for i := range len(f) - 1 {
			f[i], packed, _ = strings.Cut(packed, "|")
		}
		f[len(f)-1] = packed // the key, last: the rest
		attempt, err := strconv.Atoi(f[1])
		if err != nil {
			return fmt.Errorf("store: runs: run %d: attempt %q", r.ID, f[1])
		}
		r.State, r.Attempt, r.LogicalDate, r.Key = sekisho.State(copied(f[0])), attempt, copied(f[9]), f[10]
		if r.Key == r.LogicalDate {
			r.Key = r.LogicalDate
		} else {
			r.Key = strings.Clone(r.Key) // a sub-daily run's own
		}
		r.GateAt, r.TriggeredAt, r.StartedAt, r.FinishedAt = recordTime(f[2]), recordTime(f[3]), recordTime(f[4]), recordTime(f[5])
		r.FirstSuccessAt, r.Deadline, r.RecoverBy = recordTime(f[6]), recordTime(f[7]), recordTime(f[8])
		if len(same) > 0 && (same[0].Pipeline != r.Pipeline || same[0].LogicalDate != r.LogicalDate) {
			flush()
		}
		same = append(same, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	flush()
	return nil
}

// RunsOf returns every run of the given (pipeline, logical date) pairs, as
// RunsOn does for whole dates: what a listing reads again of the runs a
// write changed (ChangesBetween).
func (s *Store) RunsOf(ctx context.Context, keys [][2]string) ([]sekisho.Run, error) {
	var out []sekisho.Run
	for len(keys) > 0 {
		n := min(len(keys), obsBatch)
		var q strings.Builder
		q.WriteString(`SELECT ` + s.runListColumns() + ` FROM runs WHERE `)
		args := make([]any, 0, 2*n)
		for i, k := range keys[:n] {
			if i > 0 {
				q.WriteString(" OR ")
			}
			q.WriteString("(pipeline = ? AND logical_date = ?)")
			args = append(args, k[0], k[1])
		}
		q.WriteString(` ORDER BY pipeline, gate_at`)
		runs, err := s.queryRuns(ctx, q.String(), args...)
		if err != nil {
			return nil, err
		}
		out = append(out, runs...)
		keys = keys[n:]
	}
	return out, nil
}

// LatestObservationsOn returns, for every run on one of dates, the latest
// observation of each of its upstreams, keyed by run id and upstream name.
func (s *Store) LatestObservationsOn(ctx context.Context, dates []string) (map[int64]map[string]sekisho.Observation, error) {
	out := map[int64]map[string]sekisho.Observation{}
	err := s.latestObservationsOn(ctx, dates, func(id int64, o sekisho.Observation) {
		if out[id] == nil {
			out[id] = map[string]sekisho.Observation{}
		}
		out[id][o.Upstream] = o
	})
	return out, err
}

// LatestObservationListsOn is LatestObservationsOn with each run's
// observations in a list, one an upstream: what the status listing keeps
// between calls. A map of a few entries takes a whole bucket of eight,
// ~1.8 KB a run; the list takes what it holds.
func (s *Store) LatestObservationListsOn(ctx context.Context, dates []string) (map[int64][]sekisho.Observation, error) {
	out := map[int64][]sekisho.Observation{}
	err := s.latestObservationsOn(ctx, dates, func(id int64, o sekisho.Observation) { out[id] = append(out[id], o) })
	return out, err
}

// EachLatestObservationOn is LatestObservationsOn handing each
// observation to fn with its run's id as it is read, for a caller that
// keeps something else than the observations (the status listing's
// cache keeps a compact form). The observations' texts are parts of one
// string a row (latest.go): a caller that keeps some of them clones them.
func (s *Store) EachLatestObservationOn(ctx context.Context, dates []string, fn func(run int64, o sekisho.Observation)) error {
	return s.latestObservationsOn(ctx, dates, fn)
}

func (s *Store) latestObservationsOn(ctx context.Context, dates []string, add func(int64, sekisho.Observation)) error {
	if len(dates) == 0 {
		return nil
	}
	return s.eachLatest(ctx, s.r, runsOnDates(len(dates)), strArgs(dates), add)
}

// runsOnDates picks the runs of n logical dates, for eachLatest.
func runsOnDates(n int) string {
	return `SELECT id FROM runs WHERE logical_date IN (` + placeholders(n) + `)`
}

// LatestObservationListsOf is LatestObservationListsOn of the runs ids:
// what a listing reads again of the runs whose observations a write
// changed.
func (s *Store) LatestObservationListsOf(ctx context.Context, ids []int64) (map[int64][]sekisho.Observation, error) {
	out := map[int64][]sekisho.Observation{}
	err := s.latestOfRuns(ctx, s.r, ids, func(id int64, o sekisho.Observation) { out[id] = append(out[id], o) })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// latestOfRuns gives add the latest observation of each upstream of the
// runs ids, read through q (the reader, or a write transaction) in one
// query per obsBatch runs.
func (s *Store) latestOfRuns(ctx context.Context, q rowsQuerier, ids []int64, add func(int64, sekisho.Observation)) error {
	for len(ids) > 0 {
		n := min(len(ids), obsBatch)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		if err := s.eachLatest(ctx, q, placeholders(n), args, add); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
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
	q := `SELECT pipeline, MIN(logical_date) AS d FROM runs WHERE pipeline IN (` + placeholders(len(pipelines)) + `) GROUP BY pipeline`
	args := strArgs(pipelines)
	if s.schema >= retentionVersion {
		// A pruned pipeline's first day is in its summaries (retention.go).
		q = `SELECT pipeline, MIN(d) FROM (` + q + ` UNION ALL SELECT pipeline, MIN(logical_date) FROM slo_days
			WHERE pipeline IN (` + placeholders(len(pipelines)) + `) GROUP BY pipeline) f GROUP BY pipeline`
		args = append(args, args...)
	}
	rows, err := s.r.QueryContext(ctx, q, args...)
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
