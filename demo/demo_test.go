package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
)

// TestConfigKeepsRootPipelines checks that the demo runs the example a
// newcomer reads first: every pipeline of the root pipelines.yaml, with the
// same upstreams, triggers, SLOs, descriptions and impacts.
func TestConfigKeepsRootPipelines(t *testing.T) {
	cfg, raw, err := Config(ConfigOptions{URLs: URLs{Glue: "http://127.0.0.1:1", Trocco: "http://127.0.0.1:2",
		Composer: "http://127.0.0.1:3", Legacy: "http://127.0.0.1:4", SlackWebhook: "http://127.0.0.1:5" + slacksim.WebhookPath, Slack: "http://127.0.0.1:5"},
		PublicURL: "http://127.0.0.1:8080/", Listen: "127.0.0.1:8080", Token: `tok"en`})
	if err != nil {
		t.Fatal(err)
	}
	rootRaw, err := os.ReadFile("../pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := func(string) (string, bool) { return "x", true }
	root, err := config.Parse("pipelines.yaml", rootRaw, env)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Pipelines) != len(root.Pipelines) {
		t.Fatalf("%d pipelines, root has %d", len(cfg.Pipelines), len(root.Pipelines))
	}
	for i, p := range cfg.Pipelines {
		want := *root.Pipelines[i]
		got := *p
		got.PokeInterval, want.PokeInterval = 0, 0 // the demo's clock runs fast
		// The demo's company calendar has a day off within its history.
		got.Calendar, want.Calendar = nil, nil
		if !reflect.DeepEqual(got.Spec(), want.Spec()) {
			t.Errorf("pipeline %s differs from the root file:\n got %s\nwant %s", p.Name, got.Spec(), want.Spec())
		}
	}
	if cfg.Server.Token.Value() != `tok"en` || cfg.Connections.Glue.Endpoint != "http://127.0.0.1:1" ||
		cfg.Connections.Airflow["composer-legacy"].BaseURL != "http://127.0.0.1:4" || cfg.Connections.Airflow["composer-prod"].Auth != "basic" {
		t.Errorf("connections not pointed at the simulators: %+v", cfg.Connections)
	}
	if bytes.Contains(raw, []byte("${")) {
		t.Error("the demo config still needs environment variables")
	}
}

func TestIncidentCycle(t *testing.T) {
	tests := []struct {
		name string
		seed uint64
	}{{"seed 1", 1}, {"seed 7", 7}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen := map[Incident]int{}
			d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			for range 16 {
				seen[IncidentOn(d.Format(sekisho.DateLayout), tt.seed)]++
				d = d.AddDate(0, 0, 1)
			}
			for _, inc := range Incidents() {
				want := 2
				if inc == Normal {
					want = 8
				}
				if seen[inc] != want {
					t.Errorf("%s on %d of 16 days, want %d", inc, seen[inc], want)
				}
				date := FirstDateWith(inc, "2026-01-01", tt.seed)
				if date == "" || IncidentOn(date, tt.seed) != inc || date > "2026-01-08" {
					t.Errorf("FirstDateWith(%s) = %q", inc, date)
				}
			}
		})
	}
	if IncidentOn("2026-01-02", 1) == IncidentOn("2026-01-02", 2) {
		t.Error("the seed does not move the cycle")
	}
}

