package warehouse

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/bigquerysim"
)

func TestBigQueryCheck(t *testing.T) {
	sim := bigquerysim.New()
	sim.DataLocation("asia-northeast1")
	srv := sim.NewServer()
	defer srv.Close()
	w := &config.Warehouse{Name: "bq", Type: config.WarehouseBigQuery, Project: "my-project", Location: "asia-northeast1",
		Endpoint: bigquerysim.Endpoint(srv)}
	c, err := Open(context.Background(), w, Options{NoGoogleAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	var count int64
	const q = "SELECT COUNT(*) FROM sales.orders WHERE order_date = '2026-03-02'"
	sim.Answer(q, func() ([]bigquerysim.Column, error) {
		return []bigquerysim.Column{{Type: "INTEGER", Value: count}}, nil
	})
	sim.Answer("SELECT true", func() ([]bigquerysim.Column, error) { return []bigquerysim.Column{{Type: "BOOLEAN", Value: true}}, nil })
	sim.Answer("SELECT NULL", func() ([]bigquerysim.Column, error) { return []bigquerysim.Column{{Type: "INTEGER"}}, nil })
	sim.Answer("SELECT 1 LIMIT 0", func() ([]bigquerysim.Column, error) { return nil, nil })
	sim.Answer("SELECT 0.5", func() ([]bigquerysim.Column, error) {
		return []bigquerysim.Column{{Type: "NUMERIC", Value: "0.5"}}, nil
	})
	sim.Answer("SELECT x FROM gone", func() ([]bigquerysim.Column, error) { return nil, errors.New("Not found: Table my-project:x.gone") })
	for _, tt := range []struct {
		query string
		want  bool
	}{{q, false}, {"SELECT true", true}, {"SELECT NULL", false}, {"SELECT 1 LIMIT 0", false}, {"SELECT 0.5", true}} {
		if got, err := c.Check(ctx, tt.query); err != nil || got != tt.want {
			t.Errorf("Check(%q) = %v, %v; want %v", tt.query, got, err, tt.want)
		}
	}
	// A slow job: jobs.query answers jobComplete false, the client polls
	// jobs.getQueryResults until it completes.
	count = 7
	sim.Slow(q, 2)
	if got, err := c.Check(ctx, q); err != nil || !got {
		t.Errorf("after the rows landed, through the polling path: %v, %v", got, err)
	}
	if _, err := c.Check(ctx, "SELECT x FROM gone"); err == nil || !strings.Contains(err.Error(), "Not found: Table") {
		t.Errorf("a failing query gave %v", err)
	}
	calls := sim.Calls()
	if calls["jobs.query"] != 7 || calls["jobs.getQueryResults"] < 2 || len(calls) != 2 {
		t.Errorf("REST calls: %v", calls)
	}
	if locs := sim.JobLocations(); len(locs) != 1 || locs["asia-northeast1"] != 7 {
		t.Errorf("jobs ran in %v; want all 7 in asia-northeast1", locs)
	}
}

// TestBigQueryLocation: the warehouse's location reaches every job, so a
// table in asia-northeast1 is found; without a location the job runs in the
// US, as BigQuery runs it, and the table is not found there.
func TestBigQueryLocation(t *testing.T) {
	sim := bigquerysim.New()
	sim.DataLocation("asia-northeast1")
	srv := sim.NewServer()
	defer srv.Close()
	const q = "SELECT COUNT(*) FROM sales.orders"
	sim.Answer(q, func() ([]bigquerysim.Column, error) { return []bigquerysim.Column{{Type: "INTEGER", Value: 3}}, nil })
	open := func(loc string) Client {
		w := &config.Warehouse{Name: "bq", Type: config.WarehouseBigQuery, Project: "my-project", Location: loc,
			Endpoint: bigquerysim.Endpoint(srv)}
		c, err := Open(context.Background(), w, Options{NoGoogleAuth: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	if ok, err := open("asia-northeast1").Check(context.Background(), q); err != nil || !ok {
		t.Errorf("with location asia-northeast1: %v, %v", ok, err)
	}
	sim.Slow(q, 2) // the polling path keeps the location too
	if ok, err := open("asia-northeast1").Check(context.Background(), q); err != nil || !ok {
		t.Errorf("with location asia-northeast1, polling: %v, %v", ok, err)
	}
	sim.Slow(q, 0)
	_, err := open("").Check(context.Background(), q)
	if err == nil || !strings.Contains(err.Error(), "Not found: Dataset my-project:sales was not found in location US") {
		t.Errorf("without a location: %v; want BigQuery's not-found in location US", err)
	}
	if locs := sim.JobLocations(); locs["asia-northeast1"] != 2 || locs["US"] != 1 {
		t.Errorf("jobs ran in %v", locs)
	}
}
