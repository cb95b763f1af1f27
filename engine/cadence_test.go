package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// hourly is a sub-daily pipeline as config load leaves it: no window_start
// (each run's window starts at the previous fire) and an SLO within 45
// minutes of each gate.
func hourly(name string, loc *time.Location, ups []config.Upstream, trig *sekisho.TriggerSpec) *config.Pipeline {
	p := pipeline(name, "0 * * * *", ups, trig)
	p.Timezone, p.Location = loc.String(), loc
	p.WindowStart = sekisho.TimeOfDay{}
	p.SLO = &config.SLO{Within: 45 * time.Minute, Objective: 0.99}
	return p
}

// hourlyLoads scripts an hourly upstream load: the run for the gate at H
// starts at H-10m and ends at H-5m, from..to.
func hourlyLoads(from, to time.Time, final func(gate time.Time) sekisho.JobState) []scripted {
	var out []scripted
	for g := from; !g.After(to); g = g.Add(time.Hour) {
		out = append(out, scripted{id: "load-" + g.In(tokyo).Format("0215"), start: g.Add(-10 * time.Minute),
			end: g.Add(-5 * time.Minute), final: final(g)})
	}
	return out
}

func succeeded(time.Time) sekisho.JobState { return sekisho.JobSucceeded }

// An hourly pipeline over two days is 48 runs, each with its own key, its
// own window (the hour's load, not the day's first), its own dag_run_id
// and its own SLO deadline 45 minutes after its gate.
func TestHourlyPipelineOverTwoDays(t *testing.T) {
	p := hourly("hourly_mart", tokyo, []config.Upstream{glueUp("load", "hourly-load")}, dagTrigger)
	h := newHarness(t, jst(1, 0, 0), p)
	h.dags.duration = 20 * time.Minute
	h.jobs.runs["glue_job:hourly-load"] = hourlyLoads(jst(1, 0, 0), jst(3, 0, 0), succeeded)
	h.runUntil(jst(3, 0, 0).Add(-time.Nanosecond), 5*time.Minute, 5*time.Minute)
	// The first pass also caught up the gates of the six hours before the
	// start (the timeout's reach); count the two days.
	runs, err := h.st.Runs(context.Background(), store.RunFilter{Pipeline: p.Name, From: "2026-11-01", To: "2026-11-02"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 48 {
		t.Fatalf("%d runs over two days, want 48", len(runs))
	}
	seen := map[string]bool{}
	for _, r := range runs {
		gate := r.GateAt.In(tokyo)
		wantKey := gate.Format("2006-01-02T15:04")
		if r.Key != wantKey || r.LogicalDate != gate.Format(sekisho.DateLayout) || seen[r.Key] {
			t.Errorf("run at %v: key %q date %q", gate, r.Key, r.LogicalDate)
		}
		seen[r.Key] = true
		wantID := fmt.Sprintf("sekisho__hourly_mart__%sT%s__1", gate.Format("2006-01-02"), gate.Format("1504"))
		if r.State != sekisho.StateSucceeded || r.ExternalID != wantID {
			t.Errorf("%s: %s %q, want succeeded %q", r.Key, r.State, r.ExternalID, wantID)
		}
		if !r.Deadline.Equal(r.GateAt.Add(45 * time.Minute)) {
			t.Errorf("%s: deadline %v, want 45m after the gate", r.Key, r.Deadline)
		}
		obs, _ := h.st.LatestObservations(context.Background(), r.ID)
		if got, want := obs["load"].ExternalID, "load-"+gate.Format("0215"); got != want {
			t.Errorf("%s waited on %s, want its own hour's %s", r.Key, got, want)
		}
	}
	// One DAG run per run: the 48, and the seven caught up around them.
	if len(h.dags.started) != 55 || len(h.dags.posts) != 55 {
		t.Errorf("%d DAG runs started by %d requests, want 55", len(h.dags.started), len(h.dags.posts))
	}
}

// One hour whose upstream failed is blocked and says so in its own
// notices, while the hours before and after it go on. When its load is
// retried the hour recovers; an operator's rerun of it by its key is its
// attempt 2 with its own dag_run_id, and touches no other hour.
func TestOneBlockedHourWhileTheOthersGoOn(t *testing.T) {
	p := hourly("hourly_mart", tokyo, []config.Upstream{glueUp("load", "hourly-load")}, dagTrigger)
	h := newHarness(t, jst(1, 11, 0), p)
	h.dags.duration = 20 * time.Minute
	h.jobs.runs["glue_job:hourly-load"] = hourlyLoads(jst(1, 11, 0), jst(1, 16, 0), func(g time.Time) sekisho.JobState {
		if g.Equal(jst(1, 13, 0)) {
			return sekisho.JobFailed
		}
		return sekisho.JobSucceeded
	})
	h.runUntil(jst(1, 13, 30), 5*time.Minute, 5*time.Minute)
	blocked := h.run(p.Name, "2026-11-01T13:00")
	if blocked.State != sekisho.StateBlocked {
		t.Fatalf("13:00 is %s, want blocked", blocked.State)
	}
	if r := h.run(p.Name, "2026-11-01T12:00"); r.State != sekisho.StateSucceeded {
		t.Errorf("12:00 is %s while 13:00 is blocked, want succeeded", r.State)
	}
	ns, _ := h.st.Notices(context.Background(), blocked.ID)
	if len(ns) == 0 || ns[0].Kind != sekisho.NoticeUpstreamFailed || ns[0].Key != "2026-11-01T13:00" {
		t.Fatalf("notices of the blocked hour: %+v", ns)
	}
	// The load for 13:00 is retried at 13:35 and succeeds; its window
	// started at the previous fire, 12:00, so the retry counts.
	h.jobs.mu.Lock()
	h.jobs.runs["glue_job:hourly-load"] = append(h.jobs.runs["glue_job:hourly-load"],
		scripted{id: "load-0113-retry", start: jst(1, 13, 35), end: jst(1, 13, 40), final: sekisho.JobSucceeded})
	h.jobs.mu.Unlock()
	h.runUntil(jst(1, 16, 30), 5*time.Minute, 5*time.Minute)
	r := h.run(p.Name, "2026-11-01T13:00")
	if r.State != sekisho.StateSucceeded || r.ExternalID != "sekisho__hourly_mart__2026-11-01T1300__1" || !r.TriggeredAt.Equal(jst(1, 13, 40)) {
		t.Fatalf("13:00 after the retry: %s %q triggered %v", r.State, r.ExternalID, r.TriggeredAt.In(tokyo))
	}
	for _, key := range []string{"2026-11-01T14:00", "2026-11-01T15:00", "2026-11-01T16:00"} {
		if r := h.run(p.Name, key); r.State != sekisho.StateSucceeded || r.Attempt != 1 {
			t.Errorf("%s is %s (attempt %d), want succeeded", key, r.State, r.Attempt)
		}
	}
	// An operator reruns the hour by its key.
	if _, err := h.eng.Rerun(context.Background(), p.Name, "2026-11-01T13:00", By{Who: ByCLI}); err != nil {
		t.Fatal(err)
	}
	h.runUntil(jst(1, 17, 10), 5*time.Minute, 5*time.Minute)
	r = h.run(p.Name, "2026-11-01T13:00")
	if r.Attempt != 2 || r.State != sekisho.StateSucceeded || r.ExternalID != "sekisho__hourly_mart__2026-11-01T1300__2" {
		t.Fatalf("13:00 rerun: attempt %d %s %q", r.Attempt, r.State, r.ExternalID)
	}
	if r := h.run(p.Name, "2026-11-01T12:00"); r.Attempt != 1 {
		t.Errorf("the rerun of 13:00 touched 12:00: attempt %d", r.Attempt)
	}
}

// An hourly schedule in America/New_York fires once for each hour that
// passes: 23 times on the spring-forward day, 25 on the fall-back day,
// where the repeated 01:00 is two runs with two keys.
func TestHourlyRunsAcrossDaylightSaving(t *testing.T) {
	ny := mustLoc("America/New_York")
	for _, tt := range []struct {
		name string
		date string
		want int
	}{
		{"spring forward", "2026-03-08", 23},
		{"fall back", "2026-11-01", 25},
		{"a plain day", "2026-11-02", 24},
	} {
		t.Run(tt.name, func(t *testing.T) {
			day, _ := time.ParseInLocation(sekisho.DateLayout, tt.date, ny)
			p := hourly("ny_hourly", ny, []config.Upstream{}, nil)
			h := newHarness(t, day, p)
			h.runUntil(day.AddDate(0, 0, 1).Add(-time.Nanosecond), 10*time.Minute, 10*time.Minute)
			runs, err := h.st.Runs(context.Background(), store.RunFilter{Pipeline: p.Name, From: tt.date, To: tt.date})
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) != tt.want {
				t.Fatalf("%d runs, want %d", len(runs), tt.want)
			}
			keys := map[string]bool{}
			for _, r := range runs {
				keys[r.Key] = true
				if r.State != sekisho.StateSucceeded || r.Key != p.RunKey(r.GateAt) {
					t.Errorf("%s: %s, key of its gate %s", r.Key, r.State, p.RunKey(r.GateAt))
				}
			}
			if len(keys) != tt.want {
				t.Errorf("%d distinct keys for %d runs", len(keys), tt.want)
			}
			switch tt.date {
			case "2026-03-08":
				if keys["2026-03-08T02:00"] {
					t.Error("a run at 02:00, which the clocks skip")
				}
			case "2026-11-01":
				if !keys["2026-11-01T01:00"] || !keys["2026-11-01T01:00-05:00"] {
					t.Errorf("the repeated 01:00 is not two runs: %v", keys)
				}
			}
		})
	}
}

// A daily mart rolls up an hourly pipeline: it waits for all 24 hours of
// its logical date, a failed hour blocks it naming that hour, and once the
// hour is rerun and succeeds the mart goes on and triggers after the last
// hour. A mart with runs: latest waits only for the day's last hour.
func TestDailyRollUpOfAnHourlyPipeline(t *testing.T) {
	load := hourly("hourly_load", tokyo, []config.Upstream{glueUp("load", "hourly-load")}, nil)
	load.OnUpstreamFailure = "fail"
	mart := pipeline("daily_mart", "0 1 * * *", []config.Upstream{{Name: "hours", Type: config.TypePipeline, Pipeline: "hourly_load"}}, dagTrigger)
	mart.Timeout = 30 * time.Hour
	latest := pipeline("latest_mart", "0 1 * * *", []config.Upstream{{Name: "hours", Type: config.TypePipeline, Pipeline: "hourly_load", Runs: config.RunsLatest}}, dagTrigger)
	latest.Timeout = 30 * time.Hour
	h := newHarness(t, jst(1, 0, 0), load, mart, latest)
	h.dags.duration = 20 * time.Minute
	h.jobs.runs["glue_job:hourly-load"] = hourlyLoads(jst(1, 0, 0), jst(2, 0, 0), func(g time.Time) sekisho.JobState {
		if g.Equal(jst(1, 13, 0)) {
			return sekisho.JobFailed
		}
		return sekisho.JobSucceeded
	})
	ctx := context.Background()
	obs := func(r sekisho.Run) sekisho.Observation {
		o, err := h.st.LatestObservations(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return o["hours"]
	}
	h.runUntil(jst(1, 12, 30), 5*time.Minute, 5*time.Minute)
	if r := h.run("daily_mart", "2026-11-01"); r.State != sekisho.StateWaiting {
		t.Fatalf("mart at 12:30: %s", r.State)
	}
	h.runUntil(jst(1, 13, 30), 5*time.Minute, 5*time.Minute)
	if r := h.run("hourly_load", "2026-11-01T13:00"); r.State != sekisho.StateFailed {
		t.Fatalf("the 13:00 hour is %s", r.State)
	}
	r := h.run("daily_mart", "2026-11-01")
	if o := obs(r); r.State != sekisho.StateBlocked || o.State != sekisho.JobFailed ||
		!strings.HasPrefix(o.Message, "hourly_load 13:00 run is failed") || o.ExternalID != "hourly_load/2026-11-01T13:00#1" {
		t.Fatalf("mart with a failed hour: %s, observed %+v", r.State, o)
	}
	if r := h.run("latest_mart", "2026-11-01"); r.State != sekisho.StateWaiting {
		t.Fatalf("latest mart: %s", r.State)
	}
	// The load is retried; the operator reruns the hour.
	h.jobs.mu.Lock()
	h.jobs.runs["glue_job:hourly-load"] = append(h.jobs.runs["glue_job:hourly-load"],
		scripted{id: "load-0113-retry", start: jst(1, 13, 35), end: jst(1, 13, 40), final: sekisho.JobSucceeded})
	h.jobs.mu.Unlock()
	h.runUntil(jst(1, 13, 45), 5*time.Minute, 5*time.Minute)
	if _, err := h.eng.Rerun(ctx, "hourly_load", "2026-11-01T13:00", By{Who: ByCLI}); err != nil {
		t.Fatal(err)
	}
	h.runUntil(jst(1, 22, 30), 5*time.Minute, 5*time.Minute)
	if r := h.run("hourly_load", "2026-11-01T13:00"); r.State != sekisho.StateSucceeded || r.Attempt != 2 {
		t.Fatalf("13:00 after the rerun: %s attempt %d", r.State, r.Attempt)
	}
	r = h.run("daily_mart", "2026-11-01")
	if o := obs(r); r.State != sekisho.StateWaiting || o.Message != "waiting for hourly_load 23:00 run (23 of 24 done)" {
		t.Fatalf("mart at 22:30: %s, observed %+v", r.State, o)
	}
	h.runUntil(jst(2, 0, 30), 5*time.Minute, 5*time.Minute)
	for _, name := range []string{"daily_mart", "latest_mart"} {
		r := h.run(name, "2026-11-01")
		// The last hour succeeds at 23:00; the mart sees it in that pass
		// or the next (the harness steps every five minutes).
		if r.State != sekisho.StateSucceeded || r.TriggeredAt.Before(jst(1, 23, 0)) || r.TriggeredAt.After(jst(1, 23, 5)) {
			t.Errorf("%s: %s, triggered %v; want triggered when the last hour succeeded at 23:00", name, r.State, r.TriggeredAt.In(tokyo))
		}
	}
	trs, _ := h.st.Transitions(ctx, h.run("latest_mart", "2026-11-01").ID)
	for _, tr := range trs {
		if tr.To == sekisho.StateBlocked {
			t.Errorf("runs: latest was blocked by an earlier hour: %+v", tr)
		}
	}
}

// rollUp, the roll-up's judgement, as a table.
func TestRollUp(t *testing.T) {
	at := func(h int) time.Time { return jst(1, h, 0) }
	want := []awaited{{"2026-11-01T00:00", at(0)}, {"2026-11-01T01:00", at(1)}, {"2026-11-01T02:00", at(2)}}
	run := func(key string, st sekisho.State, fin time.Time) sekisho.Run {
		return sekisho.Run{Pipeline: "load", Key: key, LogicalDate: "2026-11-01", Attempt: 1, State: st, GateAt: fin, FinishedAt: fin}
	}
	ok0, ok1, ok2 := run(want[0].key, sekisho.StateSucceeded, at(0)), run(want[1].key, sekisho.StateSucceeded, at(1)), run(want[2].key, sekisho.StateSkipped, at(2))
	tests := []struct {
		name      string
		skippedOK bool
		found     []sekisho.Run
		now       time.Time
		state     sekisho.JobState
		msg       string
		ext       string
	}{
		{"all done", true, []sekisho.Run{ok0, ok1, ok2}, at(3), sekisho.JobSucceeded, "", "load/2026-11-01T02:00#1"},
		{"a skipped hour without skipped_is_success", false, []sekisho.Run{ok0, ok1, ok2}, at(3), sekisho.JobFailed, "load 02:00 run was skipped", "load/2026-11-01T02:00#1"},
		{"one still to come", true, []sekisho.Run{ok0, ok1}, at(1).Add(30 * time.Minute), sekisho.JobPending, "waiting for load 02:00 run (2 of 3 done)", ""},
		{"one running", true, []sekisho.Run{ok0, run(want[1].key, sekisho.StateRunning, time.Time{})}, at(1).Add(30 * time.Minute), sekisho.JobRunning, "waiting for load 01:00 run (1 of 3 done)", ""},
		{"a missing hour", true, []sekisho.Run{ok0, ok2}, at(3), sekisho.JobFailed, "load 01:00 run is missing: its gate at 2026-11-01T01:00 passed without a run", "load/2026-11-01T01:00#missing"},
		{"a failed hour", true, []sekisho.Run{ok0, run(want[1].key, sekisho.StateTimedOut, at(1)), ok2}, at(3), sekisho.JobFailed, "load 01:00 run is timed_out", "load/2026-11-01T01:00#1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := map[string]sekisho.Run{}
			for _, r := range tt.found {
				found[r.Key] = r
			}
			o := rollUp(sekisho.Observation{Upstream: "hours"}, "load", tt.skippedOK, want, found, tt.now)
			if o.State != tt.state || o.Message != tt.msg || (tt.ext != "" && o.ExternalID != tt.ext) {
				t.Fatalf("got %s %q %q, want %s %q %q", o.State, o.Message, o.ExternalID, tt.state, tt.msg, tt.ext)
			}
		})
	}
	daily := rollUp(sekisho.Observation{}, "load", false, []awaited{{key: "2026-11-01"}}, nil, at(5))
	if daily.State != sekisho.JobPending {
		t.Errorf("a daily upstream without its run yet: %s", daily.State)
	}
}
