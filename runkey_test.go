package sekisho

import (
	"testing"
	"time"
)

func TestRunKey(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	tests := []struct {
		name string
		at   time.Time
		loc  *time.Location
		sub  bool
		want string
	}{
		{"daily", time.Date(2026, 6, 1, 2, 0, 0, 0, tokyo), tokyo, false, "2026-06-01"},
		{"daily in the evening before, in UTC", time.Date(2026, 5, 31, 17, 0, 0, 0, time.UTC), tokyo, false, "2026-06-01"},
		{"sub-daily", time.Date(2026, 6, 1, 13, 0, 0, 0, tokyo), tokyo, true, "2026-06-01T13:00"},
		{"seconds dropped", time.Date(2026, 6, 1, 13, 5, 30, 0, tokyo), tokyo, true, "2026-06-01T13:05"},
		{"first 01:00 of a fall-back night", time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC), ny, true, "2026-11-01T01:00"},
		{"second 01:00 of a fall-back night", time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC), ny, true, "2026-11-01T01:00-05:00"},
		{"the hour after", time.Date(2026, 11, 1, 7, 0, 0, 0, time.UTC), ny, true, "2026-11-01T02:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RunKey(tt.at, tt.loc, tt.sub)
			if got != tt.want {
				t.Fatalf("RunKey = %q, want %q", got, tt.want)
			}
			if k, err := ParseKey(got); err != nil || k != got {
				t.Errorf("ParseKey(%q) = %q, %v", got, k, err)
			}
			if KeyDate(got) != DateOf(tt.at, tt.loc) || SubDailyKey(got) != tt.sub {
				t.Errorf("KeyDate %q SubDailyKey %v", KeyDate(got), SubDailyKey(got))
			}
		})
	}
	for _, bad := range []string{"", "2026-6-1", "03-11-2026", "2026-06-01T25:00", "2026-06-01 13:00", "2026-06-01T13:00Z", "2026-06-01T13:00:00"} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
	if got := DagRunID("p", "2026-06-01T13:00", 2); got != "sekisho__p__2026-06-01T1300__2" {
		t.Errorf("sub-daily dag_run_id %q", got)
	}
	if got := DagRunID("p", "2026-06-01", 1); got != "sekisho__p__2026-06-01__1" {
		t.Errorf("daily dag_run_id %q: it must stay what every release wrote", got)
	}
	if got := KeyTime("2026-11-01T01:00-05:00"); got != "01:00" {
		t.Errorf("KeyTime %q", got)
	}
}

func TestWallInstants(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	if got := WallInstants(2026, 3, 8, 2, 30, 0, ny); len(got) != 0 {
		t.Errorf("02:30 in the spring-forward gap: %v", got)
	}
	got := WallInstants(2026, 11, 1, 1, 30, 0, ny)
	if len(got) != 2 || got[1].Sub(got[0]) != time.Hour || !got[0].Equal(time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)) {
		t.Errorf("01:30 on the fall-back night: %v", got)
	}
	if got := WallInstants(2026, 6, 1, 9, 0, 0, ny); len(got) != 1 || !got[0].Equal(time.Date(2026, 6, 1, 13, 0, 0, 0, time.UTC)) {
		t.Errorf("a plain hour: %v", got)
	}
}

func TestUpstreamRunIDReadsBack(t *testing.T) {
	for _, tt := range []struct{ pipeline, key, attempt string }{
		{"hourly_load", "2026-06-01T13:00", "2"},
		{"hourly_load", "2026-11-01T01:00-05:00", "1"},
		{"daily", "2026-06-01", "missing"},
	} {
		id := UpstreamRunID(tt.pipeline, tt.key, tt.attempt)
		if got, ok := UpstreamRunKey(id, tt.pipeline); !ok || got != tt.key {
			t.Errorf("UpstreamRunKey(%q) = %q, %v; want %q", id, got, ok, tt.key)
		}
		if _, ok := UpstreamRunKey(id, tt.pipeline+"_other"); ok {
			t.Errorf("UpstreamRunKey(%q) read a key for another pipeline", id)
		}
	}
	if _, ok := UpstreamRunKey("hourly_load/not-a-key#1", "hourly_load"); ok {
		t.Error("a malformed key was read")
	}
}
