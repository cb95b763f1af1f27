package slo

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/calendar"
	"github.com/sekisho-dev/sekisho/config"
)

// TestReportCountsBusinessDaysOnly: November 2026 on jp_business has 19
// business days (30 days less 9 weekend days, 文化の日 on the 3rd and
// 勤労感謝の日 on the 23rd). Every business day but the 24th succeeded by
// its 06:00 deadline; the 24th has no run. The report judges 19 days, 18
// met; the same store without the calendar would count every weekend and
// holiday as a missed gate.
func TestReportCountsBusinessDaysOnly(t *testing.T) {
	biz := pipeline(t, "biz", "0 2 * * *", "Asia/Tokyo", "06:00", 0.95)
	biz.Calendar, _ = calendar.Builtin(calendar.JPBusiness)
	cfg := config.Fill(&config.Config{Location: zone(t, "Asia/Tokyo"), Pipelines: []*config.Pipeline{biz}})
	var rows []runRow
	for d := 1; d <= 30; d++ {
		date := fmt.Sprintf("2026-11-%02d", d)
		if !biz.Calendar.IsBusinessDay(date) || d == 24 {
			continue
		}
		prev := fmt.Sprintf("2026-11-%02dT", d-1)
		if d == 1 {
			prev = "2026-10-31T"
		}
		rows = append(rows, runRow{pipeline: "biz", date: date, state: "succeeded", gate: prev + "17:00:00.000Z",
			deadline: prev + "21:00:00.000Z", recoverBy: date + "T15:00:00.000Z",
			success: prev + "20:00:00.000Z", finished: prev + "20:00:00.000Z"})
	}
	st := openFixture(t, rows)
	q := Query{From: "2026-11-01", To: "2026-11-30", Now: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)}
	rep, err := Compute(context.Background(), st, cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	row := rep.Pipelines[0]
	if row.Days != 19 || row.SLODays != 19 || row.SLOMet != 18 || row.SLOPct == nil || *row.SLOPct != 94.74 {
		t.Fatalf("report %+v (pct %v); want 19 days, 18 met, 94.74%%", row, row.SLOPct)
	}
	cells, err := Daily(context.Background(), st, cfg, q)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]string{
		"2026-11-03": {"holiday", "文化の日"},
		"2026-11-22": {"holiday", "weekend"},
		"2026-11-23": {"holiday", "勤労感謝の日"},
		"2026-11-24": {"missed", ""},
		"2026-11-25": {"met", ""},
	}
	for _, c := range cells {
		if w, ok := want[c.Date]; ok {
			if string(c.State) != w[0] || c.Holiday != w[1] || (c.State == CellHoliday) == c.Counted {
				t.Errorf("%s: %s %q counted %v; want %s %q", c.Date, c.State, c.Holiday, c.Counted, w[0], w[1])
			}
			if c.State == CellHoliday && c.State.Symbol() != "⛱" {
				t.Errorf("%s: mark %q", c.Date, c.State.Symbol())
			}
		}
	}
}
