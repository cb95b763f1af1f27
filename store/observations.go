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
	n, err := s.RecordObservations(ctx, []ObservationWrite{{Run: runID, Attempt: attempt, Obs: o}})
	return n > 0, err
}

// ObservationWrite is one observation of an attempt of a run, to record.
type ObservationWrite struct {
	Run     int64
	Attempt int
	Obs     sekisho.Observation
}

// obsBatch bounds the rows of one INSERT: 13 parameters a row stays far
// below SQLite's and PostgreSQL's parameter limits.
const obsBatch = 500

// RecordObservations records many observations in one transaction, each as
// RecordObservation does (a row only when it differs from the run's latest
// of that upstream, or from the one before it in ws), and returns how many
// rows it wrote. The engine's first look at a batch of new gates records
// every upstream of every run: one transaction, one read of the latest
// rows and one INSERT per obsBatch rows, instead of a transaction each.
func (s *Store) RecordObservations(ctx context.Context, ws []ObservationWrite) (int, error) {
	if len(ws) == 0 {
		return 0, nil
	}
	wrote := 0
	var written []int64 // the runs of the rows written
	err := s.quietTx(ctx, func(tx *sql.Tx) error {
		latest, err := s.latestOf(ctx, tx, ws)
		if err != nil {
			return err
		}
		rows := make([]ObservationWrite, 0, len(ws)) // most are new rows at the first look
		written = make([]int64, 0, len(ws))
		for _, w := range ws {
			k := obsKey{w.Run, w.Obs.Upstream}
			if prev, ok := latest[k]; ok && sameObservation(prev, w.Obs) {
				continue
			}
			latest[k] = w.Obs
			rows = append(rows, w)
			written = append(written, w.Run)
		}
		for len(rows) > 0 {
			n := min(len(rows), obsBatch)
			if err := s.insertObservations(ctx, tx, rows[:n]); err != nil {
				return err
			}
			rows = rows[n:]
			wrote += n
		}
		return nil
	})
	if wrote > 0 {
		// Most checks see nothing new: only a new row is a change, and
		// only its run's observations are read again.
		t := &touch{}
		seen := map[int64]bool{}
		for _, r := range written {
			if !seen[r] {
				seen[r] = true
				t.ids = append(t.ids, r)
			}
		}
		s.changed(t)
	}
	if err != nil {
		return 0, fmt.Errorf("store: record observation: %w", err)
	}
	return wrote, nil
}

// obsKey names an upstream of a run.
type obsKey struct {
	run      int64
	upstream string
}

