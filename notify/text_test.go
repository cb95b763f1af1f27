package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

var update = flag.Bool("update", false, "rewrite the golden texts in testdata/golden")

// sampleNotices has one notice of every kind, with the facts the engine
// writes for it.
func sampleNotices() []sekisho.Notice {
	base := sekisho.Notice{Pipeline: "socrates_daily", LogicalDate: "2026-11-21", Attempt: 1, RunID: 1,
		CreatedAt: time.Date(2026, 11, 21, 5, 12, 0, 0, tokyo)}
	with := func(kind sekisho.NoticeKind, f sekisho.NoticeFacts) sekisho.Notice {
		n := base
		n.Kind, n.Facts, n.DedupeKey = kind, f, string(kind)+":socrates_daily:2026-11-21"
		return n
	}
	cfgErr := sekisho.Notice{Kind: sekisho.NoticeConfigInvalid, DedupeKey: "config_invalid:abc",
		Facts: sekisho.NoticeFacts{Message: "pipelines.yaml:14:9: pipelines[0].upstreams[1].type: unknown sensor type \"glu_job\" (did you mean \"glue_job\"?)"}}
	return []sekisho.Notice{
		with(sekisho.NoticeUpstreamFailed, sekisho.NoticeFacts{Upstream: "hegel_export", ExternalID: "jr_4f1c0a",
			Message: "Command failed with exit code 1: <OutOfMemoryError>", State: sekisho.StateBlocked}),
		with(sekisho.NoticeTriggerFailed, sekisho.NoticeFacts{Reason: sekisho.ReasonTriggerRejected,
			Message: "HTTP 400: conf.target_date is required"}),
		with(sekisho.NoticeTriggerFailed, sekisho.NoticeFacts{Reason: sekisho.ReasonDagPaused, Message: "socrates_main is paused"}),
		with(sekisho.NoticeRunFailed, sekisho.NoticeFacts{ExternalID: "sekisho__socrates_daily__2026-11-21__1",
			Message: "task build_marts failed"}),
		with(sekisho.NoticeDelay, sekisho.NoticeFacts{State: sekisho.StateRunning}),
		with(sekisho.NoticeAtRisk, sekisho.NoticeFacts{ExpectedAt: time.Date(2026, 11, 21, 6, 40, 0, 0, tokyo),
			Upstream: "orders_export", Via: []string{"ingest", "transform"}}),
		with(sekisho.NoticeLongRunning, sekisho.NoticeFacts{ExternalID: "sekisho__socrates_daily__2026-11-21__1",
			Duration: "2h15m", MaxDuration: "2h"}),
		with(sekisho.NoticeTimedOut, sekisho.NoticeFacts{Message: "waiting for hegel_export, master_sync"}),
		with(sekisho.NoticeRecovery, sekisho.NoticeFacts{State: sekisho.StateSucceeded}),
		with(sekisho.NoticeTriggerUnknown, sekisho.NoticeFacts{Message: "pipeline_definition_id 1234, request sent at 02:31 JST"}),
		with(sekisho.NoticeDataAnomaly, sekisho.NoticeFacts{Upstream: "orders_rows", Reason: sekisho.ReasonDataAnomaly,
			Message: "value 1,200 is outside the expected band 27,860–51,740 (median 39,800 of 4 Mondays ±30%)"}),
		cfgErr,
	}
}

func goldenName(n sekisho.Notice, lang string) string {
	name := string(n.Kind)
	if n.Facts.Reason == sekisho.ReasonDagPaused {
		name += "_paused"
	}
	return name + "." + lang + ".txt"
}

func TestRenderGolden(t *testing.T) {
	p := testPipeline()
	for _, lang := range []string{"ja", "en"} {
		for _, n := range sampleNotices() {
			name := goldenName(n, lang)
			t.Run(name, func(t *testing.T) {
				pp := p
				if n.Pipeline == "" {
					pp = nil
				}
				got := Render(lang, n, pp, "https://sekisho.example.internal").Text() + "\n"
				checkGolden(t, name, got)
			})
		}
	}
}

