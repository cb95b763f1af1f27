package config

import (
	"testing"
	"time"
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
