package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

const newYork = `version: 1
timezone: America/New_York
pipelines:
  - name: ny_daily
    schedule: "30 2 * * *"
    upstreams: []
    slo: {deadline: "06:00", objective: 95%}
`

// TestStatusOnTheSpringForwardDay: 02:30 does not exist in New York on
// 2026-03-08, and the engine opens that gate at 03:30. `sekisho status`
// says so, lists the day without a run as missed, and the day counts as an
// SLO miss in the status, the report and the daily grid alike.
func TestStatusOnTheSpringForwardDay(t *testing.T) {
	dir, cfgPath := writeConfig(t, newYork)
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "s.db")
	st, err := teststore.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pipeline("ny_daily")
	for _, date := range []string{"2026-03-07", "2026-03-09"} {
		putRun(t, st, p, date, sekisho.StateSucceeded, time.Hour, sekisho.ReasonConditionMet)
	}
	st.Close()

	code, out, errOut := cli(t, "status", "--date", "2026-03-08", "--json", "-c", cfgPath, "--db", db)
	if code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	var board struct {
		Pipelines []struct {
			State  string  `json:"state"`
			GateAt *string `json:"gate_at"`
			SLOMet *bool   `json:"slo_met"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &board); err != nil {
		t.Fatal(err)
	}
	got := board.Pipelines[0]
	if got.State != "missed" || got.GateAt == nil || *got.GateAt != "2026-03-08T03:30:00-04:00" || got.SLOMet == nil || *got.SLOMet {
		t.Fatalf("status --date 2026-03-08: %s", out)
	}

	code, out, errOut = cli(t, "report", "slo", "--from", "2026-03-07", "--to", "2026-03-09", "--format", "json", "-c", cfgPath, "--db", db)
	if code != 0 {
		t.Fatalf("report: %d %s", code, errOut)
	}
	var rep struct {
		Pipelines []struct {
			SLODays int `json:"slo_days"`
			SLOMet  int `json:"slo_met"`
			Missed  int `json:"slo_missed"`
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if r := rep.Pipelines[0]; r.SLODays != 3 || r.SLOMet != 2 || r.Missed != 1 {
		t.Fatalf("report counts %+v, want 3 days, 2 met, 1 missed: %s", r, out)
	}
	code, out, _ = cli(t, "report", "slo", "--daily", "--from", "2026-03-07", "--to", "2026-03-09", "-c", cfgPath, "--db", db)
	if code != 0 || !strings.Contains(out, "ny_daily ✅ 🚨 ✅") {
		t.Fatalf("daily grid: %d\n%s", code, out)
	}
}
