package slo

import (
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// TestViewAgreesWithJudge proves that the slo_daily view of migration 003,
// which BI tools read, and Judge, which every surface of sekisho reads,
// give every stored run the same SLO and SLA verdicts. The view judges at
// the database's own clock, so the days are far enough in the past or the
// future for the wall clock of the test run not to matter. The deadlines
// include a spring-forward day (02:30 does not exist: the deadline moves on
// to 03:30), a fall-back day (01:30 happens twice: the deadline is the
// first) and "+1d" deadlines across both. It runs on SQLite and on
// PostgreSQL, whose views are written apart.
func TestViewAgreesWithJudge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) { viewAgreesWithJudge(t, loc) })
}

func viewAgreesWithJudge(t *testing.T, loc string) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	deadlines := map[string]string{"in_the_gap": "02:30", "in_the_fold": "01:30", "next_morning": "+1d 06:00", "evening": "21:00", "none": ""}
	// A spring-forward day behind us and one ahead (2030-03-10 is the
	// second Sunday of March), and the day before each, whose "+1d"
	// deadline falls on it.
	// The same for fall-back days (the first Sunday of November).
	dates := []string{"2026-03-07", "2026-03-08", "2030-03-09", "2030-03-10", "2026-10-31", "2026-11-01", "2030-11-02", "2030-11-03"}
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
	// openFixtureAt checks the view against Judge (viewAgrees).
	openFixtureAt(t, loc, rows)
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
