package metrics_test

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

func TestSilenceMetrics(t *testing.T) {
	st := statustest.Open(t)
	now := time.Date(2026, 11, 3, 7, 0, 0, 0, time.UTC)
	ctx := context.Background()
	add := func(from, to time.Duration, ps ...string) {
		if _, err := st.AddSilence(ctx, store.Silence{Pipelines: ps, Reason: "maintenance",
			StartsAt: now.Add(from), EndsAt: now.Add(to)}); err != nil {
			t.Fatal(err)
		}
	}
	add(-time.Hour, 2*time.Hour, "alpha", "beta")
	add(-time.Hour, 3*time.Hour, "alpha")
	add(time.Hour, 4*time.Hour, "gamma")
	add(-3*time.Hour, -time.Hour, "delta")
	cause := sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: "2026-11-03", Resource: "glue_job:x", ExternalID: "jr_1"}
	if _, err := st.AddNoticesWithIncidents(ctx, nil, []sekisho.IncidentChange{{Cause: cause, Members: []sekisho.IncidentMember{
		{Pipeline: "alpha", Date: "2026-11-03", Role: sekisho.RoleAffected, Kind: "delay", State: "waiting"},
		{Pipeline: "beta", Date: "2026-11-03", Role: sekisho.RoleAffected, Kind: "delay", State: "waiting"}}}}, now); err != nil {
		t.Fatal(err)
	}
	m := metrics.New()
	h := m.Handler(st, func() *config.Config { return &config.Config{Location: time.UTC} }, clockwork.NewFakeClockAt(now))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	body := string(b)
	for _, want := range []string{
		`sekisho_silences{state="active"} 2`,
		`sekisho_silences{state="pending"} 1`,
		`sekisho_silences{state="expired"} 1`,
		`sekisho_pipeline_silenced_until_seconds{pipeline="alpha"} 1.7937e+09`,
		`sekisho_pipeline_silenced_until_seconds{pipeline="beta"} 1.7936964e+09`,
		`sekisho_silences_scrape_error 0`,
		"sekisho_incidents_open 1",
		"sekisho_incident_affected_pipelines 2",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `pipeline="gamma"`) || strings.Contains(body, `pipeline="delta"`) {
		t.Error("a pending or expired silence marks a pipeline silenced")
	}
}
