package slo

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

const (
	benchPipelines = 1000
	benchFrom      = "2025-01-01"
	benchTo        = "2025-12-31"
	benchFixture   = "v1" // bump when the fill below changes
)

var benchZones = []string{"Asia/Tokyo", "UTC", "America/New_York"}

func benchConfig(b *testing.B) *config.Config {
	cfg := config.Fill(&config.Config{Location: time.UTC})
	for i := range benchPipelines {
		tz := benchZones[i%len(benchZones)]
		cfg.Pipelines = append(cfg.Pipelines, pipeline(b, fmt.Sprintf("p%04d", i), "0 2 * * *", tz, "06:00", 0.95))
	}
	return cfg
}

// benchDB returns the read pool of a store holding a year of benchPipelines
// pipelines. Filling takes tens of seconds, so the file is kept in
// os.TempDir under a name keyed by the schema and the fixture version and
// reused by later runs.
func benchDB(b *testing.B, cfg *config.Config) *store.Store {
	ctx := context.Background()
	probe, err := teststore.Open(ctx, filepath.Join(b.TempDir(), "probe.db"))
	if err != nil {
		b.Fatal(err)
	}
	var schema string
	if err := probe.ReadDB().QueryRowContext(ctx, `SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name)`).Scan(&schema); err != nil {
		b.Fatal(err)
	}
	probe.Close()
	sum := sha256.Sum256([]byte(schema + benchFixture))
	path := filepath.Join(os.TempDir(), "sekisho-slo-bench-"+hex.EncodeToString(sum[:6])+".db")
	if _, err := os.Stat(path); err != nil {
		start := time.Now()
		tmp := path + ".filling"
		os.Remove(tmp)
		if err := fillYear(ctx, tmp, cfg); err != nil {
			b.Fatal(err)
		}
		if err := os.Rename(tmp, path); err != nil {
			b.Fatal(err)
		}
		b.Logf("filled %s in %s", path, time.Since(start).Round(time.Millisecond))
	}
	st, err := teststore.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// fillYear writes a year of runs, most met, some late, failed, timed out,
// skipped or missing, each with the transitions the engine would append,
// through batched multi-row INSERTs in one transaction.
func fillYear(ctx context.Context, path string, cfg *config.Config) error {
	st, err := teststore.Open(ctx, path)
	if err != nil {
		return err
	}
	st.Close()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(OFF)")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	const batch = 100
	var runVals, trVals []string
	var runArgs, trArgs []any
	flush := func() error {
		if len(runVals) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, pipeline, logical_date, run_key, attempt, state, gate_at, attempt_at,
				timeout_at, deadline, recover_by, triggered_at, started_at, finished_at, first_success_at, spec, updated_at)
				VALUES `+strings.Join(runVals, ","), runArgs...); err != nil {
				return err
			}
		}
		for len(trVals) > 0 {
			n := min(len(trVals), batch*4)
			if _, err := tx.ExecContext(ctx, `INSERT INTO transitions (run_id, pipeline, logical_date, attempt, from_state,
				to_state, at, reason) VALUES `+strings.Join(trVals[:n], ","), trArgs[:n*8]...); err != nil {
				return err
			}
			trVals, trArgs = trVals[n:], trArgs[n*8:]
		}
		runVals, runArgs, trVals, trArgs = runVals[:0], runArgs[:0], trVals[:0], trArgs[:0]
		return nil
	}
	f := func(t time.Time) string { return t.UTC().Format(sekisho.TimeLayout) }
	from, _ := time.Parse(time.DateOnly, benchFrom)
	id := 0
	for day := from; day.Year() == from.Year(); day = day.AddDate(0, 0, 1) {
		date := day.Format(time.DateOnly)
		for i, p := range cfg.Pipelines {
			h := (i*7919 + day.YearDay()*104729) % 100
			if h == 0 {
				continue // no run: the gate was missed
			}
			gate := time.Date(day.Year(), day.Month(), day.Day(), 2, 0, 0, 0, p.Location)
			deadline, recoverBy := p.Deadline(date, gate), p.RecoverBy(date, gate)
			id++
			state, attempt := "succeeded", 1
			var done time.Time
			succ := any(nil)
			switch {
			case h < 90:
				done = deadline.Add(-time.Duration(h) * time.Minute)
			case h < 95:
				done = deadline.Add(time.Duration(h) * time.Minute)
			case h < 97:
				state, done = "failed", gate.Add(time.Hour)
			case h < 98:
				state, attempt, done = "succeeded", 2, deadline.Add(5*time.Hour)
			case h < 99:
				state, done = "timed_out", gate.Add(6*time.Hour)
			default:
				state, done = "skipped", gate.Add(time.Hour)
			}
			if state == "succeeded" {
				succ = f(done)
			}
			trig, run := gate.Add(20*time.Minute), gate.Add(21*time.Minute)
			runVals = append(runVals, "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,'{}',?)")
			runArgs = append(runArgs, id, p.Name, date, date, attempt, state, f(gate), f(gate), f(gate.Add(6*time.Hour)),
				f(deadline), f(recoverBy), f(trig), f(run), f(done), succ, f(done))
			steps := [][3]string{{"", "waiting", "gate_opened"}, {"waiting", "triggered", "condition_met"},
				{"triggered", "running", "dag_run_running"}, {"running", state, "dag_run_success"}}
			times := []time.Time{gate, trig, run, done}
			if state == "timed_out" {
				steps, times = [][3]string{{"", "waiting", "gate_opened"}, {"waiting", "timed_out", "timeout"}}, []time.Time{gate, done}
			}
			for k, s := range steps {
				trVals = append(trVals, "(?,?,?,?,?,?,?,?)")
				trArgs = append(trArgs, id, p.Name, date, 1, s[0], s[1], f(times[k]), s[2])
			}
			if len(runVals) == batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

// BenchmarkReportYear1000 times `report slo` over a year of 1,000
// pipelines (about 360,000 runs and 1.4 million transitions).
func BenchmarkReportYear1000(b *testing.B) {
	cfg := benchConfig(b)
	db := benchDB(b, cfg)
	q := Query{From: benchFrom, To: benchTo, Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var rep *Report
	for b.Loop() {
		var err error
		if rep, err = Compute(ctx, db, cfg, q); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if rep.Overall.Days < 350_000 || len(rep.Pipelines) != benchPipelines {
		b.Fatalf("report covers %d days of %d pipelines", rep.Overall.Days, len(rep.Pipelines))
	}
	b.ReportMetric(float64(rep.Overall.Days), "days")
}

// BenchmarkReportYear1000Postgres is BenchmarkReportYear1000 on a
// PostgreSQL store holding the same year (copied with store.CopyAll, as
// `sekisho migrate` does), and checks both stores give the same report.
func BenchmarkReportYear1000Postgres(b *testing.B) {
	cfg := benchConfig(b)
	ctx := context.Background()
	lite := benchDB(b, cfg)
	pgURL := pgtest.URL(b)
	pg, err := teststore.Open(ctx, pgURL)
	if err != nil {
		b.Fatal(err)
	}
	defer pg.Close()
	start := time.Now()
	if _, err := store.CopyAll(ctx, lite, pg); err != nil {
		b.Fatal(err)
	}
	raw, err := store.RawDB(pgURL)
	if err != nil {
		b.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	b.Logf("copied the year into PostgreSQL in %s", time.Since(start).Round(time.Millisecond))
	q := Query{From: benchFrom, To: benchTo, Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	want, err := Compute(ctx, lite, cfg, q)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var rep *Report
	for b.Loop() {
		if rep, err = Compute(ctx, pg, cfg, q); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if !reflect.DeepEqual(rep, want) {
		b.Fatalf("PostgreSQL's report differs from SQLite's: overall %+v vs %+v", rep.Overall, want.Overall)
	}
	b.ReportMetric(float64(rep.Overall.Days), "days")
}

// BenchmarkStandingYear1000 is a refresh of the attainment metric over
// the store of BenchmarkReportYear1000 when no write came since the last
// one (Standing.Rows, the first call made before the timer): what
// /metrics pays every 30 s instead of a whole report. Each refresh is a
// minute later than the one before; no day of the year is undecided, so
// none is walked again (walked/op).
func BenchmarkStandingYear1000(b *testing.B) {
	cfg := benchConfig(b)
	db := benchDB(b, cfg)
	q := Query{From: benchFrom, To: benchTo, Now: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)}
	ctx := context.Background()
	var s Standing
	want, err := Compute(ctx, db, cfg, q)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Rows(ctx, db, cfg, q); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	walked := 0
	var rows []Row
	for b.Loop() {
		q.Now = q.Now.Add(time.Minute)
		if rows, err = s.Rows(ctx, db, cfg, q); err != nil {
			b.Fatal(err)
		}
		walked += s.walked
	}
	b.StopTimer()
	if !reflect.DeepEqual(rows, want.Pipelines) {
		b.Fatal("Standing's rows differ from Compute's")
	}
	b.ReportMetric(float64(walked)/float64(b.N), "walked/op")
}
