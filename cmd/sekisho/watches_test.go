package main

import (
	"context"
	"testing"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/internal/pgtest"
	sensorsql "github.com/sekisho-dev/sekisho/sensors/sql"
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
	if ok, err := c.Check(context.Background(), "SELECT true"); err != nil || !ok {
		t.Fatalf("closed before the grace ran out: %v %v", ok, err)
	}
	clock.Advance(replacedGrace)
	<-done
	if _, err := c.Check(context.Background(), "SELECT true"); err == nil {
		t.Error("the replaced sensor's pool still answers after the grace")
	}
}
