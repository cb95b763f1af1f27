package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// Tail follows the transitions table (the public schema BI users read too)
// rather than the engine's logs, so the terminal shows exactly what the
// store recorded.
type Tail struct {
	Store *store.Store
	After int64 // the last id reported
}

// Poll reports the transitions appended since the last call.
func (t *Tail) Poll(ctx context.Context, fn func(sekisho.Transition)) error {
	ts, err := t.Store.TransitionsAfter(ctx, t.After, 500)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	for _, tr := range ts {
		t.After = tr.ID
		fn(tr)
	}
	return nil
}

// Follow polls every interval until ctx ends, calling after (if set) once
// the transitions of a poll were reported.
func (t *Tail) Follow(ctx context.Context, every time.Duration, fn func(sekisho.Transition), after func()) {
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		}
		_ = t.Poll(ctx, fn) // a busy moment is retried on the next tick
		if after != nil {
			after()
		}
	}
}
