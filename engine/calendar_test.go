package engine

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/calendar"
	"github.com/sekisho-dev/sekisho/config"
)

// TestGatesOnBusinessDaysOnly: over a Friday, a weekend and 勤労感謝の日
// (Monday 2026-11-23), a jp_business pipeline opens gates on the Friday and
// the Tuesday only: no run, so no notice, on the days off. Friday's run,
// whose timeout is "+1bd 09:00", times out on Tuesday morning, not over the
// weekend; a company calendar opens a gate on its working Saturday.
func TestGatesOnBusinessDaysOnly(t *testing.T) {
	jpb, _ := calendar.Builtin(calendar.JPBusiness)
	company, err := calendar.New("company", calendar.Def{Base: calendar.JP, Weekend: calendar.DefaultWeekend,
		Workdays: []string{"2026-11-21"}, Holidays: []string{"2026-11-24"}})
	if err != nil {
		t.Fatal(err)
	}
	a := pipeline("a", "0 2 * * *", []config.Upstream{glueUp("export", "never-ends")}, nil)
	a.Calendar, a.CalendarName, a.TimeoutAt = jpb, calendar.JPBusiness, tod("+1bd 09:00")
	a.SLO = nil
	b := pipeline("b", "0 3 * * *", []config.Upstream{}, nil)
	b.Calendar, b.CalendarName = company, "company"
	h := newHarness(t, jst(20, 0, 0), a, b)
	h.runUntil(jst(25, 1, 0), 10*time.Minute, 10*time.Minute)
	want := []string{
		"a 20 #1 -->waiting gate_opened @20 02:00",
		"b 20 #1 -->waiting gate_opened @20 03:00",
		"b 20 #1 waiting->succeeded condition_met @20 03:00",
		"b 21 #1 -->waiting gate_opened @21 03:00",
		"b 21 #1 waiting->succeeded condition_met @21 03:00",
		"a 24 #1 -->waiting gate_opened @24 02:00",
		"a 20 #1 waiting->timed_out timeout @24 09:00",
	}
	got := h.history()
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("missing %q", w)
		}
	}
	for _, g := range got {
		for _, off := range []string{"a 21", "a 22", "a 23", "b 22", "b 23", "b 24"} {
			if len(g) > len(off) && g[:len(off)] == off {
				t.Errorf("a gate on a day off: %s", g)
			}
		}
	}
	for _, n := range h.notices() {
		// Thursday's run, caught up at start, times out on Friday.
		if n[2:4] != "19" && n[2:4] != "20" && n[2:4] != "24" {
			t.Errorf("a notice about a day off: %s", n)
		}
	}
	if t.Failed() {
		t.Logf("history:\n%s\nnotices:\n%s", strings.Join(got, "\n"), strings.Join(h.notices(), "\n"))
	}
	r := h.run("a", "2026-11-20")
	if r.State != sekisho.StateTimedOut || !r.TimeoutAt.Equal(jst(24, 9, 0)) {
		t.Errorf("Friday's run: %s, timeout %v", r.State, r.TimeoutAt.In(tokyo))
	}
}