func TestDigestGolden(t *testing.T) {
	entries := []DigestEntry{
		{Pipeline: "kant_daily", LogicalDate: "2026-11-22", State: sekisho.StateSucceeded},
		{Pipeline: "socrates_daily", Description: "BigQuery marts behind the learning dashboards", LogicalDate: "2026-11-22",
			State: sekisho.StateRunning, Late: true},
		{Pipeline: "hegel_daily", Description: "RDS export", LogicalDate: "2026-11-22", State: sekisho.StateFailed},
		{Pipeline: "ads_daily", LogicalDate: "2026-11-22", State: sekisho.StateWaiting},
		{Pipeline: "weekly_cleanup", LogicalDate: "2026-11-22", State: sekisho.StateSkipped},
		{Pipeline: "evening_sync", LogicalDate: "2026-11-22", State: sekisho.StateScheduled},
		{Pipeline: "lost_sync", LogicalDate: "2026-11-22", State: sekisho.StateMissed},
		{Pipeline: "monday_only", LogicalDate: "2026-11-22", State: sekisho.StateNoGate},
	}
	for _, lang := range []string{"ja", "en"} {
		t.Run(lang, func(t *testing.T) {
			checkGolden(t, "digest."+lang+".txt", DigestText(lang, "2026-11-22", entries, "https://sekisho.example.internal")+"\n")
		})
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./notify -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("text of %s changed:\n--- got\n%s--- want\n%s", name, got, want)
	}
}

func TestRenderRules(t *testing.T) {
	p := testPipeline()
	tests := []struct {
		name     string
		kind     sekisho.NoticeKind
		lang     string
		mention  bool
		contains []string
	}{
		{"failure gets the mention", sekisho.NoticeRunFailed, "en", true, []string{"🚨", "/pipelines/socrates_daily>"}},
		{"delay is a turtle with mention", sekisho.NoticeDelay, "ja", true, []string{"🐢", "期限"}},
		{"recovery has no mention", sekisho.NoticeRecovery, "en", false, []string{"✅"}},
		{"unknown trigger waits for a person", sekisho.NoticeTriggerUnknown, "en", true, []string{"⏳", "TROCCO"}},
		{"unknown language falls back to ja", sekisho.NoticeUpstreamFailed, "fr", true, []string{"遅れる可能性"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := sekisho.Notice{Kind: tc.kind, Pipeline: p.Name, LogicalDate: "2026-11-21", DedupeKey: "k"}
			m := Render(tc.lang, n, p, "https://sekisho.example.internal/")
			if got := strings.HasPrefix(m.Headline, p.Notify.Mention); got != tc.mention {
				t.Errorf("mention = %v, want %v: %q", got, tc.mention, m.Headline)
			}
			for _, c := range tc.contains {
				if !strings.Contains(m.Text(), c) {
					t.Errorf("text lacks %q:\n%s", c, m.Text())
				}
			}
			if m.Marker != "sekisho:k" {
				t.Errorf("marker = %q", m.Marker)
			}
		})
	}
}

func TestEveryKindHasWordsInBothLanguages(t *testing.T) {
	kinds := append(append([]sekisho.NoticeKind{}, sekisho.NoticeKinds...), sekisho.NoticeTriggerUnknown, sekisho.NoticeConfigInvalid)
	for _, c := range []*catalog{&japanese, &english} {
		for _, k := range kinds {
			if c.headlines[k] == "" || c.sentences[k] == nil {
				t.Errorf("%s: kind %s has no words", c.pipeline, k)
			}
		}
	}
}

func TestBlocksSplitLongDetails(t *testing.T) {
	m := Message{Headline: "h", Marker: "sekisho:x", Details: []string{strings.Repeat("あ", 1500), strings.Repeat("b", 2000), "c"}}
	blocks := m.Blocks()
	if len(blocks) < 3 || blocks[0].ID() != "sekisho:x" {
		t.Fatalf("blocks = %d, first id %q", len(blocks), blocks[0].ID())
	}
}

// A notice about a sub-daily run names its interval beside the date.
func TestRenderNamesTheInterval(t *testing.T) {
	n := sekisho.Notice{Pipeline: "hourly", LogicalDate: "2026-06-01", Key: "2026-06-01T13:00", Attempt: 1,
		Kind: sekisho.NoticeRunFailed, DedupeKey: "run_failed:1:1", Facts: sekisho.NoticeFacts{State: sekisho.StateFailed}}
	text := Render("en", n, nil, "").Text()
	if !strings.Contains(text, "2026-06-01 13:00") {
		t.Fatalf("text:\n%s", text)
	}
	n.Key = n.LogicalDate
	if text := Render("en", n, nil, "").Text(); strings.Contains(text, "2026-06-01 ") {
		t.Fatalf("a daily run's text names a time:\n%s", text)
	}
}
