package config

import (
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestScheduleFires(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tokyo := mustLoc(t, "Asia/Tokyo")
	tests := []struct {
		name     string
		schedule string
		loc      *time.Location
		from, to time.Time
		want     []time.Time
	}{
		{"daily in Tokyo", "0 2 * * *", tokyo,
			time.Date(2025, 1, 1, 0, 0, 0, 0, tokyo), time.Date(2025, 1, 3, 0, 0, 0, 0, tokyo),
			[]time.Time{time.Date(2025, 1, 1, 2, 0, 0, 0, tokyo), time.Date(2025, 1, 2, 2, 0, 0, 0, tokyo)}},
		{"from is inclusive, to exclusive", "0 2 * * *", tokyo,
			time.Date(2025, 1, 1, 2, 0, 0, 0, tokyo), time.Date(2025, 1, 2, 2, 0, 0, 0, tokyo),
			[]time.Time{time.Date(2025, 1, 1, 2, 0, 0, 0, tokyo)}},
		{"spring forward: 02:30 does not exist, the gate opens just after the gap", "30 2 * * *", ny,
			time.Date(2025, 3, 8, 0, 0, 0, 0, ny), time.Date(2025, 3, 11, 0, 0, 0, 0, ny),
			[]time.Time{time.Date(2025, 3, 8, 7, 30, 0, 0, time.UTC), time.Date(2025, 3, 9, 7, 30, 0, 0, time.UTC), time.Date(2025, 3, 10, 6, 30, 0, 0, time.UTC)}},
		{"fall back: 01:30 happens twice, the gate opens once", "30 1 * * *", ny,
			time.Date(2025, 11, 1, 0, 0, 0, 0, ny), time.Date(2025, 11, 4, 0, 0, 0, 0, ny),
			[]time.Time{time.Date(2025, 11, 1, 5, 30, 0, 0, time.UTC), time.Date(2025, 11, 2, 5, 30, 0, 0, time.UTC), time.Date(2025, 11, 3, 6, 30, 0, 0, time.UTC)}},
		{"six fields with seconds", "15 0 2 * * *", time.UTC,
			time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2025, 1, 1, 2, 0, 15, 0, time.UTC)}},
		{"weekdays only", "0 6 * * 1-5", time.UTC,
			time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 7, 0, 0, 0, 0, time.UTC),
			[]time.Time{time.Date(2025, 1, 3, 6, 0, 0, 0, time.UTC), time.Date(2025, 1, 6, 6, 0, 0, 0, time.UTC)}},
		{"descriptor", "@daily", tokyo,
			time.Date(2025, 1, 1, 0, 0, 0, 0, tokyo), time.Date(2025, 1, 2, 0, 0, 1, 0, tokyo),
			[]time.Time{time.Date(2025, 1, 1, 0, 0, 0, 0, tokyo), time.Date(2025, 1, 2, 0, 0, 0, 0, tokyo)}},
		{"empty range", "0 2 * * *", time.UTC,
			time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pipeline{Name: "p", Schedule: tt.schedule, Location: tt.loc}
			got := ScheduleFires(p, tt.from, tt.to)
			if len(got) != len(tt.want) {
				t.Fatalf("fires = %v, want %v", got, tt.want)
			}
			for i := range got {
				if !got[i].Equal(tt.want[i]) || got[i].Location() != tt.loc {
					t.Errorf("fire %d = %v, want %v in %v", i, got[i], tt.want[i], tt.loc)
				}
			}
		})
	}
}

