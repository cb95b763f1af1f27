package e2e

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
)

var (
	latencyFlag  = flag.Bool("e2e.latency", false, "measure gate latency (a figure, not a pass/fail test)")
	latencyGates = flag.Int("e2e.gates", 200, "gates per mode in TestGateLatency")
)

// TestGateLatency measures the time from the Glue simulator marking a
// pipeline's last upstream succeeded to the Airflow simulator receiving
// its trigger, over many gates, in polling mode (poke_interval 1s) and in
// push mode (an EventBridge event posted the moment the job ends, with a
// 30s poke interval so polling cannot be what opened the gate). It prints
// p50/p99/max; it asserts nothing about speed. Run it with
//
//	go test ./e2e -run GateLatency -e2e.latency -v
func TestGateLatency(t *testing.T) {
	if !*latencyFlag {
		t.Skip("a measurement: run with -e2e.latency")
	}
	for _, mode := range []string{"poll", "push"} {
		t.Run(mode, func(t *testing.T) {
			ds := measureLatency(t, mode, *latencyGates)
			slices.Sort(ds)
			t.Logf("gate latency %s mode over %d gates: p50 %s, p99 %s, max %s", mode, len(ds),
				pctl(ds, 50), pctl(ds, 99), ds[len(ds)-1].Round(time.Millisecond))
		})
	}
}

func measureLatency(t *testing.T, mode string, n int) []time.Duration {
	h := newHarness(t, *seedFlag)
	w := h.world
	now := time.Now().UTC()
	gate := now.Add(3 * time.Second)
	w.Airflow.AddDAG("lat_dag", airflowsim.DAG{Duration: time.Second})
	var ps []Pipeline
	ends := make([]time.Time, n)
	runIDs := make([]string, n)
	first := gate.Add(2 * time.Second)
	spread := 20 * time.Second
	for i := range n {
		job := fmt.Sprintf("lat-%03d", i)
		// Ends spread over the spread so they fall at every phase of the
		// poll cycle.
		ends[i] = first.Add(time.Duration(i) * spread / time.Duration(n))
		start := now.Add(-time.Minute)
		run := gluesim.Run{Start: start, Duration: ends[i].Sub(start)}
		if mode == "push" {
			run.Duration = 0 // open-ended: the test ends it and posts the event
		}
		runIDs[i] = w.Glue.PlanRun(job, run)
		ps = append(ps, Pipeline{Name: fmt.Sprintf("lat_%03d", i), Schedule: CronAt(gate),
			Upstreams: []string{GlueUpstream("src", job)}, Trigger: AirflowTrigger("v1", "lat_dag")})
	}
	poke := "1s"
	if mode == "push" {
		poke = "30s"
	}
	h.writeConfig(w.Config(Settings{PokeInterval: poke}, ps))
	if err := h.d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := h.d.WaitReady(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	if mode == "push" {
		for i := range n {
			wg.Add(1)
			time.AfterFunc(time.Until(ends[i]), func() {
				defer wg.Done()
				end := time.Now()
				job := fmt.Sprintf("lat-%03d", i)
				if err := w.Glue.FinishRun(job, runIDs[i], "SUCCEEDED", end, ""); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ends[i] = end
				mu.Unlock()
				body, _ := json.Marshal(glueEvent(job, runIDs[i], end))
				if code, err := h.d.Post(context.Background(), "/api/v1/events/glue", ServerToken, body); err != nil || code/100 != 2 {
					t.Errorf("post event for %s: %d %v", job, code, err)
				}
			})
		}
	}
	date := sekisho.DateOf(gate, time.UTC)
	got := map[string]time.Time{}
	h.d.WaitFor(time.Until(ends[n-1].Add(15*time.Second)), func() bool {
		for _, tr := range w.Airflow.Triggers() {
			if tr.Status == 200 {
				got[tr.DagRunID] = tr.At
			}
		}
		return len(got) >= n
	})
	wg.Wait()
	if err := h.d.Stop(); err != nil {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var ds []time.Duration
	for i := range n {
		at, ok := got[sekisho.DagRunID(ps[i].Name, date, 1)]
		if !ok {
			t.Errorf("%s never triggered", ps[i].Name)
			continue
		}
		ds = append(ds, at.Sub(ends[i]))
	}
	if len(ds) == 0 {
		t.Fatal("no gate triggered")
	}
	return ds
}

// glueEvent is the EventBridge event Glue sends when a job run ends.
func glueEvent(job, runID string, at time.Time) map[string]any {
	return map[string]any{
		"version": "0", "id": "e2e-" + runID, "detail-type": "Glue Job State Change", "source": "aws.glue",
		"account": "123456789012", "time": at.UTC().Format(time.RFC3339), "region": "ap-northeast-1", "resources": []string{},
		"detail": map[string]any{"jobName": job, "severity": "INFO", "state": "SUCCEEDED", "jobRunId": runID,
			"message": "Job run succeeded"},
	}
}

// pctl is the nearest-rank percentile of sorted durations.
func pctl(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted)+99)/100 - 1
	i = max(0, min(i, len(sorted)-1))
	return sorted[i].Round(time.Millisecond)
}
