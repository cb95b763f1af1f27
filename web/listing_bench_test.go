package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/statustest"
)

// BenchmarkListings10k answers the three listings of 10,000 pipelines
// through the daemon's handler, every gate of the day open and each
// chain's head seen running its job, none late yet, a minute apart (the metrics' own
// 30 s cache passes each time): what each costs the daemon per call
// (issue 23: ≤ 100 ms and ≤ 10 MiB each). The status cache is filled
// before the timer starts; the answer is counted and dropped. "/?late" is
// the board page once every deadline has passed.
func BenchmarkListings10k(b *testing.B) {
	f := newFixture(b, manyPipelines(10000))
	ctx := context.Background()
	var gates []store.Gate
	for _, p := range f.cfg.Pipelines {
		gates = append(gates, store.Gate{Run: sekisho.Run{Pipeline: p.Name, LogicalDate: day, Key: day, GateAt: at(day, "02:00"),
			TimeoutAt: at(day, "11:00"), Deadline: at(day, "12:00"), Spec: []byte(`{}`)}})
	}
	for i := 0; i < len(gates); i += 500 {
		runs, err := f.st.OpenGates(ctx, gates[i:min(i+500, len(gates))])
		if err != nil {
			b.Fatal(err)
		}
		var obs []store.ObservationWrite
		for _, r := range runs {
			if p := f.cfg.Pipeline(r.Pipeline); len(p.Upstreams) > 0 && p.Upstreams[len(p.Upstreams)-1].Type == config.TypeGlueJob {
				obs = append(obs, store.ObservationWrite{Run: r.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: "src",
					Type: config.TypeGlueJob, State: sekisho.JobRunning, ExternalID: "jr_" + r.Pipeline, ObservedAt: at(day, "02:05")}})
			}
		}
		if _, err := f.st.RecordObservations(ctx, obs); err != nil {
			b.Fatal(err)
		}
	}
	for _, path := range []string{"/api/v1/status", "/", "/metrics", "/?late"} {
		if path == "/?late" {
			// Past every deadline: the board page with 10,000 pipelines
			// late (the affected section lists 50 of them).
			f.clock.Advance(6 * time.Hour)
		}
		b.Run(path, func(b *testing.B) {
			serve := func() {
				f.clock.Advance(time.Minute)
				w := &statustest.Discard{}
				f.h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
				if w.Code != 0 && w.Code != http.StatusOK || w.N < 10000 {
					b.Fatalf("%s: status %d, %d bytes", path, w.Code, w.N)
				}
			}
			serve()
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				serve()
			}
		})
	}
}