// latestOf reads, in tx, the latest stored observation of each run and
// upstream that ws writes: one query for a single write (the common case
// of a poll answer), one per obsBatch runs for many.
func (s *Store) latestOf(ctx context.Context, tx *sql.Tx, ws []ObservationWrite) (map[obsKey]sekisho.Observation, error) {
	out := make(map[obsKey]sekisho.Observation, len(ws))
	if len(ws) == 1 {
		w := ws[0]
		var row *sql.Row
		if st := s.stmt(ctx, tx, s.stmts.latestObs); st != nil {
			row = st.QueryRowContext(ctx, w.Run, w.Obs.Upstream)
		} else {
			row = tx.QueryRowContext(ctx, latestObsQuery, w.Run, w.Obs.Upstream)
		}
		o, err := scanObservation(row)
		switch {
		case err == sql.ErrNoRows:
			return out, nil
		case err != nil:
			return nil, err
		}
		out[obsKey{w.Run, w.Obs.Upstream}] = o
		return out, nil
	}
	seen := make(map[int64]bool, len(ws))
	var ids []int64
	for _, w := range ws {
		if !seen[w.Run] {
			seen[w.Run] = true
			ids = append(ids, w.Run)
		}
	}
	err := s.latestOfRuns(ctx, tx, ids, func(id int64, o sekisho.Observation) { out[obsKey{id, o.Upstream}] = o })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// insertObsQuery and obsRow make the insert of observation rows, one
// obsRow each.
const (
	insertObsQuery = `INSERT INTO upstream_observations (run_id, attempt, upstream, type, state, external_id,
		started_at, finished_at, message, error, observed_at, value, reason) VALUES `
	obsRow = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

// insertObservations writes rows in one statement: PostgreSQL's
// statement-level triggers fire once for the lot. On SQLite, whose
// triggers are row-level, the rows go in chunks of obsChunk through one
// prepared statement and the rest one at a time through the prepared
// single insert: a first look at a batch of new gates writes ~800 rows,
// and parsing a statement of all of them (with latest_observations'
// triggers compiled into it) at every pass was a sixth of the opening's
// CPU at 10,000 gates (issue 23).
func (s *Store) insertObservations(ctx context.Context, tx *sql.Tx, rows []ObservationWrite) error {
	if chunk := s.stmt(ctx, tx, s.stmts.insertObsChunk); chunk != nil {
		args := make([]any, 0, min(len(rows), obsChunk)*obsFields)
		for len(rows) >= obsChunk {
			if _, err := chunk.ExecContext(ctx, obsArgs(args[:0], rows[:obsChunk])...); err != nil {
				return err
			}
			rows = rows[obsChunk:]
		}
		one := s.stmt(ctx, tx, s.stmts.insertObs)
		for i := range rows {
			if _, err := one.ExecContext(ctx, obsArgs(args[:0], rows[i:i+1])...); err != nil {
				return err
			}
		}
		return nil
	}
	if len(rows) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, obsInsert(len(rows)), obsArgs(make([]any, 0, len(rows)*obsFields), rows)...)
	return err
}

// obsChunk is the rows of the prepared chunk insert (insertObsChunk):
// 416 parameters, far below SQLite's limit.
const obsChunk = 32

// obsFields is the parameters of an obsRow.
const obsFields = 13

// obsInsert is the insert of n observation rows.
func obsInsert(n int) string { return insertObsQuery + valueRows(obsRow, n) }

// obsArgs appends the parameters of rows, in obsRow's order, to args.
func obsArgs(args []any, rows []ObservationWrite) []any {
	for _, w := range rows {
		o := w.Obs
		args = append(args, w.Run, w.Attempt, o.Upstream, o.Type, string(o.State), o.ExternalID, nts(o.StartedAt), nts(o.FinishedAt),
			o.Message, o.Error, ts(o.ObservedAt), nullFloat(o.Value), o.Reason)
	}
	return args
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

func scanObservation(sc scanner) (sekisho.Observation, error) { return newObsDest().scan(sc) }

// obsDest holds the destinations of one observation's columns
// (obsColumns), reused across a query's rows as runDest is.
type obsDest struct {
	o               sekisho.Observation
	state, observed string
	started, ended  sql.NullString
	value           sql.NullFloat64
	dest            []any
}

func newObsDest() *obsDest {
	d := &obsDest{}
	d.dest = append(d.dest, &d.o.Upstream, &d.o.Type, &d.state, &d.o.ExternalID, &d.started, &d.ended, &d.o.Message,
		&d.o.Error, &d.observed, &d.value, &d.o.Reason)
	return d
}

func (d *obsDest) scan(sc scanner) (sekisho.Observation, error) {
	d.o = sekisho.Observation{}
	if err := sc.Scan(d.dest...); err != nil {
		return sekisho.Observation{}, err
	}
	o := d.o
	if d.value.Valid {
		v := d.value.Float64
		o.Value = &v
	}
	o.State = sekisho.JobState(d.state)
	o.StartedAt, o.FinishedAt = parseTS(d.started), parseTS(d.ended)
	o.ObservedAt = parseTS(sql.NullString{String: d.observed, Valid: true})
	return o, nil
}

// latestObsQuery reads a run's latest observation of one upstream.
const latestObsQuery = `SELECT ` + obsColumns + ` FROM upstream_observations
		WHERE run_id = ? AND upstream = ? ORDER BY id DESC LIMIT 1`

// LatestObservations returns the latest observation of each upstream of a run.
func (s *Store) LatestObservations(ctx context.Context, runID int64) (map[string]sekisho.Observation, error) {
	out := map[string]sekisho.Observation{}
	err := s.eachLatest(ctx, s.r, "?", []any{runID}, func(_ int64, o sekisho.Observation) { out[o.Upstream] = o })
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Observations returns every observation row of a run, oldest first.
func (s *Store) Observations(ctx context.Context, runID int64) ([]sekisho.Observation, error) {
	return queryAll(ctx, s.r, "observations", newObsDest().scan,
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
