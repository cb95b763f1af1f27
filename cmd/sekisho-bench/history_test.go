package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// TestFillHistoryIsWhatTheStoreReads fills three days of a daily and an
// hourly pipeline and reads them back through the store: each gate of each
// day a succeeded run with its deadline, every upstream observed
// succeeded before the trigger, nothing on the gate's own date.
func TestFillHistoryIsWhatTheStoreReads(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sekisho.db")
	yaml := `version: 1
timezone: UTC
pipelines:
  - name: daily
    schedule: "0 30 2 * * *"
    upstreams:
      - {name: a, type: glue_job, job_name: load-a}
      - {name: b, type: glue_job, job_name: load-b}
    trigger: {type: airflow_dag, connection: af, dag_id: d}
    slo: {within: 3h, objective: 95%}
  - name: hourly
    schedule: "0 0 * * * *"
    upstreams:
      - {name: a, type: glue_job, job_name: load-a}
    trigger: {type: airflow_dag, connection: af, dag_id: h}
connections:
  glue: {region: ap-northeast-1}
  airflow:
    af: {base_url: "http://127.0.0.1:1", api_version: v1, auth: google}
`
	cfg, err := config.Parse("pipelines.yaml", []byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	st, err := teststore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gate := time.Date(2026, 12, 7, 2, 30, 0, 0, time.UTC)
	got, err := fillHistory(ctx, path, cfg, gate, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := 3 * (1 + 24); got.runs != want || got.transitions != 4*want || got.observations != 3*2+3*24 {
		t.Fatalf("wrote %+v, want %d runs, %d transitions, %d observations", got, want, 4*want, 3*2+3*24)
	}
	for _, date := range []string{"2026-12-04", "2026-12-05", "2026-12-06", "2026-12-07"} {
		runs, err := st.RunsOn(ctx, []string{date})
		if err != nil {
			t.Fatal(err)
		}
		obs, err := st.LatestObservationsOn(ctx, []string{date})
		if err != nil {
			t.Fatal(err)
		}
		if date == "2026-12-07" {
			if len(runs) != 0 {
				t.Fatalf("%d runs on the gate's own date", len(runs))
			}
			continue
		}
		if len(runs) != 25 {
			t.Fatalf("%s: %d runs, want 25", date, len(runs))
		}
		for _, r := range runs {
			p := cfg.Pipeline(r.Pipeline)
			if r.State != sekisho.StateSucceeded || r.FirstSuccessAt.IsZero() || !r.GateAt.Equal(p.GateOf(r.Key)) ||
				!r.TriggeredAt.After(r.GateAt) || r.FinishedAt.Before(r.TriggeredAt) {
				t.Fatalf("%s %s: %+v", r.Pipeline, r.Key, r)
			}
			if p.SLO != nil && !r.Deadline.Equal(r.GateAt.Add(3*time.Hour)) {
				t.Fatalf("%s %s: deadline %s, gate %s", r.Pipeline, r.Key, r.Deadline, r.GateAt)
			}
			if len(obs[r.ID]) != len(p.Upstreams) {
				t.Fatalf("%s %s: %d observations, want %d", r.Pipeline, r.Key, len(obs[r.ID]), len(p.Upstreams))
			}
			for _, o := range obs[r.ID] {
				if o.State != sekisho.JobSucceeded || o.FinishedAt.After(r.TriggeredAt) || !o.StartedAt.Before(o.FinishedAt) {
					t.Fatalf("%s %s: observation %+v, triggered %s", r.Pipeline, r.Key, o, r.TriggeredAt)
				}
			}
		}
	}
}
