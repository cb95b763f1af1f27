package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/fastclock"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/store"
)

// daysSpeed runs a simulated day in 12 real seconds: a 5-minute poke
// interval is 42 ms of real time.
const daysSpeed = 7200

// TestChaosDays runs the real binary on an accelerated clock through
// several simulated days of many pipelines, each day scripted per group
// (normal, failed upstream rerun, late upstream, failing DAGs, upstream
// down), while a seeded script SIGKILLs and restarts it at random moments,
// every simulator injects API faults, Slack is down for hours at a time,
// and one SIGHUP brings a broken config. At the end: no DAG run or TROCCO
// workflow started twice for one attempt, every history a valid path,
// every scripted day in the terminal state its script implies, every
// notice in Slack exactly once, and the SLO report equal to the verdicts
// computed from the simulators' own records.
func TestChaosDays(t *testing.T) {
	days, groups, kills := 3, 5, 20
	if *chaosFull {
		days, groups, kills = 6, 8, 110
	}
	rng := rand.New(rand.NewPCG(*seedFlag, 11))
	day1 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	// Start after midnight of the first day: a first start before it would
	// catch up the day before's 02:00 gate (SPEC §4 rule 1), an unscripted day.
	held := &heldClock{epoch: day1.Add(15 * time.Minute)}
	h := newHarnessOf(t, func() *World { return NewWorldOn(held, *seedFlag) })
	w := h.world
	ctx := context.Background()
	dayOf := func(i int) time.Time { return day1.AddDate(0, 0, i) }
	lastDay := dayOf(days - 1)

	var ps []Pipeline
	var gs []Group
	dagOf, defOf := map[string]string{}, map[string]int64{}
	script := map[string]Day{} // "group/date" -> the day's kind
	for g := range groups {
		gr := Group{N: g}
		gs = append(gs, gr)
		gr.Define(w)
		ps = append(ps, gr.Pipelines()...)
		dagOf[gr.GlueV1()], dagOf[gr.TroccoV2()] = gr.DAGA(), gr.DAGB()
		defOf[gr.Workflow()] = gr.WorkflowDef()
		for i := range days {
			kind := Days[(g+i)%len(Days)] // every kind every day, each group a different one
			gr.Plan(w, dayOf(i), kind)
			script[fmt.Sprintf("%d/%s", g, dayOf(i).Format(sekisho.DateLayout))] = kind
		}
	}
	good := w.Config(Settings{SlackBot: true, PokeInterval: "5m", Timeout: "12h", WindowStart: "00:00"}, ps)
	cfg := h.writeConfig(good)

	// Faults on every API for the whole chaos phase. Slow answers are
	// real time: 20 ms is 2.4 simulated minutes.
	w.Glue.SetFaults(gluesim.Faults{ErrorRate: 0.1, ThrottleRate: 0.05, MalformedRate: 0.02, Seed: *seedFlag})
	w.Trocco.SetFaults(troccosim.Faults{ServerError: 0.08, RateLimit: 0.03, Slow: 0.2, SlowFor: 20 * time.Millisecond, ResetIn: time.Millisecond})
	w.Airflow.SetFaults(airflowsim.Faults{ServerError: 0.1, TooMany: 0.05, Slow: 0.2, SlowDelay: 20 * time.Millisecond})
	// Slack down for hours of simulated time, in turn: an outage, answers
	// lost after the message was stored, a rate limit.
	slackHours := 0
	for i := range days {
		d := dayOf(i)
		switch i % 3 {
		case 0:
			w.Slack.AddFault(slacksim.Fault{From: d.Add(time.Hour), To: d.Add(5 * time.Hour), Status: 503})
		case 1:
			w.Slack.AddFault(slacksim.Fault{From: d.Add(13 * time.Hour), To: d.Add(16 * time.Hour), Status: 500, Accept: true})
		case 2:
			w.Slack.AddFault(slacksim.Fault{From: d.Add(4 * time.Hour), To: d.Add(8 * time.Hour), Status: 429, RetryAfter: 30 * time.Second})
		}
		slackHours += []int{4, 3, 4}[i%3]
	}

	// Simulated time runs from here, 7,200 simulated seconds per real one.
	began := time.Now()
	clock := h.startFast(held, daysSpeed)
	// How much of the first day the world lived without the daemon: the
	// first day's script holds for a first start up to 14:00 (its gates'
	// timeout); the figure is in the log line below.
	if err := h.d.WaitReady(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	firstReady := clock.Now()
	st := h.store()
	// The chaos phase ends at noon of the last day; kills are spread over
	// it at random moments.
	calm := lastDay.Add(12 * time.Hour)
	repairs := 0
	for i := range kills {
		// Spread what is left of the phase over the kills still to come,
		// so the restarts' own cost does not push kills past it.
		mean := clock.Real(clock.Until(calm)) / time.Duration(kills-i)
		time.Sleep(time.Duration(float64(mean) * (0.3 + 1.4*rng.Float64())))
		if i == kills/2 {
			h.brokenReload(good)
		}
		if err := h.d.Kill(); err != nil {
			t.Fatal(err)
		}
		repairs += repairUnknown(t, st, cfg, gs, clock.Now())
		if err := h.d.Start(); err != nil {
			t.Fatal(err)
		}
	}
	simAtLastKill := clock.Now()
	if d := clock.Until(calm); d > 0 {
		time.Sleep(clock.Real(d))
	}
	w.Glue.SetFaults(gluesim.Faults{})
	w.Trocco.SetFaults(troccosim.Faults{})
	w.Airflow.SetFaults(airflowsim.Faults{})
	// Every scripted run ends by 14:00 (gate + timeout); the next gate
	// opens at 02:00 the day after, and the daemon must be stopped before.
	h.waitSettledBy(clock, lastDay.Add(14*time.Hour), lastDay.Add(24*time.Hour))
	// A kill reruns the unknown outcomes the kill before left, which the
	// daemon reports once it is up again; the last kill's are rerun here,
	// the daemon up (a rerun from another process, as `sekisho rerun`).
	if n := repairUnknown(t, st, cfg, gs, clock.Now()); n > 0 {
		repairs += n
		h.waitSettledBy(clock, clock.Now(), lastDay.Add(24*time.Hour))
	}
	all := h.stopAndRead()
	wall := time.Since(began)
	// Under load (CI runs packages in parallel, with -race) the stop can
	// land after the next day's 02:00 gate; those runs are not scripted.
	var hs []History
	for _, h := range all {
		if d := h.Run.LogicalDate; d >= day1.Format(sekisho.DateLayout) && d <= lastDay.Format(sekisho.DateLayout) {
			hs = append(hs, h)
		} else if d != lastDay.AddDate(0, 0, 1).Format(sekisho.DateLayout) {
			t.Errorf("run of an unscripted day %s %s", h.Run.Pipeline, h.Run.LogicalDate)
		}
	}
	if len(hs) != len(ps)*days {
		t.Errorf("%d runs, want one per pipeline and day (%d)", len(hs), len(ps)*days)
	}
	reportProblems(t, "history", CheckPaths(hs))
	reportProblems(t, "airflow", CheckAirflowOnce(hs, w.Airflow.Triggers(), w.Airflow.Clears(), dagOf))
	reportProblems(t, "trocco", checkTroccoByDay(hs, w.Trocco.PipelineJobs, defOf))
	reportProblems(t, "script", checkScript(hs, gs, script))
	ns, err := st.AllNotices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, "notices", CheckNoticesOnce(ns, w.Slack.Messages()))
	reportProblems(t, "notice keys", CheckNoticeKeys(ns))
	incs, err := st.Incidents(ctx, store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Against every run: an incident of the unscripted day has its runs too.
	reportProblems(t, "incidents", CheckIncidents(incs, all, ns))
	reportProblems(t, "slo", h.checkDaysSLO(cfg, clock.Now(), gs, dayOf(0), lastDay))
	h.checkNoSecrets()
	kinds := h.noticeKinds(ns)
	transitions := 0
	for _, h := range hs {
		transitions += len(h.Transitions)
	}
	gf := w.Glue.Requests().Faults
	slackReq, slackFaulted := w.Slack.Stats()
	t.Logf("seed %d: %d simulated days (first ready at %s, last kill at %s), %d pipelines, %d runs, %d transitions; %d kills, %d trigger_unknown reruns; "+
		"faults: glue %v, trocco %v, airflow %v, slack %d of %d requests (%d simulated hours down); %d notices %v; wall %s",
		*seedFlag, days, firstReady.Format("01-02 15:04"), simAtLastKill.Format("01-02 15:04"), len(ps), len(hs), transitions, kills, repairs,
		gf, w.Trocco.FaultCounts(), w.Airflow.Faults(), slackFaulted, slackReq, slackHours, len(ns), kinds, wall.Round(time.Second))
}

// heldClock is the scripted world's clock: simulated time stands still at
// epoch until start, then runs on a fastclock from that real instant. The
// world is built and scripted on it first, then the daemon starts at once
// on the same fastclock: whatever the setup costs in real time (building
// the binary, the Airflow simulator loading its OpenAPI documents, seconds
// under load) costs no simulated time. A fastclock made before the setup
// counted it 7,200 times over: a 5 s setup put the daemon's first start at
// 10:15 of the first day, and a 12 s one past its gates' timeout, so whole
// first days ended timed_out or had no runs.
type heldClock struct {
	epoch time.Time
	c     atomic.Pointer[fastclock.Clock]
}

// Now is the epoch until start, then the fastclock's time.
func (h *heldClock) Now() time.Time {
	if c := h.c.Load(); c != nil {
		return c.Now()
	}
	return h.epoch
}

// start sets simulated time running at speed from now and returns the
// fastclock to give the daemon.
func (h *heldClock) start(speed float64) (*fastclock.Clock, error) {
	c, err := fastclock.New(h.epoch, time.Now(), speed)
	if err != nil {
		return nil, err
	}
	h.c.Store(c)
	return c, nil
}

// startFast starts simulated time at speed on held and the daemon on it
// at once (the test-only --fast-clock flag), and returns the clock.
func (h *harness) startFast(held *heldClock, speed float64) *fastclock.Clock {
	h.t.Helper()
	clock, err := held.start(speed)
	if err != nil {
		h.t.Fatal(err)
	}
	h.d.Args = []string{"--fast-clock", clock.String()}
	if err := h.d.Start(); err != nil {
		h.t.Fatal(err)
	}
	return clock
}

// stopAndRead stops the last daemon (once it is old enough to have its
// signal handler) and reads every run's history from its store.
func (h *harness) stopAndRead() []History {
	h.t.Helper()
	if err := h.d.WaitReady(10 * time.Second); err != nil {
		h.t.Fatal(err)
	}
	if err := h.d.Stop(); err != nil {
		h.t.Error(err)
	}
	hs, err := ReadHistories(context.Background(), h.store())
	if err != nil {
		h.t.Fatal(err)
	}
	return hs
}

// repairUnknown does what an operator does after a trigger_outcome_unknown
// notice (the daemon died between a TROCCO POST and its answer): rerun the
// day. It runs while the daemon is down, or once after the chaos phase
// with the daemon up, and says how many it reran.
func repairUnknown(t *testing.T, st *store.Store, cfg *config.Config, gs []Group, now time.Time) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for _, g := range gs {
		runs, err := st.Runs(ctx, store.RunFilter{Pipeline: g.Workflow()})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.State != sekisho.StateFailed {
				continue
			}
			trs, err := st.Transitions(ctx, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(trs) == 0 || trs[len(trs)-1].Reason != sekisho.ReasonTriggerUnknown {
				continue
			}
			if _, err := engine.Rerun(ctx, st, cfg, r.Pipeline, r.LogicalDate, now, engine.By{Who: engine.ByCLI}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// waitSettledBy waits, on the simulated clock, until the simulated time
// from has passed, then until no run is open and the outbox is empty; it
// fails the test if that has not happened by the simulated time limit.
func (h *harness) waitSettledBy(clock *fastclock.Clock, from, limit time.Time) {
	h.t.Helper()
	ctx := context.Background()
	<-clock.After(clock.Until(from))
	var open []sekisho.Run
	var backlog int
	settled := h.d.WaitFor(clock.Real(clock.Until(limit)), func() bool {
		var err error
		if open, err = h.st.OpenRuns(ctx); err != nil {
			h.t.Fatal(err)
		}
		if backlog, err = h.st.OutboxBacklog(ctx); err != nil {
			h.t.Fatal(err)
		}
		return len(open) == 0 && backlog == 0
	})
	if !settled {
		msg := ""
		if len(open) > 0 {
			msg = fmt.Sprintf(", e.g. %s %s %s (%s)", open[0].Pipeline, open[0].LogicalDate, open[0].State, open[0].Message)
		}
		h.t.Fatalf("not settled by simulated %s: %d open runs%s, %d notices unsent", limit.Format(time.RFC3339), len(open), msg, backlog)
	}
}

// checkScript reports every scripted day whose run did not end in the
// state its script implies.
func checkScript(hs []History, gs []Group, script map[string]Day) []string {
	runs := map[string]sekisho.Run{}
	for _, h := range hs {
		runs[h.Run.Pipeline+"/"+h.Run.LogicalDate] = h.Run
	}
	var bad []string
	for key, kind := range script {
		g, date, _ := strings.Cut(key, "/")
		var n int
		fmt.Sscan(g, &n)
		for name, want := range gs[n].Expect(kind) {
			r, ok := runs[name+"/"+date]
			switch {
			case !ok:
				bad = append(bad, fmt.Sprintf("%s %s (%s): no run", name, date, kind))
			case r.State != want:
				bad = append(bad, fmt.Sprintf("%s %s (%s): ended %s, the script implies %s (%s)", name, date, kind, r.State, want, r.Message))
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// checkDaysSLO compares slo.Compute over the daemon's database with the
// verdicts the simulators' records give, day by day: an Airflow-triggered
// pipeline met its deadline when the first DAG run Airflow finished
// successfully for that day ended by it; the watch pipeline (gate-only on
// the Glue job) when the job's last successful run of the day ended by it,
// or the gate if that was earlier; the chain (gate-only on the v1
// pipeline) likewise from the v1 DAG's first success.
func (h *harness) checkDaysSLO(cfg *config.Config, now time.Time, gs []Group, first, last time.Time) []string {
	ctx := context.Background()
	rep, err := slo.Compute(ctx, h.st, cfg, slo.Query{From: first.Format(sekisho.DateLayout), To: last.Format(sekisho.DateLayout), Now: now})
	if err != nil {
		return []string{err.Error()}
	}
	rows := map[string]slo.Row{}
	for _, r := range rep.Pipelines {
		rows[r.Pipeline] = r
	}
	dagSuccess := func(pipeline, dag, date string) time.Time {
		var end time.Time
		for _, r := range h.world.Airflow.Runs(dag) {
			// A rerun clears the run (SPEC §18): its first success may
			// be an earlier try.
			if e := r.FirstSuccess(); strings.HasPrefix(r.DagRunID, "sekisho__"+pipeline+"__"+date+"__") && !e.IsZero() &&
				(end.IsZero() || e.Before(end)) {
				end = e
			}
		}
		return end
	}
	var bad []string
	for _, g := range gs {
		glueRuns, err := h.world.GlueRuns(ctx, g.GlueJob())
		if err != nil {
			return append(bad, err.Error())
		}
		want := map[string][2]int{} // pipeline -> days judged, days met
		for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
			date := d.Format(sekisho.DateLayout)
			gate, deadline := d.Add(gateHour*time.Hour), d.Add(deadlineHour*time.Hour)
			// A gate-only run succeeds when the daemon sees its condition
			// hold: not before the gate.
			done := func(end time.Time) time.Time {
				if !end.IsZero() && end.Before(gate) {
					return gate
				}
				return end
			}
			var glueEnd time.Time // the day's last Glue run, if it succeeded
			var glueStart time.Time
			for _, r := range glueRuns {
				if r.StartedOn == nil || r.StartedOn.Before(d) || !r.StartedOn.Before(d.AddDate(0, 0, 1)) || r.StartedOn.Before(glueStart) {
					continue
				}
				glueStart, glueEnd = *r.StartedOn, time.Time{}
				if r.JobRunState == "SUCCEEDED" && r.CompletedOn != nil {
					glueEnd = *r.CompletedOn
				}
			}
			for name, end := range map[string]time.Time{
				g.GlueV1():   dagSuccess(g.GlueV1(), g.DAGA(), date),
				g.TroccoV2(): dagSuccess(g.TroccoV2(), g.DAGB(), date),
				g.Chain():    done(dagSuccess(g.GlueV1(), g.DAGA(), date)),
				g.Watch():    done(glueEnd),
			} {
				v := want[name]
				v[0]++
				if !end.IsZero() && !end.After(deadline) {
					v[1]++
				}
				want[name] = v
			}
		}
		for name, v := range want {
			if got := rows[name]; got.SLODays != v[0] || got.SLOMet != v[1] {
				bad = append(bad, fmt.Sprintf("%s: report says %d of %d days met, the simulators say %d of %d", name, got.SLOMet, got.SLODays, v[1], v[0]))
			}
		}
	}
	sort.Strings(bad)
	return bad
}

// checkTroccoByDay runs CheckTroccoOnce one logical date at a time: a
// workflow job belongs to the date its context_time (the gate) names, so
// tomorrow's job never lands in the window of today's last attempt.
func checkTroccoByDay(hs []History, jobs func(def int64) []troccosim.PipelineJob, defOf map[string]int64) []string {
	byDate := map[string][]History{}
	for _, h := range hs {
		byDate[h.Run.LogicalDate] = append(byDate[h.Run.LogicalDate], h)
	}
	var bad []string
	for date, hs := range byDate {
		of := func(def int64) []troccosim.PipelineJob {
			var out []troccosim.PipelineJob
			for _, j := range jobs(def) {
				if strings.HasPrefix(j.ContextTime, date) {
					out = append(out, j)
				}
			}
			return out
		}
		bad = append(bad, CheckTroccoOnce(hs, of, defOf)...)
	}
	sort.Strings(bad)
	return bad
}
