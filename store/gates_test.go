package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
)

func TestOpenGatesOpensABatchAndSkipsOpenedOnes(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		before := gate(t, s, "b", "2026-11-21")
		gates := []Gate{
			{Run: sekisho.Run{Pipeline: "a", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0.Add(time.Hour),
				Deadline: t0.Add(2 * time.Hour), Spec: []byte(`{"a":1}`)}, Detail: map[string]any{"schedule": "0 2 * * *"}},
			{Run: sekisho.Run{Pipeline: "b", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0.Add(time.Minute), TimeoutAt: t0, Spec: []byte(`{}`)}},
			{Run: sekisho.Run{Pipeline: "c", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0.Add(time.Hour), Spec: []byte(`{}`)}},
		}
		created, err := s.OpenGates(ctx, gates)
		if err != nil {
			t.Fatal(err)
		}
		if len(created) != 2 || created[0].Pipeline != "a" || created[1].Pipeline != "c" {
			t.Fatalf("created = %+v", created)
		}
		a := created[0]
		if a.ID == 0 || a.State != sekisho.StateWaiting || a.Attempt != 1 || a.Version != 1 || !a.GateAt.Equal(t0) ||
			!a.Deadline.Equal(t0.Add(2*time.Hour)) || string(a.Spec) != `{"a":1}` {
			t.Fatalf("created run a = %+v", a)
		}
		if stored, err := s.Run(ctx, "a", "2026-11-21"); err != nil || stored.ID != a.ID || stored.Version != a.Version || !stored.TimeoutAt.Equal(a.TimeoutAt) {
			t.Fatalf("stored a = %+v, %v; returned %+v", stored, err, a)
		}
		trs, _ := s.Transitions(ctx, a.ID)
		if len(trs) != 1 || trs[0].Reason != sekisho.ReasonGateOpened || trs[0].Detail["schedule"] != "0 2 * * *" {
			t.Fatalf("transitions of a = %+v", trs)
		}
		// The gate opened before keeps its run and its one transition.
		if b, _ := s.Run(ctx, "b", "2026-11-21"); b.ID != before.ID || !b.GateAt.Equal(t0) {
			t.Fatalf("b = %+v", b)
		}
		if trs, _ := s.Transitions(ctx, before.ID); len(trs) != 1 {
			t.Fatalf("transitions of b = %+v", trs)
		}
		// Opening the same batch again creates nothing.
		if again, err := s.OpenGates(ctx, gates); err != nil || len(again) != 0 {
			t.Fatalf("again: %+v, %v", again, err)
		}
	})
}

func TestOpenGatesFencedWritesNothing(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		l, err := s.ClaimLease(ctx, "a", 0, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		stale := WithEpoch(ctx, l.Epoch+1)
		_, err = s.OpenGates(stale, []Gate{
			{Run: sekisho.Run{Pipeline: "a", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}},
			{Run: sekisho.Run{Pipeline: "b", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0, TimeoutAt: t0, Spec: []byte(`{}`)}},
		})
		if !errors.Is(err, ErrFenced) {
			t.Fatalf("stale batch: %v", err)
		}
		if runs, err := s.OpenRuns(ctx); err != nil || len(runs) != 0 {
			t.Fatalf("open runs after a fenced batch = %+v, %v", runs, err)
		}
	})
}

// BenchmarkOpenGates measures gates opened per second, one transaction per
// gate (OpenGate, as the engine did) against batches of engine.gateBatch.
func BenchmarkOpenGates(b *testing.B) {
	for _, d := range storetest.Dialects {
		for _, batch := range []int{1, 128} {
			b.Run(fmt.Sprintf("%s/batch=%d", d, batch), func(b *testing.B) {
				s, err := Init(context.Background(), storetest.Location(b, d))
				if err != nil {
					b.Fatal(err)
				}
				defer s.Close()
				ctx := context.Background()
				gates := make([]Gate, 0, batch)
				n := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					gates = append(gates, Gate{Run: sekisho.Run{Pipeline: fmt.Sprintf("p%06d", i), LogicalDate: "2026-11-21", Key: "2026-11-21",
						GateAt: t0, TimeoutAt: t0.Add(time.Hour), Spec: []byte(`{}`)}, Detail: map[string]any{"schedule": "0 2 * * *"}})
					if len(gates) == batch || i == b.N-1 {
						created, err := s.OpenGates(ctx, gates)
						if err != nil {
							b.Fatal(err)
						}
						n += len(created)
						gates = gates[:0]
					}
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "gates/s")
			})
		}
	}
}

// TestRunsOnLeavesTheSnapshotOut: the listing read gives every field of
// the run but its config snapshot.
func TestRunsOnLeavesTheSnapshotOut(t *testing.T) {
	eachStore(t, func(t *testing.T, s *Store) {
		ctx := context.Background()
		created, err := s.OpenGates(ctx, []Gate{{Run: sekisho.Run{Pipeline: "a", LogicalDate: "2026-11-21", Key: "2026-11-21", GateAt: t0,
			TimeoutAt: t0.Add(time.Hour), Deadline: t0.Add(2 * time.Hour), Spec: []byte(`{"name":"a"}`)}}})
		if err != nil || len(created) != 1 {
			t.Fatal(created, err)
		}
		on, err := s.RunsOn(ctx, []string{"2026-11-21"})
		if err != nil || len(on) != 1 {
			t.Fatal(on, err)
		}
		want := created[0]
		want.Spec = nil
		got := on[0]
		if len(got.Spec) != 0 {
			t.Fatalf("RunsOn read the snapshot %q", got.Spec)
		}
		got.Spec = nil
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("RunsOn = %+v\nwant %+v", got, want)
		}
	})
}
