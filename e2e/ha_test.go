package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
)

var haRestarts = flag.Int("ha.restarts", 0, "PostgreSQL restarts in TestHAKillLeader (on a server of its own; -ha.full: 2)")

var haFull = flag.Bool("ha.full", false, "run the full HA script (50 SIGKILLs and 20 SIGSTOPs of the leader, 2 PostgreSQL restarts, on a server of its own; about 10 minutes)")

// TestHAKillLeader runs three replicas of the real binary on one real
// PostgreSQL store against the simulators (SPEC §14), and again and again
// SIGKILLs the current leader around its triggers, or pauses it (SIGSTOP)
// past its lease and wakes it once another replica leads, or stops it
// (SIGTERM: hand-over). The operator reruns finished runs in between, so
// every new leader finds attempts to trigger at once. At the end, from the
// simulators' own records: every attempt created exactly one DAG run and at
// most one TROCCO workflow job, every run finished, every history is a
// valid path, every notice is in Slack exactly once (bot mode), and the SLO
// report equals the simulators' ground truth. It also times each failover, from the leader's end to the
// moment another replica reports itself leader.
func TestHAKillLeader(t *testing.T) {
	kills, pauses, terms, restarts := 3, 1, 2, *haRestarts
	if *haFull {
		kills, pauses, terms, restarts = 50, 20, 10, 2
	}
	pgtest.AdminURL(t) // skip (or, under CI, fail) without a server
	var server *pgServer
	if restarts > 0 {
		// Restarts need a server of the test's own.
		server = startPGServer(t)
		t.Setenv(pgtest.EnvVar, server.URL)
	}
	url := pgtest.URL(t)
	h := newHarness(t, *seedFlag)
	rng := rand.New(rand.NewPCG(*seedFlag, 14))
	w := h.world
	now := time.Now().UTC()
	w.Glue.PlanRun("export-a", gluesim.Run{Start: now.Add(-2 * time.Minute), Duration: time.Minute})
	w.Trocco.AddJob(55, now.Add(-2*time.Minute), troccosim.Outcome{RunFor: time.Minute, Status: "succeeded"})
	dagOf, defOf := map[string]string{}, map[string]int64{}
	var ps []Pipeline
	gate := now.Add(3 * time.Second)
	deadline := gate.Add(8 * time.Second).Truncate(time.Second)
	sloExtra := fmt.Sprintf("    slo: {deadline: %q, objective: 95%%}\n", deadline.Format("15:04:05"))
	for i := range 2 {
		name := fmt.Sprintf("ha_dag_%d", i)
		dag := "dag_" + name
		w.Airflow.AddDAG(dag, airflowsim.DAG{Duration: 800 * time.Millisecond})
		dagOf[name] = dag
		ps = append(ps, Pipeline{Name: name, Schedule: CronAt(gate), Upstreams: []string{GlueUpstream("src", "export-a")}, Trigger: AirflowTrigger("v2", dag), Extra: sloExtra})
		tname := fmt.Sprintf("ha_trocco_%d", i)
		def := int64(800 + i)
		w.Trocco.DefineWorkflow(def, troccosim.Outcome{RunFor: 500 * time.Millisecond, Status: "succeeded"})
		defOf[tname] = def
		ps = append(ps, Pipeline{Name: tname, Schedule: CronAt(gate), Upstreams: []string{TroccoJobUpstream("src", 55)}, Trigger: TroccoTrigger(def)})
	}
	w.Airflow.SetFaults(airflowsim.Faults{Slow: 0.5, SlowDelay: 400 * time.Millisecond})
	w.Trocco.SetFaults(troccosim.Faults{Slow: 0.5, SlowFor: 400 * time.Millisecond})
	yaml := w.Config(Settings{SlackBot: true}, ps)
	cfg := h.writeConfig(yaml)
	date := sekisho.DateOf(gate, time.UTC)
	ctx := context.Background()

	// Three replicas: the harness's daemon and two more, all on the store.
	reps := []*Daemon{h.d}
	for range 2 {
		d, err := NewDaemon(h.d.Bin, t.TempDir(), w.Env()...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			d.Close()
			if t.Failed() {
				t.Logf("replica log %s:\n%s", d.LogPath(), tail(d.Log(), 40))
			}
		})
		if err := os.WriteFile(d.ConfigPath(), []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		reps = append(reps, d)
	}
	for _, d := range reps {
		d.DB = url
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
	}
	st, err := store.Open(ctx, url)
	for i := 0; err != nil && i < 200; i++ {
		time.Sleep(50 * time.Millisecond)
		st, err = store.Open(ctx, url)
	}
	if err != nil {
		t.Fatal(err)
	}
	h.st = st // the harness's checks read the shared store

	var failovers = map[string][]time.Duration{}
	plan := make([]syscall.Signal, 0, kills+pauses+terms+restarts)
	for range kills {
		plan = append(plan, syscall.SIGKILL)
	}
	for range pauses {
		plan = append(plan, syscall.SIGSTOP)
	}
	for range terms {
		plan = append(plan, syscall.SIGTERM)
	}
	for range restarts {
		plan = append(plan, restartDB)
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	reruns, superviseRestarts := 0, 0
	for _, sig := range plan {
		leader := waitLeader(t, reps, -1)
		if sig == restartDB {
			// The database goes away under every replica and comes back:
			// connections are cut, claims and writes fail meanwhile.
			start := time.Now()
			server.Restart(t)
			superviseRestarts += supervise(t, reps)
			waitLeader(t, reps, -1)
			failovers["PostgreSQL restart"] = append(failovers["PostgreSQL restart"], time.Since(start))
			continue
		}
		// Most ends land in the first second of a term, where the new
		// leader's triggers go out; some later, while it follows them.
		delay := time.Duration(50+rng.IntN(900)) * time.Millisecond
		if rng.IntN(4) == 0 {
			delay = time.Duration(900+rng.IntN(1500)) * time.Millisecond
		}
		time.Sleep(delay)
		start := time.Now()
		switch sig {
		case syscall.SIGKILL:
			if err := reps[leader].Kill(); err != nil {
				t.Fatal(err)
			}
		case syscall.SIGTERM:
			if err := reps[leader].Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
		case syscall.SIGSTOP:
			if err := reps[leader].Signal(syscall.SIGSTOP); err != nil {
				t.Fatal(err)
			}
		}
		waitLeader(t, reps, leader)
		failovers[sig.String()] = append(failovers[sig.String()], time.Since(start))
		reruns += h.rerunFinished(st, cfg, ps, date, func(sekisho.Run) bool { return true })
		switch sig {
		case syscall.SIGSTOP:
			// Wake the old leader while another leads: its lease is gone,
			// so the store refuses whatever it tries before it notices.
			if err := reps[leader].Signal(syscall.SIGCONT); err != nil {
				t.Fatal(err)
			}
			waitRole(t, reps[leader], "follower")
		case syscall.SIGTERM:
			if err := reps[leader].Stop(); err != nil {
				t.Error(err)
			}
			fallthrough
		default:
			if err := reps[leader].Start(); err != nil {
				t.Fatal(err)
			}
		}
	}
	h.waitSettled(90 * time.Second)
	for _, d := range reps {
		if err := d.Stop(); err != nil {
			t.Error(err)
		}
	}
	hs := h.checkRuns(st, ps, dagOf, defOf)
	ns, err := st.AllNotices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reportProblems(t, "notices", CheckNoticesOnce(ns, w.Slack.Messages()))
	reportProblems(t, "notice keys", CheckNoticeKeys(ns))
	reportProblems(t, "slo", h.checkSLO(cfg, date, deadline, dagOf))
	attempts, unknown := checkAttemptEnds(t, hs, defOf)
	for _, d := range reps {
		for _, s := range Secrets() {
			if bytes.Contains(d.Log(), []byte(s)) {
				t.Errorf("a secret (%d chars) reached a replica's log", len(s))
			}
		}
	}
	var summary []string
	for sig, ds := range failovers {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		summary = append(summary, fmt.Sprintf("%s: %d, p50 %v, max %v", sig, len(ds), ds[len(ds)/2].Round(time.Millisecond), ds[len(ds)-1].Round(time.Millisecond)))
	}
	sort.Strings(summary)
	t.Logf("seed %d: %d leader ends, %d reruns, %d attempts (%d trocco unknown), %d notices, %d replicas restarted after a database restart; failover %v",
		*seedFlag, len(plan), reruns, attempts, unknown, len(ns), superviseRestarts, summary)
}

var clusterClient = &http.Client{Timeout: 500 * time.Millisecond}

// role is what d's GET /api/v1/cluster says it is ("" if it does not answer).
func role(d *Daemon) string {
	resp, err := clusterClient.Get(d.URL() + "/api/v1/cluster")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var v struct {
		Role string `json:"role"`
	}
	json.NewDecoder(resp.Body).Decode(&v)
	return v.Role
}

// supervise starts again, as Kubernetes would, a replica that exited (one
// that was starting while the database restarted and gave up), and
// returns how many it started.
func supervise(t *testing.T, reps []*Daemon) int {
	t.Helper()
	n := 0
	for _, d := range reps {
		if d.Running() {
			continue
		}
		d.Kill() // collect the exited process
		if err := d.Start(); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// restartDB in the plan stands for a restart of the PostgreSQL server.
const restartDB = syscall.Signal(-1)

// waitRole waits until d reports want.
func waitRole(t *testing.T, d *Daemon, want string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if role(d) == want {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s is not %s after 30s", d.URL(), want)
}

// waitLeader waits until a replica other than not reports itself leader
// (GET /api/v1/cluster) and returns its index.
func waitLeader(t *testing.T, reps []*Daemon, not int) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for i, d := range reps {
			if i != not && d.Running() && role(d) == "leader" {
				return i
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no replica but %d leads after 30s", not)
	return -1
}
