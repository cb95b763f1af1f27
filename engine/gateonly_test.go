package engine

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
)

// TestGateOnlyEndsWhenTheConditionHeld: a gate-only run succeeds at the
// moment its condition began to hold (from the upstreams' reported ends,
// not before its gate or rerun), not at the moment the daemon looked. A
// daemon that was down or starved from the gate past the SLO deadline used
// to record the day's first success at its next look, so the SLO report
// said missed on a day whose upstreams were done before the gate (found by
// TestChaosDays: "g0_watch: report says 1 of 3 days met, the simulators
// say 2 of 3"), with a delay notice for a day that was on time.
func TestGateOnlyEndsWhenTheConditionHeld(t *testing.T) {
	gate, deadline := jst(1, 2, 0), jst(1, 6, 0)
	ended := func(name string, end time.Time) obsView {
		return obsView{Observation: sekisho.Observation{Upstream: name, Type: config.TypeGlueJob,
			State: sekisho.JobSucceeded, ExternalID: name + "1", StartedAt: end.Add(-time.Hour), FinishedAt: end}}
	}
	tests := []struct {
		name      string
		condition string
		attemptAt time.Time // zero: the first attempt
		ups       map[string]obsView
		now       time.Time
		want      string
	}{
		{"down from before the gate past the deadline: the gate", "",
			time.Time{}, map[string]obsView{"x": ended("x", jst(1, 1, 30))}, jst(1, 7, 0),
			"gate_only_met+recovery condition_met | ended=02:00 |  | record:x"},
		{"upstream ended after the gate, seen late: its end", "",
			time.Time{}, map[string]obsView{"x": ended("x", jst(1, 3, 30))}, jst(1, 7, 0),
			"gate_only_met+recovery condition_met | ended=03:30 |  | record:x"},
		{"upstream ended after the deadline: late, with its delay notice", "",
			time.Time{}, map[string]obsView{"x": ended("x", jst(1, 6, 30))}, jst(1, 7, 0),
			"gate_only_met+recovery condition_met | ended=06:30 | delay:7 | record:x"},
		{"all: the last end", "all",
			time.Time{}, map[string]obsView{"x": ended("x", jst(1, 3, 0)), "y": ended("y", jst(1, 5, 0))}, jst(1, 7, 0),
			"gate_only_met+recovery condition_met | ended=05:00 |  | record:x record:y"},
		{"any: the first end that made it hold", "any",
			time.Time{}, map[string]obsView{"x": ended("x", jst(1, 5, 0)), "y": ended("y", jst(1, 3, 0))}, jst(1, 7, 0),
			"gate_only_met+recovery condition_met | ended=03:00 |  | record:x record:y"},
		{"a rerun does not end before it began", "",
			jst(1, 8, 0), map[string]obsView{"x": ended("x", jst(1, 1, 30))}, jst(1, 8, 5),
			"gate_only_met+recovery condition_met | ended=08:00 | delay:7 | record:x"},
		{"no end reported: now", "",
			time.Time{}, map[string]obsView{"x": ended("x", time.Time{})}, jst(1, 2, 30),
			"gate_only_met+recovery condition_met |  |  | record:x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ups []config.Upstream
			for _, name := range sortedKeys(tt.ups) {
				ups = append(ups, glueUp(name, name))
			}
			p := pipeline("a", "0 2 * * *", ups, nil)
			p.Condition = tt.condition
			cond, err := condition.Parse(p.Condition, p.UpstreamNames())
			if err != nil {
				t.Fatal(err)
			}
			r := sekisho.Run{ID: 7, Pipeline: "a", LogicalDate: "2026-11-01", Attempt: 1, State: sekisho.StateWaiting,
				GateAt: gate, AttemptAt: tt.attemptAt, TimeoutAt: gate.Add(12 * time.Hour), Deadline: deadline}
			if got := summary(decide(r, p, cond, facts{ups: tt.ups}, tt.now)); got != tt.want {
				t.Errorf("decide =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
