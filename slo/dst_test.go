package slo

import (
	"context"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
)

// In 2026 America/New_York springs forward on March 8 (02:00 EST becomes
// 03:00 EDT) and falls back on November 1 (02:00 EDT becomes 01:00 EST).
// The expected instants below are worked out by hand from those offsets.

func TestGateTimesAcrossDST(t *testing.T) {
	tests := []struct {
		name, schedule string
		from           string
		want           []string // one per day from `from`; "" when the schedule does not fire
	}{
		{name: "02:30 does not exist on spring-forward day: opens at 03:30 EDT", schedule: "30 2 * * *", from: "2026-03-07",
			want: []string{"2026-03-07T07:30:00Z", "2026-03-08T07:30:00Z", "2026-03-09T06:30:00Z"}},
		{name: "02:30 after fall back is EST", schedule: "30 2 * * *", from: "2026-10-31",
			want: []string{"2026-10-31T06:30:00Z", "2026-11-01T07:30:00Z", "2026-11-02T07:30:00Z"}},
		{name: "22:00 gates keep local time", schedule: "0 22 * * *", from: "2026-03-07",
			want: []string{"2026-03-08T03:00:00Z", "2026-03-09T02:00:00Z", "2026-03-10T02:00:00Z"}},
		{name: "weekdays only, 6 fields with seconds", schedule: "15 0 7 * * MON-FRI", from: "2026-03-06",
			want: []string{"2026-03-06T12:00:15Z", "", "", "2026-03-09T11:00:15Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pipeline(t, "ny", tt.schedule, "America/New_York", "", 0)
			from, _ := parseDay([]byte(tt.from))
			got := gateTimes(p, from, from+len(tt.want)-1)
			for i, w := range tt.want {
				var g string
				if got[i] != 0 {
					g = time.UnixMilli(got[i]).UTC().Format(time.RFC3339)
				}
				if g != w {
					t.Errorf("day %s: gate %s, want %s", dateString(from+i), g, w)
				}
			}
		})
	}
}

// TestDailyAcrossDST checks, for days without a run, that the deadline
// taken from the config keeps 06:00 local time across both changes, and
// that a "+1d" deadline lands on the next morning's local time.
func TestDailyAcrossDST(t *testing.T) {
	ny := pipeline(t, "ny", "30 2 * * *", "America/New_York", "06:00", 0.9)
	late := pipeline(t, "ny_evening", "0 22 * * *", "America/New_York", "+1d 06:00", 0.9)
	// Without it recover_by would default to the end of the logical date,
	// before this deadline, and decide the SLA first.
	late.SLA.RecoverBy = tod(t, "+1d 12:00")
	cfg := config.Fill(&config.Config{Location: zone(t, "America/New_York"), Pipelines: []*config.Pipeline{ny, late}})
	// One run each, before the range, so the days in the range count as due.
	db := openFixture(t, []runRow{
		{pipeline: "ny", date: "2026-03-01", state: "succeeded", gate: "2026-03-01T07:30:00.000Z",
			deadline: "2026-03-01T11:00:00.000Z", recoverBy: "2026-03-02T05:00:00.000Z", success: "2026-03-01T10:00:00.000Z"},
		{pipeline: "ny_evening", date: "2026-03-01", state: "succeeded", gate: "2026-03-02T03:00:00.000Z",
			deadline: "2026-03-02T11:00:00.000Z", recoverBy: "2026-03-02T05:00:00.000Z", success: "2026-03-02T10:00:00.000Z"},
	})
	tests := []struct {
		name, pipeline, date, now string
		state                     CellState
		counted                   bool
		deadline                  string
	}{
		{name: "EST day", pipeline: "ny", date: "2026-03-07", now: "2026-03-07T11:01:00Z", state: CellMissed, counted: true, deadline: "2026-03-07T11:00:00Z"},
		{name: "spring forward, before the deadline", pipeline: "ny", date: "2026-03-08", now: "2026-03-08T09:59:00Z", state: CellMissed, counted: false, deadline: "2026-03-08T10:00:00Z"},
		{name: "spring forward, after the deadline", pipeline: "ny", date: "2026-03-08", now: "2026-03-08T10:01:00Z", state: CellMissed, counted: true, deadline: "2026-03-08T10:00:00Z"},
		{name: "spring forward, gate at 03:30 EDT already due", pipeline: "ny", date: "2026-03-08", now: "2026-03-08T07:31:00Z", state: CellMissed, counted: false, deadline: "2026-03-08T10:00:00Z"},
		{name: "spring forward, gate still ahead", pipeline: "ny", date: "2026-03-08", now: "2026-03-08T07:29:00Z", state: CellNone, counted: false},
		{name: "fall back, EST deadline", pipeline: "ny", date: "2026-11-01", now: "2026-11-01T10:30:00Z", state: CellMissed, counted: false, deadline: "2026-11-01T11:00:00Z"},
		{name: "day before fall back, EDT deadline", pipeline: "ny", date: "2026-10-31", now: "2026-10-31T10:01:00Z", state: CellMissed, counted: true, deadline: "2026-10-31T10:00:00Z"},
		{name: "+1d across fall back: next morning 06:00 EST", pipeline: "ny_evening", date: "2026-10-31", now: "2026-11-01T10:59:00Z", state: CellMissed, counted: false, deadline: "2026-11-01T11:00:00Z"},
		{name: "+1d across fall back, passed", pipeline: "ny_evening", date: "2026-10-31", now: "2026-11-01T11:01:00Z", state: CellMissed, counted: true, deadline: "2026-11-01T11:00:00Z"},
		{name: "+1d across spring forward: next morning 06:00 EDT", pipeline: "ny_evening", date: "2026-03-07", now: "2026-03-08T10:01:00Z", state: CellMissed, counted: true, deadline: "2026-03-08T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cells, err := Daily(context.Background(), db, cfg, Query{From: tt.date, To: tt.date, Pipeline: tt.pipeline, Now: mustTime(t, tt.now)})
			if err != nil {
				t.Fatal(err)
			}
			if len(cells) != 1 {
				t.Fatalf("cells = %+v", cells)
			}
			c := cells[0]
			var dl string
			if !c.Deadline.IsZero() {
				dl = c.Deadline.UTC().Format(time.RFC3339)
			}
			if c.State != tt.state || c.Counted != tt.counted || dl != tt.deadline {
				t.Fatalf("cell = %s counted=%v deadline=%s, want %s %v %s", c.State, c.Counted, dl, tt.state, tt.counted, tt.deadline)
			}
		})
	}
}

