package sql

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// BenchmarkSharedPolling200On50 runs 200 sql upstreams (200 pipelines)
// whose queries render to 50 distinct texts on the Redshift Data API
// simulator, through the real SDK, for one simulated hour at a 1m poke
// interval, and reports the statements per distinct query per interval
// (goal: exactly 1).
func BenchmarkSharedPolling200On50(b *testing.B) {
	var y strings.Builder
	y.WriteString("version: 1\ndefaults: {poke_interval: 1m}\nconnections:\n  warehouses:\n    rs: {type: redshift, region: ap-northeast-1, workgroup_name: wg, database: dev, endpoint: \"${EP}\"}\npipelines:\n")
	for i := range 200 {
		fmt.Fprintf(&y, "  - {name: p%d, schedule: \"0 2 * * *\", upstreams: [{name: u, type: sql, warehouse: rs, query: \"SELECT COUNT(*) FROM t%d WHERE d = '{{ .LogicalDate }}'\"}]}\n", i, i%50)
	}
	for range b.N {
		sim := redshiftsim.New(nil)
		for i := range 50 {
			sim.Answer(fmt.Sprintf("SELECT COUNT(*) FROM t%d WHERE d = '2026-03-02'", i), func() ([]redshiftsim.Value, error) { return []redshiftsim.Value{int64(0)}, nil })
		}
		srv := sim.NewServer()
		cfg, err := config.Parse("p.yaml", []byte(y.String()), func(string) (string, bool) { return srv.URL, true })
		if err != nil {
			b.Fatal(err)
		}
		clients, err := warehouse.OpenAll(context.Background(), cfg.Connections.Warehouses,
			warehouse.Options{AWSAccessKey: "a", AWSSecretKey: "s", StatementPoll: time.Millisecond})
		if err != nil {
			b.Fatal(err)
		}
		clock := clockwork.NewFakeClockAt(time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC))
		st, err := teststore.Open(context.Background(), filepath.Join(b.TempDir(), "s.db"))
		if err != nil {
			b.Fatal(err)
		}
		eng, err := engine.New(cfg, engine.Options{Store: st, Clock: clock, Sync: true, Jitter: -1,
			Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
			Sensors: map[string]sekisho.Sensor{config.TypeSQL: New(clients, clock)}})
		if err != nil {
			b.Fatal(err)
		}
		for range 60 * 6 {
			if err := eng.Step(context.Background()); err != nil {
				b.Fatal(err)
			}
			clock.Advance(10 * time.Second)
		}
		stats := sim.Stats()
		total := 0
		for _, n := range stats.BySQL {
			total += n
		}
		b.ReportMetric(float64(len(stats.BySQL)), "distinct_queries")
		b.ReportMetric(float64(total)/float64(len(stats.BySQL))/60, "statements/query/interval")
		st.Close()
		srv.Close()
	}
}
