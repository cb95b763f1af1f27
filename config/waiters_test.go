package config

import (
	"testing"

	"github.com/sekisho-dev/sekisho"
)

// TestWaitersIndexTheFirstWaiterOfEachResource: every polled resource maps
// to the first pipeline and upstream waiting on it; a pipeline upstream
// polls nothing.
func TestWaitersIndexTheFirstWaiterOfEachResource(t *testing.T) {
	a := &Pipeline{Name: "a", Upstreams: []Upstream{{Name: "x", Type: TypeGlueJob, JobName: "load"}}}
	b := &Pipeline{Name: "b", Upstreams: []Upstream{{Name: "y", Type: TypeGlueJob, JobName: "load"},
		{Name: "t", Type: TypeTroccoJob, JobDefinitionID: 7}, {Name: "up", Type: TypePipeline, Pipeline: "a"}}}
	w := (&Config{Pipelines: []*Pipeline{a, b}}).Waiters()
	if len(w) != 2 {
		t.Fatalf("Waiters = %v, want 2 resources", w)
	}
	if got := w[sekisho.Resource{Type: TypeGlueJob, ID: "load"}]; got.Pipeline != a || got.Upstream != "x" {
		t.Errorf("glue_job:load waited on first by %v", got)
	}
	if got := w[sekisho.Resource{Type: TypeTroccoJob, ID: "7"}]; got.Pipeline != b || got.Upstream != "t" {
		t.Errorf("trocco_job:7 waited on first by %v", got)
	}
	if len((*Config)(nil).Waiters()) != 0 {
		t.Error("a nil config waits on something")
	}
}
