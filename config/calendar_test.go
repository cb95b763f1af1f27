package config

import (
	"slices"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

const calendarYAML = `version: 1
timezone: Asia/Tokyo
calendars:
  company:
    base: jp
    holidays: ["2026-12-29", "2026-12-30", "2026-12-31", "2027-01-04"]
    workdays: ["2026-12-05"]
defaults:
  calendar: jp_business
pipelines:
  - name: daily
    schedule: "0 2 * * *"
    upstreams: []
    timeout: "+1bd 09:00"
    window_start: "-1bd 22:00"
    slo: {deadline: "+1bd 09:00", objective: 95%}
    sla: {recover_by: "+2bd 09:00"}
  - name: company_daily
    schedule: "0 2 * * *"
    calendar: company
    upstreams: []
  - name: third
    schedule: "0 9 * * *"
    calendar: company
    business_day: 3
    upstreams: []
  - name: last
    schedule: "0 9 * * *"
    business_day: -1
    upstreams: []
`

func loadCalendars(t *testing.T) *Config {
	t.Helper()
	cfg, err := Parse("calendars.yaml", []byte(calendarYAML), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestGatesFollowTheCalendar(t *testing.T) {
	cfg := loadCalendars(t)
	daily, company := cfg.Pipeline("daily"), cfg.Pipeline("company_daily")
	for _, tc := range []struct {
		name string
		p    *Pipeline
		date string
		gate bool
	}{
		{"勤労感謝の日", daily, "2026-11-23", false},
		{"a Sunday", daily, "2026-11-22", false},
		{"a Tuesday", daily, "2026-11-24", true},
		{"a company day off", company, "2026-12-29", false},
		{"a company workday Saturday", company, "2026-12-05", true},
		{"the same Saturday on jp_business", daily, "2026-12-05", false},
		{"the company's day off is jp_business's workday", daily, "2026-12-29", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.p.GateOn(tc.date)
			if got.IsZero() == tc.gate {
				t.Fatalf("GateOn(%s) = %v; want a gate: %v", tc.date, got, tc.gate)
			}
			if _, off := tc.p.DayOff(tc.date); off == tc.gate {
				t.Fatalf("DayOff(%s) = %v", tc.date, off)
			}
		})
	}
	// NextFire, the engine's gate clock, skips the long weekend.
	tokyo := daily.Location
	fri := time.Date(2026, 11, 20, 2, 0, 0, 0, tokyo)
	if got, want := daily.NextFire(fri), time.Date(2026, 11, 24, 2, 0, 0, 0, tokyo); !got.Equal(want) {
		t.Fatalf("NextFire after Friday's gate = %v, want Tuesday %v", got, want)
	}
}

func TestBusinessDayOfTheMonth(t *testing.T) {
	cfg := loadCalendars(t)
	tokyo := cfg.Location
	dates := func(p *Pipeline, from, to string) []string {
		f, _ := time.ParseInLocation(sekisho.DateLayout, from, tokyo)
		e, _ := time.ParseInLocation(sekisho.DateLayout, to, tokyo)
		var out []string
		for _, g := range ScheduleFires(p, f, e) {
			out = append(out, sekisho.DateOf(g, tokyo))
		}
		return out
	}
	// January 2027 starts on 元日 (a Friday) and a weekend; the company
	// is also off on Monday the 4th.
	if got, want := dates(cfg.Pipeline("third"), "2026-12-01", "2027-03-01"), []string{"2026-12-03", "2027-01-07", "2027-02-03"}; !slices.Equal(got, want) {
		t.Fatalf("business_day 3: %v, want %v", got, want)
	}
	if got, want := dates(cfg.Pipeline("last"), "2026-11-01", "2027-03-01"), []string{"2026-11-30", "2026-12-31", "2027-01-29", "2027-02-26"}; !slices.Equal(got, want) {
		t.Fatalf("business_day -1: %v, want %v", got, want)
	}
	third := cfg.Pipeline("third")
	if got, want := third.NextFire(time.Date(2026, 12, 3, 9, 0, 0, 0, tokyo)), time.Date(2027, 1, 7, 9, 0, 0, 0, tokyo); !got.Equal(want) {
		t.Fatalf("NextFire after December's = %v, want %v", got, want)
	}
}

func TestBusinessDayTimes(t *testing.T) {
	cfg := loadCalendars(t)
	p := cfg.Pipeline("daily")
	tokyo := p.Location
	at := func(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, tokyo) }
	for _, tc := range []struct {
		name              string
		date              string
		deadline, recover time.Time
		window, timeout   time.Time
	}{
		{"Friday's deadline is Monday", "2026-11-27", at(2026, 11, 30, 9), at(2026, 12, 1, 9), at(2026, 11, 26, 22), at(2026, 11, 30, 9)},
		{"over a holiday Monday to Tuesday", "2026-11-20", at(2026, 11, 24, 9), at(2026, 11, 25, 9), at(2026, 11, 19, 22), at(2026, 11, 24, 9)},
		{"the window of a Tuesday after a holiday opens Friday", "2026-11-24", at(2026, 11, 25, 9), at(2026, 11, 26, 9), at(2026, 11, 20, 22), at(2026, 11, 25, 9)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Deadline(tc.date, p.GateOn(tc.date)); !got.Equal(tc.deadline) {
				t.Errorf("Deadline = %v, want %v", got, tc.deadline)
			}
			if got := p.RecoverBy(tc.date, p.GateOn(tc.date)); !got.Equal(tc.recover) {
				t.Errorf("RecoverBy = %v, want %v", got, tc.recover)
			}
			if got := p.Window(tc.date, p.GateOn(tc.date)); !got.Equal(tc.window) {
				t.Errorf("Window = %v, want %v", got, tc.window)
			}
			if got := p.TimeoutOn(tc.date, p.GateOn(tc.date)); !got.Equal(tc.timeout) {
				t.Errorf("TimeoutOn = %v, want %v", got, tc.timeout)
			}
		})
	}
	// A run's snapshot keeps its calendar.
	back, err := PipelineFromSpec(cfg.Pipeline("company_daily").Spec())
	if err != nil {
		t.Fatal(err)
	}
	if back.CalendarName != "company" || !back.GateOn("2026-12-29").IsZero() || back.GateOn("2026-12-05").IsZero() {
		t.Fatalf("snapshot lost the company calendar: %+v", back.Calendar)
	}
	if got := p.SLO.Deadline.String(); got != "+1bd 09:00" {
		t.Fatalf("deadline reads back as %q", got)
	}
}

