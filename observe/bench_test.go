package observe

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/lineage"
)

// BenchmarkTail10k is one day of 10,000 pipelines (gate, trigger, running,
// success: 40,000 transitions) delivered as traces to an OTLP/HTTP receiver
// and as OpenLineage events to an HTTP endpoint, by one service pass. Run
// with -benchtime 1x: the cursor makes a second pass find nothing.
func BenchmarkTail10k(b *testing.B) {
	const n = 10000
	col := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-protobuf")
	}))
	defer col.Close()
	ol := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusCreated) }))
	defer ol.Close()
	b.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.URL)
	w := newWorld(b)
	cfg := &config.Config{Lineage: config.Lineage{URL: ol.URL, Namespace: "sekisho", Auth: "none"}}
	for i := 0; i < n; i++ {
		cfg.Pipelines = append(cfg.Pipelines, &config.Pipeline{Name: fmt.Sprintf("p%05d", i),
			Upstreams: []config.Upstream{{Name: "src", Type: config.TypeGlueJob, JobName: fmt.Sprintf("job-%d", i%500)}}})
	}
	w.cfg = cfg
	for i := 0; i < n; i++ {
		r := w.open(fmt.Sprintf("p%05d", i), "2026-11-21")
		r = w.trigger(r, gate.Add(30*time.Minute))
		r = w.move(r, sekisho.StateRunning, gate.Add(31*time.Minute), sekisho.ReasonDownstreamRunning, nil, nil)
		w.move(r, sekisho.StateSucceeded, gate.Add(time.Hour), sekisho.ReasonDownstreamSuccess, nil, nil)
	}
	lc, err := lineage.New(cfg.Lineage, lineage.Options{})
	if err != nil {
		b.Fatal(err)
	}
	s, err := New(w.ctx, Options{Store: w.st, Config: func() *config.Config { return cfg }, Clock: w.clock, Lineage: lc})
	if err != nil || s == nil {
		b.Fatal(err)
	}
	defer s.Close(w.ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.Pass(w.ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if cur, _ := w.st.Cursor(w.ctx, "lineage"); cur != 4*n {
		b.Fatalf("lineage cursor %d, want %d", cur, 4*n)
	}
}
