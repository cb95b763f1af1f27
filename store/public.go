package store

import (
	"context"
	"fmt"
	"strings"
)

// publicTables are the tables and views BI tools may read (docs/slo.md):
// the history, never the outbox or the daemon's own bookkeeping.
var publicTables = map[string]bool{"runs": true, "transitions": true, "slo_daily": true, "run_summary": true}

// ScanPublic reads every row of a public table or view, the given columns
// in orderBy's order, and calls fn with each row's values (reused between
// calls). Rows stream as they are read, so memory stays flat however long
// the history is.
func (s *Store) ScanPublic(ctx context.Context, table string, cols []string, orderBy string, fn func(vals []any) error) error {
	if !publicTables[table] {
		return fmt.Errorf("store: %q is not a public table", table)
	}
	// The names come from the callers' fixed lists, checked above for the table.
	rows, err := s.r.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table+` ORDER BY `+orderBy)
	if err != nil {
		return fmt.Errorf("store: read %s: %w", table, err)
	}
	defer rows.Close()
	var fnErr error
	err = eachRow(rows, len(cols), func(vals []any) error { fnErr = fn(vals); return fnErr })
	if err != nil && fnErr == nil {
		return fmt.Errorf("store: read %s: %w", table, err)
	}
	return err
}
