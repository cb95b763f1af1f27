package slo

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// A report over a range that includes pruned days (store.retention, SPEC
// §19) gives the answer it gave before they were pruned: every figure of
// every pipeline, daily and hourly, and every cell of the daily grid. The
// pruned days are read from their summaries (slo_days).
func TestReportOverPrunedDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx := context.Background()
		cfg, rows := monthFixture(t)
		hourly := &config.Pipeline{Name: "hourly", Schedule: "0 * * * *", Timezone: "UTC", Location: time.UTC,
			SLO: &config.SLO{Within: 45 * time.Minute, Objective: 0.9}}
		cfg.Pipelines = append(cfg.Pipelines, hourly)
		f := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
		for d := 1; d <= 3; d++ {
			for h := 0; h < 24; h++ {
				gate := time.Date(2026, 3, d, h, 0, 0, 0, time.UTC)
				success := gate.Add(30 * time.Minute)
				switch {
				case d == 2 && h == 13:
					success = gate.Add(50 * time.Minute) // late
				case d == 2 && h == 10:
					continue // no run: a missed interval
				}
				rows = append(rows, runRow{pipeline: "hourly", date: gate.Format("2006-01-02"), key: gate.Format("2006-01-02T15:04"),
					state: "succeeded", attempt: 1, gate: f(gate), deadline: f(gate.Add(45 * time.Minute)),
					recoverBy: f(gate.Add(3 * time.Hour)), success: f(success), finished: f(success)})
			}
		}
		// gamma never ran: its row of a batch has no first day and no records.
		cfg.Pipelines = append(cfg.Pipelines, pipeline(t, "gamma", "0 3 * * *", "UTC", "05:00", 0.95))
		st := openFixtureAt(t, loc, rows)
		batchedAgreesWithEach(t, st, cfg, monthQuery)
		before, err := Compute(ctx, st, cfg, monthQuery)
		if err != nil {
			t.Fatal(err)
		}
		cellsBefore, err := Daily(ctx, st, cfg, monthQuery)
		if err != nil {
			t.Fatal(err)
		}

		var total store.Pruned
		for {
			p, err := st.Prune(ctx, "2026-03-20", 10, monthQuery.Now)
			if err != nil {
				t.Fatal(err)
			}
			if p.Runs == 0 {
				break
			}
			total.Add(p)
		}
		// alpha's 1st to 19th but the 13th (no run), the hourly's three days.
		if total.Days != 18+3 || total.Runs != 18+71 {
			t.Fatalf("pruned %+v, want 21 days and 89 runs", total)
		}
		batchedAgreesWithEach(t, st, cfg, monthQuery)
		after, err := Compute(ctx, st, cfg, monthQuery)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(after, before) {
			a, _ := json.MarshalIndent(after, "", " ")
			b, _ := json.MarshalIndent(before, "", " ")
			t.Fatalf("report after pruning\n%s\nbefore\n%s", a, b)
		}
		cellsAfter, err := Daily(ctx, st, cfg, monthQuery)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cellsAfter, cellsBefore) {
			t.Fatalf("daily grid changed by pruning:\n%+v\nbefore\n%+v", cellsAfter, cellsBefore)
		}
		// The figures are not trivially equal: the range holds misses of
		// both kinds.
		if r := before.Pipelines[3]; r.Pipeline != "hourly" || r.Intervals == nil || *r.Intervals == *r.IntervalsMet || before.Overall.Missed == 0 {
			t.Fatalf("fixture without misses: %+v", before.Pipelines)
		}
	})
}

// batchedAgreesWithEach checks that the report and the daily grid of every
// pipeline at once, read in batches of several sizes (store.SLOReader: one
// query a batch, a short batch padded), give each pipeline the row and the
// cells its own report gives it (a batch of one).
func batchedAgreesWithEach(t *testing.T, st *store.Store, cfg *config.Config, q Query) {
	t.Helper()
	ctx := context.Background()
	defer func(n int) { readBatch = n }(readBatch)
	var each []Row
	var eachCells []Cell
	for _, p := range []string{"alpha", "beta", "gamma", "hourly"} { // name order, as the report's rows
		q := q
		q.Pipeline = p
		rep, err := Compute(ctx, st, cfg, q)
		if err != nil {
			t.Fatal(err)
		}
		each = append(each, rep.Pipelines...)
		cells, err := Daily(ctx, st, cfg, q)
		if err != nil {
			t.Fatal(err)
		}
		eachCells = append(eachCells, cells...)
	}
	if len(each) != 4 || each[2].Days != 0 || each[0].Days == 0 || len(eachCells) != 4*28 {
		t.Fatalf("per-pipeline rows %+v, %d cells", each, len(eachCells))
	}
	for _, n := range []int{1, 3, 256} {
		readBatch = n
		rep, err := Compute(ctx, st, cfg, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(rep.Pipelines, each) {
			a, _ := json.MarshalIndent(rep.Pipelines, "", " ")
			b, _ := json.MarshalIndent(each, "", " ")
			t.Fatalf("batches of %d:\n%s\neach alone:\n%s", n, a, b)
		}
		cells, err := Daily(ctx, st, cfg, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(cells, eachCells) {
			t.Fatalf("batches of %d: daily grid\n%+v\neach alone\n%+v", n, cells, eachCells)
		}
	}
}
