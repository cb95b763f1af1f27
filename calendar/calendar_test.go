package calendar

import (
	"strings"
	"testing"
	"time"
)

func company(t *testing.T) *Calendar {
	t.Helper()
	c, err := New("company", Def{Base: JP, Weekend: DefaultWeekend,
		Holidays: []string{"2026-12-29", "2026-12-30", "2026-12-31", "2027-01-04"},
		Workdays: []string{"2026-12-05"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWhy(t *testing.T) {
	jpb, _ := Builtin(JPBusiness)
	jp, _ := Builtin(JP)
	co := company(t)
	for _, tc := range []struct {
		name string
		cal  *Calendar
		date string
		kind string // "" for a business day
		ja   string
	}{
		{"勤労感謝の日 on a Monday", jpb, "2026-11-23", KindHoliday, "勤労感謝の日"},
		{"the Tuesday after", jpb, "2026-11-24", "", ""},
		{"a Sunday", jpb, "2026-11-22", KindWeekend, "週末"},
		{"a Saturday", jpb, "2026-11-21", KindWeekend, "週末"},
		{"jp has no weekend", jp, "2026-11-22", "", ""},
		{"jp names its holidays", jp, "2026-11-03", KindHoliday, "文化の日"},
		{"振替休日 after a Sunday holiday", jp, "2026-05-06", KindHoliday, "振替休日"},
		{"国民の休日 between two holidays", jp, "2026-09-22", KindHoliday, "国民の休日"},
		{"a company day off", co, "2026-12-29", KindCompany, "会社休日"},
		{"a company workday Saturday", co, "2026-12-05", "", ""},
		{"a plain company Saturday", co, "2026-12-12", KindWeekend, "週末"},
		{"a holiday on a Sunday names the holiday", co, "2027-03-21", KindHoliday, "春分の日"},
		{"a holiday that is also a company day off", co, "2027-01-01", KindHoliday, "元日"},
		{"a weekday", co, "2026-12-07", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, isOff := tc.cal.Why(tc.date)
			if isOff != (tc.kind != "") || off.Kind != tc.kind || off.Ja != tc.ja {
				t.Fatalf("Why(%s) = %+v, %v; want kind %q name %q", tc.date, off, isOff, tc.kind, tc.ja)
			}
			if got := tc.cal.IsBusinessDay(tc.date); got != (tc.kind == "") {
				t.Fatalf("IsBusinessDay(%s) = %v", tc.date, got)
			}
		})
	}
	off, _ := jpb.Why("2026-11-23")
	if off.Name("en") != "Labour Thanksgiving Day" || off.Name("ja") != "勤労感謝の日" {
		t.Fatalf("names: %+v", off)
	}
	if jpb.IsBusinessDay("2026-02-30") {
		t.Fatal("a date that does not exist is a business day")
	}
}

func TestNthBusinessDay(t *testing.T) {
	jpb, _ := Builtin(JPBusiness)
	co := company(t)
	for _, tc := range []struct {
		name  string
		cal   *Calendar
		month string
		n     int
		want  string
	}{
		// January 2027 starts on 元日, a Friday, then a weekend.
		{"1st after 元日 and a weekend", jpb, "2027-01", 1, "2027-01-04"},
		{"3rd", jpb, "2027-01", 3, "2027-01-06"},
		{"3rd with the company's 4th off", co, "2027-01", 3, "2027-01-07"},
		{"6th skips 成人の日 on the 11th", jpb, "2027-01", 6, "2027-01-12"},
		{"last", jpb, "2027-01", -1, "2027-01-29"},
		{"last before the company's year-end days off", co, "2026-12", -1, "2026-12-28"},
		{"last of jp_business December", jpb, "2026-12", -1, "2026-12-31"},
		{"second to last", jpb, "2026-11", -2, "2026-11-27"},
		{"a working Saturday counts", co, "2026-12", 4, "2026-12-04"},
		{"and the next one is that Saturday", co, "2026-12", 5, "2026-12-05"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := time.Parse("2006-01", tc.month)
			got, ok := tc.cal.NthBusinessDay(m.Year(), m.Month(), tc.n)
			if !ok || got != tc.want {
				t.Fatalf("NthBusinessDay(%s, %d) = %q, %v; want %s", tc.month, tc.n, got, ok, tc.want)
			}
			if !tc.cal.BusinessDayOfMonth(got, tc.n) {
				t.Fatalf("BusinessDayOfMonth(%s, %d) = false", got, tc.n)
			}
		})
	}
	if _, ok := jpb.NthBusinessDay(2027, time.January, 0); ok {
		t.Fatal("the 0th business day exists")
	}
	if _, ok := jpb.NthBusinessDay(2027, time.January, 25); ok {
		t.Fatal("January has 25 business days")
	}
}

func TestAddBusinessDays(t *testing.T) {
	jpb, _ := Builtin(JPBusiness)
	co := company(t)
	for _, tc := range []struct {
		name string
		cal  *Calendar
		from string
		n    int
		want string
	}{
		{"Friday +1 is Monday", jpb, "2026-11-27", 1, "2026-11-30"},
		{"Friday +1 over a holiday Monday is Tuesday", jpb, "2026-11-20", 1, "2026-11-24"},
		{"Friday +2 over a holiday Monday", jpb, "2026-11-20", 2, "2026-11-25"},
		{"from a holiday", jpb, "2026-11-23", 1, "2026-11-24"},
		{"over the company's year end", co, "2026-12-28", 1, "2027-01-05"},
		{"Monday -1 is Friday", jpb, "2026-11-30", -1, "2026-11-27"},
		{"Tuesday -1 over a holiday", jpb, "2026-11-24", -1, "2026-11-20"},
		{"zero", jpb, "2026-11-23", 0, "2026-11-23"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.cal.AddBusinessDays(tc.from, tc.n)
			if !ok || got != tc.want {
				t.Fatalf("AddBusinessDays(%s, %d) = %q, %v; want %s", tc.from, tc.n, got, ok, tc.want)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		def  Def
		want string
	}{
		{"unknown base", Def{Base: "us"}, `base "us"`},
		{"every day weekend", Def{Base: BaseNone, Weekend: []time.Weekday{0, 1, 2, 3, 4, 5, 6}}, "no day is a business day"},
		{"bad holiday", Def{Base: JP, Holidays: []string{"2026-13-01"}}, `"2026-13-01" is not a date`},
		{"bad workday", Def{Base: JP, Workdays: []string{"2026/12/05"}}, `"2026/12/05" is not a date`},
		{"both", Def{Base: JP, Holidays: []string{"2026-12-05"}, Workdays: []string{"2026-12-05"}}, "both a holiday and a workday"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New("c", tc.def)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDefRebuilds(t *testing.T) {
	co := company(t)
	again, err := New("company", co.Def())
	if err != nil {
		t.Fatal(err)
	}
	for d := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2028; d = d.AddDate(0, 0, 1) {
		s := d.Format(DateLayout)
		a, aok := co.Why(s)
		b, bok := again.Why(s)
		if a != b || aok != bok {
			t.Fatalf("%s: %+v %v, rebuilt %+v %v", s, a, aok, b, bok)
		}
	}
	jpb, _ := Builtin(JPBusiness)
	if got := jpb.Def(); got.Base != JP || len(got.Weekend) != 2 {
		t.Fatalf("jp_business Def = %+v", got)
	}
}

func TestDataEndWarning(t *testing.T) {
	jpb, _ := Builtin(JPBusiness)
	end, ok := jpb.DataEnd()
	if !ok || end != "2027-12-31" {
		t.Fatalf("DataEnd = %q, %v; jp.csv covers 2027", end, ok)
	}
	if w := jpb.Warning("2027-10-02"); w != "" {
		t.Fatalf("90 days before the end: %q", w)
	}
	w := jpb.Warning("2027-10-03")
	if w != "calendar jp_business: its holiday data ends on 2027-12-31, in 89 days; update sekisho once the Cabinet Office publishes the next year (docs/calendars.md)" {
		t.Fatalf("89 days before: %q", w)
	}
	if w := jpb.Warning("2028-01-01"); !strings.Contains(w, "ended on 2027-12-31") {
		t.Fatalf("after the end: %q", w)
	}
	none, _ := New("plain", Def{Base: BaseNone, Weekend: DefaultWeekend})
	if _, ok := none.DataEnd(); ok || none.Warning("2030-01-01") != "" {
		t.Fatal("a calendar without national holidays has a data end")
	}
}

// TestJPData checks the embedded list against the law's definitions of
// the days the source only calls 休日: a 振替休日 follows an unbroken run
// of holidays that holds a Sunday, a 国民の休日 lies between two holidays.
func TestJPData(t *testing.T) {
	h := jpHolidays()
	if len(h) < 1000 {
		t.Fatalf("%d holidays; jp.csv lists 1955 to 2027", len(h))
	}
	prev := ""
	for _, line := range strings.Split(jpCSV, "\n") {
		if line == "" || line[0] == '#' || strings.HasPrefix(line, "date,") {
			continue
		}
		d := line[:10]
		if d <= prev {
			t.Fatalf("%s after %s: jp.csv is not in order", d, prev)
		}
		prev = d
	}
	day := func(s string, n int) string {
		x, _ := ParseDate(s)
		return x.AddDate(0, 0, n).Format(DateLayout)
	}
	for d, v := range h {
		if v.en == "" || v.ja == "" {
			t.Fatalf("%s has no name", d)
		}
		switch v.ja {
		case "振替休日":
			sunday := false
			for x := day(d, -1); h[x].ja != ""; x = day(x, -1) {
				t0, _ := ParseDate(x)
				sunday = sunday || t0.Weekday() == time.Sunday
			}
			if !sunday {
				t.Errorf("%s is a 振替休日 without a Sunday holiday before it", d)
			}
		case "国民の休日":
			if h[day(d, -1)].ja == "" || h[day(d, 1)].ja == "" {
				t.Errorf("%s is a 国民の休日 not between two holidays", d)
			}
		case "休日":
			t.Errorf("%s is an unnamed 休日", d)
		}
	}
}

func TestParseWeekday(t *testing.T) {
	for in, want := range map[string]time.Weekday{"sat": time.Saturday, "Sun": time.Sunday, "friday": time.Friday} {
		if got, ok := ParseWeekday(in); !ok || got != want {
			t.Fatalf("ParseWeekday(%q) = %v, %v", in, got, ok)
		}
	}
	if _, ok := ParseWeekday("satur"); ok {
		t.Fatal("satur is a weekday")
	}
}
