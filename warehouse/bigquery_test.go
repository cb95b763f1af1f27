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
	if _, err := c.Running(ctx); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Running on BigQuery: %v", err)
	}
}
