package expect

import (
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
)

func f(x float64) *float64 { return &x }

// fourWeeks is a shop's daily order count: about 40,000 on weekdays, 25,000
// on Saturdays and 12,000 on Sundays, for the 28 days before 2026-12-07 (a
// Monday), with a little noise.
func fourWeeks() []Point {
	var out []Point
	day := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	for i := range 28 {
		d := day.AddDate(0, 0, i)
		v := 40000.0
		switch d.Weekday() {
		case time.Saturday:
			v = 25000
		case time.Sunday:
			v = 12000
		}
		v += float64(i%5-2) * 0.01 * v
		out = append(out, Point{Date: d.Format("2006-01-02"), Value: v})
	}
	return out
}

func TestJudge(t *testing.T) {
	weekday := &config.Expect{VsHistory: &config.VsHistory{Days: 28, SameWeekday: true, Tolerance: 0.3}}
	allDays := &config.Expect{VsHistory: &config.VsHistory{Days: 28, Tolerance: 0.3}}
	hist := fourWeeks()
	const monday, sunday = "2026-12-07", "2026-12-06"
	tests := []struct {
		name    string
		e       *config.Expect
		date    string
		value   float64
		history []Point
		ok      bool
		msg     string // a part of the message
	}{
		{"a normal Monday passes", weekday, monday, 41000, hist, true, "value 41,000 is within the expected band 27,860–51,740"},
		{"3 % of the weekday history blocks", weekday, monday, 1200, hist, false,
			"value 1,200 is outside the expected band 27,860–51,740"},
		{"the message names the history", weekday, monday, 1200, hist, false, "of 4 Mondays ±30%"},
		// The history without the Sunday in it: the Sunday under test is
		// 2026-12-06, the day before the Monday.
		{"a quiet Sunday is no anomaly, weekday against weekday", weekday, sunday, 11800, hist[:27], true, "within"},
		{"the same Sunday against every day is one", allDays, sunday, 11800, hist[:27], false, "outside"},
		{"a Sunday as busy as a weekday is one", weekday, sunday, 40000, hist[:27], false, "outside"},
		{"too much is outside too", weekday, monday, 60000, hist, false, "outside"},
		{"the first days pass with a note", weekday, monday, 5, hist[:14], true, "not compared with history yet: 2 of 3 Mondays"},
		{"no history at all passes with a note", allDays, monday, 5, nil, true, "0 of 3 days"},
		{"min blocks while history is missing", &config.Expect{Min: f(1000), VsHistory: weekday.VsHistory}, monday, 5, nil, false,
			"value 5 is outside the expected minimum 1,000"},
		{"min passes", &config.Expect{Min: f(1000)}, monday, 1000, nil, true, "within the expected minimum 1,000"},
		{"max blocks", &config.Expect{Max: f(500)}, monday, 501, nil, false, "outside the expected maximum 500"},
		{"min and max", &config.Expect{Min: f(1), Max: f(10)}, monday, 0, nil, false, "band 1–10"},
		{"min narrows the history band", &config.Expect{Min: f(35000), VsHistory: weekday.VsHistory}, monday, 30000, hist, false, "band 35,000–"},
		{"only days before the date count", weekday, "2026-11-16", 1200, hist, true, "1 of 3 Mondays"},
		{"days bounds the window", &config.Expect{VsHistory: &config.VsHistory{Days: 7, Tolerance: 0.3}}, monday, 30000, hist, true, "of 7 days"},
		{"a sub-daily key reads its day", weekday, "2026-12-07T06", 1200, hist, false, "4 Mondays"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(tt.e, tt.date, tt.value, tt.history)
			if v.OK != tt.ok || !strings.Contains(v.Message, tt.msg) {
				t.Errorf("Judge = %v %q; want %v and %q", v.OK, v.Message, tt.ok, tt.msg)
			}
			if !v.OK && (v.Low == nil && v.High == nil) {
				t.Error("a failed verdict has no band")
			}
		})
	}
}

func TestJudgeBand(t *testing.T) {
	e := &config.Expect{VsHistory: &config.VsHistory{Days: 28, SameWeekday: true, Tolerance: 0.3}}
	hist := []Point{{"2026-11-16", 100}, {"2026-11-23", 300}, {"2026-11-30", 200}, {"2026-11-29", 9999}}
	v := Judge(e, "2026-12-07", 130, hist)
	if v.N != 3 || v.Median != 200 || *v.Low != 140 || *v.High != 260 || v.OK {
		t.Errorf("verdict %+v (low %v high %v), want median 200 of 3, band 140–260, failed", v, *v.Low, *v.High)
	}
}

func TestReconcile(t *testing.T) {
	tests := []struct {
		name           string
		source, target float64
		tol            config.Tolerance
		ok             bool
		msg            string
	}{
		{"equal", 20000, 20000, config.Tolerance{}, true, "source 20,000, target 20,000: difference 0 (0.00%), within the tolerance 0"},
		{"target behind", 20000, 12000, config.Tolerance{Share: 0.001}, false,
			"source 20,000, target 12,000: difference -8,000 (-40.00%), over the tolerance 0.1%"},
		{"within a share", 20000, 19985, config.Tolerance{Share: 0.001}, true, "difference -15 (-0.07%), within"},
		{"doubled rows", 100, 200, config.Tolerance{Abs: 5}, false, "difference +100 (100.00%), over the tolerance 5"},
		{"absolute", 100, 104, config.Tolerance{Abs: 5}, true, "within the tolerance 5"},
		{"empty source", 0, 3, config.Tolerance{Share: 0.01}, false, "difference +3, over"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Reconcile(tt.source, tt.target, tt.tol)
			if r.OK != tt.ok || !strings.Contains(r.Message, tt.msg) {
				t.Errorf("Reconcile = %v %q; want %v and %q", r.OK, r.Message, tt.ok, tt.msg)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 7: "7", 1000: "1,000", -1234567: "-1,234,567",
		0.5: "0.5", 1234.56789: "1,234.5679", 28000.000000001: "28,000", 1e16: "1e+16"} {
		if got := Format(in); got != want {
			t.Errorf("Format(%v) = %q, want %q", in, got, want)
		}
	}
}
