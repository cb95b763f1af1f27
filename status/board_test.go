package status_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

var tokyo, _ = time.LoadLocation("Asia/Tokyo")

func at(date, clock string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, tokyo)
	if err != nil {
		panic(err)
	}
	return t
}

const day = "2026-11-03"

func TestBuild(t *testing.T) {
	st := statustest.Open(t)
	future := statustest.Pipeline("future", tokyo, "+1d 06:00")
	future.Schedule = "0 23 * * *"
	weekday := statustest.Pipeline("weekday", tokyo, "")
	weekday.Schedule = "0 2 * * 1" // 2026-11-03 is a Tuesday
	cfg := config.Fill(&config.Config{Location: tokyo, Pipelines: []*config.Pipeline{
		statustest.Pipeline("normal", tokyo, "06:00"),
		statustest.Pipeline("broken", tokyo, "06:00"),
		statustest.Pipeline("mart", tokyo, "", "broken"),
		statustest.Pipeline("dash", tokyo, "", "mart", "normal"),
		statustest.Pipeline("slow", tokyo, "06:00"),
		statustest.Pipeline("tardy", tokyo, "06:00"),
		future, weekday,
	}})
	cfg.Pipelines[3].Upstreams = append(cfg.Pipelines[3].Upstreams, config.Upstream{Name: "export", Type: config.TypeGlueJob, JobName: "export"})
	statustest.Put(t, st, statustest.Run{Pipeline: "normal", Date: day, State: sekisho.StateSucceeded, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"), TriggeredAt: at(day, "03:00"), FinishedAt: at(day, "05:00"), FirstSuccessAt: at(day, "05:00")})
	statustest.Put(t, st, statustest.Run{Pipeline: "broken", Date: day, State: sekisho.StateFailed, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"), FinishedAt: at(day, "04:00"), Message: "dag run failed: task load_mart"})
	statustest.Put(t, st, statustest.Run{Pipeline: "mart", Date: day, State: sekisho.StateWaiting, GateAt: at(day, "02:00")})
	statustest.Put(t, st, statustest.Run{Pipeline: "dash", Date: day, State: sekisho.StateWaiting, GateAt: at(day, "02:00"),
		Observations: []sekisho.Observation{{Upstream: "export", Type: config.TypeGlueJob, State: sekisho.JobRunning,
			ExternalID: "jr_1", Error: "glue: throttled", StartedAt: at(day, "02:10")}}})
	statustest.Put(t, st, statustest.Run{Pipeline: "slow", Date: day, State: sekisho.StateRunning, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"), TriggeredAt: at(day, "05:30"), StartedAt: at(day, "05:31")})
	statustest.Put(t, st, statustest.Run{Pipeline: "tardy", Date: day, State: sekisho.StateSucceeded, GateAt: at(day, "02:00"),
		Deadline: at(day, "06:00"), FinishedAt: at(day, "06:42"), FirstSuccessAt: at(day, "06:42")})
	// A run of another day must not leak into the board.
	statustest.Put(t, st, statustest.Run{Pipeline: "normal", Date: "2026-11-02", State: sekisho.StateFailed, GateAt: at("2026-11-02", "02:00")})

	now := at(day, "07:00")
	b, err := status.Build(context.Background(), st, cfg, "", now)
	if err != nil {
		t.Fatal(err)
	}
	if b.Overall != status.OverallOutage || b.Date != day {
		t.Errorf("overall %s date %s, want outage %s", b.Overall, b.Date, day)
	}
	tru, fal := true, false
	tests := []struct {
		name       string
		state      sekisho.State
		late       bool
		sloMet     *bool
		affectedBy []string
		summary    string
		gateAt     time.Time
	}{
		{"normal", sekisho.StateSucceeded, false, &tru, nil, "データは更新済みです (05:00 完了)。", at(day, "02:00")},
		{"broken", sekisho.StateFailed, true, &fal, nil, "処理が失敗しました。 dag run failed: task load_mart", at(day, "02:00")},
		{"mart", sekisho.StateWaiting, false, nil, []string{"broken"}, "上流データの到着を待っています (0/1 完了)。 broken の影響を受けています。", at(day, "02:00")},
		{"dash", sekisho.StateWaiting, false, nil, []string{"broken"}, "上流データの到着を待っています (1/3 完了)。 broken の影響を受けています。", at(day, "02:00")},
		{"slow", sekisho.StateRunning, true, &fal, nil, "05:31 から処理中です。 期限 06:00 を過ぎています。", at(day, "02:00")},
		{"tardy", sekisho.StateSucceeded, false, &fal, nil, "データは更新済みです (06:42 完了)。 期限 06:00 より遅れました。", at(day, "02:00")},
		{"future", sekisho.StateScheduled, false, nil, nil, "23:00 に開始予定です。", at(day, "23:00")},
		{"weekday", sekisho.StateNoGate, false, nil, nil, "この日は実行予定がありません。", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Pipeline(tt.name)
			if p == nil {
				t.Fatalf("missing from board")
			}
			if p.State != tt.state || p.Late != tt.late {
				t.Errorf("state %s late %v, want %s %v", p.State, p.Late, tt.state, tt.late)
			}
			if (p.SLOMet == nil) != (tt.sloMet == nil) || (p.SLOMet != nil && *p.SLOMet != *tt.sloMet) {
				t.Errorf("slo_met %v, want %v", p.SLOMet, tt.sloMet)
			}
			if strings.Join(p.AffectedBy, ",") != strings.Join(tt.affectedBy, ",") {
				t.Errorf("affected_by %v, want %v", p.AffectedBy, tt.affectedBy)
			}
			if p.Summary != tt.summary {
				t.Errorf("summary %q, want %q", p.Summary, tt.summary)
			}
			if !p.GateAt.Equal(tt.gateAt) {
				t.Errorf("gate_at %v, want %v", p.GateAt, tt.gateAt)
			}
		})
	}
	// The downstream of a failure through a pipeline upstream sees it failed.
	dash := b.Pipeline("dash")
	if got := dash.Upstreams[0].State; got != sekisho.JobPending {
		t.Errorf("dash upstream mart = %s, want pending (mart waits)", got)
	}
	if got := dash.Upstreams[1].State; got != sekisho.JobSucceeded {
		t.Errorf("dash upstream normal = %s, want succeeded", got)
	}
	if got := dash.Upstreams[2]; got.Error != "glue: throttled" || got.State != sekisho.JobRunning {
		t.Errorf("dash upstream export = %+v, want running with its check error", got)
	}
	var names []string
	for _, p := range b.Downstreams("broken") {
		names = append(names, p.Name)
	}
	if strings.Join(names, ",") != "mart,dash" {
		t.Errorf("downstreams of broken = %v", names)
	}

	// The JSON shape of SPEC §8.
	raw, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		GeneratedAt string `json:"generated_at"`
		Pipelines   []map[string]any
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"name", "description", "logical_date", "state", "attempt", "summary", "gate_at",
		"triggered_at", "finished_at", "deadline", "slo_met", "upstreams", "affected_by", "impacts"} {
		if _, ok := doc.Pipelines[0][key]; !ok {
			t.Errorf("pipeline JSON lacks %q: %s", key, raw)
		}
	}
	if doc.Pipelines[0]["deadline"] != "2026-11-03T06:00:00+09:00" || doc.GeneratedAt != "2026-11-03T07:00:00+09:00" {
		t.Errorf("times not in the pipeline's zone: %v %v", doc.Pipelines[0]["deadline"], doc.GeneratedAt)
	}
	if doc.Pipelines[6]["triggered_at"] != nil || doc.Pipelines[6]["slo_met"] != nil {
		t.Errorf("unknown values should be null: %v", doc.Pipelines[6])
	}

	var tbl bytes.Buffer
	if err := status.WriteTable(&tbl, b); err != nil {
		t.Fatal(err)
	}
	out := tbl.String()
	for _, want := range []string{"🚨 一部のデータ", "broken", "🚨 失敗", "🐢 遅延", "1/3 ok; export check error"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

func TestOverall(t *testing.T) {
	tests := []struct {
		name  string
		state sekisho.State
		clock string
		want  string
	}{
		{"waiting before the deadline", sekisho.StateWaiting, "05:00", status.OverallOK},
		{"waiting past the deadline", sekisho.StateWaiting, "06:30", status.OverallDegraded},
		{"blocked", sekisho.StateBlocked, "05:00", status.OverallDegraded},
		{"timed out", sekisho.StateTimedOut, "05:00", status.OverallOutage},
		{"skipped past the deadline", sekisho.StateSkipped, "07:00", status.OverallOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := statustest.Open(t)
			cfg := config.Fill(&config.Config{Location: tokyo, Slack: config.Slack{Language: "en"},
				Pipelines: []*config.Pipeline{statustest.Pipeline("p", tokyo, "06:00")}})
			statustest.Put(t, st, statustest.Run{Pipeline: "p", Date: day, State: tt.state, GateAt: at(day, "02:00"), Deadline: at(day, "06:00")})
			b, err := status.Build(context.Background(), st, cfg, day, at(day, tt.clock))
			if err != nil {
				t.Fatal(err)
			}
			if b.Overall != tt.want {
				t.Errorf("overall %s, want %s (%s)", b.Overall, tt.want, b.Pipelines[0].Summary)
			}
		})
	}
}

func TestBuildRejectsBadDate(t *testing.T) {
	st := statustest.Open(t)
	if _, err := status.Build(context.Background(), st, config.Fill(&config.Config{}), "2026-13-01", time.Now()); err == nil {
		t.Fatal("want an error for a bad date")
	}
}

// TestGateFromConfig: a day without a run is listed by the engine's own
// schedule evaluation. On the spring-forward day a 02:30 gate opens at 03:30
// EDT; once passed without a run the day is missed, and a miss of the SLO
// once the deadline has passed, unless the pipeline had never run by then.
func TestGateFromConfig(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	const dst = "2026-03-08"
	nyAt := func(date, clock string) time.Time {
		t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, ny)
		if err != nil {
			panic(err)
		}
		return t
	}
	p := statustest.Pipeline("p", ny, "06:00")
	p.Schedule = "30 2 * * *"
	cfg := config.Fill(&config.Config{Location: ny, Slack: config.Slack{Language: "en"}, Pipelines: []*config.Pipeline{p}})
	fal := false
	tests := []struct {
		name     string
		firstRun string // a run on this earlier date, if set
		now      time.Time
		state    sekisho.State
		sloMet   *bool
		late     bool
		overall  string
	}{
		{"before the gate", "2026-03-07", nyAt(dst, "03:29"), sekisho.StateScheduled, nil, false, status.OverallOK},
		{"gate passed, before the deadline", "2026-03-07", nyAt(dst, "03:31"), sekisho.StateMissed, nil, false, status.OverallDegraded},
		{"deadline passed: an SLO miss", "2026-03-07", nyAt("2026-03-09", "12:00"), sekisho.StateMissed, &fal, true, status.OverallDegraded},
		{"before the first run ever: before_history, not counted", "2026-03-09", nyAt("2026-03-10", "12:00"), sekisho.StateBeforeHistory, nil, false, status.OverallOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := statustest.Open(t)
			statustest.Put(t, st, statustest.Run{Pipeline: "p", Date: tt.firstRun, State: sekisho.StateSucceeded,
				GateAt: nyAt(tt.firstRun, "02:30"), FinishedAt: nyAt(tt.firstRun, "04:00"), FirstSuccessAt: nyAt(tt.firstRun, "04:00")})
			b, err := status.Build(context.Background(), st, cfg, dst, tt.now)
			if err != nil {
				t.Fatal(err)
			}
			got := b.Pipeline("p")
			if want := nyAt(dst, "03:30"); !got.GateAt.Equal(want) {
				t.Errorf("gate_at %v, want %v", got.GateAt, want)
			}
			if got.State != tt.state || got.Late != tt.late || b.Overall != tt.overall {
				t.Errorf("state %s late %v overall %s, want %s %v %s", got.State, got.Late, b.Overall, tt.state, tt.late, tt.overall)
			}
			if (got.SLOMet == nil) != (tt.sloMet == nil) || (got.SLOMet != nil && *got.SLOMet != *tt.sloMet) {
				t.Errorf("slo_met %v, want %v", got.SLOMet, tt.sloMet)
			}
			raw, _ := json.Marshal(got)
			if !strings.Contains(string(raw), `"gate_at":"2026-03-08T03:30:00-04:00"`) {
				t.Errorf("JSON gate_at: %s", raw)
			}
		})
	}
}

// TestHolidayListing: a jp_business pipeline lists 天皇誕生日 (2027-02-23)
// and a Sunday as holiday, named in the configured language ("weekend"
// for a weekend), never as missed; the table says so, and the board's
// verdict is not degraded by a day off.
func TestHolidayListing(t *testing.T) {
	st := statustest.Open(t)
	biz := statustest.Pipeline("biz", tokyo, "06:00")
	biz.CalendarName = "jp_business"
	cfg := config.Fill(&config.Config{Location: tokyo, Pipelines: []*config.Pipeline{biz}})
	for _, tc := range []struct {
		date, lang, holiday, summary string
	}{
		{"2027-02-23", "ja", "天皇誕生日", "休日のため実行予定はありません (天皇誕生日)。"},
		{"2027-02-23", "en", "The Emperor's Birthday", "No gate: the calendar has the day off (The Emperor's Birthday)."},
		{"2027-02-21", "ja", "weekend", "休日のため実行予定はありません (週末)。"},
	} {
		cfg.Slack.Language = tc.lang
		b, err := status.Build(context.Background(), st, cfg, tc.date, at(tc.date, "12:00"))
		if err != nil {
			t.Fatal(err)
		}
		p := b.Pipeline("biz")
		if p.State != sekisho.StateHoliday || p.Holiday != tc.holiday || p.Summary != tc.summary || b.Overall != status.OverallOK {
			t.Errorf("%s %s: %s %q %q overall %s", tc.date, tc.lang, p.State, p.Holiday, p.Summary, b.Overall)
		}
		raw, _ := json.Marshal(p)
		if !bytes.Contains(raw, []byte(`"state":"holiday"`)) || !bytes.Contains(raw, []byte(`"holiday":"`+tc.holiday+`"`)) {
			t.Errorf("JSON: %s", raw)
		}
		var out bytes.Buffer
		if err := status.WriteTable(&out, b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "⛱ ") || !strings.Contains(out.String(), tc.holiday) {
			t.Errorf("table:\n%s", out.String())
		}
	}
	// The next business day is listed as usual.
	b, err := status.Build(context.Background(), st, cfg, "2027-02-24", at("2027-02-24", "01:00"))
	if err != nil {
		t.Fatal(err)
	}
	if p := b.Pipeline("biz"); p.State != sekisho.StateScheduled || p.Holiday != "" {
		t.Errorf("2027-02-24: %s %q", p.State, p.Holiday)
	}
}
