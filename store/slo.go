package store

import (
	"context"
	"database/sql"
	"fmt"
)

// The SLO report reads a year of a thousand pipelines. Handing SQLite's
// rows over database/sql costs about a microsecond per column, so each
// pipeline's runs of a date range come back as one text value, a record
// per run; the covering index runs_slo (migration 002) serves the query
// from index pages in date order. One value per pipeline instead of nine
// per run takes that report from 1.3 s to under 0.3 s.

// SLORecordFields are the fields of one record of RunRecords, in order,
// joined by '|'; records are joined by ';'. Instants are stored text
// (sekisho.TimeLayout), empty when null.
var SLORecordFields = []string{"logical_date", "state", "attempt", "gate_at", "deadline", "recover_by",
	"first_success_at", "finished_at"}

// sloRecordsQuery has no ORDER BY inside string_agg: that would build a
// sorter per pipeline and double the time; the reader sorts if the
// database ever hands the records out of order. Both dialects take it as
// written: string_agg and concat exist in SQLite (3.44+) and PostgreSQL,
// and the PostgreSQL driver turns the numbered ?N into $N.
const sloRecordsQuery = `SELECT (SELECT MIN(logical_date) FROM runs WHERE pipeline = ?1),
	(SELECT string_agg(` + sloRecord + `, ';')
	FROM runs WHERE pipeline = ?1 AND logical_date >= ?2 AND logical_date <= ?3)`

// sloRecordsPrunedQuery is sloRecordsQuery over runs and the summaries of
// pruned days (slo_days, retention.go), which hold the same records: the
// report gives the same answer before and after a day is pruned. A
// pipeline's first day is the earlier of both.
const sloRecordsPrunedQuery = `SELECT (SELECT MIN(d) FROM (SELECT MIN(logical_date) AS d FROM runs WHERE pipeline = ?1
		UNION ALL SELECT MIN(logical_date) FROM slo_days WHERE pipeline = ?1) f),
	(SELECT string_agg(b, ';') FROM (SELECT string_agg(` + sloRecord + `, ';') AS b
		FROM runs WHERE pipeline = ?1 AND logical_date >= ?2 AND logical_date <= ?3
		UNION ALL SELECT string_agg(records, ';') FROM slo_days WHERE pipeline = ?1 AND logical_date >= ?2 AND logical_date <= ?3) r)`

// SLOReader reads pipelines' runs for the SLO report with one prepared
// statement; it is safe for concurrent use. Close it when done.
type SLOReader struct{ stmt *sql.Stmt }

// SLOReader prepares the report's query on the read pool.
func (s *Store) SLOReader(ctx context.Context) (*SLOReader, error) {
	q := sloRecordsQuery
	if s.schema >= retentionVersion {
		q = sloRecordsPrunedQuery
	}
	stmt, err := s.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("store: read runs: %w (is this a sekisho database?)", err)
	}
	return &SLOReader{stmt: stmt}, nil
}

// RunRecords returns the logical date of the pipeline's first run ever
// (empty if it never ran) and its runs with logical dates in [from, to] as
// records of SLORecordFields, pruned ones included.
func (r *SLOReader) RunRecords(ctx context.Context, pipeline, from, to string) (first, records string, err error) {
	var f, b sql.NullString
	if err := r.stmt.QueryRowContext(ctx, pipeline, from, to).Scan(&f, &b); err != nil {
		return "", "", fmt.Errorf("store: runs of %s: %w", pipeline, err)
	}
	return f.String, b.String, nil
}

// Close releases the statement.
func (r *SLOReader) Close() error { return r.stmt.Close() }
