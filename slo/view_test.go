package slo

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// TestViewAgreesWithJudge proves that the slo_daily view of migration 003,
// which BI tools read, and Judge, which every surface of sekisho reads,
// give every stored run the same SLO and SLA verdicts. The view judges at
// the database's own clock, so the days are far enough in the past or the
// future for the wall clock of the test run not to matter. The deadlines
// include a spring-forward day (02:30 does not exist: the deadline moves on
// to 03:30) and "+1d" deadlines across it.
func TestViewAgreesWithJudge(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	deadlines := map[string]string{"in_the_gap": "02:30", "next_morning": "+1d 06:00", "evening": "21:00", "none": ""}
	// A spring-forward day behind us and one ahead (2030-03-10 is the
	// second Sunday of March), and the day before each, whose "+1d"
	// deadline falls on it.
	dates := []string{"2026-03-07", "2026-03-08", "2030-03-09", "2030-03-10"}
	type outcome struct {
		state           sekisho.State
		success, finish string // clock on the logical date, or ""
		successNextDay  bool
	}
	outcomes := map[string]outcome{
		"early":           {state: sekisho.StateSucceeded, success: "01:00", finish: "01:00"},
		"at_03_30":        {state: sekisho.StateSucceeded, success: "03:30", finish: "03:30"},
		"afternoon":       {state: sekisho.StateSucceeded, success: "15:00", finish: "15:00"},
		"next_day":        {state: sekisho.StateSucceeded, success: "07:00", finish: "07:00", successNextDay: true},
		"failed":          {state: sekisho.StateFailed, finish: "04:00"},
		"rerun_failed":    {state: sekisho.StateFailed, success: "01:00", finish: "16:00"},
		"timed_out":       {state: sekisho.StateTimedOut, finish: "08:00"},
		"waiting":         {state: sekisho.StateWaiting},
		"running":         {state: sekisho.StateRunning},
		"skipped":         {state: sekisho.StateSkipped, finish: "05:00"},
		"skipped_success": {state: sekisho.StateSkipped, success: "01:00", finish: "05:00"},
	}
	var rows []runRow
	type want struct {
		name string
		j    Judgement
	}
	wants := map[[2]string]want{}
	now := time.Now()
	at := func(date, clock string, nextDay bool) time.Time {
		d, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, ny)
		if err != nil {
			t.Fatal(err)
		}
		if nextDay {
			d = d.AddDate(0, 0, 1)
		}
		return d
	}
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(sekisho.TimeLayout)
	}
	for dn, dl := range deadlines {
		p := &config.Pipeline{Name: dn, Schedule: "0 0 * * *", Location: ny}
		if dl != "" {
			d, err := sekisho.ParseTimeOfDay(dl)
			if err != nil {
				t.Fatal(err)
			}
			p.SLO = &config.SLO{Deadline: d}
		}
		for _, date := range dates {
			for on, o := range outcomes {
				name := fmt.Sprintf("%s_%s", dn, on)
				var success, finish time.Time
				if o.success != "" {
					success = at(date, o.success, o.successNextDay)
				}
				if o.finish != "" {
					finish = at(date, o.finish, o.successNextDay)
				}
				d := Day{HasRun: true, State: o.state, Deadline: p.Deadline(date), RecoverBy: p.RecoverBy(date),
					FirstSuccess: success, Finished: finish}
				rows = append(rows, runRow{pipeline: name, date: date, state: string(o.state), gate: ts(p.GateOn(date)),
					deadline: ts(d.Deadline), recoverBy: ts(d.RecoverBy), success: ts(success), finished: ts(finish)})
				wants[[2]string{name, date}] = want{name, Judge(d, now)}
			}
		}
	}
	st := openFixture(t, rows)
	res, err := st.ReadDB().QueryContext(context.Background(), `SELECT pipeline, logical_date, slo_met, sla_met FROM slo_daily`)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	seen := 0
	for res.Next() {
		var p, d string
		var sloMet, slaMet sql.NullBool
		if err := res.Scan(&p, &d, &sloMet, &slaMet); err != nil {
			t.Fatal(err)
		}
		w := wants[[2]string{p, d}]
		seen++
		if !sameVerdict(sloMet, w.j.SLO) || !sameVerdict(slaMet, w.j.SLA) {
			t.Errorf("%s %s: view slo_met %v sla_met %v, Judge slo %v sla %v", p, d, sloMet, slaMet, w.j.SLO.Bool(), w.j.SLA.Bool())
		}
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(wants) {
		t.Fatalf("view has %d rows, want %d", seen, len(wants))
	}
	// The table reaches every verdict, so agreement is not vacuous.
	kinds := map[Verdict]bool{}
	for _, w := range wants {
		kinds[w.j.SLO], kinds[w.j.SLA] = true, true
	}
	for _, v := range []Verdict{VerdictNone, VerdictPending, VerdictMet, VerdictMissed} {
		if !kinds[v] {
			t.Errorf("no case judged %d", v)
		}
	}
}

func sameVerdict(view sql.NullBool, v Verdict) bool {
	if !v.Decided() {
		return !view.Valid
	}
	return view.Valid && view.Bool == (v == VerdictMet)
}
