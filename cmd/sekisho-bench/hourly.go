package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/storebench"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// hourlyFrom is the first day of the hourly month: a 30-day month.
var hourlyFrom = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// runHourlyMonth writes a month of n hourly pipelines into a fresh SQLite
// store the way the engine writes them (testkit/storebench) and prints the
// rows per day, the store's size and the `report slo` time over the month;
// with pg, the same month copied into a fresh PostgreSQL database (as
// `sekisho migrate` copies a store) and measured there too (issue #21).
func runHourlyMonth(ctx context.Context, n, days int, pg string, logf func(string, ...any)) error {
	dir, err := os.MkdirTemp("", "sekisho-bench-hourly-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "s.db")
	st, err := teststore.Open(ctx, path)
	if err != nil {
		return err
	}
	defer st.Close()
	empty, err := sqliteSize(ctx, st, path)
	if err != nil {
		return err
	}
	cfg := storebench.HourlyConfig(n)
	logf("hourly month: writing %d days of %d hourly pipelines", days, n)
	m, err := storebench.HourlyMonth(ctx, st, cfg, hourlyFrom, days)
	if err != nil {
		return err
	}
	size, err := sqliteSize(ctx, st, path)
	if err != nil {
		return err
	}
	perDay := func(v int) float64 { return float64(v) / float64(days) }
	fmt.Printf("## %d hourly pipelines for a simulated month (%d days, %s to %s)\n", n, days, m.From, m.To)
	fmt.Printf("rows per day: %.0f (runs %.0f, transitions %.0f, upstream observations %.0f); %d rows in all\n",
		perDay(m.Rows()), perDay(m.Runs), perDay(m.Transitions), perDay(m.Observations), m.Rows())
	fmt.Printf("written through the store's API as the engine writes them in %s (%s per simulated day)\n",
		m.Write.Round(time.Second), (m.Write / time.Duration(days)).Round(time.Millisecond))
	fmt.Printf("SQLite store: %s for the month, %s per day (empty store %s)\n", mibStr(size-empty), mibStr((size-empty)/int64(days)), mibStr(empty))
	if err := timeReport(ctx, "SQLite", st, cfg, m); err != nil {
		return err
	}
	if pg == "" {
		fmt.Println()
		return nil
	}
	url, drop, err := pgtest.Create(ctx, pg, "sekisho_bench_hourly_")
	if err != nil {
		return err
	}
	defer drop()
	pst, err := teststore.Open(ctx, url)
	if err != nil {
		return err
	}
	defer pst.Close()
	pgEmpty, err := pgSize(ctx, url)
	if err != nil {
		return err
	}
	began := time.Now()
	if _, err := store.CopyAll(ctx, st, pst); err != nil {
		return err
	}
	raw, err := store.RawDB(url)
	if err != nil {
		return err
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
		return err
	}
	pgFull, err := pgSize(ctx, url)
	if err != nil {
		return err
	}
	fmt.Printf("PostgreSQL store (the month copied in with store.CopyAll in %s, then VACUUM ANALYZE): %s for the month, %s per day (empty database %s)\n",
		time.Since(began).Round(time.Second), mibStr(pgFull-pgEmpty), mibStr((pgFull-pgEmpty)/int64(days)), mibStr(pgEmpty))
	if err := timeReport(ctx, "PostgreSQL", pst, cfg, m); err != nil {
		return err
	}
	fmt.Println()
	return nil
}

// timeReport times slo.Compute over the month five times and prints the
// fastest and the median, with what the report counted.
func timeReport(ctx context.Context, name string, st *store.Store, cfg *config.Config, m storebench.Month) error {
	end, _ := time.Parse(time.DateOnly, m.To)
	q := slo.Query{From: m.From, To: m.To, Now: end.AddDate(0, 0, 2)}
	var took []time.Duration
	var rep *slo.Report
	for range 5 {
		began := time.Now()
		var err error
		if rep, err = slo.Compute(ctx, st, cfg, q); err != nil {
			return err
		}
		took = append(took, time.Since(began))
	}
	slices.Sort(took)
	intervals, met := 0, 0
	for _, r := range rep.Pipelines {
		if r.Intervals != nil && r.IntervalsMet != nil {
			intervals += *r.Intervals
			met += *r.IntervalsMet
		}
	}
	fmt.Printf("report slo over the month on %s: fastest %s, median %s of 5 (%d pipelines, %d days, %d intervals, %d met)\n",
		name, ms(took[0]), ms(took[2]), len(rep.Pipelines), rep.Overall.Days, intervals, met)
	return nil
}

// sqliteSize is the store's file size once its write-ahead log is folded in.
func sqliteSize(ctx context.Context, st *store.Store, path string) (int64, error) {
	raw, err := store.RawDB(path)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return 0, err
	}
	var size int64
	for _, f := range []string{path, path + "-wal"} {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	return size, nil
}

// pgSize is the database's size on disk, tables, indexes and TOAST.
func pgSize(ctx context.Context, url string) (int64, error) {
	raw, err := store.RawDB(url)
	if err != nil {
		return 0, err
	}
	defer raw.Close()
	var size int64
	err = raw.QueryRowContext(ctx, `SELECT pg_database_size(current_database())`).Scan(&size)
	return size, err
}

func mibStr(b int64) string { return fmt.Sprintf("%.1f MiB", mib(b)) }
