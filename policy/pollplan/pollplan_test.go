package pollplan_test

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/policy/pollplan"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

// history is 30 days of finishes at hh:mm in Tokyo, a few minutes apart,
// with one late day in ten (lateBy later).
func history(hh, mm int, lateBy time.Duration) []time.Time {
	var out []time.Time
	for d := 1; d <= 30; d++ {
		t := time.Date(2026, 10, d, hh, mm, 0, 0, tokyo).Add(time.Duration(d%5-2) * time.Minute)
		if d%10 == 0 {
			t = t.Add(lateBy)
		}
		out = append(out, t)
	}
	return out
}

func at(hh, mm int) time.Time { return time.Date(2026, 11, 30, hh, mm, 0, 0, tokyo) }

func TestNext(t *testing.T) {
	h := history(3, 0, 90*time.Minute)
	share := 7*time.Minute + 30*time.Second
	tests := []struct {
		name    string
		in      pollplan.Input
		wantGap time.Duration
	}{
		{"no history: the even pace of the share", pollplan.Input{Now: at(1, 0), PokeInterval: time.Minute, Share: share}, share},
		{"no history, no budget: poke interval", pollplan.Input{Now: at(1, 0), PokeInterval: time.Minute}, time.Minute},
		{"far before: four shares at most", pollplan.Input{Now: at(15, 0), Finishes: h, Loc: tokyo, PokeInterval: time.Minute, Share: share}, 30 * time.Minute},
		{"two hours before: half the distance to the zone", pollplan.Input{Now: at(1, 0), Finishes: h, Loc: tokyo, PokeInterval: time.Minute, Share: share}, 30 * time.Minute},
		{"just before: stop at the zone's edge", pollplan.Input{Now: at(2, 50), Finishes: h, Loc: tokyo, PokeInterval: 30 * time.Second, Share: share}, 3*time.Minute + 3750*time.Millisecond},
		{"in the zone: dense", pollplan.Input{Now: at(3, 0), Finishes: h, Loc: tokyo, PokeInterval: 30 * time.Second, Share: share}, 56250 * time.Millisecond},
		{"dense never beats the poke interval", pollplan.Input{Now: at(3, 0), Finishes: h, Loc: tokyo, PokeInterval: 2 * time.Minute, Share: share}, 2 * time.Minute},
		{"overdue: half a share", pollplan.Input{Now: at(3, 40), Finishes: h, Loc: tokyo, PokeInterval: 30 * time.Second, Share: share}, 3*time.Minute + 45*time.Second},
		{"long overdue: tomorrow's finish is next", pollplan.Input{Now: at(7, 0), Finishes: h, Loc: tokyo, PokeInterval: 30 * time.Second, Share: share}, 30 * time.Minute},
		{"finishes either side of midnight", pollplan.Input{Now: time.Date(2026, 11, 29, 23, 58, 0, 0, tokyo), Finishes: history(0, 0, 0), Loc: tokyo, PokeInterval: 30 * time.Second, Share: share}, 56250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pollplan.Next(tt.in).Sub(tt.in.Now)
			if got != tt.wantGap {
				t.Errorf("next check in %s, want %s (zone %+v)", got, tt.wantGap, zoneOf(tt.in))
			}
			if got < tt.in.PokeInterval {
				t.Errorf("next check in %s, more often than poke_interval %s", got, tt.in.PokeInterval)
			}
		})
	}
}

func zoneOf(in pollplan.Input) pollplan.Zone {
	if len(in.Finishes) == 0 {
		return pollplan.Zone{}
	}
	return pollplan.ExpectedZone(in)
}

func TestZoneIgnoresTheLateDay(t *testing.T) {
	in := pollplan.Input{Now: at(1, 0), Finishes: history(3, 0, 2*time.Hour), Loc: tokyo, PokeInterval: 30 * time.Second,
		Share: 8 * time.Minute}
	z := pollplan.ExpectedZone(in)
	if z.From.Before(at(2, 55)) || z.To.After(at(3, 5)) {
		t.Errorf("zone %s–%s; want about 02:58–03:02 with a margin, without the late days", z.From.Format("15:04:05"), z.To.Format("15:04:05"))
	}
}

// TestCheaperThanTheEvenPace walks the checks from the gate's opening
// to the finish on a usual day and on a late one: the plan spends no more
// than the even pace of the share would, and sees the finish sooner.
func TestCheaperThanTheEvenPace(t *testing.T) {
	share := 7*time.Minute + 30*time.Second
	in := pollplan.Input{Finishes: history(3, 0, 90*time.Minute), Loc: tokyo, PokeInterval: 30 * time.Second, Share: share}
	tests := []struct {
		name       string
		finish     time.Time
		maxLatency time.Duration
	}{
		{"usual day", at(3, 1), time.Minute},
		{"late by 90 minutes", at(4, 31), 3*time.Minute + 45*time.Second},
		{"late by 2 hours", at(5, 2), 3*time.Minute + 45*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := at(20, 0).AddDate(0, 0, -1)
			checks := 0
			now := start
			for ; now.Before(tt.finish); checks++ {
				in.Now = now
				now = pollplan.Next(in)
			}
			if latency := now.Sub(tt.finish); latency > tt.maxLatency {
				t.Errorf("finish seen %s late, want at most %s", latency, tt.maxLatency)
			}
			if even := int(tt.finish.Sub(start)/share) + 1; checks > even {
				t.Errorf("%d checks, the even pace makes %d", checks, even)
			}
		})
	}
}
