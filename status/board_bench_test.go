package status_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// BenchmarkBuild10k builds the board of 10,000 pipelines, half of them
// waiting on another pipeline, every one on a job seen running, with
// every gate open, reading the store
// afresh: what the digest and `sekisho status` pay, and what GET
// /api/v1/status and the board pay after the store changed.
func BenchmarkBuild10k(b *testing.B) {
	ctx, st, cfg, now := board10k(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		bd, err := status.Build(ctx, st, cfg, "", now)
		if err != nil || len(bd.Pipelines) != 10000 {
			b.Fatalf("%v, %d pipelines", err, len(bd.Pipelines))
		}
	}
}

// BenchmarkCache10k is BenchmarkBuild10k from a status.Cache while the
// store does not change: what GET /api/v1/status and the board pay per
// call between writes (issue 23: ≤ 100 ms and ≤ 10 MiB).
func BenchmarkCache10k(b *testing.B) {
	ctx, st, cfg, now, c := cached10k(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		bd, err := c.Build(ctx, st, cfg, "", now.Add(time.Duration(i)*time.Second))
		if err != nil || len(bd.Pipelines) != 10000 {
			b.Fatalf("%v, %d pipelines", err, len(bd.Pipelines))
		}
		bd.Release() // as the API and the board do once they have answered
	}
}

// BenchmarkAfterWrite10k is a call of GET /api/v1/status's board after
// one pipeline's run changed (a transition of the daemon, not timed): in a
// live daemon some write comes between any two calls, so this, not
// BenchmarkCache10k, is the usual call.
func BenchmarkAfterWrite10k(b *testing.B) {
	ctx, st, cfg, now, c := cached10k(b)
	runs, err := st.RunsOn(ctx, []string{"2026-11-01"})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		r := &runs[i%len(runs)]
		next := *r
		next.Message = fmt.Sprint("call ", i)
		if *r, err = st.Apply(ctx, *r, next, now, store.Step{Reason: "bench"}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		bd, err := c.Build(ctx, st, cfg, "", now.Add(time.Duration(i)*time.Second))
		if err != nil || bd.Pipeline(r.Pipeline).Message != next.Message {
			b.Fatalf("%v, the changed run is not shown", err)
		}
		bd.Release()
	}
}

// BenchmarkCacheKept10k reports what a status.Cache keeps live between
// calls at 10,000 pipelines (kept-B: the heap after a collection, less the
// heap before the first call), the cost of the cache to the daemon's
// memory, on the daemon's store (history10k: three upstreams a pipeline,
// their observations, 30 days of history).
func BenchmarkCacheKept10k(b *testing.B) {
	ctx, st, cfg, now := history10k(b, 30)
	var ms runtime.MemStats
	for range b.N {
		var c status.Cache
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.HeapAlloc
		bd, err := c.Build(ctx, st, cfg, "", now)
		if err != nil {
			b.Fatal(err)
		}
		bd.Release()
		runtime.GC()
		runtime.GC() // the released entries' pool too
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapAlloc)-float64(before), "kept-B")
		runtime.KeepAlive(&c)
	}
}

// BenchmarkAnswer10k is GET /api/v1/status's whole answer from the cache
// as the API writes it (status.Cache.Answer: each entry made as it is
// written, into one reused entry), the store unchanged. The cache is
// filled before the timer starts.
func BenchmarkAnswer10k(b *testing.B) {
	ctx, st, cfg, now, c := cached10k(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		answer(ctx, b, c, st, cfg, now.Add(time.Duration(i)*time.Second))
	}
}

// BenchmarkColdAnswer10k is GET /api/v1/status's answer from a cache that
// has read nothing yet: the daemon's first call after it starts (or after
// another process wrote, the config changed or the date turned), a whole
// read and the streamed answer.
func BenchmarkColdAnswer10k(b *testing.B) {
	ctx, st, cfg, now := board10k(b)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		answer(ctx, b, &status.Cache{}, st, cfg, now)
	}
}

