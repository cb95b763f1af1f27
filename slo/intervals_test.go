package slo

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
)

// An hourly pipeline with slo.within: 45m (SPEC §19): every run is an
// interval judged against 45 minutes after its own gate, met at the
// deadline's very instant and missed a millisecond after; a gate without a
// run is a missed interval; a day is met only when all its intervals are.
func TestSubDailyIntervals(t *testing.T) {
	p := &config.Pipeline{Name: "hourly", Schedule: "0 * * * *", Timezone: "UTC", Location: time.UTC,
		SLO: &config.SLO{Within: 45 * time.Minute, Objective: 0.9}}
	cfg := &config.Config{Timezone: "UTC", Location: time.UTC, Pipelines: []*config.Pipeline{p}}
	f := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	var rows []runRow
	for d := 1; d <= 2; d++ {
		for h := 0; h < 24; h++ {
			gate := time.Date(2026, 6, d, h, 0, 0, 0, time.UTC)
			success := gate.Add(30 * time.Minute)
			switch {
			case d == 1 && h == 0:
				success = gate.Add(45 * time.Minute) // at the deadline: met
			case d == 2 && h == 13:
				success = gate.Add(45*time.Minute + time.Millisecond) // just after: missed
			case d == 2 && h == 10:
				continue // no run: a missed interval
			}
			rows = append(rows, runRow{pipeline: "hourly", date: gate.Format("2006-01-02"), key: gate.Format("2006-01-02T15:04"),
				state: "succeeded", attempt: 1, gate: f(gate), deadline: f(gate.Add(45 * time.Minute)),
				recoverBy: f(time.Date(2026, 6, d+1, 0, 0, 0, 0, time.UTC)), success: f(success), finished: f(success)})
		}
	}
	st := openFixture(t, rows)
	q := Query{From: "2026-06-01", To: "2026-06-02", Now: time.Date(2026, 6, 3, 0, 0, 0, 0, time.UTC)}
	rep, err := Compute(context.Background(), st, cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Pipelines[0]
	if r.Days != 2 || r.SLODays != 2 || r.SLOMet != 1 || r.Intervals == nil || *r.Intervals != 48 || *r.IntervalsMet != 46 {
		b, _ := json.Marshal(r)
		t.Fatalf("row %s; want 2 days, 1 met, 48 intervals, 46 met", b)
	}
	b, _ := json.Marshal(rep)
	if !strings.Contains(string(b), `"intervals":48,"intervals_met":46`) || strings.Count(string(b), `"intervals"`) != 2 {
		t.Errorf("JSON lacks the interval counts (pipeline and overall): %s", b)
	}
	var text strings.Builder
	if err := Write(&text, rep, "table"); err != nil || !strings.Contains(text.String(), "hourly runs more than once a day: 46/48 intervals met") {
		t.Errorf("table: %v\n%s", err, text.String())
	}
	cells, err := Daily(context.Background(), st, cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(cells) != 2 || cells[0].State != CellMet || cells[1].State != CellMissed || *cells[1].SLOMet {
		t.Fatalf("cells %+v", cells)
	}
	// Judged at 13:50 on the second day: the 13:00 interval has already
	// missed, so the day is missed although later hours are still ahead.
	q.Now = time.Date(2026, 6, 2, 13, 50, 0, 0, time.UTC)
	cells, _ = Daily(context.Background(), st, cfg, q)
	if cells[1].State != CellMissed || cells[1].SLOMet == nil || *cells[1].SLOMet {
		t.Errorf("day 2 at 13:50: %+v", cells[1])
	}
	// A daily pipeline's row carries no interval counts.
	daily := &config.Pipeline{Name: "daily", Schedule: "0 2 * * *", Timezone: "UTC", Location: time.UTC}
	rep, _ = Compute(context.Background(), st, &config.Config{Location: time.UTC, Pipelines: []*config.Pipeline{daily}}, q)
	if b, _ := json.Marshal(rep.Pipelines[0]); strings.Contains(string(b), "intervals") {
		t.Errorf("a daily row with intervals: %s", b)
	}
}