// TestScheduleFiresOncePerDayAllYear walks a whole year in zones with
// daylight saving time, both hemispheres, at hours hit by the switches.
func TestScheduleFiresOncePerDayAllYear(t *testing.T) {
	for _, zone := range []string{"America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Tokyo"} {
		loc := mustLoc(t, zone)
		for _, sched := range []string{"30 2 * * *", "30 1 * * *", "0 3 * * *", "0 0 * * *"} {
			p := &Pipeline{Name: "p", Schedule: sched, Location: loc}
			from, to := time.Date(2025, 1, 1, 0, 0, 0, 0, loc), time.Date(2026, 1, 1, 0, 0, 0, 0, loc)
			fires := ScheduleFires(p, from, to)
			if len(fires) != 365 {
				t.Errorf("%s %q: %d fires in 2025, want 365", zone, sched, len(fires))
			}
			seen := map[string]bool{}
			for _, f := range fires {
				d := f.Format(time.DateOnly)
				if seen[d] {
					t.Errorf("%s %q: two fires on %s", zone, sched, d)
				}
				seen[d] = true
			}
		}
	}
}

func TestNextFire(t *testing.T) {
	tokyo := mustLoc(t, "Asia/Tokyo")
	p := &Pipeline{Name: "p", Schedule: "0 2 * * *", Location: tokyo}
	tests := []struct {
		after, want time.Time
	}{
		{time.Date(2025, 1, 1, 1, 0, 0, 0, tokyo), time.Date(2025, 1, 1, 2, 0, 0, 0, tokyo)},
		{time.Date(2025, 1, 1, 2, 0, 0, 0, tokyo), time.Date(2025, 1, 2, 2, 0, 0, 0, tokyo)},
		{time.Date(2024, 12, 31, 18, 0, 0, 0, time.UTC), time.Date(2025, 1, 2, 2, 0, 0, 0, tokyo)},
	}
	for _, tt := range tests {
		if got := p.NextFire(tt.after); !got.Equal(tt.want) {
			t.Errorf("NextFire(%v) = %v, want %v", tt.after, got, tt.want)
		}
	}
	if got := (&Pipeline{Schedule: "bad"}).NextFire(time.Now()); !got.IsZero() {
		t.Errorf("NextFire of a bad schedule = %v", got)
	}
}