// BenchmarkColdAnswerHistory10k is BenchmarkColdAnswer10k on the
// daemon's store (history10k): three upstreams a pipeline with their
// observations, and no history (the daemon bench's store) or 30 days of
// it, which the projections read. With history, "kept" is a process
// started on a store whose summaries an earlier one kept (migration 016),
// "read" one that must read every line's times (the first of a new date):
// its summaries are forgotten before each call.
func BenchmarkColdAnswerHistory10k(b *testing.B) {
	for _, c := range []struct {
		days   int
		forget bool
		name   string
	}{{0, false, "days=0"}, {30, false, "days=30/kept"}, {30, true, "days=30/read"}} {
		b.Run(c.name, func(b *testing.B) {
			ctx, st, cfg, now := history10k(b, c.days)
			answer(ctx, b, &status.Cache{}, st, cfg, now) // keeps the summaries
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if c.forget {
					b.StopTimer()
					forgetKept(b, st.Path())
					b.StartTimer()
				}
				answer(ctx, b, &status.Cache{}, st, cfg, now)
			}
		})
	}
}

// forgetKept deletes the kept ETA history summaries of the store at path.
func forgetKept(b *testing.B, path string) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`DELETE FROM eta_summaries`); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAnswerHistory10k is BenchmarkAnswer10k on the daemon's store
// (history10k).
func BenchmarkAnswerHistory10k(b *testing.B) {
	ctx, st, cfg, now := history10k(b, 30)
	c := &status.Cache{}
	answer(ctx, b, c, st, cfg, now)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		answer(ctx, b, c, st, cfg, now.Add(time.Duration(i)*time.Second))
	}
}

