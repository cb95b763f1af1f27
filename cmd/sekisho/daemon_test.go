package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/daemon"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/fastclock"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/sim/world"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// TestDaemonAgainstSimulators runs the real daemon, with every real client,
// against the simulated world on loopback, in real time: a Glue job gates a
// Composer DAG, a TROCCO job gates a TROCCO workflow, and Slack hears about
// it. The clock runs at the wall clock's pace but reads noon: upstream runs
// that started a minute before the gate fall inside the logical date's
// window whatever the hour the test starts at (at 00:00:30 UTC on the wall
// clock they would fall the day before, outside window_start). It runs
// once on SQLite and once on PostgreSQL, where the daemon leads through the
// lease.
func TestDaemonAgainstSimulators(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time integration test")
	}
	storetest.Each(t, daemonAgainstSimulators)
}

func daemonAgainstSimulators(t *testing.T, loc string) {
	clock, err := fastclock.New(time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC), time.Now(), 1)
	if err != nil {
		t.Fatal(err)
	}
	w, err := world.New(world.Options{Clock: clock, Airflow: []world.Airflow{{Connection: "prod", Deployment: "composer", Version: "v2"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	now := clock.Now()
	w.Glue.PlanRun("hegel-rds-export", gluesim.Run{Start: now.Add(-time.Minute), Duration: time.Minute + 3*time.Second})
	af := w.Airflow["composer"]
	af.AddDAG("socrates_main", airflowsim.DAG{Duration: 2 * time.Second})
	w.Trocco.AddJob(55, now.Add(-time.Minute), troccosim.Outcome{RunFor: time.Minute + 2*time.Second, Status: "succeeded"})
	w.Trocco.DefineWorkflow(1234, troccosim.Outcome{RunFor: 2 * time.Second, Status: "succeeded"})

	gate := now.Add(2 * time.Second)
	cron := fmt.Sprintf("%d %d %d * * *", gate.Second(), gate.Minute(), gate.Hour())
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "pipelines.yaml")
	yaml := fmt.Sprintf(`version: 1
timezone: UTC
defaults:
  poke_interval: 1s
  timeout: 1m
server:
  token: write-token
%s%spipelines:
  - name: socrates_daily
    schedule: %q
    upstreams:
      - {name: hegel_export, type: glue_job, job_name: hegel-rds-export}
    trigger: {type: airflow_dag, connection: prod, dag_id: socrates_main, conf: {date: "{{ .LogicalDate }}"}}
  - name: ads_daily
    schedule: %q
    upstreams:
      - {name: master_sync, type: trocco_job, job_definition_id: 55}
    trigger: {type: trocco_workflow, pipeline_definition_id: 1234}
`, w.Connections(), w.SlackWebhook("en"), cron, cron)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range w.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	st, err := teststore.Open(context.Background(), loc)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs bytes.Buffer
	out := &syncWriter{w: &logs, wrote: make(chan struct{}, 1)}
	log := slog.New(slog.NewTextHandler(out, nil))
	d, err := daemon.New(context.Background(), daemon.Options{Config: cfg, ConfigPath: cfgPath, Store: st, Logger: log,
		Listen: "127.0.0.1:0", Clock: clock, Tune: daemon.Fast(), Tick: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	// The daemon logs every state change once it is stored: look again at
	// each log line, not on a guessed sleep.
	deadline := time.After(30 * time.Second)
	date := sekisho.DateOf(gate, time.UTC)
	for {
		a, errA := st.Run(ctx, "socrates_daily", date)
		b, errB := st.Run(ctx, "ads_daily", date)
		if errA == nil && errB == nil && a.State.Terminal() && b.State.Terminal() {
			if a.State != sekisho.StateSucceeded || b.State != sekisho.StateSucceeded {
				t.Errorf("socrates_daily %s (%s), ads_daily %s (%s)", a.State, a.Message, b.State, b.Message)
			}
			break
		}
		select {
		case <-out.wrote:
		case <-deadline:
			t.Fatalf("runs did not finish: socrates_daily %s %v, ads_daily %s %v\nlogs:\n%s", a.State, errA, b.State, errB, out.String())
		}
	}
	if c := d.Cluster(); c.Role != "leader" || c.Leader != c.Self || c.Epoch < 1 || c.Store != string(st.Dialect()) {
		t.Errorf("cluster view of a lone daemon: %+v", c)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := len(af.InvalidRequests()); n != 0 {
		t.Errorf("airflow saw %d invalid requests: %+v", n, af.InvalidRequests())
	}
	if trig := af.Triggers(); len(trig) != 1 || trig[0].DagRunID != sekisho.DagRunID("socrates_daily", date, 1) || trig[0].Conf["date"] != date {
		t.Errorf("airflow triggers = %+v", trig)
	}
	if jobs := w.Trocco.PipelineJobs(1234); len(jobs) != 1 {
		t.Errorf("trocco workflow jobs = %+v", jobs)
	}
	for _, secret := range world.Secrets() {
		if strings.Contains(out.String(), secret) {
			t.Errorf("secret %q reached the logs", secret)
		}
	}
	if len(w.Slack.Messages()) != 0 {
		t.Errorf("slack heard of a day without trouble: %+v", w.Slack.Messages())
	}
}

// syncWriter serialises writes from the daemon's goroutines and, when
// wrote is set, signals each one there.
type syncWriter struct {
	mu sync.Mutex
	w  interface {
		io.Writer
		String() string
	}
	wrote chan struct{}
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.w.Write(p)
	select {
	case s.wrote <- struct{}{}:
	default:
	}
	return n, err
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.String()
}
