package slo

import (
	"context"
	"encoding/json"
	"runtime"
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

// TestSubDailyGatesByScheduleAndZone: a report's workers keep the gates
// of each schedule, zone and calendar; pipelines that differ in any of
// them still get their own. Each pipeline ran once on the first day and
// not since, so every later gate is a missed interval: 24 a day hourly,
// 3 a day at 09/13/18, and none on the weekend for the business-day one.
func TestSubDailyGatesByScheduleAndZone(t *testing.T) {
	mk := func(name, sched, tz string) *config.Pipeline {
		loc, _ := time.LoadLocation(tz)
		return &config.Pipeline{Name: name, Schedule: sched, Timezone: tz, Location: loc, SLO: &config.SLO{Within: 45 * time.Minute, Objective: 0.9}}
	}
	ps := []*config.Pipeline{mk("a_hourly_utc", "0 * * * *", "UTC"), mk("b_hourly_tokyo", "0 * * * *", "Asia/Tokyo"),
		mk("c_floor", "0 9,13,18 * * *", "UTC"), mk("d_hourly_utc", "0 * * * *", "UTC"), mk("e_weekdays", "0 9,13,18 * * 1-5", "UTC")}
	cfg := config.Fill(&config.Config{Timezone: "UTC", Location: time.UTC, Pipelines: ps})
	f := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
	var rows []runRow
	for _, p := range ps {
		gate := p.GatesOn("2026-06-05")[0] // a Friday
		rows = append(rows, runRow{pipeline: p.Name, date: "2026-06-05", key: p.RunKey(gate), state: "succeeded", attempt: 1,
			gate: f(gate), deadline: f(gate.Add(45 * time.Minute)), recoverBy: f(gate.Add(24 * time.Hour)),
			success: f(gate.Add(10 * time.Minute)), finished: f(gate.Add(10 * time.Minute))})
	}
	st := openFixture(t, rows)
	q := Query{From: "2026-06-05", To: "2026-06-07", Now: time.Date(2026, 6, 9, 0, 0, 0, 0, time.UTC)}
	// One worker reads every pipeline, so they all meet one cache.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	rep, err := Compute(context.Background(), st, cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"a_hourly_utc": 72, "b_hourly_tokyo": 72, "c_floor": 9, "d_hourly_utc": 72, "e_weekdays": 3}
	for _, r := range rep.Pipelines {
		if r.Intervals == nil || *r.Intervals != want[r.Pipeline] || *r.IntervalsMet != 1 {
			b, _ := json.Marshal(r)
			t.Errorf("%s: %s; want %d intervals, 1 met", r.Pipeline, b, want[r.Pipeline])
		}
		// The same pipeline alone, with a fresh cache, agrees.
		alone, err := Compute(context.Background(), st, cfg, Query{From: q.From, To: q.To, Now: q.Now, Pipeline: r.Pipeline})
		if err != nil || *alone.Pipelines[0].Intervals != *r.Intervals {
			t.Errorf("%s alone: %v %v", r.Pipeline, alone, err)
		}
	}
}