// answer is one GET /api/v1/status: c's answer at now, written out.
func answer(ctx context.Context, b *testing.B, c *status.Cache, st *store.Store, cfg *config.Config, now time.Time) {
	an, err := c.Answer(ctx, st, cfg, "", now)
	if err != nil {
		b.Fatal(err)
	}
	if err := an.WriteJSON(io.Discard); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteJSON10k is the JSON answer alone (WriteJSON) of a board of
// 10,000 pipelines: BenchmarkAnswer10k less BenchmarkCache10k.
func BenchmarkWriteJSON10k(b *testing.B) {
	ctx, st, cfg, now := board10k(b)
	bd, err := status.Build(ctx, st, cfg, "", now)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := bd.WriteJSON(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// cached10k is board10k with a status.Cache that has read it.
func cached10k(b *testing.B) (context.Context, *store.Store, *config.Config, time.Time, *status.Cache) {
	ctx, st, cfg, now := board10k(b)
	c := &status.Cache{}
	if _, err := c.Build(ctx, st, cfg, "", now); err != nil {
		b.Fatal(err)
	}
	return ctx, st, cfg, now, c
}

func board10k(b *testing.B) (context.Context, *store.Store, *config.Config, time.Time) {
	const n = 10000
	st := statustest.Open(b)
	day := "2026-11-01"
	gate := at(day, "02:00")
	// Each also waits on a job of its own, seen running.
	cfg, gates := config10k(n, day, gate, "load")
	ctx := context.Background()
	for i := 0; i < n; i += 500 {
		runs, err := st.OpenGates(ctx, gates[i:i+500])
		if err != nil {
			b.Fatal(err)
		}
		obs := make([]store.ObservationWrite, len(runs))
		for j, r := range runs {
			obs[j] = store.ObservationWrite{Run: r.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "load", Type: config.TypeGlueJob,
				State: sekisho.JobRunning, ExternalID: "jr_" + r.Pipeline, StartedAt: gate.Add(time.Minute), ObservedAt: gate.Add(time.Minute)}}
		}
		if _, err := st.RecordObservations(ctx, obs); err != nil {
			b.Fatal(err)
		}
	}
	return ctx, st, cfg, at(day, "03:00")
}

// config10k is n daily pipelines in Tokyo, the odd ones waiting on the
// pipeline before them, each also on its own Glue job of each of jobs
// (named jobs[i]_pipeline), and the gates of their runs on day, each run
// with its config snapshot, as the engine stores it.
func config10k(n int, day string, gate time.Time, jobs ...string) (*config.Config, []store.Gate) {
	cfg := &config.Config{Timezone: "Asia/Tokyo", Location: tokyo}
	var gates []store.Gate
	for i := range n {
		name := fmt.Sprintf("p%05d", i)
		var ups []string
		if i%2 == 1 {
			ups = append(ups, fmt.Sprintf("p%05d", i-1))
		}
		p := statustest.Pipeline(name, tokyo, "06:00", ups...)
		for _, j := range jobs {
			p.Upstreams = append(p.Upstreams, config.Upstream{Name: j, Type: config.TypeGlueJob, JobName: j + "_" + name})
		}
		cfg.Pipelines = append(cfg.Pipelines, p)
		gates = append(gates, store.Gate{Run: sekisho.Run{Pipeline: name, LogicalDate: day, Key: day, GateAt: gate,
			TimeoutAt: gate.Add(6 * time.Hour), Spec: p.SpecFor(day, gate)}})
	}
	return cfg, gates
}

// history10k is the realistic store of the daemon's listing at 10,000
// pipelines (cmd/sekisho-bench's scale run): three upstreams a pipeline
// (an extract and a load job, and the odd ones a pipeline upstream), each
// with the observations the engine records as it checks them (two of a
// job: pending, then its state now), and days of succeeded history before
// the date, each day's jobs seen running and succeeded. It is made once a
// process (the history is a few hundred thousand rows, written with SQL
// on a connection of its own); its benchmarks only read it.
func history10k(b *testing.B, days int) (context.Context, *store.Store, *config.Config, time.Time) {
	b.Helper()
	if f, ok := historyStores[days]; ok {
		return context.Background(), f.st, f.cfg, f.now
	}
	const n = 10000
	dir, err := os.MkdirTemp("", "status-bench")
	if err != nil {
		b.Fatal(err)
	}
	st, err := teststore.Open(context.Background(), filepath.Join(dir, "sekisho.db"))
	if err != nil {
		b.Fatal(err)
	}
	day := "2026-11-01"
	gate := at(day, "02:00")
	cfg, gates := config10k(n, day, gate, "extract", "load")
	ctx := context.Background()
	for i := 0; i < n; i += 500 {
		runs, err := st.OpenGates(ctx, gates[i:i+500])
		if err != nil {
			b.Fatal(err)
		}
		var obs []store.ObservationWrite
		seen := gate.Add(30 * time.Second)
		for _, r := range runs {
			for _, u := range [][2]string{{"extract", config.TypeGlueJob}, {"load", config.TypeGlueJob}} {
				obs = append(obs, store.ObservationWrite{Run: r.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: u[0],
					Type: u[1], State: sekisho.JobPending, ObservedAt: seen}})
			}
		}
		if _, err := st.RecordObservations(ctx, obs); err != nil {
			b.Fatal(err)
		}
		obs = obs[:0]
		for _, r := range runs {
			obs = append(obs,
				store.ObservationWrite{Run: r.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "extract", Type: config.TypeGlueJob,
					State: sekisho.JobSucceeded, ExternalID: "42" + r.Pipeline[1:], StartedAt: gate.Add(time.Minute),
					FinishedAt: gate.Add(20 * time.Minute), ObservedAt: gate.Add(21 * time.Minute)}},
				store.ObservationWrite{Run: r.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "load", Type: config.TypeGlueJob,
					State: sekisho.JobRunning, ExternalID: "jr_" + r.Pipeline, StartedAt: gate.Add(21 * time.Minute),
					ObservedAt: gate.Add(22 * time.Minute)}})
		}
		if _, err := st.RecordObservations(ctx, obs); err != nil {
			b.Fatal(err)
		}
	}
	if days > 0 {
		writeHistory(b, st.Path(), day, days)
	}
	historyStores[days] = historyStore{st: st, cfg: cfg, now: at(day, "03:00"), dir: dir}
	return ctx, st, cfg, at(day, "03:00")
}

