package budget_test

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

func TestShares(t *testing.T) {
	var ps []*config.Pipeline
	for i := range 50 {
		ps = append(ps, &config.Pipeline{Name: "p", PokeInterval: time.Minute, Upstreams: []config.Upstream{
			{Name: "t", Type: config.TypeTroccoJob, JobDefinitionID: int64(i + 1)},
			{Name: "g", Type: config.TypeGlueJob, JobName: "same-job"}}})
	}
	cfg := &config.Config{Pipelines: ps, Connections: config.Connections{
		Trocco: &config.Trocco{RateLimit: config.DefaultTroccoRateLimit},
		Glue:   &config.Glue{}}}
	got := budget.Shares(cfg)
	if got["trocco"] != 8*time.Minute+20*time.Second {
		t.Errorf("trocco share %s, want 8m20s (50 resources, 90 polls per 15 minutes)", got["trocco"])
	}
	if _, ok := got["glue"]; ok {
		t.Error("glue has no budget, so no share")
	}
	if budget.ConnectionOf(config.Upstream{Type: config.TypeAirflowDag, Connection: "prod"}) != "airflow.prod" {
		t.Error("airflow connection name")
	}
	if len(budget.Warnings(cfg)) != 1 {
		t.Errorf("warnings %v", budget.Warnings(cfg))
	}
}

func TestWarehouseShares(t *testing.T) {
	// Ten sql checks on one warehouse with 10 requests a minute: polls get
	// 9 of them, so each check is asked every 10/9 minutes on average.
	var ups []config.Upstream
	for i := range 10 {
		ups = append(ups, config.Upstream{Name: "q", Type: config.TypeSQL, DataCheck: &config.DataCheck{Warehouse: "dwh", Query: "SELECT " + string(rune('0'+i))}})
	}
	ups = append(ups, config.Upstream{Name: "free", Type: config.TypeSQL, DataCheck: &config.DataCheck{Warehouse: "bq", Query: "SELECT 1"}})
	cfg := &config.Config{Pipelines: []*config.Pipeline{{Name: "p", PokeInterval: time.Minute, Upstreams: ups}},
		Connections: config.Connections{Warehouses: map[string]*config.Warehouse{
			"dwh": {Name: "dwh", RateLimit: config.RateLimit{Requests: 10, Per: time.Minute}},
			"bq":  {Name: "bq"}}}}
	got := budget.Shares(cfg)
	if got["warehouses.dwh"] != 67*time.Second {
		t.Errorf("dwh share %s, want 1m7s (10 checks, 9 polls a minute)", got["warehouses.dwh"])
	}
	if _, ok := got["warehouses.bq"]; ok {
		t.Error("bq has no budget, so no share")
	}
	if w := budget.Warnings(cfg); len(w) != 1 {
		t.Errorf("warnings %v, want one for connections.warehouses.dwh", w)
	}
}
