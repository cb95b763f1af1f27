package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// manyPipelines replaces the fixture's pipelines with n in chains of five,
// each chain fed by a Glue job and feeding a dashboard.
func manyPipelines(n int) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Pipelines = nil
		for i := 0; i < n; i++ {
			var ups []string
			if i%5 != 0 {
				ups = append(ups, fmt.Sprintf("p%04d", i-1))
			}
			p := statustest.Pipeline(fmt.Sprintf("p%04d", i), tokyo, "06:00", ups...)
			if i%5 == 0 {
				p.Upstreams = append(p.Upstreams, config.Upstream{Name: "src", Type: config.TypeGlueJob, JobName: fmt.Sprintf("job-%d", i/25)})
			}
			if i%5 == 4 {
				p.Impacts = []string{fmt.Sprintf("Dashboard %d", i/10)}
			}
			cfg.Pipelines = append(cfg.Pipelines, p)
		}
	}
}

// The map is the same on every refresh, and every pipeline is a station.
func TestRouteMapIsStable(t *testing.T) {
	f := newFixture(t, manyPipelines(60))
	_, _, first := f.do(t, http.MethodGet, "/map?lang=ja", "", "", "")
	_, _, again := f.do(t, http.MethodGet, "/map?lang=ja", "", "", "")
	if first != again {
		t.Fatal("two renderings of the same day differ")
	}
	for i := 0; i < 60; i++ {
		if !strings.Contains(first, fmt.Sprintf(`data-kind="pipeline" data-name="p%04d"`, i)) {
			t.Fatalf("pipeline p%04d is not drawn", i)
		}
	}
	if !strings.Contains(first, "路線図") {
		t.Error("the Japanese map has no Japanese title")
	}
}

// BenchmarkRouteMap500 renders GET /map for 500 pipelines (BENCHMARKS.md).
func BenchmarkRouteMap500(b *testing.B) {
	f := newFixture(b, manyPipelines(500))
	for b.Loop() {
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/map", nil))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
