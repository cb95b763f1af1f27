package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// timedSensor records when each resource was checked.
type timedSensor struct {
	*fakeJobs
	mu sync.Mutex
	at map[string][]time.Time
}

func (s *timedSensor) Runs(ctx context.Context, r sekisho.Resource, since time.Time) ([]sekisho.JobRun, error) {
	s.mu.Lock()
	s.at[r.Key()] = append(s.at[r.Key()], s.clock.Now())
	s.mu.Unlock()
	return s.fakeJobs.Runs(ctx, r, since)
}

// TestPollsFollowTheUsualFinish: an export that has finished around 03:00
// for a week is checked sparsely after the midnight gate and densely near
// 03:00, never twice within the poke interval, and the gate still opens
// within one interval of the finish. The published next check is the one
// the engine keeps.
func TestPollsFollowTheUsualFinish(t *testing.T) {
	a := pipeline("a", "0 0 * * *", []config.Upstream{glueUp("export", "hegel-rds-export")}, nil)
	h := newHarness(t, jst(1, 0, 0), a)
	key := "glue_job:hegel-rds-export"
	for d := 1; d <= 8; d++ {
		h.jobs.runs[key] = append(h.jobs.runs[key], scripted{id: "jr_" + string(rune('0'+d)),
			start: jst(d, 2, 0), end: jst(d, 2, 55+d%3*5), final: sekisho.JobSucceeded})
	}
	sensor := &timedSensor{fakeJobs: h.jobs, at: map[string][]time.Time{}}
	eng, err := New(h.cfg, Options{Store: h.st, Clock: h.clock, Sync: true, Jitter: -1, FullEvery: 1000 * time.Hour,
		Logger: discard, Sensors: map[string]sekisho.Sensor{config.TypeGlueJob: sensor}})
	if err != nil {
		t.Fatal(err)
	}
	h.eng = eng
	h.runUntil(jst(8, 1, 1), time.Minute, time.Minute)
	next, err := h.st.NextChecks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if due := eng.poller.res[key].nextDue; !next[key].Equal(due) || !due.After(h.clock.Now()) {
		t.Errorf("published next check %v, the poller's %v (now %v)", next[key], due, h.clock.Now())
	}
	h.runUntil(jst(8, 9, 0), time.Minute, time.Minute)
	if next, _ := h.st.NextChecks(context.Background()); !next[key].IsZero() {
		t.Errorf("no run waits on the export, yet its next check is published: %v", next[key])
	}

	for d := 1; d <= 8; d++ {
		if r := h.run("a", "2026-11-0"+string(rune('0'+d))); r.State != sekisho.StateSucceeded {
			t.Fatalf("day %d: %s", d, r.State)
		}
	}
	var far, near int
	calls := sensor.at[key]
	for i, at := range calls {
		if i > 0 && at.Sub(calls[i-1]) < a.PokeInterval {
			t.Errorf("checked at %v and again at %v: closer than poke_interval", calls[i-1], at)
		}
		if at.Before(jst(8, 0, 0)) {
			continue
		}
		switch {
		case at.Before(jst(8, 2, 0)):
			far++
		case !at.Before(jst(8, 2, 40)) && at.Before(jst(8, 3, 0)):
			near++
		}
	}
	t.Logf("day 8: %d checks 00:00-02:00, %d checks 02:40-03:00", far, near)
	// Day 8 (finishes at 03:05): 00:00–02:00 at the fixed pace would be 24 checks; the plan
	// spends a few. 02:40–03:00 is inside the usual finish: every interval.
	if far > 8 || far < 2 {
		t.Errorf("day 8, 00:00-02:00: %d checks, want 2..8 (sparse far from the usual finish)", far)
	}
	if near < 4 {
		t.Errorf("day 8, 02:40-03:00: %d checks, want 4 (dense near the usual finish)", near)
	}
	r := h.run("a", "2026-11-08")
	if lat := r.FinishedAt.Sub(jst(8, 3, 5)); lat < 0 || lat > a.PokeInterval {
		t.Errorf("day 8 gate opened at %v: %v after the export finished", r.FinishedAt.In(tokyo), lat)
	}
	// Far counts: the first night had no history, so it ran at the even
	// pace: 24 checks before 02:00.
	first := 0
	for _, at := range calls {
		if at.Before(jst(1, 2, 0)) {
			first++
		}
	}
	if first != 24 {
		t.Errorf("day 1 (no history), 00:00-02:00: %d checks, want 24 (every poke_interval)", first)
	}
}

// TestNextChecksPublishedOnceATick: outside Sync mode, the next checks
// polls answered are written at most once a tick, not once a pass (a pass
// per poll that falls due), and none is left unwritten past the next tick.
func TestNextChecksPublishedOnceATick(t *testing.T) {
	a := pipeline("a", "0 0 * * *", []config.Upstream{glueUp("export", "hegel-rds-export")}, nil)
	h := newHarness(t, jst(1, 0, 0), a)
	e := h.eng
	e.opts.Sync = false // only publishNextChecks is called here, never Step
	ctx := context.Background()
	published := func() map[string]time.Time {
		t.Helper()
		next, err := h.st.NextChecks(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return next
	}
	res := func(job string) sekisho.Resource { return sekisho.Resource{Type: config.TypeGlueJob, ID: job} }
	plan := func(job string) time.Time {
		t.Helper()
		at, err := e.planner.Next(ctx, res(job), time.Minute, h.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return at
	}
	first := plan("hegel-rds-export")
	e.publishNextChecks(ctx)
	if got := published()[res("hegel-rds-export").Key()]; !got.Equal(first) {
		t.Fatalf("first publish wrote %v, want %v", got, first)
	}
	h.clock.Advance(e.opts.Tick / 2)
	second := plan("other-job")
	e.publishNextChecks(ctx) // half a tick after the last: waits
	if _, ok := published()[res("other-job").Key()]; ok {
		t.Fatal("published twice within a tick")
	}
	h.clock.Advance(e.opts.Tick / 2)
	e.publishNextChecks(ctx) // a tick after the last: writes what waited
	if got := published()[res("other-job").Key()]; !got.Equal(second) {
		t.Fatalf("a tick later the next check is %v, want %v", got, second)
	}
}
