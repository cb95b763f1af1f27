package metrics_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// BenchmarkScrape10k scrapes /metrics with 10,000 pipelines, each with an
// open run, reading the store at every scrape (the clock passes the
// collector's cache each time): what a Prometheus scrape costs the daemon
// at scale (issue 23: ≤ 100 ms and ≤ 10 MiB).
func BenchmarkScrape10k(b *testing.B) {
	const n = 10000
	st := statustest.Open(b)
	utc := time.UTC
	day := "2026-11-01"
	gate := time.Date(2026, 11, 1, 2, 0, 0, 0, utc)
	cfg := &config.Config{Location: utc}
	var gates []store.Gate
	for i := range n {
		p := statustest.Pipeline(fmt.Sprintf("p%05d", i), utc, "06:00")
		cfg.Pipelines = append(cfg.Pipelines, p)
		gates = append(gates, store.Gate{Run: sekisho.Run{Pipeline: p.Name, LogicalDate: day, Key: day, GateAt: gate,
			TimeoutAt: gate.Add(6 * time.Hour), Spec: []byte(`{}`)}})
	}
	ctx := context.Background()
	for i := 0; i < n; i += 500 {
		if _, err := st.OpenGates(ctx, gates[i:i+500]); err != nil {
			b.Fatal(err)
		}
	}
	clock := clockwork.NewFakeClockAt(gate.Add(time.Hour))
	h := metrics.New().Handler(st, func() *config.Config { return cfg }, clock)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		clock.Advance(time.Minute)
		w := &statustest.Discard{}
		h.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		if w.Code != 0 && w.Code != 200 || w.N < 10000*13*40 {
			b.Fatalf("status %d, %d bytes", w.Code, w.N)
		}
	}
}