type historyStore struct {
	st  *store.Store
	cfg *config.Config
	now time.Time
	dir string // removed by TestMain
}

// historyStores are the stores history10k made, by days of history.
var historyStores = map[int]historyStore{}

// TestMain removes the stores history10k made (a few hundred MB each),
// which outlive a benchmark's own temporary directory.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range historyStores {
		f.st.Close()
		os.RemoveAll(f.dir)
	}
	os.Exit(code)
}

// writeHistory copies each run of day to the days before it, succeeded
// (a little later each day back, so the medians are no constant), with
// its jobs' observations: running, then succeeded. The rows go in a day
// at a time, oldest first, as the engine writes them: a pipeline's runs
// lie on as many pages as it has days.
func writeHistory(b *testing.B, path, day string, days int) {
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	stamp := func(col, minutes string) string {
		return `strftime('%Y-%m-%dT%H:%M:%fZ', ` + col + `, '-' || d.n || ' days', '+' || (` + minutes + `) || ' minutes')`
	}
	_, err = db.Exec(`WITH RECURSIVE d(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM d WHERE n < ?1)
		INSERT INTO runs (pipeline, logical_date, attempt, state, gate_at, attempt_at, timeout_at, deadline, triggered_at,
			started_at, finished_at, external_id, message, spec, updated_at, first_success_at, version, run_key)
		SELECT r.pipeline, date(r.logical_date, '-' || d.n || ' days'), 1, 'succeeded', `+stamp("r.gate_at", "0")+`,
			`+stamp("r.gate_at", "0")+`, `+stamp("r.timeout_at", "0")+`, `+stamp("r.deadline", "0")+`,
			`+stamp("r.gate_at", "40 + d.n")+`, `+stamp("r.gate_at", "41 + d.n")+`, `+stamp("r.gate_at", "70 + 2 * d.n")+`,
			'', '', '{}', `+stamp("r.gate_at", "70 + 2 * d.n")+`, `+stamp("r.gate_at", "70 + 2 * d.n")+`, 1,
			date(r.logical_date, '-' || d.n || ' days')
		FROM runs r, d WHERE r.logical_date = ?2 ORDER BY d.n DESC, r.pipeline`, days, day)
	if err != nil {
		b.Fatal(err)
	}
	// Each past run's jobs: running at 1 and 21 minutes, then succeeded.
	_, err = db.Exec(`INSERT INTO upstream_observations (run_id, attempt, upstream, type, state, external_id, started_at,
			finished_at, message, error, observed_at, value, reason)
		SELECT r.id, 1, u.name, u.type, s.state, u.name || '-' || r.id,
			strftime('%Y-%m-%dT%H:%M:%fZ', r.gate_at, '+' || u.start || ' minutes'),
			CASE s.state WHEN 'succeeded' THEN strftime('%Y-%m-%dT%H:%M:%fZ', r.gate_at, '+' || (u.start + 19 + r.id % 5) || ' minutes') END,
			'', '', strftime('%Y-%m-%dT%H:%M:%fZ', r.gate_at, '+' || (u.start + s.after) || ' minutes'), NULL, ''
		FROM runs r, (SELECT 'extract' AS name, 'glue_job' AS type, 1 AS start UNION ALL SELECT 'load', 'glue_job', 21) u,
			(SELECT 'running' AS state, 1 AS after UNION ALL SELECT 'succeeded', 25) s
		WHERE r.logical_date < ?1 ORDER BY r.id, u.name, s.after`, day)
	if err != nil {
		b.Fatal(err)
	}
}
