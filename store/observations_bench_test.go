package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

// BenchmarkRecordObservations is what recording observations costs the
// writer, latest_observations' triggers included (migration 017): one
// observation (a pushed event, a poll answer), the first look at 400 new
// gates (800 observations, a pass's while gates open) and a batch of 500
// changes (a poll cycle's answers), on runs with two upstreams each.
func BenchmarkRecordObservations(b *testing.B) {
	for _, d := range storetest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			s, err := Init(ctx, storetest.Location(b, d))
			if err != nil {
				b.Fatal(err)
			}
			gates := make([]Gate, 1000)
			for i := range gates {
				gates[i] = Gate{Run: sekisho.Run{Pipeline: fmt.Sprintf("p%04d", i), LogicalDate: "2026-11-21", Key: "2026-11-21",
					GateAt: t0, TimeoutAt: t0.Add(time.Hour), Spec: []byte(`{}`)}}
			}
			runs, err := s.OpenGates(ctx, gates)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			// write is a change of each upstream of runs.
			write := func(runs []sekisho.Run) []ObservationWrite {
				n++
				ws := make([]ObservationWrite, 0, 2*len(runs))
				for _, r := range runs {
					for _, up := range []string{"extract", "load"} {
						ws = append(ws, ObservationWrite{Run: r.ID, Attempt: 1, Obs: sekisho.Observation{Upstream: up, Type: "glue_job",
							State: sekisho.JobRunning, ExternalID: fmt.Sprintf("jr_%d", n), StartedAt: t0, ObservedAt: t0.Add(time.Duration(n))}})
					}
				}
				return ws
			}
			b.Run("one", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					w := write(runs[i%len(runs) : i%len(runs)+1])[0]
					if _, err := s.RecordObservation(ctx, w.Run, 1, w.Obs); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("first=800", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					b.StopTimer()
					gates := make([]Gate, 400)
					for j := range gates {
						gates[j] = Gate{Run: sekisho.Run{Pipeline: fmt.Sprintf("q%d_%d", i, j), LogicalDate: "2026-11-21",
							Key: "2026-11-21", GateAt: t0, TimeoutAt: t0.Add(time.Hour), Spec: []byte(`{}`)}}
					}
					opened, err := s.OpenGates(ctx, gates)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := s.RecordObservations(ctx, write(opened)); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("batch=500", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					at := i * 250 % len(runs)
					if _, err := s.RecordObservations(ctx, write(runs[at:at+250])); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
