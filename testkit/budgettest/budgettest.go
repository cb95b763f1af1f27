// Package budgettest drives a fake clock for callers that wait on a
// budget: it advances time whenever every caller is blocked on it, so a
// test of a long schedule runs in milliseconds without sleeping.
package budgettest

import (
	"context"
	"time"

	"github.com/jonboulle/clockwork"
)

// Drive advances clk by step each time at least one caller waits on it,
// until done is closed.
func Drive(clk *clockwork.FakeClock, step time.Duration, done <-chan struct{}) {
	for {
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-done:
				cancel()
			case <-ctx.Done():
			}
		}()
		err := clk.BlockUntilContext(ctx, 1)
		cancel()
		if err != nil {
			return
		}
		clk.Advance(step)
	}
}
