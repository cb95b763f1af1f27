package slackact_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// BenchmarkFollowUpPass is the leader's per-minute cost of SPEC §20's
// follow-ups: one pass over 200 open incidents (two members each, half of
// them acknowledged with an ETA) on SQLite, nothing due.
func BenchmarkFollowUpPass(b *testing.B) {
	ctx := context.Background()
	st, err := teststore.Open(ctx, b.TempDir()+"/s.db")
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	t0 := time.Date(2026, 11, 21, 2, 0, 0, 0, tokyo)
	var changes []sekisho.IncidentChange
	cfg := config.Fill(&config.Config{Location: tokyo})
	for i := range 200 {
		p := fmt.Sprintf("p%03d", i)
		pc := &config.Pipeline{Name: p, Schedule: "0 2 * * *", Timezone: "Asia/Tokyo", Location: tokyo,
			Notify: config.Notify{EscalateAfter: time.Hour, EscalateTo: "<!subteam^S0ONCALL>"}}
		cfg.Pipelines = append(cfg.Pipelines, pc)
		changes = append(changes, sekisho.IncidentChange{
			Cause: sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: "2026-11-21", Pipeline: p, State: "failed"},
			Members: []sekisho.IncidentMember{
				{Pipeline: p, Date: "2026-11-21", Role: sekisho.RoleCause, Kind: sekisho.NoticeRunFailed, State: sekisho.StateFailed},
				{Pipeline: p + "_down", Date: "2026-11-21", Role: sekisho.RoleAffected, Kind: sekisho.NoticeUpstreamFailed, State: sekisho.StateBlocked},
			}})
	}
	if _, err := st.AddNoticesWithIncidents(ctx, nil, changes, t0); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 200; i += 2 {
		t := slackact.Target{Pipeline: fmt.Sprintf("p%03d", i), Key: "2026-11-21"}
		key := sekisho.IncidentCause{Kind: sekisho.CauseRun, Pipeline: t.Pipeline, Date: t.Key}.Key()
		by := engine.By{Who: engine.BySlack("U0OPS"), Request: fmt.Sprintf("1.%d", i), Incident: key}
		if err := slackact.Acknowledge(ctx, st, t, by, "oncall", t0.Add(3*time.Hour), t0); err != nil {
			b.Fatal(err)
		}
	}
	clock := clockwork.NewFakeClockAt(t0.Add(30 * time.Minute))
	r := &slackact.FollowUpRunner{Store: st, Config: func() *config.Config { return cfg }, Clock: clock}
	b.ResetTimer()
	for range b.N {
		if _, err := r.Pass(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
