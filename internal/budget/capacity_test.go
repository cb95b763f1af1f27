package budget_test

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/internal/budget"
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
