package storebench

import (
	"context"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// TestHourlyMonthWritesWhatTheEngineWrites: two days of three hourly
// pipelines are 144 runs, each with its gate, trigger, running and success
// transitions and one observation, and the SLO report reads them as 144
// intervals, one in 40 late, on both stores.
func TestHourlyMonthWritesWhatTheEngineWrites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, location string) {
		ctx := context.Background()
		st, err := teststore.Open(ctx, location)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		cfg := HourlyConfig(3)
		m, err := HourlyMonth(ctx, st, cfg, time.Date(2026, 6, 1, 7, 0, 0, 0, time.UTC), 2)
		if err != nil {
			t.Fatal(err)
		}
		if m.From != "2026-06-01" || m.To != "2026-06-02" || m.Runs != 144 || m.Transitions != 4*144 || m.Observations != 144 {
			t.Fatalf("wrote %+v, want 144 runs with 4 transitions and 1 observation each over 2026-06-01..02", m)
		}
		runs, err := st.OpenRuns(ctx)
		if err != nil || len(runs) != 0 {
			t.Fatalf("open runs %d (%v), want every hour finished", len(runs), err)
		}
		rep, err := slo.Compute(ctx, st, cfg, slo.Query{From: m.From, To: m.To, Now: time.Date(2026, 6, 4, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		intervals, met := 0, 0
		for _, r := range rep.Pipelines {
			if r.Intervals == nil || r.IntervalsMet == nil {
				t.Fatalf("%s: no intervals in the report: %+v", r.Pipeline, r)
			}
			intervals, met = intervals+*r.Intervals, met+*r.IntervalsMet
		}
		if late := (144 + 39) / 40; intervals != 144 || met != 144-late {
			t.Errorf("report: %d intervals, %d met; want 144 and %d", intervals, met, 144-late)
		}
	})
}
