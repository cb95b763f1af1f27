package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

const gateOnly = `version: 1
timezone: Asia/Tokyo
pipelines:
  - name: kant_daily
    description: the morning clock
    schedule: "0 1 * * *"
    upstreams: []
  - name: hegel_daily
    schedule: "0 2 * * *"
    upstreams:
      - {name: kant, type: pipeline, pipeline: kant_daily}
    slo: {deadline: "06:00", objective: 95%}
`

func cli(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func writeConfig(t *testing.T, body string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "pipelines.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func TestValidateExitCodes(t *testing.T) {
	_, good := writeConfig(t, gateOnly)
	if code, out, _ := cli(t, "validate", "-c", good); code != 0 || !strings.Contains(out, "ok, 2 pipelines") {
		t.Fatalf("valid config: %d %q", code, out)
	}
	_, bad := writeConfig(t, strings.Replace(gateOnly, `"0 2 * * *"`, `"*/30 * * * *"`, 1)+"    bogus: 1\n")
	code, _, errOut := cli(t, "validate", "-c", bad)
	if code != 2 {
		t.Fatalf("invalid config exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "pipelines.yaml:9:5: pipelines[1].schedule:") ||
		!strings.Contains(lines[1], "pipelines[1].bogus") {
		t.Fatalf("want every problem with file:line:col, got:\n%s", errOut)
	}
	// $SEKISHO_CONFIG is the default, -c wins over it.
	t.Setenv("SEKISHO_CONFIG", good)
	if code, _, _ := cli(t, "validate"); code != 0 {
		t.Fatalf("$SEKISHO_CONFIG not used: %d", code)
	}
	if code, _, _ := cli(t, "validate", "-c", bad); code != 2 {
		t.Fatal("-c did not win over $SEKISHO_CONFIG")
	}
	if code, _, errOut := cli(t, "validate", "-c", filepath.Join(t.TempDir(), "missing.yaml")); code != 2 || !strings.Contains(errOut, "missing.yaml") {
		t.Fatalf("missing file: %d %q", code, errOut)
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate" (run`},
		{[]string{"valdate"}, 2, `unknown command "valdate" (did you mean "validate"?`},
		{[]string{"validate", "--nope"}, 2, "flag provided but not defined"},
		{[]string{"status", "--date", "21-11-2026"}, 2, "want a date like"},
		{[]string{"report", "card"}, 2, "want 'sekisho report slo'"},
		{[]string{"report", "slo", "--format", "xml"}, 2, "want table, csv or json"},
		{[]string{"export", "--table", "secrets"}, 2, "want runs, transitions or slo_daily"},
		{[]string{"rerun"}, 2, "want exactly one pipeline name"},
		{[]string{"version"}, 0, ""},
		{[]string{"run", "--help"}, 0, ""},
	}
	for _, tt := range tests {
		code, _, errOut := cli(t, tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d %q, want %d %q", tt.args, code, errOut, tt.code, tt.want)
		}
		if tt.code == 2 && strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%v: want one line on stderr, got %q", tt.args, errOut)
		}
	}
}

// seed writes a finished and a failed day for the operator commands.
func seed(t *testing.T, dir, cfgPath string) string {
	t.Helper()
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "s.db")
	st, err := teststore.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := cfg.Pipeline("hegel_daily")
	putRun(t, st, p, "2026-11-20", sekisho.StateTimedOut, 6*time.Hour, sekisho.ReasonTimeout)
	return db
}

// putRun opens p's gate on date, as the engine would, and moves the run to
// state after it, for the reason given.
func putRun(t *testing.T, st *store.Store, p *config.Pipeline, date string, state sekisho.State, after time.Duration, reason string) {
	t.Helper()
	gate := p.GateOn(date)
	r, _, err := st.OpenGate(context.Background(), sekisho.Run{Pipeline: p.Name, LogicalDate: date, GateAt: gate,
		TimeoutAt: gate.Add(p.Timeout), Deadline: p.Deadline(date), RecoverBy: p.RecoverBy(date), Spec: p.Spec()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := r
	next.State, next.FinishedAt = state, gate.Add(after)
	if state == sekisho.StateSucceeded {
		next.FirstSuccessAt = next.FinishedAt
	}
	if _, err := st.Apply(context.Background(), r, next, next.FinishedAt, store.Step{Reason: reason}); err != nil {
		t.Fatal(err)
	}
}

func TestOperatorCommandsWithoutDaemon(t *testing.T) {
	dir, cfgPath := writeConfig(t, gateOnly)
	db := seed(t, dir, cfgPath)
	// Flags after the argument work as well as before it.
	code, out, errOut := cli(t, "rerun", "hegel_daily", "--date", "2026-11-20", "-c", cfgPath, "--db", db)
	if code != 0 || !strings.Contains(out, "hegel_daily 2026-11-20: waiting (attempt 2)") {
		t.Fatalf("rerun: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, "rerun", "--date", "2026-11-20", "-c", cfgPath, "--db", db, "hegel_daily"); code != 2 || !strings.Contains(errOut, "only a finished run") {
		t.Fatalf("rerun of an open run: %d %q", code, errOut)
	}
	if code, out, _ := cli(t, "skip", "hegel_daily", "--date=2026-11-20", "-c", cfgPath, "--db", db); code != 0 || !strings.Contains(out, "skipped") {
		t.Fatalf("skip: %d %q", code, out)
	}
	if code, _, errOut := cli(t, "skip", "nosuch", "-c", cfgPath, "--db", db); code != 2 || !strings.Contains(errOut, `unknown pipeline "nosuch"`) {
		t.Fatalf("unknown pipeline: %d %q", code, errOut)
	}
	if code, _, errOut := cli(t, "rerun", "kant_daily", "--date", "2026-01-01", "-c", cfgPath, "--db", db); code != 2 || !strings.Contains(errOut, "has no run on 2026-01-01") {
		t.Fatalf("unknown date: %d %q", code, errOut)
	}
	// The history shows both operator actions.
	st, _ := teststore.Open(context.Background(), db)
	defer st.Close()
	r, _ := st.Run(context.Background(), "hegel_daily", "2026-11-20")
	trs, _ := st.Transitions(context.Background(), r.ID)
	var reasons []string
	for _, tr := range trs {
		reasons = append(reasons, tr.Reason)
	}
	if got := strings.Join(reasons, " "); got != "gate_opened timeout operator_rerun operator_skip" {
		t.Fatalf("reasons = %s", got)
	}
}

func TestStatusReportExport(t *testing.T) {
	dir, cfgPath := writeConfig(t, gateOnly)
	db := seed(t, dir, cfgPath)
	code, out, errOut := cli(t, "status", "--json", "--date", "2026-11-20", "-c", cfgPath, "--db", db)
	if code != 0 {
		t.Fatalf("status: %d %s", code, errOut)
	}
	var board struct {
		Overall   string `json:"overall"`
		Pipelines []struct {
			Name, State string
		} `json:"pipelines"`
	}
	if err := json.Unmarshal([]byte(out), &board); err != nil {
		t.Fatal(err)
	}
	if board.Overall != "outage" || len(board.Pipelines) != 2 {
		t.Fatalf("board = %+v", board)
	}
	if code, out, _ := cli(t, "status", "--date", "2026-11-20", "-c", cfgPath, "--db", db); code != 0 || !strings.Contains(out, "hegel_daily") {
		t.Fatalf("status table: %d %q", code, out)
	}
	code, out, errOut = cli(t, "report", "slo", "--from", "2026-11-20", "--to", "2026-11-20", "--format", "json", "-c", cfgPath, "--db", db)
	if code != 0 || !strings.Contains(out, `"pipeline": "hegel_daily"`) && !strings.Contains(out, `"pipeline":"hegel_daily"`) {
		t.Fatalf("report: %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli(t, "report", "slo", "--pipeline", "nosuch", "-c", cfgPath, "--db", db); code != 2 {
		t.Fatalf("report of an unknown pipeline: %d %q", code, errOut)
	}
	code, out, _ = cli(t, "export", "--table", "transitions", "--format", "ndjson", "-c", cfgPath, "--db", db)
	if code != 0 || strings.Count(out, "\n") != 2 || !strings.Contains(out, `"reason":"timeout"`) {
		t.Fatalf("export: %d %q", code, out)
	}
}

func TestRunRefusesASecondDaemon(t *testing.T) {
	dir, cfgPath := writeConfig(t, gateOnly)
	db := filepath.Join(dir, "s.db")
	st, err := teststore.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.LockDaemon(); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := cli(t, "run", "-c", cfgPath, "--db", db, "--listen", "127.0.0.1:0")
	if code != 1 || !strings.Contains(errOut, "in use by another sekisho daemon") {
		t.Fatalf("second daemon: %d %q", code, errOut)
	}
	code, _, errOut = cli(t, "run", "-c", cfgPath, "--db", filepath.Join(dir, "no", "such", "dir.db"))
	if code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("unwritable db: %d %q", code, errOut)
	}
}

// TestReadmeQuickStart runs the README's Quick start as written, on this
// checkout with none of the example's variables set: validate passes
// (naming what run will need) and the daemon starts. The demo line is
// TestDemoCommand's; a new kind of line fails here until it is tested.
func TestReadmeQuickStart(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "## Quick start\n")
	_, block, _ := strings.Cut(section, "```sh\n")
	block, _, _ = strings.Cut(block, "```")
	for _, name := range []string{"SEKISHO_TOKEN", "TROCCO_API_KEY", "SLACK_WEBHOOK_URL", "SEKISHO_CONFIG"} {
		unsetEnv(t, name)
	}
	t.Chdir("../..")
	ran := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		cmd, _, _ := strings.Cut(line, "#")
		args := strings.Fields(cmd)
		switch {
		case strings.HasPrefix(cmd, "go run ./cmd/sekisho demo"), strings.HasPrefix(cmd, "go build "):
			continue
		case len(args) < 2 || args[0] != "./sekisho":
			t.Fatalf("README Quick start line %q: this test does not know how to run it", line)
		}
		ran++
		switch args[1] {
		case "validate":
			code, out, errOut := cli(t, args[1:]...)
			if code != exitOK || !strings.Contains(out, "'sekisho run' will need them") {
				t.Errorf("%s: exit %d\n%s%s", cmd, code, out, errOut)
			}
		case "run":
			// The README's port may be taken on a shared machine: the last
			// --listen wins.
			args = append(args, "--db", filepath.Join(t.TempDir(), "sekisho.db"), "--listen", "127.0.0.1:0")
			ctx, cancel := context.WithCancel(context.Background())
			stderr := &syncWriter{w: &strings.Builder{}, wrote: make(chan struct{}, 1)}
			done := make(chan int, 1)
			go func() { done <- Main(ctx, args[1:], nil, io.Discard, stderr) }()
			for !strings.Contains(stderr.String(), "sekisho started") {
				select {
				case code := <-done:
					t.Fatalf("%s: exit %d before starting\n%s", cmd, code, stderr.String())
				case <-stderr.wrote:
				case <-time.After(30 * time.Second):
					t.Fatalf("%s: not started after 30 s\n%s", cmd, stderr.String())
				}
			}
			cancel()
			if code := <-done; code != exitOK {
				t.Errorf("%s: exit %d after Ctrl-C\n%s", cmd, code, stderr.String())
			}
		default:
			t.Fatalf("README Quick start line %q: this test does not know how to run it", line)
		}
	}
	if ran < 2 {
		t.Fatalf("ran %d of the Quick start's commands; has the section moved?", ran)
	}
}

// TestRerunRefusedOverALandedJob: a TROCCO attempt ended
// trigger_outcome_unknown and a pushed event named a workflow job since its
// intent; rerun refuses, naming the job, and --anyway reruns (issue 28).
func TestRerunRefusedOverALandedJob(t *testing.T) {
	dir, cfgPath := writeConfig(t, `version: 1
timezone: Asia/Tokyo
connections:
  trocco: {api_key: cli-test-key}
pipelines:
  - name: ads_daily
    schedule: "0 2 * * *"
    upstreams: []
    trigger: {type: trocco_workflow, pipeline_definition_id: 700}
`)
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(dir, "s.db")
	st, err := teststore.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	p := cfg.Pipeline("ads_daily")
	gate := p.GateOn("2026-11-20")
	r, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: p.Name, LogicalDate: "2026-11-20", GateAt: gate,
		TimeoutAt: gate.Add(p.Timeout), Spec: p.Spec()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := r
	next.IntentAt = gate
	if r, err = st.Apply(ctx, r, next, gate, store.Step{}); err != nil {
		t.Fatal(err)
	}
	next = r
	next.State, next.FinishedAt = sekisho.StateFailed, gate.Add(30*time.Second)
	if _, err := st.Apply(ctx, r, next, next.FinishedAt, store.Step{Reason: sekisho.ReasonTriggerUnknown}); err != nil {
		t.Fatal(err)
	}
	if err := st.LearnJob(ctx, "trocco_workflow:700", "1011", gate.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, _, errOut := cli(t, "rerun", "ads_daily", "--date", "2026-11-20", "-c", cfgPath, "--db", db)
	if code != 2 || !strings.Contains(errOut, "workflow job 1011") || !strings.Contains(errOut, "--anyway") {
		t.Fatalf("rerun over job 1011: %d %q", code, errOut)
	}
	if code, out, errOut := cli(t, "rerun", "ads_daily", "--date", "2026-11-20", "--anyway", "-c", cfgPath, "--db", db); code != 0 || !strings.Contains(out, "(attempt 2)") {
		t.Fatalf("rerun --anyway: %d %q %q", code, out, errOut)
	}
}
