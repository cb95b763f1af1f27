package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
	"github.com/sekisho-dev/sekisho/web"
)

const waitingGlue = `version: 1
timezone: Asia/Tokyo
connections:
  glue: {region: ap-northeast-1}
pipelines:
  - name: sales
    schedule: "0 1 * * *"
    poke_interval: 5m
    upstreams:
      - {name: export, type: glue_job, job_name: hegel-rds-export}
`

// notYet is a Glue job that has not started.
type notYet struct{}

func (notYet) Runs(context.Context, sekisho.Resource, time.Time) ([]sekisho.JobRun, error) {
	return nil, nil
}

// TestNextCheckOfAWaitingUpstream: the engine's planned next check of the
// upstream a run waits on is what `status --json` and the run API show.
func TestNextCheckOfAWaitingUpstream(t *testing.T) {
	dir, cfgPath := writeConfig(t, waitingGlue)
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "s.db")
	ctx := context.Background()
	st, err := teststore.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gate := cfg.Pipeline("sales").GateOn("2026-11-20")
	clock := clockwork.NewFakeClockAt(gate)
	eng, err := engine.New(cfg, engine.Options{Store: st, Clock: clock, Sync: true, Jitter: -1,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Sensors: map[string]sekisho.Sensor{config.TypeGlueJob: notYet{}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Step(ctx); err != nil {
		t.Fatal(err)
	}
	// No history: the even pace, one poke_interval after the check at the gate.
	want := gate.Add(5 * time.Minute).UTC().Format(time.RFC3339)

	code, out, errOut := cli(t, "status", "--json", "--date", "2026-11-20", "-c", cfgPath, "--db", db)
	if code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	var board struct {
		Pipelines []struct {
			Name      string
			Upstreams []struct {
				Name        string  `json:"name"`
				NextCheckAt *string `json:"next_check_at"`
			} `json:"upstreams"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &board); err != nil {
		t.Fatal(err)
	}
	if len(board.Pipelines) != 1 || len(board.Pipelines[0].Upstreams) != 1 ||
		board.Pipelines[0].Upstreams[0].NextCheckAt == nil || *board.Pipelines[0].Upstreams[0].NextCheckAt != want {
		t.Errorf("status --json: %s\nwant next_check_at %s", out, want)
	}

	h := web.New(web.Options{Config: func() *config.Config { return cfg }, Store: st, Clock: clock})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/runs/sales/2026-11-20", nil))
	var run struct {
		Observations []struct {
			Upstream    string  `json:"upstream"`
			NextCheckAt *string `json:"next_check_at"`
		} `json:"observations"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &run); err != nil {
		t.Fatalf("%d %s: %v", rec.Code, rec.Body, err)
	}
	if len(run.Observations) == 0 || run.Observations[0].NextCheckAt == nil || *run.Observations[0].NextCheckAt != want {
		t.Errorf("run API: %s\nwant next_check_at %s", rec.Body, want)
	}
}
