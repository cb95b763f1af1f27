package status

import (
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// TestTableMarksALateFinish: a run that succeeded after its deadline is a
// missed SLO day, and the table says so beside the ✅.
func TestTableMarksALateFinish(t *testing.T) {
	jst, _ := time.LoadLocation("Asia/Tokyo")
	at := func(hm string) time.Time {
		v, _ := time.ParseInLocation("2006-01-02 15:04", "2026-11-22 "+hm, jst)
		return v
	}
	met, missed := true, false
	b := &Board{Date: "2026-11-22", Language: "en", Overall: OverallOK, GeneratedAt: at("09:00"), Pipelines: []*Pipeline{
		{Name: "on_time", LogicalDate: "2026-11-22", State: sekisho.StateSucceeded, Attempt: 1, Location: jst,
			FinishedAt: at("05:10"), Deadline: at("06:00"), SLOMet: &met},
		{Name: "late_finish", LogicalDate: "2026-11-22", State: sekisho.StateSucceeded, Attempt: 1, Location: jst,
			FinishedAt: at("06:42"), Deadline: at("06:00"), SLOMet: &missed},
	}}
	var out strings.Builder
	if err := WriteTable(&out, b); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		switch {
		case strings.HasPrefix(line, "late_finish") && !strings.Contains(line, "✅ Succeeded (🐢 Late)"):
			t.Errorf("late finish: %q, want the late mark", line)
		case strings.HasPrefix(line, "on_time") && strings.Contains(line, "🐢"):
			t.Errorf("on-time finish: %q, marked late", line)
		}
	}
}