// TestReportAcrossDST runs the report over a week around each change with
// stored runs: the finish offsets are absolute differences, so an hour is
// neither gained nor lost on the change days.
func TestReportAcrossDST(t *testing.T) {
	ny := pipeline(t, "ny", "30 2 * * *", "America/New_York", "06:00", 0.5)
	cfg := config.Fill(&config.Config{Location: zone(t, "America/New_York"), Pipelines: []*config.Pipeline{ny}})
	db := openFixture(t, []runRow{
		// 05:30 EST, 30 min early.
		{pipeline: "ny", date: "2026-03-07", state: "succeeded", gate: "2026-03-07T07:30:00.000Z",
			deadline: "2026-03-07T11:00:00.000Z", recoverBy: "2026-03-08T05:00:00.000Z", success: "2026-03-07T10:30:00.000Z"},
		// 06:30 EDT: late by 30 min although 10:30Z was early the day before.
		{pipeline: "ny", date: "2026-03-08", state: "succeeded", gate: "2026-03-08T07:30:00.000Z",
			deadline: "2026-03-08T10:00:00.000Z", recoverBy: "2026-03-09T04:00:00.000Z", success: "2026-03-08T10:30:00.000Z"},
		// 05:30 EST on the fall-back day: 30 min early.
		{pipeline: "ny", date: "2026-11-01", state: "succeeded", gate: "2026-11-01T07:30:00.000Z",
			deadline: "2026-11-01T11:00:00.000Z", recoverBy: "2026-11-02T05:00:00.000Z", success: "2026-11-01T10:30:00.000Z"},
	})
	rep, err := Compute(context.Background(), db, cfg, Query{From: "2026-03-07", To: "2026-03-08", Now: mustTime(t, "2026-12-01T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	r := rep.Pipelines[0]
	// Gate to success: 3h on the 7th, 3h on the 8th (03:30 EDT to 06:30 EDT).
	if r.Days != 2 || r.SLOMet != 1 || *r.FinishP50 != "-00:30" || *r.FinishP95 != "+00:30" || *r.DurationP50Seconds != 10800 || *r.DurationP95Seconds != 10800 {
		t.Fatalf("spring row = %+v", r)
	}
	rep, err = Compute(context.Background(), db, cfg, Query{From: "2026-11-01", To: "2026-11-01", Now: mustTime(t, "2026-12-01T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	if r := rep.Pipelines[0]; r.SLOMet != 1 || *r.FinishP50 != "-00:30" {
		t.Fatalf("fall row = %+v", r)
	}
}