func TestGraph(t *testing.T) {
	cfg := &Config{Pipelines: []*Pipeline{
		{Name: "a"},
		{Name: "b", Upstreams: []Upstream{{Name: "x", Type: TypePipeline, Pipeline: "a"}}},
		{Name: "c", Upstreams: []Upstream{{Name: "x", Type: TypePipeline, Pipeline: "b"}, {Name: "y", Type: TypePipeline, Pipeline: "a"}}},
		{Name: "d", Upstreams: []Upstream{{Name: "g", Type: TypeGlueJob, JobName: "a"}}},
	}}
	g := cfg.Graph()
	tests := []struct {
		name      string
		got, want []string
	}{
		{"downstreams of a", g.Downstreams("a"), []string{"b", "c"}},
		{"downstreams of c", g.Downstreams("c"), nil},
		{"upstreams of c", g.Upstreams("c"), []string{"a", "b"}},
		{"glue job named like a pipeline is no edge", g.Upstreams("d"), nil},
		{"unknown", g.Downstreams("zzz"), nil},
	}
	for _, tt := range tests {
		if len(tt.got) != len(tt.want) || len(tt.got) > 0 && !equal(tt.got, tt.want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

func equal(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestGateOn(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	tokyo := mustLoc(t, "Asia/Tokyo")
	tests := []struct {
		name, schedule, date string
		loc                  *time.Location
		want                 string
	}{
		{"daily", "0 2 * * *", "2026-11-03", tokyo, "2026-11-03T02:00:00+09:00"},
		{"with seconds", "30 0 2 * * *", "2026-11-03", tokyo, "2026-11-03T02:00:30+09:00"},
		{"not this weekday", "0 2 * * 1", "2026-11-03", tokyo, ""},
		{"midnight", "0 0 * * *", "2026-11-03", tokyo, "2026-11-03T00:00:00+09:00"},
		{"spring-forward gap: moved on as the engine does", "30 2 * * *", "2026-03-08", ny, "2026-03-08T03:30:00-04:00"},
		{"fall back: the first 01:30", "30 1 * * *", "2026-11-01", ny, "2026-11-01T01:30:00-04:00"},
		{"bad date", "0 2 * * *", "2026-13-01", tokyo, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Pipeline{Name: "p", Schedule: tt.schedule, Location: tt.loc}
			got := p.GateOn(tt.date)
			s := ""
			if !got.IsZero() {
				s = got.In(tt.loc).Format(time.RFC3339)
			}
			if s != tt.want {
				t.Errorf("GateOn(%s) = %q, want %q", tt.date, s, tt.want)
			}
			if !got.IsZero() && !p.NextFire(got.Add(-time.Nanosecond)).Equal(got) {
				t.Errorf("GateOn disagrees with NextFire, the engine's gate")
			}
		})
	}
}

// Sub-daily schedules (SPEC §19): every fire is a gate, the day's gates
// are listed in order, a run's key is its fire time, its window starts at
// the previous fire (or window_start's duration before the gate) and its
// SLO deadline is within after the gate.
func TestSubDailySchedules(t *testing.T) {
	cfg, err := Parse("p.yaml", []byte(`version: 1
timezone: Asia/Tokyo
pipelines:
  - name: floor
    schedule: "0 9,13,18 * * 1-5"
    upstreams: []
    slo: {within: 45m, objective: 99%}
    sla: {within: 3h}
  - name: hourly
    schedule: "@hourly"
    window_start: -15m
    upstreams: []
  - name: biz
    schedule: "@hourly"
    calendar: jp_business
    upstreams: []
  - name: daily
    schedule: "0 2 * * *"
    window_start: -30m
    upstreams: []
    slo: {within: 4h, objective: 95%}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	tokyo := mustLoc(t, "Asia/Tokyo")
	floor, hourly, daily := cfg.Pipeline("floor"), cfg.Pipeline("hourly"), cfg.Pipeline("daily")
	if !floor.SubDaily() || !hourly.SubDaily() || daily.SubDaily() {
		t.Fatalf("sub-daily: floor %v hourly %v daily %v", floor.SubDaily(), hourly.SubDaily(), daily.SubDaily())
	}
	at := func(d, h, m int) time.Time { return time.Date(2026, 6, d, h, m, 0, 0, tokyo) }
	gates := floor.GatesOn("2026-06-01") // a Monday
	if len(gates) != 3 || !gates[1].Equal(at(1, 13, 0)) || len(floor.GatesOn("2026-06-06")) != 0 {
		t.Fatalf("gates of a weekday %v, of a Saturday %v", gates, floor.GatesOn("2026-06-06"))
	}
	if k := floor.RunKey(gates[1]); k != "2026-06-01T13:00" || !floor.GateOf(k).Equal(gates[1]) {
		t.Errorf("key %q, its gate %v", k, floor.GateOf(k))
	}
	// Monday 09:00's window starts at Friday 18:00: the previous fire.
	if w := floor.Window("2026-06-01", at(1, 9, 0)); !w.Equal(at(29, 18, 0).AddDate(0, -1, 0)) {
		t.Errorf("09:00 window from %v, want the Friday's 18:00", w)
	}
	if w := floor.Window("2026-06-01", at(1, 13, 0)); !w.Equal(at(1, 9, 0)) {
		t.Errorf("13:00 window from %v, want 09:00", w)
	}
	if d, r := floor.Deadline("2026-06-01", at(1, 13, 0)), floor.RecoverBy("2026-06-01", at(1, 13, 0)); !d.Equal(at(1, 13, 45)) || !r.Equal(at(1, 16, 0)) {
		t.Errorf("13:00 deadline %v recover_by %v", d, r)
	}
	if w := hourly.Window("2026-06-01", at(1, 5, 0)); !w.Equal(at(1, 4, 45)) {
		t.Errorf("window_start -15m: %v", w)
	}
	if w, d := daily.Window("2026-06-01", at(1, 2, 0)), daily.Deadline("2026-06-01", at(1, 2, 0)); !w.Equal(at(1, 1, 30)) || !d.Equal(at(1, 6, 0)) {
		t.Errorf("daily window %v deadline %v", w, d)
	}
	// A calendar (SPEC §18) applies to every fire: an hourly pipeline on
	// jp_business has no gate on a Saturday.
	if biz := cfg.Pipeline("biz"); len(biz.GatesOn("2026-06-06")) != 0 || len(biz.GatesOn("2026-06-05")) != 24 {
		t.Errorf("jp_business hourly: %d gates on a Saturday, %d on a Friday", len(biz.GatesOn("2026-06-06")), len(biz.GatesOn("2026-06-05")))
	}
	if n := len(ScheduleFires(hourly, at(1, 0, 0), at(3, 0, 0))); n != 48 {
		t.Errorf("%d hourly fires in two days", n)
	}
	if next := hourly.NextFire(at(1, 13, 0)); !next.Equal(at(1, 14, 0)) {
		t.Errorf("next fire after 13:00: %v", next)
	}
}

// TestDefaultsWindowStartOnSubDaily: a time of day in defaults: is the
// daily pipelines' window; a sub-daily pipeline keeps its previous fire
// unless it sets window_start itself, and takes a duration from defaults.
func TestDefaultsWindowStartOnSubDaily(t *testing.T) {
	tokyo := mustLoc(t, "Asia/Tokyo")
	at := func(h, m int) time.Time { return time.Date(2026, 6, 1, h, m, 0, 0, tokyo) }
	tests := []struct {
		name     string
		defaults string
		own      string
		daily    time.Time // the 02:00 daily run's window
		hourly   time.Time // the 13:00 hourly run's window
	}{
		{"time of day in defaults", `"00:00"`, "", at(0, 0), at(12, 0)},
		{"the evening before in defaults", `"-1d 22:00"`, "", at(-2, 0), at(12, 0)},
		{"a duration in defaults", "-20m", "", at(1, 40), at(12, 40)},
		{"the hourly pipeline's own time of day", `"00:00"`, `"06:00"`, at(0, 0), at(6, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			own := ""
			if tt.own != "" {
				own = "\n    window_start: " + tt.own
			}
			cfg, err := Parse("p.yaml", []byte(fmt.Sprintf(`version: 1
timezone: Asia/Tokyo
defaults:
  window_start: %s
pipelines:
  - name: daily
    schedule: "0 2 * * *"
    upstreams: []
  - name: hourly
    schedule: "@hourly"%s
    upstreams: []
`, tt.defaults, own)), nil)
			if err != nil {
				t.Fatal(err)
			}
			if w := cfg.Pipeline("daily").Window("2026-06-01", at(2, 0)); !w.Equal(tt.daily) {
				t.Errorf("daily window from %v, want %v", w, tt.daily)
			}
			if w := cfg.Pipeline("hourly").Window("2026-06-01", at(13, 0)); !w.Equal(tt.hourly) {
				t.Errorf("hourly 13:00 window from %v, want %v", w, tt.hourly)
			}
		})
	}
}

func TestHourlyFiresAcrossDaylightSaving(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	p := &Pipeline{Name: "h", Schedule: "0 * * * *", Location: ny}
	for date, want := range map[string]int{"2026-03-08": 23, "2026-11-01": 25, "2026-11-02": 24} {
		gates := p.GatesOn(date)
		keys := map[string]bool{}
		for i, g := range gates {
			keys[p.RunKey(g)] = true
			if i > 0 && g.Sub(gates[i-1]) != time.Hour {
				t.Errorf("%s: %v after %v", date, g, gates[i-1])
			}
		}
		if len(gates) != want || len(keys) != want {
			t.Errorf("%s: %d gates, %d keys, want %d", date, len(gates), len(keys), want)
		}
		// NextFire walks the same gates one by one.
		n := 0
		for g := p.NextFire(gates[0].Add(-time.Nanosecond)); !g.IsZero() && sekisho.DateOf(g, ny) == date; g = p.NextFire(g) {
			n++
		}
		if n != want {
			t.Errorf("%s: NextFire stepped %d times, want %d", date, n, want)
		}
	}
}
