package watch

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// BenchmarkDetectionLatency measures, on the Redshift Data API simulator
// through the real SDK, the real time from the moment a running query
// crosses the threshold (the pass the watch scheduled for that moment
// starts) to its long_query notice committed in the outbox, with 20 other
// queries running. It reports p50 and p99 over b.N detections.
func BenchmarkDetectionLatency(b *testing.B) {
	// poll is the wait between DescribeStatement calls of the measured
	// pass: the production default, and a quick one that shows sekisho's
	// own share.
	for _, poll := range []time.Duration{250 * time.Millisecond, time.Millisecond} {
		b.Run("statement_poll="+poll.String(), func(b *testing.B) { detection(b, poll) })
	}
}

func detection(b *testing.B, poll time.Duration) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC))
	sim := redshiftsim.New(clock)
	sim.GrantMonitor("sekisho")
	srv := sim.NewServer()
	defer srv.Close()
	wh := &config.Warehouse{Name: "rs", Type: config.WarehouseRedshift, Region: "ap-northeast-1", ClusterIdentifier: "c",
		Database: "dev", DBUser: "sekisho", Endpoint: srv.URL}
	c, err := warehouse.Open(context.Background(), wh, warehouse.Options{AWSAccessKey: "a", AWSSecretKey: "s", StatementPoll: time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	st, err := teststore.Open(context.Background(), filepath.Join(b.TempDir(), "s.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	w := &config.Watch{Name: "lq", Type: config.WatchLongQueries, Warehouse: "rs", Threshold: 30 * time.Minute, Interval: time.Minute,
		ExcludeUsers: []string{"etl"}}
	cfg := &config.Config{Timezone: "UTC", Watches: []*config.Watch{w}}
	r := New(cfg, st, map[string]warehouse.Client{"rs": c}, clock, nil, nil)
	measured, err := warehouse.Open(context.Background(), wh, warehouse.Options{AWSAccessKey: "a", AWSSecretKey: "s", StatementPoll: poll})
	if err != nil {
		b.Fatal(err)
	}
	rm := New(cfg, st, map[string]warehouse.Client{"rs": measured}, clock, nil, nil)
	for range 20 {
		sim.StartQuery("etl", "SELECT 1 -- short")
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		id := sim.StartQuery("analyst", "SELECT * FROM logs")
		// Passes every interval until the last one before the crossing,
		// which schedules the next pass at the crossing itself.
		var next time.Time
		for {
			if next, err = r.Pass(context.Background(), w); err != nil {
				b.Fatal(err)
			}
			if n, _ := st.OpenQueryAlerts(context.Background(), "lq"); len(n) > 0 {
				b.Fatal("alerted before the threshold")
			}
			clock.Advance(next.Sub(clock.Now()))
			if next.Sub(clock.Now()) <= 0 && !clock.Now().Before(sim.Started(id).Add(w.Threshold)) {
				break
			}
		}
		t0 := time.Now()
		if _, err := rm.Pass(context.Background(), w); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
		sim.EndQuery(id)
	}
	b.StopTimer()
	open, _ := st.OpenQueryAlerts(context.Background(), "lq")
	if total, _, _ := st.CountQueryAlerts(context.Background()); total != b.N || len(open) != 1 {
		b.Fatalf("%d alerts (%d open), want %d", total, len(open), b.N)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99_ms")
}
