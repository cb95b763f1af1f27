package status_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// A sub-daily pipeline on the board (SPEC §19): its entry shows its latest
// run of the date and a strip of the day's intervals, one each, with the
// run's state, missed for a gate that passed without a run and scheduled
// for one still ahead; IntervalsMet is the digest's met/total.
func TestSubDailyEntryListsTheDaysIntervals(t *testing.T) {
	st := statustest.Open(t)
	p := &config.Pipeline{Name: "hourly", Schedule: "0 * * * *", Timezone: "UTC", Location: time.UTC,
		SLO: &config.SLO{Within: 45 * time.Minute, Objective: 0.99}}
	cfg := config.Fill(&config.Config{Version: 1, Timezone: "UTC", Pipelines: []*config.Pipeline{p}})
	at := func(h, m int) time.Time { return time.Date(2026, 6, 1, h, m, 0, 0, time.UTC) }
	statustest.Put(t, st, statustest.Run{Pipeline: "hourly", Date: "2026-06-01", Key: "2026-06-01T00:00", GateAt: at(0, 0),
		Deadline: at(0, 45), State: sekisho.StateSucceeded, FinishedAt: at(0, 20), FirstSuccessAt: at(0, 20)})
	statustest.Put(t, st, statustest.Run{Pipeline: "hourly", Date: "2026-06-01", Key: "2026-06-01T01:00", GateAt: at(1, 0),
		Deadline: at(1, 45), State: sekisho.StateFailed, FinishedAt: at(1, 10)})
	statustest.Put(t, st, statustest.Run{Pipeline: "hourly", Date: "2026-06-01", Key: "2026-06-01T03:00", GateAt: at(3, 0),
		Deadline: at(3, 45), State: sekisho.StateWaiting})
	b, err := status.Build(context.Background(), st, cfg, "2026-06-01", at(3, 30))
	if err != nil {
		t.Fatal(err)
	}
	e := b.Pipeline("hourly")
	if e.Key != "2026-06-01T03:00" || e.State != sekisho.StateWaiting || len(e.Intervals) != 24 {
		t.Fatalf("entry key %q state %s, %d intervals", e.Key, e.State, len(e.Intervals))
	}
	want := []sekisho.State{sekisho.StateSucceeded, sekisho.StateFailed, sekisho.StateMissed, sekisho.StateWaiting, sekisho.StateScheduled}
	for i, s := range want {
		if iv := e.Intervals[i]; iv.State != s || iv.Time != at(i, 0).Format("15:04") {
			t.Errorf("interval %d: %s at %s, want %s", i, iv.State, iv.Time, s)
		}
	}
	if met, due := e.IntervalsMet(); met != 1 || due != 4 {
		t.Errorf("met %d of %d due, want 1 of 4", met, due)
	}
	raw, _ := json.Marshal(e)
	if !strings.Contains(string(raw), `"key":"2026-06-01T03:00"`) || !strings.Contains(string(raw), `"intervals":[{"key":"2026-06-01T00:00","time":"00:00","state":"succeeded"`) {
		t.Errorf("JSON %s", raw)
	}
}
