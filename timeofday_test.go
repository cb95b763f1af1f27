package sekisho

import (
	"testing"
	"time"
)

func TestTimeOfDayOnAcrossDaylightSaving(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, tod, date, want string // want in UTC
	}{
		{"winter 06:00 is 11:00 UTC", "06:00", "2026-01-15", "2026-01-15T11:00:00Z"},
		{"summer 06:00 is 10:00 UTC", "06:00", "2026-07-15", "2026-07-15T10:00:00Z"},
		{"spring-forward day after the change", "06:00", "2026-03-08", "2026-03-08T10:00:00Z"},
		{"spring-forward gap moves on, never back", "02:30", "2026-03-08", "2026-03-08T07:30:00Z"}, // 03:30 EDT
		{"fall-back repeated hour: the first", "01:30", "2026-11-01", "2026-11-01T05:30:00Z"},      // 01:30 EDT
		{"fall-back day after the change", "06:00", "2026-11-01", "2026-11-01T11:00:00Z"},
		{"next morning", "+1d 06:00", "2026-03-07", "2026-03-08T10:00:00Z"},
		{"evening before", "-1d 22:00", "2026-07-15", "2026-07-15T02:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tod, err := ParseTimeOfDay(tt.tod)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tod.On(tt.date, ny)
			if err != nil {
				t.Fatal(err)
			}
			if got.UTC().Format(time.RFC3339) != tt.want {
				t.Errorf("%s on %s = %s, want %s", tt.tod, tt.date, got.UTC().Format(time.RFC3339), tt.want)
			}
		})
	}
}

func TestParseTimeOfDayRejects(t *testing.T) {
	for _, s := range []string{"6:00", "24:00", "06:60", "06", "+1 06:00", "1d 06:00", "+xd 06:00", "06:00:61", ""} {
		if _, err := ParseTimeOfDay(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
