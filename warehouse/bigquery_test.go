package warehouse

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

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
		want  string
	}{{q, "fail 0"}, {"SELECT true", "pass"}, {"SELECT NULL", "fail"}, {"SELECT 1 LIMIT 0", "fail"}, {"SELECT 0.5", "pass 0.5"}} {
		if got, err := c.Check(ctx, tt.query); err != nil || got.String() != tt.want {
			t.Errorf("Check(%q) = %v, %v; want %v", tt.query, got, err, tt.want)
		}
	}
	// A slow job: jobs.query answers jobComplete false, the client polls
	// jobs.getQueryResults until it completes.
	count = 7
	sim.Slow(q, 2)
	if got, err := c.Check(ctx, q); err != nil || got.String() != "pass 7" {
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
	if ok, err := open("asia-northeast1").Check(context.Background(), q); err != nil || !ok.Passed {
		t.Errorf("with location asia-northeast1: %v, %v", ok, err)
	}
	sim.Slow(q, 2) // the polling path keeps the location too
	if ok, err := open("asia-northeast1").Check(context.Background(), q); err != nil || !ok.Passed {
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

// TestBigQueryRunning: the long-query watch lists every user's running
// query jobs through jobs.list (allUsers, stateFilter=running), leaves out
// sekisho's own labelled check jobs, and without bigquery.jobs.listAll sees
// only the caller's jobs, as BigQuery lists them.
func TestBigQueryRunning(t *testing.T) {
	sim := bigquerysim.New()
	start := time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC)
	sim.SetClock(func() time.Time { return start })
	srv := sim.NewServer()
	defer srv.Close()
	w := &config.Warehouse{Name: "bq", Type: config.WarehouseBigQuery, Project: "my-project", Endpoint: bigquerysim.Endpoint(srv)}
	c, err := Open(context.Background(), w, Options{NoGoogleAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	id := sim.StartJob("analyst@example.com", "SELECT * FROM logs.access", "US")
	ended := sim.StartJob("etl@example.com", "SELECT 1", "US")
	sim.EndJob(ended)
	// sekisho's own check, still running (incomplete): labelled, left out.
	sim.Answer("SELECT true", func() ([]bigquerysim.Column, error) { return []bigquerysim.Column{{Type: "BOOLEAN", Value: true}}, nil })
	sim.Slow("SELECT true", 100)
	ctx, cancel := context.WithCancel(context.Background())
	go c.Check(ctx, "SELECT true")
	defer cancel()
	for sim.Runs("SELECT true") == 0 {
		time.Sleep(time.Millisecond) // waiting for the check's first request, not for a schedule
	}
	qs, err := c.Running(context.Background())
	if err != nil || len(qs) != 0 {
		t.Fatalf("without bigquery.jobs.listAll: %+v, %v; want only the caller's own jobs, which are sekisho's", qs, err)
	}
	sim.GrantListAll()
	qs, err = c.Running(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) != 1 || qs[0].Key != id || qs[0].User != "analyst@example.com" || qs[0].Text != "SELECT * FROM logs.access" ||
		!qs[0].StartedAt.Equal(start) {
		t.Errorf("with bigquery.jobs.listAll: %+v", qs)
	}
	if n := sim.Calls()["jobs.list"]; n != 2 {
		t.Errorf("jobs.list called %d times, want 2", n)
	}
}