func TestCalendarWarnings(t *testing.T) {
	cfg := loadCalendars(t)
	if w := cfg.CalendarWarnings(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)); len(w) != 0 {
		t.Fatalf("a year of data left: %v", w)
	}
	w := cfg.CalendarWarnings(time.Date(2027, 11, 1, 0, 0, 0, 0, time.UTC))
	if len(w) != 2 || w[0] != "calendar company: its holiday data ends on 2027-12-31, in 60 days; update sekisho once the Cabinet Office publishes the next year (docs/calendars.md)" {
		t.Fatalf("warnings: %q", w)
	}
}

// TestFiresShareWhatRepeats: Fires answers as NextFire does for pipelines
// that differ in calendar, business day, schedule or zone, asked in any
// order from one memo, and pipelines alike in all of those share an entry.
func TestFiresShareWhatRepeats(t *testing.T) {
	cfg := loadCalendars(t)
	ps := append([]*Pipeline(nil), cfg.Pipelines...)
	twin := *cfg.Pipeline("company_daily")
	twin.Name = "company_twin"
	utc := *cfg.Pipeline("daily")
	utc.Name, utc.Location = "daily_utc", time.UTC
	ps = append(ps, &twin, &utc)
	var f Fires
	asked := 0
	// Every 7 hours across the company's year-end days off and the
	// business days of three month starts.
	for at := time.Date(2026, 11, 20, 0, 0, 0, 0, cfg.Location); at.Before(time.Date(2027, 2, 10, 0, 0, 0, 0, cfg.Location)); at = at.Add(7 * time.Hour) {
		for _, p := range ps {
			if got, want := f.Next(p, at), p.NextFire(at); !got.Equal(want) {
				t.Fatalf("%s after %s: %v, want %v", p.Name, at, got, want)
			}
			asked++
		}
	}
	// The twin shares company_daily's answers; every other pipeline
	// differs from the rest in one of the key's parts.
	if want := asked / len(ps) * (len(ps) - 1); len(f.m) != want {
		t.Fatalf("%d answers remembered for %d asked, want %d", len(f.m), asked, want)
	}
}
