package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/store"
)

var chaosFull = flag.Bool("chaos.full", false, "run the full chaos script (110 SIGKILLs, 30 pipelines; several minutes)")

// TestChaos runs the real binary against faulty simulators while a seeded
// script SIGKILLs and restarts it, reruns finished runs as an operator
// would, takes Slack down (and loses its answers), and sends a SIGHUP with
// a broken config. At the end it checks, from the simulators' own records:
// no DAG or TROCCO workflow started twice for one attempt, every history a
// valid path, every notice in Slack exactly once, and the SLO report equal
// to what the simulators' ground truth says.
func TestChaos(t *testing.T) {
	kills, groups := 24, 2
	if *chaosFull {
		kills, groups = 110, 6
	}
	h := newHarness(t, *seedFlag)
	rng := rand.New(rand.NewPCG(*seedFlag, 9))
	w := h.world
	ctx := context.Background()
	now := time.Now().UTC()
	gate := now.Add(3 * time.Second)
	date := sekisho.DateOf(gate, time.UTC)
	deadline := gate.Add(8 * time.Second).Truncate(time.Second)

	// Upstreams: one clean Glue job, one that fails and is rerun, one
	// clean TROCCO job, one that errors and is rerun.
	w.Glue.PlanRun("up-ok", gluesim.Run{Start: now.Add(-2 * time.Minute), Duration: time.Minute})
	w.Glue.PlanRun("up-flaky", gluesim.Run{Start: now.Add(-time.Minute), Duration: time.Minute + 5*time.Second, Outcome: "FAILED", Message: "disk full"})
	w.Glue.PlanRun("up-flaky", gluesim.Run{Start: gate.Add(3 * time.Second), Duration: 3 * time.Second})
	w.Trocco.AddJob(55, now.Add(-2*time.Minute), troccosim.Outcome{RunFor: time.Minute, Status: "succeeded"})
	w.Trocco.AddJob(56, now.Add(-time.Minute), troccosim.Outcome{RunFor: time.Minute + 4*time.Second, Status: "error"})
	w.Trocco.AddJob(56, gate.Add(4*time.Second), troccosim.Outcome{RunFor: 2 * time.Second, Status: "succeeded"})
	// One DAG per pipeline: each DAG run gets a logical date (SPEC §18),
	// and Airflow keeps one run per DAG and logical date, so pipelines
	// gating at the same time cannot share a DAG (validate refuses it).
	dag := func(name string, d airflowsim.DAG) string {
		w.Airflow.AddDAG("dag_"+name, d)
		return "dag_" + name
	}
	ok, failing := airflowsim.DAG{Duration: time.Second}, airflowsim.DAG{Duration: time.Second, Outcome: "failed"}

	sloExtra := fmt.Sprintf("    slo: {deadline: %q, objective: 95%%}\n", deadline.Format("15:04:05"))
	dagOf, defOf := map[string]string{}, map[string]int64{}
	var ps []Pipeline
	for i := range groups {
		add := func(p Pipeline) { p.Schedule = CronAt(gate); ps = append(ps, p) }
		v1 := fmt.Sprintf("c_v1_%d", i)
		add(Pipeline{Name: v1, Upstreams: []string{GlueUpstream("ok", "up-ok"), GlueUpstream("flaky", "up-flaky")},
			Trigger: AirflowTrigger("v1", dag(v1, ok)), Extra: sloExtra})
		dagOf[v1] = "dag_" + v1
		v2 := fmt.Sprintf("c_v2_%d", i)
		add(Pipeline{Name: v2, Upstreams: []string{TroccoJobUpstream("master", 55), TroccoJobUpstream("flaky", 56)},
			Trigger: AirflowTrigger("v2", dag(v2, ok)), Extra: sloExtra})
		dagOf[v2] = "dag_" + v2
		fail := fmt.Sprintf("c_fail_%d", i)
		add(Pipeline{Name: fail, Upstreams: []string{GlueUpstream("ok", "up-ok")}, Trigger: AirflowTrigger("v1", dag(fail, failing)), Extra: sloExtra})
		dagOf[fail] = "dag_" + fail
		tr := fmt.Sprintf("c_trocco_%d", i)
		def := int64(900 + i)
		w.Trocco.DefineWorkflow(def, troccosim.Outcome{RunFor: time.Second, Status: "succeeded"})
		add(Pipeline{Name: tr, Upstreams: []string{TroccoJobUpstream("master", 55)}, Trigger: TroccoTrigger(def)})
		defOf[tr] = def
		add(Pipeline{Name: fmt.Sprintf("c_chain_%d", i), Upstreams: []string{fmt.Sprintf("{name: up, type: pipeline, pipeline: %s}", v1)}})
	}
	good := w.Config(Settings{SlackBot: true}, ps)
	cfg := h.writeConfig(good)

	// Faults on every API, Slack down for a while and then answering
	// after it stored the message (the lost answer), then down again.
	w.Glue.SetFaults(gluesim.Faults{ErrorRate: 0.1, ThrottleRate: 0.05, MalformedRate: 0.02, Seed: *seedFlag})
	w.Trocco.SetFaults(troccosim.Faults{ServerError: 0.08, RateLimit: 0.05, Slow: 0.3, SlowFor: 300 * time.Millisecond, ResetIn: time.Second})
	w.Airflow.SetFaults(airflowsim.Faults{ServerError: 0.1, TooMany: 0.05, Slow: 0.3, SlowDelay: 300 * time.Millisecond})
	span := time.Duration(kills) * 1200 * time.Millisecond
	w.Slack.AddFault(slacksim.Fault{From: now.Add(2 * time.Second), To: now.Add(span / 4), Status: 503})
	w.Slack.AddFault(slacksim.Fault{From: now.Add(span / 3), To: now.Add(span / 2), Status: 500, Accept: true})
	w.Slack.AddFault(slacksim.Fault{From: now.Add(2 * span / 3), To: now.Add(3 * span / 4), Status: 429, RetryAfter: time.Second})

	start := time.Now()
	if err := h.d.Start(); err != nil {
		t.Fatal(err)
	}
	st := h.store()
	reruns := 0
	for i := range kills {
		time.Sleep(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		if i == kills/2 {
			h.brokenReload(good)
		}
		if err := h.d.Kill(); err != nil {
			t.Fatal(err)
		}
		// An operator reruns some finished runs, with the daemon down.
		reruns += h.rerunFinished(st, cfg, ps, date, func(r sekisho.Run) bool {
			return r.Attempt < 6 && rng.IntN(3) == 0
		})
		if err := h.d.Start(); err != nil {
			t.Fatal(err)
		}
	}
	// Calm: no faults; the last daemon must finish every run and deliver
	// every notice.
	w.Glue.SetFaults(gluesim.Faults{})
	w.Trocco.SetFaults(troccosim.Faults{})
	w.Airflow.SetFaults(airflowsim.Faults{})
	w.Slack.ClearFaults()
	// The last daemon may find nothing left to do: it must still be up,
	// its signal handler installed, before SIGTERM can stop it cleanly.
	if err := h.d.WaitReady(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	h.waitSettled(90 * time.Second)
	if err := h.d.Stop(); err != nil {
		t.Error(err)
	}

	hs := h.checkRuns(st, ps, dagOf, defOf)
	ns, err := st.AllNotices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	msgs := w.Slack.Messages()
	reportProblems(t, "notices", CheckNoticesOnce(ns, msgs))
	reportProblems(t, "notice keys", CheckNoticeKeys(ns))
	incs, err := st.Incidents(ctx, store.IncidentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, "incidents", CheckIncidents(incs, hs, ns))
	reportProblems(t, "slo", h.checkSLO(cfg, date, deadline, dagOf))
	h.checkNoSecrets()
	kinds := h.noticeKinds(ns)
	attempts := 0
	for _, h := range hs {
		attempts += h.Run.Attempt
	}
	req, faulted := w.Slack.Stats()
	t.Logf("seed %d: %d kills, %d reruns, %d runs, %d attempts, %d airflow triggers (%v faults), %d trocco requests, glue %+v, slack %d requests (%d faulted), %d notices %v, %s",
		*seedFlag, kills, reruns, len(hs), attempts, len(w.Airflow.Triggers()), w.Airflow.Faults(), w.Trocco.Total(),
		w.Glue.Requests().Faults, req, faulted, len(ns), kinds, time.Since(start).Round(time.Second))
}

// brokenReload writes a broken config, sends SIGHUP, and checks that the
// daemon refuses it, queues one config_invalid notice and keeps running;
// then it puts the good config back.
func (h *harness) brokenReload(good string) {
	h.t.Helper()
	broken := strings.Replace(good, "pipelines:\n", "pipelines:\n  - name: BROKEN\n    shedule: nope\n", 1)
	if err := os.WriteFile(h.d.ConfigPath(), []byte(broken), 0o600); err != nil {
		h.t.Fatal(err)
	}
	if err := h.d.HUP(); err != nil {
		h.t.Fatal(err)
	}
	if !h.d.WaitFor(10*time.Second, func() bool { return bytes.Contains(h.d.Log(), []byte("config reload refused")) }) {
		h.t.Fatal("the daemon did not log the refused reload")
	}
	if err := h.d.WaitReady(5 * time.Second); err != nil {
		h.t.Fatalf("the daemon stopped serving on a broken config: %v", err)
	}
	if err := os.WriteFile(h.d.ConfigPath(), []byte(good), 0o600); err != nil {
		h.t.Fatal(err)
	}
}

// waitSettled waits until no run is open and the outbox is empty. The
// outbox drains at Slack's pace, one post a second per channel (notify's
// pacing), so a long run's backlog of a hundred notices needs more than
// limit: the wait goes on, limit at a time, while runs end or notices go out,
// and fails once a whole limit passes with no progress.
func (h *harness) waitSettled(limit time.Duration) {
	h.t.Helper()
	ctx := context.Background()
	var open []sekisho.Run
	var backlog int
	look := func() bool {
		var err error
		if open, err = h.st.OpenRuns(ctx); err != nil {
			h.t.Fatal(err)
		}
		if backlog, err = h.st.OutboxBacklog(ctx); err != nil {
			h.t.Fatal(err)
		}
		return len(open) == 0 && backlog == 0
	}
	look()
	settled := false
	for {
		before := len(open) + backlog
		if settled = h.d.WaitFor(limit, look); settled || len(open)+backlog >= before {
			break
		}
	}
	if !settled {
		msg := ""
		if len(open) > 0 {
			msg = fmt.Sprintf(", e.g. %s %s (%s)", open[0].Pipeline, open[0].State, open[0].Message)
		}
		h.t.Fatalf("not settled, no progress in %s: %d open runs%s, %d notices unsent", limit, len(open), msg, backlog)
	}
}

// checkSLO compares slo.Compute over the daemon's database with the
// verdicts the simulators' records give: a day met its SLO when the first
// DAG run that Airflow finished successfully for it ended by the deadline.
func (h *harness) checkSLO(cfg *config.Config, date string, deadline time.Time, dagOf map[string]string) []string {
	now := time.Now()
	rep, err := slo.Compute(context.Background(), h.st, cfg, slo.Query{From: date, To: date, Now: now})
	if err != nil {
		return []string{err.Error()}
	}
	rows := map[string]slo.Row{}
	for _, r := range rep.Pipelines {
		rows[r.Pipeline] = r
	}
	var bad []string
	for name, dag := range dagOf {
		var first time.Time
		for _, r := range h.world.Airflow.Runs(dag) {
			// A rerun clears the run (SPEC §18): its first success may
			// be an earlier try.
			if end := r.FirstSuccess(); strings.HasPrefix(r.DagRunID, "sekisho__"+name+"__"+date+"__") && !end.IsZero() &&
				(first.IsZero() || end.Before(first)) {
				first = end
			}
		}
		met := !first.IsZero() && !first.Truncate(time.Millisecond).After(deadline)
		days, metN := 0, 0
		if met || now.After(deadline) {
			days = 1
		}
		if met {
			metN = 1
		}
		if got := rows[name]; got.SLODays != days || got.SLOMet != metN {
			bad = append(bad, fmt.Sprintf("%s: report says %d/%d days met, the simulators say %d/%d (first success %v, deadline %v)",
				name, got.SLOMet, got.SLODays, metN, days, first, deadline))
		}
	}
	return bad
}
