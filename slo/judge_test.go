package slo

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func TestJudge(t *testing.T) {
	const dl, rb = 1000, 2000 // deadline and recover_by, in ms
	tests := []struct {
		name     string
		d        day
		now      int64
		cell     CellState
		slo, sla Verdict
	}{
		{"met before deadline", day{hasRun: true, state: sekisho.StateSucceeded, deadline: dl, recoverBy: rb, success: 900}, 5000, CellMet, VerdictMet, VerdictMet},
		{"met exactly at deadline", day{hasRun: true, state: sekisho.StateSucceeded, deadline: dl, recoverBy: rb, success: dl}, 5000, CellMet, VerdictMet, VerdictMet},
		{"late but recovered", day{hasRun: true, state: sekisho.StateSucceeded, deadline: dl, recoverBy: rb, success: 1500}, 5000, CellLate, VerdictMissed, VerdictMet},
		{"late past recover_by", day{hasRun: true, state: sekisho.StateSucceeded, deadline: dl, recoverBy: rb, success: 2500}, 5000, CellLate, VerdictMissed, VerdictMissed},
		{"first success kept after a failed rerun", day{hasRun: true, state: sekisho.StateFailed, deadline: dl, recoverBy: rb, success: 900}, 5000, CellMet, VerdictMet, VerdictMet},
		{"legacy row without first_success_at", day{hasRun: true, state: sekisho.StateSucceeded, deadline: dl, recoverBy: rb, finished: 1200}, 5000, CellLate, VerdictMissed, VerdictMet},
		{"failed, both passed", day{hasRun: true, state: sekisho.StateFailed, deadline: dl, recoverBy: rb}, 5000, CellFailed, VerdictMissed, VerdictMissed},
		{"failed before the deadline: a rerun may still make it", day{hasRun: true, state: sekisho.StateFailed, deadline: dl, recoverBy: rb}, 999, CellFailed, VerdictPending, VerdictPending},
		{"failed, deadline passed, recover_by ahead", day{hasRun: true, state: sekisho.StateFailed, deadline: dl, recoverBy: rb}, 1001, CellFailed, VerdictMissed, VerdictPending},
		{"timed out", day{hasRun: true, state: sekisho.StateTimedOut, deadline: dl, recoverBy: rb}, 5000, CellTimedOut, VerdictMissed, VerdictMissed},
		{"open before deadline: not counted yet", day{hasRun: true, state: sekisho.StateRunning, deadline: dl, recoverBy: rb}, 999, CellOpen, VerdictPending, VerdictPending},
		{"open at the deadline: missed from that instant", day{hasRun: true, state: sekisho.StateRunning, deadline: dl, recoverBy: rb}, 1000, CellOpen, VerdictMissed, VerdictPending},
		{"open past deadline", day{hasRun: true, state: sekisho.StateWaiting, deadline: dl, recoverBy: rb}, 1001, CellOpen, VerdictMissed, VerdictPending},
		{"skipped", day{hasRun: true, state: sekisho.StateSkipped, deadline: dl, recoverBy: rb, success: 900}, 5000, CellSkipped, VerdictNone, VerdictNone},
		{"no run, gate due, passed", day{due: true, deadline: dl, recoverBy: rb}, 5000, CellMissed, VerdictMissed, VerdictMissed},
		{"no run, gate not due", day{deadline: dl, recoverBy: rb}, 5000, CellNone, VerdictNone, VerdictNone},
		{"no SLO: judged by recover_by", day{hasRun: true, state: sekisho.StateSucceeded, recoverBy: rb, success: 1500}, 5000, CellMet, VerdictNone, VerdictMet},
		{"no SLO, late for the SLA", day{hasRun: true, state: sekisho.StateSucceeded, recoverBy: rb, success: 2500}, 5000, CellLate, VerdictNone, VerdictMissed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			d.judge(tt.now)
			if d.cell != tt.cell || d.slo != tt.slo || d.sla != tt.sla {
				t.Fatalf("got %s slo=%d sla=%d, want %s slo=%d sla=%d", d.cell, d.slo, d.sla, tt.cell, tt.slo, tt.sla)
			}
		})
	}
}