// TestWorldScript plans a day and checks what the simulators hold and when
// the world acts, without sekisho: the jobs a day's incident needs.
func TestWorldScript(t *testing.T) {
	const seed = 1
	jst, _ := time.LoadLocation(TimeZone)
	date := FirstDateWith(DownstreamFailure, "2026-02-01", seed)
	mid, _ := time.ParseInLocation(sekisho.DateLayout, date, jst)
	clock := clockwork.NewFakeClockAt(mid)
	w, err := NewWorld(clock, Options{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var acted []string
	w.onAction = func(_ time.Time, who, what string) { acted = append(acted, who+" "+what) }
	ctx := context.Background()
	if err := w.Act(ctx, clock.Now()); err != nil {
		t.Fatal(err) // nothing is due at midnight
	}
	next := w.NextAction(clock.Now())
	if want := mid.Add(5 * time.Minute); !next.Equal(want) {
		t.Errorf("first action at %v, want %v (the day's workflow outcome)", next, want)
	}
	clock.Advance(next.Sub(clock.Now()))
	if err := w.Act(ctx, clock.Now()); err != nil {
		t.Fatal(err)
	}
	// The TROCCO notification needs sekisho: unconnected, it fails loudly.
	next = w.NextAction(clock.Now())
	clock.Advance(next.Sub(clock.Now()))
	if err := w.Act(ctx, clock.Now()); err == nil || !strings.Contains(err.Error(), "not connected") {
		t.Errorf("push without sekisho: err = %v", err)
	}
	if runs := w.Composer.Runs(DagSocrates); len(runs) != 0 {
		t.Errorf("socrates_main ran without a trigger: %+v", runs)
	}
	if len(w.Trocco.PipelineJobs(TroccoAdsSources)) == 0 {
		t.Error("no ads sources workflow job scripted")
	}
	if len(acted) != 0 {
		t.Errorf("actions reported although they failed or are internal: %v", acted)
	}
}

func TestFormatTransition(t *testing.T) {
	jst, _ := time.LoadLocation(TimeZone)
	at := time.Date(2026, 11, 20, 17, 31, 0, 0, time.UTC)
	tests := []struct {
		name string
		tr   sekisho.Transition
		want string
	}{
		{"gate", sekisho.Transition{Pipeline: "socrates_daily", Attempt: 1, To: "waiting", At: at, Reason: "gate_opened"},
			"2026-11-21 02:31 JST  socrates_daily     (gate) → waiting (gate_opened)"},
		{"trigger names the run", sekisho.Transition{Pipeline: "socrates_daily", Attempt: 1, From: "waiting", To: "triggered", At: at,
			Reason: "condition_met", Detail: map[string]any{"external_id": "sekisho__socrates_daily__2026-11-21__1"}},
			"2026-11-21 02:31 JST  socrates_daily     waiting → triggered (condition_met: sekisho__socrates_daily__2026-11-21__1)"},
		{"an hour of a sub-daily pipeline", sekisho.Transition{Pipeline: "clickstream_hourly", Key: "2026-11-21T15:00", Attempt: 2,
			From: "failed", To: "waiting", At: at, Reason: "operator_rerun"},
			"2026-11-21 02:31 JST  clickstream_hourly 15:00 #2 failed → waiting (operator_rerun)"},
		{"failed upstreams", sekisho.Transition{Pipeline: "kant_daily", Attempt: 2, From: "waiting", To: "blocked", At: at,
			Reason: "upstream_failed", Detail: map[string]any{"upstreams": map[string]any{
				"ads": map[string]any{"state": "failed"}, "socrates": map[string]any{"state": "succeeded"}}}},
			"2026-11-21 02:31 JST  kant_daily #2      waiting → blocked (upstream_failed: ads failed)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatTransition(tt.tr, jst); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPrinterOrdersAndStaysQuietUntilLive(t *testing.T) {
	jst, _ := time.LoadLocation(TimeZone)
	var out bytes.Buffer
	p := NewPrinter(&out, jst)
	t0 := time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)
	p.Notice(slacksim.Message{At: t0, Text: "history"})
	p.Flush()
	if out.Len() != 0 {
		t.Fatalf("printed before live: %q", out.String())
	}
	p.SetLive(true)
	p.Notice(slacksim.Message{At: t0.Add(2 * time.Minute), Text: "<!subteam^S0123> 🚨 broken\ndetails"})
	p.Notice(slacksim.Message{At: t0.Add(3 * time.Minute), Text: "root", Updates: 1})
	p.Notice(slacksim.Message{At: t0.Add(4 * time.Minute), Text: "🚨 failed", Blocks: json.RawMessage(`[{"type":"section"},` +
		`{"type":"actions","elements":[{"type":"static_select","placeholder":{"text":"対応中（復旧見込み）"}},{"type":"button","text":{"text":"再実行"}}]},` +
		`{"type":"actions","elements":[{"type":"timepicker","placeholder":{"text":"復旧見込みの時刻"}}]}]`)})
	p.Transition(sekisho.Transition{Pipeline: "a", To: "waiting", At: t0.Add(time.Minute), Reason: "gate_opened"})
	p.Flush()
	want := "2026-11-21 02:01 JST  a                  (gate) → waiting (gate_opened)\n" +
		"2026-11-21 02:02 JST  slack              🚨 broken\n" +
		"2026-11-21 02:04 JST  slack              🚨 failed\n" +
		"2026-11-21 02:04 JST                     [対応中（復旧見込み） ▾] [再実行] [🕒 復旧見込みの時刻]\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

// TestDemoHasABusinessDayPipeline: sales_report follows the company
// calendar, and any 29 days of history before the live date hold a
// weekend and a company day off, both listed as holiday with no gate.
func TestDemoHasABusinessDayPipeline(t *testing.T) {
	jst, _ := time.LoadLocation(TimeZone)
	for _, today := range []time.Time{time.Date(2026, 12, 7, 0, 50, 0, 0, jst), time.Date(2027, 6, 30, 0, 50, 0, 0, jst)} {
		cfg, _, err := Config(ConfigOptions{Today: today, URLs: URLs{Glue: "http://127.0.0.1:1", Trocco: "http://127.0.0.1:2",
			Composer: "http://127.0.0.1:3", Legacy: "http://127.0.0.1:4", SlackWebhook: "http://127.0.0.1:5" + slacksim.WebhookPath,
			Slack: "http://127.0.0.1:5"}})
		if err != nil {
			t.Fatal(err)
		}
		p := cfg.Pipeline("sales_report")
		kinds := map[string]int{}
		for d := today.AddDate(0, 0, -29); d.Before(today); d = d.AddDate(0, 0, 1) {
			date := d.Format(sekisho.DateLayout)
			if off, isOff := p.DayOff(date); isOff {
				kinds[off.Kind]++
				if !p.GateOn(date).IsZero() {
					t.Errorf("%s: a gate on a day off", date)
				}
			} else if p.GateOn(date).IsZero() {
				t.Errorf("%s: no gate on a business day", date)
			}
		}
		if kinds["weekend"] < 8 || kinds["company"] != 1 {
			t.Errorf("%s: days off in the history %v", today.Format(sekisho.DateLayout), kinds)
		}
	}
}

// TestPrinterQuietOnUsualHours: the usual steps of a sub-daily run are
// left out of the terminal; once a run leaves the usual way, its steps are
// printed until it finishes, and the next hour is quiet again. Daily runs
// print every step.
func TestPrinterQuietOnUsualHours(t *testing.T) {
	jst, _ := time.LoadLocation(TimeZone)
	var out bytes.Buffer
	p := NewPrinter(&out, jst)
	p.SetLive(true)
	t0 := time.Date(2026, 11, 21, 4, 0, 0, 0, time.UTC) // 13:00 JST
	step := func(key, from, to, reason string, min int) {
		p.Transition(sekisho.Transition{Pipeline: "h", Key: key, Attempt: 1, From: sekisho.State(from), To: sekisho.State(to),
			At: t0.Add(time.Duration(min) * time.Minute), Reason: reason})
	}
	usual := func(key string, min int) {
		step(key, "", "waiting", "gate_opened", min)
		step(key, "waiting", "triggered", "condition_met", min+1)
		step(key, "triggered", "running", "dag_run_running", min+1)
		step(key, "running", "succeeded", "dag_run_success", min+5)
	}
	usual("2026-11-21T12:00", -60)
	step("2026-11-21T13:00", "", "waiting", "gate_opened", 0)
	step("2026-11-21T13:00", "waiting", "blocked", "upstream_failed", 1)
	step("2026-11-21T13:00", "blocked", "waiting", "upstream_recovered", 40)
	step("2026-11-21T13:00", "waiting", "triggered", "condition_met", 40)
	step("2026-11-21T13:00", "triggered", "running", "dag_run_running", 41)
	step("2026-11-21T13:00", "running", "succeeded", "dag_run_success", 50)
	usual("2026-11-21T14:00", 60)
	step("2026-11-21", "", "waiting", "gate_opened", 61) // a daily run
	p.Flush()
	want := []string{
		"2026-11-21 13:01 JST  h 13:00            waiting → blocked (upstream_failed)",
		"2026-11-21 13:40 JST  h 13:00            blocked → waiting (upstream_recovered)",
		"2026-11-21 13:40 JST  h 13:00            waiting → triggered (condition_met)",
		"2026-11-21 13:41 JST  h 13:00            triggered → running (dag_run_running)",
		"2026-11-21 13:50 JST  h 13:00            running → succeeded (dag_run_success)",
		"2026-11-21 14:01 JST  h                  (gate) → waiting (gate_opened)",
	}
	if got := strings.Split(strings.TrimSpace(out.String()), "\n"); !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
