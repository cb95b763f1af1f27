package status_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// TestBoardETA: the board projects each open run along its line from the
// stored runs, observations and history, with the projection the engine's
// at_risk uses: ingest waits on an export that usually finishes at 03:00
// and is overdue at 04:00, its DAG takes an hour; mart waits on ingest and
// runs half an hour. A finished run has no eta.
func TestBoardETA(t *testing.T) {
	st := statustest.Open(t)
	ingest := statustest.Pipeline("ingest", tokyo, "")
	ingest.Upstreams = []config.Upstream{{Name: "orders_export", Type: config.TypeGlueJob, JobName: "orders-export"}}
	ingest.Trigger = &sekisho.TriggerSpec{Type: config.TypeAirflowDag, Connection: "prod", DagID: "ingest"}
	mart := statustest.Pipeline("mart", tokyo, "05:00", "ingest")
	mart.Trigger = &sekisho.TriggerSpec{Type: config.TypeAirflowDag, Connection: "prod", DagID: "mart"}
	done := statustest.Pipeline("done", tokyo, "06:00")
	cfg := config.Fill(&config.Config{Location: tokyo, Pipelines: []*config.Pipeline{ingest, mart, done}})
	for d := 1; d <= 5; d++ {
		date := time.Date(2026, 10, 26+d, 12, 0, 0, 0, tokyo).Format(sekisho.DateLayout)
		statustest.Put(t, st, statustest.Run{Pipeline: "ingest", Date: date, State: sekisho.StateSucceeded, GateAt: at(date, "02:00"),
			TriggeredAt: at(date, "03:00"), FinishedAt: at(date, "04:00"), FirstSuccessAt: at(date, "04:00"),
			Observations: []sekisho.Observation{{Upstream: "orders_export", Type: config.TypeGlueJob, State: sekisho.JobSucceeded,
				ExternalID: "jr", StartedAt: at(date, "01:00"), FinishedAt: at(date, "03:00")}}})
		statustest.Put(t, st, statustest.Run{Pipeline: "mart", Date: date, State: sekisho.StateSucceeded, GateAt: at(date, "02:00"),
			TriggeredAt: at(date, "04:05"), FinishedAt: at(date, "04:35"), FirstSuccessAt: at(date, "04:35")})
	}
	statustest.Put(t, st, statustest.Run{Pipeline: "ingest", Date: day, State: sekisho.StateWaiting, GateAt: at(day, "02:00"),
		Observations: []sekisho.Observation{{Upstream: "orders_export", Type: config.TypeGlueJob, State: sekisho.JobRunning,
			ExternalID: "jr_late", StartedAt: at(day, "01:30")}}})
	statustest.Put(t, st, statustest.Run{Pipeline: "mart", Date: day, State: sekisho.StateWaiting, GateAt: at(day, "02:00"), Deadline: at(day, "05:00")})
	statustest.Put(t, st, statustest.Run{Pipeline: "done", Date: day, State: sekisho.StateSucceeded, GateAt: at(day, "02:00"),
		FinishedAt: at(day, "02:30"), FirstSuccessAt: at(day, "02:30")})

	b, err := status.Build(context.Background(), st, cfg, day, at(day, "04:00"))
	if err != nil {
		t.Fatal(err)
	}
	// The export runs past its usual two hours: now; ingest's DAG an hour;
	// mart's half an hour.
	for name, want := range map[string]time.Time{"ingest": at(day, "05:00"), "mart": at(day, "05:30")} {
		p := b.Pipeline(name)
		if p.ETA == nil || !p.ETA.Equal(want) {
			t.Errorf("%s eta = %v, want %s", name, p.ETA, want.Format("15:04"))
		}
	}
	m := b.Pipeline("mart")
	if m.ETACause == nil || m.ETACause.Upstream != "orders_export" || !slices.Equal(m.ETACause.Via, []string{"ingest"}) {
		t.Errorf("mart's cause = %+v", m.ETACause)
	}
	if got := m.ETAText("ja"); got != "見込み 05:30" {
		t.Errorf("ETAText(ja) = %q", got)
	}
	if got := m.ETAText("en"); got != "ETA 05:30" {
		t.Errorf("ETAText(en) = %q", got)
	}
	if p := b.Pipeline("done"); p.ETA != nil || p.ETAText("ja") != "" {
		t.Errorf("a finished run has eta %v", p.ETA)
	}
	raw, _ := json.Marshal(b)
	if !strings.Contains(string(raw), `"eta":"2026-11-03T05:30:00+09:00"`) || !strings.Contains(string(raw), `"eta":null`) {
		t.Errorf("JSON: %s", raw)
	}

	// An operator acknowledges the export's incident with an ETA of 06:10
	// (SPEC §20): that word overrides ingest's projection, and mart, two
	// stations down, is projected from it (SPEC §21).
	ctx := context.Background()
	cause := sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: day, Resource: "glue_job:orders-export", ExternalID: "jr_late",
		Upstream: "orders_export", State: "late"}
	if _, err := st.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{{Cause: cause, Members: []sekisho.IncidentMember{
		{Pipeline: "ingest", Date: day, Role: sekisho.RoleCause, Kind: "delay", State: sekisho.StateWaiting},
		{Pipeline: "done", Date: day, Role: sekisho.RoleAffected, Kind: "delay", State: sekisho.StateSucceeded}}}}, at(day, "04:00")); err != nil {
		t.Fatal(err)
	}
	if err := st.Acknowledge(ctx, store.Action{Kind: "ack", Pipeline: "ingest", Key: day, Request: "1", By: "api", Incident: cause.Key(), At: at(day, "04:05")},
		store.Ack{Incident: cause.Key(), By: "api", At: at(day, "04:05"), ETA: at(day, "06:10")}, nil); err != nil {
		t.Fatal(err)
	}
	b, err = status.Build(ctx, st, cfg, day, at(day, "04:10"))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]time.Time{"ingest": at(day, "06:10"), "mart": at(day, "06:40")} {
		if p := b.Pipeline(name); p.ETA == nil || !p.ETA.Equal(want) {
			t.Errorf("acknowledged: %s eta = %v, want %s", name, p.ETA, want.Format("15:04"))
		}
	}
	if p := b.Pipeline("ingest"); p.ETASource != "acknowledged" {
		t.Errorf("ingest's eta source = %q, want acknowledged", p.ETASource)
	}
	if p := b.Pipeline("done"); p.ETA != nil {
		t.Errorf("a finished member of an acknowledged incident has eta %v", p.ETA)
	}
}
