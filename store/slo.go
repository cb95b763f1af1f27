package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// The SLO report reads a year of a thousand pipelines, and /metrics 30
// days of ten thousand every 30 s. Handing SQLite's rows over
// database/sql costs about a microsecond per column, so each pipeline's
// runs of a date range come back as one text value, a record per run;
// the covering index runs_slo (migration 002) serves the query from index
// pages in date order. One value per pipeline instead of nine per run
// takes that report from 1.3 s to under 0.3 s. A statement asks for a
// batch of pipelines at once (correlated subqueries over a VALUES list):
// one statement a pipeline cost ~2 KB of driver allocations and several
// microseconds each, most of /metrics' refresh at 10,000 pipelines.

// SLORecordFields are the fields of one record of RunRecords, in order,
// joined by '|'; records are joined by ';'. Instants are stored text
// (sekisho.TimeLayout), empty when null.
var SLORecordFields = []string{"logical_date", "state", "attempt", "gate_at", "deadline", "recover_by",
	"first_success_at", "finished_at"}

// sloFirstQuery and sloRecordsQuery are one pipeline's (v.p) first date
// and records. No ORDER BY inside string_agg: that would build a sorter
// per pipeline and double the time; the reader sorts if the database ever
// hands the records out of order. Both dialects take them as written:
// string_agg and concat exist in SQLite (3.44+) and PostgreSQL, and the
// PostgreSQL driver turns the numbered ?N into $N.
const (
	sloFirstQuery   = `(SELECT MIN(logical_date) FROM runs WHERE pipeline = v.p)`
	sloRecordsQuery = `(SELECT string_agg(` + sloRecord + `, ';')
	FROM runs WHERE pipeline = v.p AND logical_date >= ?1 AND logical_date <= ?2)`
)

// sloFirstPrunedQuery and sloRecordsPrunedQuery are the same over runs
// and the summaries of pruned days (slo_days, retention.go), which hold
// the same records: the report gives the same answer before and after a
// day is pruned. A pipeline's first day is the earlier of both.
const (
	sloFirstPrunedQuery = `(SELECT MIN(d) FROM (SELECT MIN(logical_date) AS d FROM runs WHERE pipeline = v.p
		UNION ALL SELECT MIN(logical_date) FROM slo_days WHERE pipeline = v.p) f)`
	sloRecordsPrunedQuery = `(SELECT string_agg(b, ';') FROM (SELECT string_agg(` + sloRecord + `, ';') AS b
		FROM runs WHERE pipeline = v.p AND logical_date >= ?1 AND logical_date <= ?2
		UNION ALL SELECT string_agg(records, ';') FROM slo_days WHERE pipeline = v.p AND logical_date >= ?1 AND logical_date <= ?2) r)`
)

// SLOReader reads pipelines' runs for the SLO report with one prepared
// statement, a batch of pipelines a query; it is safe for concurrent use.
// Close it when done.
type SLOReader struct {
	stmt  *sql.Stmt
	batch int
}

// SLOReader prepares the report's query on the read pool for batches of
// up to batch pipelines (at least 1).
func (s *Store) SLOReader(ctx context.Context, batch int) (*SLOReader, error) {
	batch = max(batch, 1)
	first, records := sloFirstQuery, sloRecordsQuery
	if s.schema >= retentionVersion {
		first, records = sloFirstPrunedQuery, sloRecordsPrunedQuery
	}
	// ?1 and ?2 are the dates.
	stmt, err := s.r.PrepareContext(ctx, pipelineBatch(batch)+"SELECT v.i, "+first+",\n\t"+records+"\nFROM v")
	if err != nil {
		return nil, fmt.Errorf("store: read runs: %w (is this a sekisho database?)", err)
	}
	return &SLOReader{stmt: stmt, batch: batch}, nil
}

// pipelineBatch is the head of a statement about batch pipelines at once:
// v(i, p), each one's position in the batch and name (parameters ?3 on;
// ?1 and ?2 are the statement's own). Its correlated subqueries read each
// pipeline; one statement a pipeline cost ~2 KB of driver allocations and
// several microseconds each at 10,000 pipelines.
func pipelineBatch(batch int) string {
	var q strings.Builder
	q.WriteString("WITH v(i, p) AS (VALUES ")
	for i := range batch {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "(%d, ?%d)", i, i+3)
	}
	q.WriteString(")\n")
	return q.String()
}

// batchArgs sets the batch's names in args (args[2:], pipelineBatch's ?3
// on) to pipelines, a short batch padded with the empty name, which no
// pipeline has.
func batchArgs(args []any, pipelines []string) {
	for i := range args[2:] {
		name := ""
		if i < len(pipelines) {
			name = pipelines[i]
		}
		args[2+i] = name
	}
}

// Batch is how many pipelines one query of EachRunRecords asks for.
func (r *SLOReader) Batch() int { return r.batch }

// EachRunRecords calls fn for each of pipelines (at most Batch of them),
// with its index in pipelines, the logical date of its first run ever
// (empty if it never ran) and its runs with logical dates in [from, to]
// as records of SLORecordFields, pruned ones included. Calls come in no
// particular order, while the query's rows are read: fn must not block.
func (r *SLOReader) EachRunRecords(ctx context.Context, pipelines []string, from, to string,
	fn func(i int, first, records string) error) error {
	if len(pipelines) > r.batch {
		return fmt.Errorf("store: runs of %d pipelines in a batch of %d", len(pipelines), r.batch)
	}
	args := make([]any, 2+r.batch)
	args[0], args[1] = from, to
	batchArgs(args, pipelines)
	rows, err := r.stmt.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("store: runs of %s…: %w", pipelines[0], err)
	}
	defer rows.Close()
	var (
		seen, i int
		f, b    sql.NullString
	)
	for rows.Next() {
		if err := rows.Scan(&i, &f, &b); err != nil {
			return fmt.Errorf("store: runs of %s…: %w", pipelines[0], err)
		}
		if i < 0 || i >= len(pipelines) {
			continue
		}
		seen++
		if err := fn(i, f.String, b.String); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: runs of %s…: %w", pipelines[0], err)
	}
	if seen != len(pipelines) {
		// A pipeline left out would read as one that never ran.
		return fmt.Errorf("store: runs of %s…: %d rows for %d pipelines", pipelines[0], seen, len(pipelines))
	}
	return nil
}

// RunRecords returns the logical date of the pipeline's first run ever
// (empty if it never ran) and its runs with logical dates in [from, to] as
// records of SLORecordFields, pruned ones included: EachRunRecords of one.
func (r *SLOReader) RunRecords(ctx context.Context, pipeline, from, to string) (first, records string, err error) {
	err = r.EachRunRecords(ctx, []string{pipeline}, from, to, func(_ int, f, b string) error {
		first, records = f, b
		return nil
	})
	return first, records, err
}

// Close releases the statement.
func (r *SLOReader) Close() error { return r.stmt.Close() }
