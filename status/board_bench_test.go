package status_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// BenchmarkBuild10k builds the board of 10,000 pipelines, half of them
// waiting on another pipeline, with every gate open: what GET
// /api/v1/status, the board and the digest each pay per call.
func BenchmarkBuild10k(b *testing.B) {
	const n = 10000
	st := statustest.Open(b)
	day := "2026-11-01"
	gate := at(day, "02:00")
	cfg := &config.Config{Timezone: "Asia/Tokyo", Location: tokyo}
	var gates []store.Gate
	for i := range n {
		name := fmt.Sprintf("p%05d", i)
		var ups []string
		if i%2 == 1 {
			ups = append(ups, fmt.Sprintf("p%05d", i-1))
		}
		p := statustest.Pipeline(name, tokyo, "06:00", ups...)
		cfg.Pipelines = append(cfg.Pipelines, p)
		// Each run keeps its config snapshot, as the engine stores it.
		gates = append(gates, store.Gate{Run: sekisho.Run{Pipeline: name, LogicalDate: day, Key: day, GateAt: gate,
			TimeoutAt: gate.Add(6 * time.Hour), Spec: p.SpecFor(day, gate)}})
	}
	ctx := context.Background()
	for i := 0; i < n; i += 500 {
		if _, err := st.OpenGates(ctx, gates[i:i+500]); err != nil {
			b.Fatal(err)
		}
	}
	now := at(day, "03:00")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		bd, err := status.Build(ctx, st, cfg, "", now)
		if err != nil || len(bd.Pipelines) != n {
			b.Fatalf("%v, %d pipelines", err, len(bd.Pipelines))
		}
	}
}
