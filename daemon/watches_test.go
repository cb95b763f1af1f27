package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	sensorsql "github.com/sekisho-dev/sekisho/sensors/sql"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/world"
	"github.com/sekisho-dev/sekisho/testkit/pgtest"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// TestReloadClosesReplacedWarehouses: a reload closes the replaced sql
// sensor's connections, after a grace for checks under way.
func TestReloadClosesReplacedWarehouses(t *testing.T) {
	w := &config.Warehouse{Name: "dwh", Type: config.WarehousePostgres, DSN: config.Secret(pgtest.URL(t))}
	c, err := warehouse.Open(context.Background(), w, warehouse.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clock := clockwork.NewFakeClock()
	old := map[string]sekisho.Sensor{config.TypeSQL: sensorsql.New(map[string]warehouse.Client{"dwh": c}, clock)}
	done := closeReplaced(clock, old)
	if ok, err := c.Check(context.Background(), "SELECT true"); err != nil || !ok.Passed {
		t.Fatalf("closed before the grace ran out: %v %v", ok, err)
	}
	clock.Advance(replacedGrace)
	<-done
	if _, err := c.Check(context.Background(), "SELECT true"); err == nil {
		t.Error("the replaced sensor's pool still answers after the grace")
	}
}

// TestRunStartsTheWatches: the daemon `sekisho run`, the demo and the
// benchmark share runs the config's long-query watches beside the engine:
// a query on the Redshift simulator past the threshold reaches Slack as a
// long_query notice through the real Data API client.
func TestRunStartsTheWatches(t *testing.T) {
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 21, 1, 0, 0, 0, time.UTC))
	posted := make(chan slacksim.Message, 16)
	w, err := world.New(world.Options{Clock: clock, Slack: []slacksim.Option{slacksim.WithOnMessage(func(m slacksim.Message) { posted <- m })}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	w.Redshift.GrantMonitor("IAMR:sekisho")
	w.Redshift.StartQuery("analyst", "SELECT user_id, COUNT(*) FROM logs.access_log GROUP BY user_id")
	clock.Advance(31 * time.Minute)

	yaml := fmt.Sprintf(`version: 1
timezone: UTC
connections:
  warehouses:
    analytics: {type: redshift, region: %s, workgroup_name: analytics, database: dev, endpoint: %q}
%spipelines:
  - name: business_day
    schedule: "0 5 * * *"
    upstreams: []
watches:
  - name: long_queries
    type: long_queries
    warehouse: analytics
    threshold: 30m
    interval: 1m
`, world.AWSRegion, w.URLs.Redshift, w.SlackWebhook("en"))
	_, cfg, st := setup(t, yaml)
	d, err := New(context.Background(), Options{Config: cfg, Store: st, Clock: clock, Listen: "127.0.0.1:0",
		Logger: slog.New(slog.DiscardHandler),
		Tune:   Tuning{Warehouse: warehouse.Options{AWSAccessKey: world.AWSAccessKey, AWSSecretKey: world.AWSSecretKey, StatementPoll: time.Millisecond}}})
	if err != nil {
		t.Fatal(err)
	}
	if d.Watches() == nil {
		t.Fatal("a config with watches built no watch runner")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, nil) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	select {
	case m := <-posted:
		if !strings.Contains(m.Text, "A query has been running for a long time (long_queries: analytics)") ||
			!strings.Contains(m.Text, "analyst") {
			t.Fatalf("first Slack message is not the long_query notice: %q", m.Text)
		}
	case err := <-done:
		t.Fatalf("the daemon stopped: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("no long_query notice reached Slack: the daemon did not run the watch")
	}
}
