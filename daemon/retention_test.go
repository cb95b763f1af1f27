package daemon

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/storetest"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// The leader's pruner (store.retention: 400d) prunes, on the injected
// clock, the finished runs older than the retention in batches, each its
// own transaction, while the engine's writes go in between the batches;
// it keeps the runs younger than the cut, and prunes again an hour on as
// the cut moves.
func TestPrunerPrunesInBatchesBesideTheEngine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, loc string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		st, err := teststore.Open(ctx, loc)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		clk := clockwork.NewFakeClockAt(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC))
		cfg := config.Fill(&config.Config{Location: time.UTC, Store: config.Store{Retention: 400 * 24 * time.Hour}})
		// The cut: 2025-10-26 is the oldest date kept now, 2025-10-27 a day on.
		run := func(p, date string, final sekisho.State) sekisho.Run {
			gate, _ := time.Parse(sekisho.DateLayout, date)
			r, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: p, LogicalDate: date, Key: date, GateAt: gate,
				TimeoutAt: gate.Add(time.Hour), Spec: []byte(`{}`)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if final == sekisho.StateWaiting {
				return r
			}
			next := r
			next.State, next.FinishedAt = final, gate.Add(time.Hour)
			if r, err = st.Apply(ctx, r, next, gate.Add(time.Hour), store.Step{Reason: "test"}); err != nil {
				t.Fatal(err)
			}
			return r
		}
		var old []sekisho.Run
		for _, p := range []string{"a", "b", "c"} {
			for _, d := range []string{"2025-10-20", "2025-10-21"} {
				old = append(old, run(p, d, sekisho.StateSucceeded))
			}
		}
		edge := run("a", "2025-10-26", sekisho.StateFailed)
		young := run("a", "2026-11-29", sekisho.StateSucceeded)

		var batches []int64
		engineWrites := 0
		p := &pruner{store: st, config: func() *config.Config { return cfg }, clock: clk, log: slog.New(slog.DiscardHandler), batch: 4,
			between: func(b store.Pruned) {
				batches = append(batches, b.Runs)
				// The engine opens and moves a gate between two batches.
				r := run("engine", "2026-11-3"+string(rune('0'+engineWrites%10)), sekisho.StateWaiting)
				next := r
				next.State = sekisho.StateBlocked
				if _, err := st.Apply(ctx, r, next, clk.Now(), store.Step{Reason: "test"}); err != nil {
					t.Errorf("an engine write between batches: %v", err)
				}
				engineWrites++
			}}
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx) }()
		if err := clk.BlockUntilContext(ctx, 1); err != nil { // the first pass is over; the pruner waits an hour
			t.Fatal(err)
		}
		// Six old runs, four a batch, by pipeline day oldest first: a, b
		// and c on the 20th and a on the 21st, then b and c on the 21st.
		if !slices.Equal(batches, []int64{4, 2}) || engineWrites != 2 {
			t.Fatalf("batches %v, engine writes %d; want [4 2] and 2", batches, engineWrites)
		}
		for _, r := range old {
			if _, err := st.Run(ctx, r.Pipeline, r.Key); !errors.Is(err, sekisho.ErrNotFound) {
				t.Errorf("%s %s not pruned: %v", r.Pipeline, r.Key, err)
			}
		}
		for _, r := range []sekisho.Run{edge, young} {
			if _, err := st.Run(ctx, r.Pipeline, r.Key); err != nil {
				t.Errorf("%s %s pruned: %v", r.Pipeline, r.Key, err)
			}
		}
		// A day on, the cut passes the 26th.
		clk.Advance(24 * time.Hour)
		if err := clk.BlockUntilContext(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Run(ctx, edge.Pipeline, edge.Key); !errors.Is(err, sekisho.ErrNotFound) || !slices.Equal(batches, []int64{4, 2, 1}) {
			t.Errorf("a day on: %s %s lookup %v, batches %v", edge.Pipeline, edge.Key, err, batches)
		}
		if _, err := st.Run(ctx, young.Pipeline, young.Key); err != nil {
			t.Errorf("the young run was pruned: %v", err)
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// Without store.retention nothing is pruned.
func TestPrunerKeepsEverythingByDefault(t *testing.T) {
	ctx := context.Background()
	st, err := teststore.Open(ctx, t.TempDir()+"/s.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gate := time.Date(2020, 1, 1, 2, 0, 0, 0, time.UTC)
	r, _, err := st.OpenGate(ctx, sekisho.Run{Pipeline: "a", LogicalDate: "2020-01-01", Key: "2020-01-01", GateAt: gate,
		TimeoutAt: gate, Spec: []byte(`{}`)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	next := r
	next.State = sekisho.StateSucceeded
	if _, err := st.Apply(ctx, r, next, gate, store.Step{Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	cfg := config.Fill(&config.Config{Location: time.UTC})
	p := &pruner{store: st, config: func() *config.Config { return cfg }, clock: clockwork.NewFakeClock(), log: slog.New(slog.DiscardHandler)}
	if got, err := p.pass(ctx); err != nil || got.Runs != 0 {
		t.Fatalf("pruned %+v, %v", got, err)
	}
	if _, err := st.Run(ctx, "a", "2020-01-01"); err != nil {
		t.Fatal(err)
	}
}
