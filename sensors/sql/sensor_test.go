package sql

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// counting counts the check queries that reach the warehouse.
type counting struct {
	warehouse.Client
	mu    sync.Mutex
	calls map[string]int
}

func (c *counting) Check(ctx context.Context, q string) (warehouse.Result, error) {
	c.mu.Lock()
	c.calls[q]++
	c.mu.Unlock()
	return c.Client.Check(ctx, q)
}

const pipelinesYAML = `version: 1
defaults: {poke_interval: 1m, timeout: 6h}
connections:
  warehouses:
    dwh: {type: postgres, dsn: "${DWH_DSN}"}
pipelines:
  - name: mart
    schedule: "0 2 * * *"
    upstreams:
      - {name: orders_loaded, type: sql, warehouse: dwh, query: "SELECT COUNT(*) FROM orders WHERE order_date = '{{ .LogicalDate }}'"}
  - name: mart_copy
    schedule: "0 2 * * *"
    upstreams:
      - {name: same_check, type: sql, warehouse: dwh, query: "SELECT COUNT(*) FROM orders WHERE order_date = '{{ .LogicalDate }}'"}
  - name: broken
    schedule: "0 2 * * *"
    upstreams:
      - {name: typo, type: sql, warehouse: dwh, query: "SELECT COUNT(*) FROM orderz WHERE order_date = '{{ .LogicalDate }}'"}
`

type world struct {
	t     *testing.T
	clock *clockwork.FakeClock
	st    *store.Store
	eng   *engine.Engine
	dwh   *counting
	db    *pgx.Conn
}

func newWorld(t *testing.T) *world {
	return openWorld(t, pipelinesYAML, time.Date(2026, 3, 2, 1, 59, 0, 0, time.UTC),
		"CREATE TABLE orders (id serial, order_date date NOT NULL)")
}

// openWorld runs an engine on the injected clock over cfgYAML, whose
// warehouses all point at one real PostgreSQL database holding tables;
// the dwh warehouse's queries are counted.
func openWorld(t *testing.T, cfgYAML string, start time.Time, tables ...string) *world {
	t.Helper()
	ctx := context.Background()
	url := pgtest.URL(t)
	db, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	for _, q := range tables {
		if _, err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := config.Parse("pipelines.yaml", []byte(cfgYAML), func(k string) (string, bool) { return url, k == "DWH_DSN" })
	if err != nil {
		t.Fatal(err)
	}
	clients, err := warehouse.OpenAll(ctx, cfg.Connections.Warehouses, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { warehouse.CloseAll(clients) })
	dwh := &counting{Client: clients["dwh"], calls: map[string]int{}}
	clients["dwh"] = dwh
	clock := clockwork.NewFakeClockAt(start)
	st, err := teststore.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	eng, err := engine.New(cfg, engine.Options{Store: st, Clock: clock, Sync: true, Jitter: -1,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sensors: map[string]sekisho.Sensor{config.TypeSQL: New(clients, clock)}})
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, clock: clock, st: st, eng: eng, dwh: dwh, db: db}
}

// until steps the engine every 10 simulated seconds up to end.
func (w *world) until(end time.Time) {
	w.t.Helper()
	for {
		if err := w.eng.Step(context.Background()); err != nil {
			w.t.Fatal(err)
		}
		if !w.clock.Now().Before(end) {
			return
		}
		w.clock.Advance(10 * time.Second)
	}
}

func (w *world) run(pipeline string) sekisho.Run {
	w.t.Helper()
	r, err := w.st.Run(context.Background(), pipeline, "2026-03-02")
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func TestSQLGateHoldsUntilRowsLand(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.until(time.Date(2026, 3, 2, 2, 30, 0, 0, time.UTC))
	if r := w.run("mart"); r.State != sekisho.StateWaiting {
		t.Fatalf("mart is %s while the check returns 0, want waiting", r.State)
	}
	obs, _ := w.st.LatestObservations(ctx, w.run("mart").ID)
	if o := obs["orders_loaded"]; o.State != sekisho.JobPending || o.Error != "" || !strings.Contains(o.Message, "waiting for the data") {
		t.Errorf("observation while empty: %+v", o)
	}
	// Yesterday's rows do not count; today's land at 02:30.
	if _, err := w.db.Exec(ctx, "INSERT INTO orders (order_date) VALUES ('2026-03-01'), ('2026-03-02')"); err != nil {
		t.Fatal(err)
	}
	landed := w.clock.Now()
	w.until(landed.Add(time.Minute + 10*time.Second))
	for _, p := range []string{"mart", "mart_copy"} {
		r := w.run(p)
		if r.State != sekisho.StateSucceeded {
			t.Fatalf("%s is %s a poke interval after the rows landed", p, r.State)
		}
		if late := r.FinishedAt.Sub(landed); late > time.Minute {
			t.Errorf("%s opened %s after the rows landed, want within one interval", p, late)
		}
	}
	// The broken check keeps its pipeline waiting with the error shown.
	r := w.run("broken")
	if r.State != sekisho.StateWaiting {
		t.Errorf("a failing check query made the run %s", r.State)
	}
	obs, _ = w.st.LatestObservations(ctx, r.ID)
	if o := obs["typo"]; o.State == sekisho.JobFailed || !strings.Contains(o.Error, `relation "orderz" does not exist`) {
		t.Errorf("observation of the failing check: %+v", o)
	}
	// Shared polling: mart and mart_copy render the same query, so it ran
	// once per interval from 02:00 to 02:31, not twice.
	q := "SELECT COUNT(*) FROM orders WHERE order_date = '2026-03-02'"
	if n := w.dwh.calls[q]; n < 31 || n > 32 {
		t.Errorf("the shared query ran %d times in 31 minutes at a 1m interval, want 31 or 32", n)
	}
}