func TestPercentileAndOffset(t *testing.T) {
	vals := []int32{-120, -60, -60, -50, -40, -30, -20, -10, 0, 30}
	for _, tt := range []struct {
		p    int
		want int64
	}{{50, -40}, {95, 30}, {10, -120}, {90, 0}, {1, -120}, {100, 30}} {
		if got, _ := percentile(vals, tt.p); got != tt.want {
			t.Errorf("p%d = %d, want %d", tt.p, got, tt.want)
		}
	}
	if _, ok := percentile(nil, 50); ok {
		t.Error("percentile of nothing")
	}
	for sec, want := range map[int64]string{-2520: "-00:42", 3900: "+01:05", 0: "+00:00", 30: "+00:01", 93600: "+26:00", -61: "-00:01", -10092: "-02:48", -59: "+00:00", 3601: "+01:01"} {
		if got := Offset(sec); got != want {
			t.Errorf("Offset(%d) = %q, want %q", sec, got, want)
		}
	}
	for sec, want := range map[int64]string{10920: "3h02m", 2700: "45m", 30: "30s", 90: "1m30s"} {
		if got := Duration(sec); got != want {
			t.Errorf("Duration(%d) = %q, want %q", sec, got, want)
		}
	}
}

func TestParseMillis(t *testing.T) {
	for in, want := range map[string]int64{
		"1970-01-01T00:00:01.000Z":  1000,
		"2026-03-08T07:30:00.250Z":  1772955000250,
		"2026-03-08T02:30:00-05:00": 1772955000000, // not the stored layout: slow path
	} {
		if got, ok := parseMillis([]byte(in)); !ok || got != want {
			t.Errorf("parseMillis(%s) = %d %v, want %d", in, got, ok, want)
		}
	}
	if _, ok := parseMillis(""); ok {
		t.Error("NULL parsed")
	}
}

func TestJudgeRunLate(t *testing.T) {
	dl := time.Date(2026, 11, 3, 6, 0, 0, 0, time.UTC)
	run := func(state sekisho.State, success time.Time) sekisho.Run {
		return sekisho.Run{State: state, Deadline: dl, RecoverBy: dl.Add(18 * time.Hour), FirstSuccessAt: success}
	}
	tests := []struct {
		name string
		r    sekisho.Run
		now  time.Time
		late bool
	}{
		{"open before the deadline", run(sekisho.StateRunning, time.Time{}), dl.Add(-time.Second), false},
		{"open at the deadline", run(sekisho.StateRunning, time.Time{}), dl, true},
		{"failed past the deadline", run(sekisho.StateFailed, time.Time{}), dl.Add(time.Hour), true},
		{"succeeded late is done, not late", run(sekisho.StateSucceeded, dl.Add(time.Minute)), dl.Add(time.Hour), false},
		{"a rerun failing after a success", run(sekisho.StateFailed, dl.Add(-time.Minute)), dl.Add(time.Hour), false},
		{"skipped", run(sekisho.StateSkipped, time.Time{}), dl.Add(time.Hour), false},
		{"no deadline", sekisho.Run{State: sekisho.StateRunning}, dl.Add(time.Hour), false},
	}
	for _, tt := range tests {
		if got := JudgeRun(tt.r, tt.now).Late(); got != tt.late {
			t.Errorf("%s: late %v, want %v", tt.name, got, tt.late)
		}
	}
}

// sortedRecords tells whether a blob's records can be read in place; one
// out of order anywhere makes the walk sort them first.
func TestSortedRecords(t *testing.T) {
	for blob, want := range map[string]bool{
		"":                                       true,
		"2026-03-01|a":                           true,
		"2026-03-01|a;2026-03-02|b":              true,
		"2026-03-02|b;2026-03-01|a":              false,
		"2026-03-01|a;2026-03-03|c;2026-03-02|b": false,
		"2026-03-01|a;2026-03-01|a":              true,
	} {
		if got := sortedRecords(blob); got != want {
			t.Errorf("sortedRecords(%q) = %v, want %v", blob, got, want)
		}
	}
}
