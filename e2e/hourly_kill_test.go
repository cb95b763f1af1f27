package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/store"
)

// hourlySpeed runs a simulated hour in one real second: a 5-minute poke
// interval is 83 ms, a restart of the binary a few simulated minutes.
const hourlySpeed = 3600

// TestKillAroundHourly SIGKILLs the real daemon at random moments while
// it gates two hourly pipelines (SPEC §19) on an accelerated clock, one
// triggering through Airflow's v1 API (logical date: the previous fire),
// one through v2 (logical date: the fire). Each hour's load has landed by
// its gate, so every gate triggers at once: random kills land before an
// intent, between an intent and Airflow's answer (answers are slowed), and
// between the answer and its record. While the daemon is down an operator
// reruns some finished hours, which the next start triggers within
// milliseconds (a rerun clears the hour's DAG run, SPEC §18). At the end:
// one run per hour, no hour missing, every attempt succeeded, every
// history a valid path, and, from the Airflow simulator's own records,
// exactly one DAG run per interval, named
// sekisho__<pipeline>__<YYYY-MM-DDTHHMM>__1, created once, and one clear
// per rerun attempt. 10 simulated hours and 12 kills by default (about 30
// s); -chaos.full runs two days and 110 kills.
func TestKillAroundHourly(t *testing.T) {
	hours, kills := 10, 12
	if *chaosFull {
		hours, kills = 48, 110
	}
	rng := rand.New(rand.NewPCG(*seedFlag, 19))
	day1 := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	held := &heldClock{epoch: day1.Add(10 * time.Minute)}
	h := newHarnessOf(t, func() *World { return NewWorldOn(held, *seedFlag) })
	w := h.world

	// The loads: one an hour at 40 past, from before the first start (its
	// catch-up opens the gates of the timeout before it) to past the end.
	const glueJob, troccoJob = "clicks", int64(61)
	for at := day1.Add(-7 * time.Hour); at.Before(day1.Add(time.Duration(hours+3) * time.Hour)); at = at.Add(time.Hour) {
		w.Glue.PlanRun(glueJob, gluesim.Run{Start: at.Add(40 * time.Minute), Duration: 10 * time.Minute})
		w.Trocco.AddJob(troccoJob, at.Add(40*time.Minute), troccosim.Outcome{RunFor: 10 * time.Minute, Status: "succeeded"})
	}
	dagOf := map[string]string{"hourly_v1": "dag_hourly_v1", "hourly_v2": "dag_hourly_v2"}
	for _, dag := range dagOf {
		w.Airflow.AddDAG(dag, airflowsim.DAG{Duration: 10 * time.Minute})
	}
	within := "    slo: {within: 45m, objective: 95%}\n"
	ps := []Pipeline{
		{Name: "hourly_v1", Schedule: "@hourly", Upstreams: []string{GlueUpstream("clicks", glueJob)},
			Trigger: AirflowTrigger("v1", dagOf["hourly_v1"]), Extra: within},
		{Name: "hourly_v2", Schedule: "@hourly", Upstreams: []string{TroccoJobUpstream("clicks", troccoJob)},
			Trigger: AirflowTrigger("v2", dagOf["hourly_v2"]), Extra: within},
	}
	// The defaults' window_start (a time of day) is the daily pipelines':
	// each hour here waits for the load since its previous fire.
	cfg := h.writeConfig(w.Config(Settings{PokeInterval: "5m", Timeout: "6h"}, ps))
	// Slow answers stretch the moment between a trigger's intent and its
	// answer (100 ms is 6 simulated minutes), so random kills land in it.
	w.Airflow.SetFaults(airflowsim.Faults{Slow: 0.5, SlowDelay: 100 * time.Millisecond, ServerError: 0.05})
	w.Glue.SetFaults(gluesim.Faults{ErrorRate: 0.05, Seed: *seedFlag})

	began := time.Now()
	clock := h.startFast(held, hourlySpeed)
	st := h.store()
	end := held.epoch.Add(time.Duration(hours) * time.Hour)
	reruns := 0
	for i := range kills {
		// Most kills come soon after a start, where the caught-up gates
		// and the operator's reruns trigger; the rest anywhere in the hour.
		mean := clock.Real(clock.Until(end)) / time.Duration(kills-i)
		delay := time.Duration(50+rng.IntN(400)) * time.Millisecond
		if rng.IntN(2) == 0 {
			delay = time.Duration(float64(mean) * (0.3 + 1.4*rng.Float64()))
		}
		time.Sleep(delay)
		if err := h.d.Kill(); err != nil {
			t.Fatal(err)
		}
		reruns += rerunSomeHours(t, st, cfg, rng, clock.Now())
		if err := h.d.Start(); err != nil {
			t.Fatal(err)
		}
	}
	if d := clock.Until(end); d > 0 {
		time.Sleep(clock.Real(d))
	}
	w.Airflow.SetFaults(airflowsim.Faults{})
	w.Glue.SetFaults(gluesim.Faults{})
	// A gate opens every simulated hour: settled is a moment between them
	// with every run finished.
	h.waitSettledBy(clock, clock.Now(), clock.Now().Add(3*time.Hour))
	hs := h.stopAndRead()
	wall := time.Since(began)
	reportProblems(t, "history", CheckPaths(hs))
	reportProblems(t, "airflow", CheckAirflowOnce(hs, w.Airflow.Triggers(), w.Airflow.Clears(), dagOf))
	attempts, _ := checkAttemptEnds(t, hs, nil)
	reportProblems(t, "hours", checkHours(hs, cfg.Pipeline("hourly_v1").Location, held.epoch, end))
	// The simulator's own record: one DAG run per interval, named by it.
	idForm := regexp.MustCompile(`^sekisho__hourly_v[12]__\d{4}-\d{2}-\d{2}T\d{4}__1$`)
	for _, p := range ps {
		var want, got []string
		for _, h := range hs {
			if h.Run.Pipeline == p.Name {
				want = append(want, sekisho.DagRunID(p.Name, h.Run.Key, 1))
			}
		}
		for _, r := range w.Airflow.Runs(dagOf[p.Name]) {
			got = append(got, r.DagRunID)
			if !idForm.MatchString(r.DagRunID) {
				t.Errorf("DAG run id %q is not sekisho__<pipeline>__<YYYY-MM-DDTHHMM>__1", r.DagRunID)
			}
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: DAG runs in Airflow\n%q\nwant one per hour's run\n%q", p.Name, got, want)
		}
	}
	if len(hs) < 2*hours {
		t.Errorf("%d runs for %d simulated hours of two pipelines", len(hs), hours)
	}
	if n := len(w.Airflow.InvalidRequests()); n != 0 {
		t.Errorf("airflow saw %d requests off the OpenAPI document: %+v", n, w.Airflow.InvalidRequests()[0])
	}
	h.checkNoSecrets()
	// 409s are the repeats of a trigger whose answer a kill lost; a clear
	// that did nothing, of a rerun whose clear a kill left unrecorded.
	conflicts, dryClears := 0, 0
	for _, tr := range w.Airflow.Triggers() {
		if tr.Status == 409 {
			conflicts++
		}
	}
	for _, c := range w.Airflow.Clears() {
		if !c.Cleared {
			dryClears++
		}
	}
	t.Logf("seed %d: %d simulated hours, %d kills, %d starts, %d runs, %d attempts (%d operator reruns), %d airflow triggers (%d 409 repeats), %d clears (%d dry), airflow faults %v; wall %s",
		*seedFlag, hours, kills, h.d.Starts, len(hs), attempts, reruns, len(w.Airflow.Triggers()), conflicts, len(w.Airflow.Clears()), dryClears,
		w.Airflow.Faults(), wall.Round(time.Second))
}

