package status_test

import (
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

func TestNextCheckAtPerUpstream(t *testing.T) {
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	st := statustest.Open(t)
	p := statustest.Pipeline("ads", tokyo, "06:00")
	p.Upstreams = []config.Upstream{{Name: "master", Type: config.TypeTroccoJob, JobDefinitionID: 55},
		{Name: "done", Type: config.TypeGlueJob, JobName: "export"}}
	cfg := &config.Config{Location: tokyo, Pipelines: []*config.Pipeline{p}}
	day := "2026-11-30"
	gate := time.Date(2026, 11, 30, 2, 0, 0, 0, tokyo)
	statustest.Put(t, st, statustest.Run{Pipeline: "ads", Date: day, State: sekisho.StateWaiting, GateAt: gate,
		Observations: []sekisho.Observation{{Upstream: "done", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
			ExternalID: "jr_1", StartedAt: gate.Add(-time.Hour), FinishedAt: gate.Add(-30 * time.Minute)}}})
	ctx := context.Background()
	next := gate.Add(14 * time.Minute)
	if err := st.SetNextCheck(ctx, "trocco_job:55", next, gate); err != nil {
		t.Fatal(err)
	}
	if err := st.SetNextCheck(ctx, "glue_job:export", gate.Add(time.Hour), gate); err != nil {
		t.Fatal(err)
	}
	b, err := status.Build(ctx, st, cfg, day, gate.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	ups := b.Pipelines[0].Upstreams
	if !ups[0].NextCheckAt.Equal(next) || !ups[1].NextCheckAt.IsZero() {
		t.Fatalf("next checks %v / %v; want 02:14 for the waiting one, none for the ended one", ups[0].NextCheckAt, ups[1].NextCheckAt)
	}
	js, _ := json.Marshal(ups[0])
	if !strings.Contains(string(js), `"next_check_at":"2026-11-29T17:14:00Z"`) {
		t.Errorf("json %s", js)
	}
	var out strings.Builder
	if err := status.WriteTable(&out, b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "next check 02:14") {
		t.Errorf("table:\n%s", out.String())
	}
}
