package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrTargetNotEmpty is returned by CopyAll when the target store holds
// history already: a copy never merges two histories.
var ErrTargetNotEmpty = errors.New("the target store is not empty")

// TableCount is how many rows one table holds.
type TableCount struct {
	Table string
	Rows  int64
}

// notCopied are tables that describe a store rather than its history, or
// hold work in passing (pushed_events: a SQLite daemon always leads, so its
// queue is empty; watch_status: each watch's last listing, written again on
// its first pass), or that dst's triggers fill as the history is copied
// (latest_observations, migration 017).
var notCopied = map[string]bool{"schema_migrations": true, "leader_lease": true, "data_versions": true, "pushed_events": true,
	"watch_status": true, "latest_observations": true}

// CopyAll copies every table of history (runs, transitions, observations,
// notices, threads, learned jobs, and whatever later migrations add) from
// src into dst, which must be migrated and empty, in one transaction of
// dst, keeping every id; then it compares the row counts of both and
// returns them. src is read in one snapshot. Run it with the daemon
// stopped (the sekisho migrate command takes src's daemon lock).
func CopyAll(ctx context.Context, src, dst *Store) ([]TableCount, error) {
	tables, err := src.historyTables(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		var n int64
		if err := dst.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(t)).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: copy: the target has no table %s (is it migrated?): %w", t, err)
		}
		if n > 0 {
			return nil, fmt.Errorf("store: %w: %s holds %d rows (copy into a new, empty database)", ErrTargetNotEmpty, t, n)
		}
	}
	rtx, err := src.r.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	defer rtx.Rollback()
	want := make([]TableCount, 0, len(tables))
	err = dst.withTx(ctx, func(wtx *sql.Tx) error {
		for _, t := range tables {
			n, err := copyTable(ctx, rtx, wtx, dst, t)
			if err != nil {
				return fmt.Errorf("%s: %w", t, err)
			}
			want = append(want, TableCount{Table: t, Rows: n})
		}
		return dst.resetIdentities(ctx, wtx, tables)
	})
	if err != nil {
		return nil, fmt.Errorf("store: copy: %w", err)
	}
	for _, c := range want {
		var got int64
		if err := dst.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+quoteIdent(c.Table)).Scan(&got); err != nil {
			return nil, fmt.Errorf("store: copy: count %s: %w", c.Table, err)
		}
		if got != c.Rows {
			return nil, fmt.Errorf("store: copy: %s has %d rows in the target, %d in the source", c.Table, got, c.Rows)
		}
	}
	return want, nil
}

// historyTables lists src's tables of history, parents before children
// (foreign keys), so rows can be inserted in order.
func (s *Store) historyTables(ctx context.Context) ([]string, error) {
	if s.dialect != SQLite {
		return nil, errors.New("store: copy reads a SQLite store")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT m.name, COALESCE(f."table", '') FROM sqlite_master m
		LEFT JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name`)
	if err != nil {
		return nil, fmt.Errorf("store: copy: list tables: %w", err)
	}
	defer rows.Close()
	parents := map[string][]string{}
	for rows.Next() {
		var t, parent string
		if err := rows.Scan(&t, &parent); err != nil {
			return nil, err
		}
		if notCopied[t] {
			continue
		}
		if _, ok := parents[t]; !ok {
			parents[t] = nil
		}
		if parent != "" && parent != t {
			parents[t] = append(parents[t], parent)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(parents))
	for t := range parents {
		names = append(names, t)
	}
	sort.Strings(names)
	var out []string
	done := map[string]bool{}
	var visit func(t string)
	visit = func(t string) {
		if done[t] {
			return
		}
		done[t] = true
		for _, p := range parents[t] {
			visit(p)
		}
		out = append(out, t)
	}
	for _, t := range names {
		visit(t)
	}
	return out, nil
}

// copyBatch is how many rows go into one INSERT (PostgreSQL takes at most
// 65535 parameters in a statement).
const copyBatch = 500

func copyTable(ctx context.Context, rtx, wtx *sql.Tx, dst *Store, table string) (int64, error) {
	rows, err := rtx.QueryContext(ctx, `SELECT * FROM `+quoteIdent(table)+` ORDER BY rowid`)
	if err != nil {
		// A table without a rowid orders by its columns instead.
		rows, err = rtx.QueryContext(ctx, `SELECT * FROM `+quoteIdent(table))
		if err != nil {
			return 0, err
		}
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	quoted := make([]string, len(cols))
	for i, c := range cols {
		quoted[i] = quoteIdent(c)
	}
	head := `INSERT INTO ` + quoteIdent(table) + ` (` + strings.Join(quoted, ", ") + `) VALUES `
	tuple := `(` + placeholders(len(cols)) + `)`
	batch := max(1, min(copyBatch, 60000/len(cols)))
	var n int64
	args := make([]any, 0, batch*len(cols))
	pending := 0
	flush := func() error {
		if pending == 0 {
			return nil
		}
		q := head + valueRows(tuple, pending)
		if _, err := wtx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
		args, pending = args[:0], 0
		return nil
	}
	err = eachRow(rows, len(cols), func(vals []any) error {
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b) // SQLite hands TEXT back as bytes at times; the schema stores text
			}
			args = append(args, v)
		}
		pending++
		n++
		if pending == batch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, flush()
}

// resetIdentities moves PostgreSQL's id sequences past the copied ids, so
// the next run, transition or notice gets a fresh one.
func (s *Store) resetIdentities(ctx context.Context, tx *sql.Tx, tables []string) error {
	if s.dialect != Postgres {
		return nil
	}
	for _, t := range tables {
		rows, err := tx.QueryContext(ctx, `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? AND is_identity = 'YES'`, t)
		if err != nil {
			return err
		}
		var idCols []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return err
			}
			idCols = append(idCols, c)
		}
		rows.Close()
		for _, c := range idCols {
			_, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), COALESCE((SELECT MAX(`+quoteIdent(c)+`) FROM `+
				quoteIdent(t)+`), 0) + 1, false)`, t, c)
			if err != nil {
				return fmt.Errorf("reset %s.%s: %w", t, c, err)
			}
		}
	}
	return nil
}

// quoteIdent quotes a table or column name read from the schema.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