// rerunSomeHours reruns, as an operator would with the daemon down, about
// one in three of each pipeline's last three finished hours (up to a
// fourth attempt). It returns how many it reran.
func rerunSomeHours(t *testing.T, st *store.Store, cfg *config.Config, rng *rand.Rand, now time.Time) int {
	t.Helper()
	ctx := context.Background()
	n := 0
	for _, p := range cfg.Pipelines {
		runs, err := st.Runs(ctx, store.RunFilter{Pipeline: p.Name})
		if err != nil {
			t.Fatal(err)
		}
		slices.SortFunc(runs, func(a, b sekisho.Run) int { return b.GateAt.Compare(a.GateAt) })
		seen := 0
		for _, r := range runs {
			if !r.State.Terminal() {
				continue
			}
			if seen++; seen > 3 {
				break
			}
			if r.Attempt < 4 && rng.IntN(3) == 0 {
				if _, err := engine.Rerun(ctx, st, cfg, r.Pipeline, r.Key, now, engine.By{Who: engine.ByCLI}); err != nil {
					t.Fatal(err)
				}
				n++
			}
		}
	}
	return n
}

// checkHours reports every pipeline whose runs are not one per hour, from
// the first gate at or before the first start through the chaos phase's
// last hour: an hour missing, or a key that is not an hour's fire time.
func checkHours(hs []History, loc *time.Location, firstStart, end time.Time) []string {
	keys := map[string][]string{}
	for _, h := range hs {
		keys[h.Run.Pipeline] = append(keys[h.Run.Pipeline], h.Run.Key)
	}
	var bad []string
	for p, ks := range keys {
		slices.Sort(ks)
		first, err := time.ParseInLocation(sekisho.KeyLayout, ks[0], loc)
		if err != nil || first.After(firstStart) {
			bad = append(bad, fmt.Sprintf("%s: first run %s, want one at or before the first start %s", p, ks[0], firstStart.Format(time.RFC3339)))
			continue
		}
		var want []string
		for at := first; !at.After(end); at = at.Add(time.Hour) {
			want = append(want, sekisho.RunKey(at, loc, true))
		}
		if got := ks[:min(len(ks), len(want))]; !slices.Equal(got, want) || len(ks) < len(want) {
			bad = append(bad, fmt.Sprintf("%s: runs %q\nwant one an hour from %s: %q", p, ks, ks[0], want))
		}
	}
	return bad
}
