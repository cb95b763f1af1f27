package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/internal/daemon"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/store"
)

// TestDaemonAgainstSimulators runs the real daemon, with every real client,
// against the simulators on loopback on the wall clock: a Glue job gates a
// Composer DAG, a TROCCO job gates a TROCCO workflow, and Slack hears about it.
func TestDaemonAgainstSimulators(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time integration test")
	}
	clock := clockwork.NewRealClock()
	now := time.Now().UTC()
	glue := gluesim.New(clock)
	glueSrv := glue.NewServer()
	defer glueSrv.Close()
	glue.PlanRun("hegel-rds-export", gluesim.Run{Start: now.Add(-time.Minute), Duration: time.Minute + 3*time.Second})
	af := airflowsim.MustNew(airflowsim.Options{Clock: clock, Auth: airflowsim.AuthBasic, Username: "u", Password: "pw-secret"})
	af.AddDAG("socrates_main", airflowsim.DAG{Duration: 2 * time.Second})
	afSrv := httptest.NewServer(af)
	defer afSrv.Close()
	tr := troccosim.New(troccosim.Options{Token: "trocco-key", Clock: clock})
	tr.AddJob(55, now.Add(-time.Minute), troccosim.Outcome{RunFor: time.Minute + 2*time.Second, Status: "succeeded"})
	tr.DefineWorkflow(1234, troccosim.Outcome{RunFor: 2 * time.Second, Status: "succeeded"})
	trSrv := httptest.NewServer(tr)
	defer trSrv.Close()
	var slackOut bytes.Buffer
	sl := slacksim.New(clock, slacksim.WithOutput(&slackOut))
	slSrv := httptest.NewServer(sl)
	defer slSrv.Close()

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
connections:
  glue: {region: ap-northeast-1, endpoint: %q}
  trocco: {base_url: %q, api_key: trocco-key}
  airflow:
    prod: {base_url: %q, api_version: v2, auth: basic, username: u, password: pw-secret}
slack:
  webhook_url: %q
  language: en
pipelines:
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
`, glueSrv.URL, trSrv.URL, afSrv.URL, slSrv.URL+slacksim.WebhookPath, cron, cron)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	st, err := store.Open(context.Background(), filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))
	d, err := daemon.New(context.Background(), daemon.Options{Config: cfg, ConfigPath: cfgPath, Store: st, Logger: log,
		Listen: "127.0.0.1:0", Tune: daemon.Fast(), Tick: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	deadline := time.Now().Add(30 * time.Second)
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
		if time.Now().After(deadline) {
			t.Fatalf("runs did not finish: %+v %v / %+v %v\nlogs:\n%s", a, errA, b, errB, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
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
	if jobs := tr.PipelineJobs(1234); len(jobs) != 1 {
		t.Errorf("trocco workflow jobs = %+v", jobs)
	}
	if bytes.Contains(logs.Bytes(), []byte("pw-secret")) || bytes.Contains(logs.Bytes(), []byte("trocco-key")) {
		t.Error("a secret reached the logs")
	}
}

// syncWriter serialises writes from the daemon's goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
