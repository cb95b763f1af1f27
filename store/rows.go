package store

import (
	"context"
	"database/sql"
	"fmt"
)

// queryAll runs q and scans every row with scan into a slice. Errors name
// what was read ("store: runs: ..."). The rows are closed when it returns.
func queryAll[T any](ctx context.Context, db rowsQuerier, what string, scan func(scanner) (T, error), q string, args ...any) ([]T, error) {
	var out []T
	err := queryEach(ctx, db, what, scan, func(v T) { out = append(out, v) }, q, args...)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryEach runs q and hands each row, scanned, to fn: a caller that keeps
// something else than the rows (the status listing's compact runs) never
// holds them all.
func queryEach[T any](ctx context.Context, db rowsQuerier, what string, scan func(scanner) (T, error), fn func(T), q string, args ...any) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return fmt.Errorf("store: %s: %w", what, err)
		}
		fn(v)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// eachRow scans every row of rows into one slice of n values, reused
// between rows, and calls fn with it. It leaves closing rows to the caller.
func eachRow(rows *sql.Rows, n int, fn func(vals []any) error) error {
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		if err := fn(vals); err != nil {
			return err
		}
	}
	return rows.Err()
}
