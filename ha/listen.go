package ha

import "context"

// listen hears released leases (store.ListenLease) and wakes the loop, so
// a follower takes over within a round trip instead of at its next tick.
// Errors (no session of its own through a transaction-mode pooler, a
// restarted server) are logged once and retried every lease; meanwhile
// hand-over falls back to the tick.
func (e *Elector) listen(ctx context.Context) {
	logged := false
	for ctx.Err() == nil {
		err := e.st.ListenLease(ctx, func(holder string) {
			if holder == e.o.ID {
				return
			}
			select {
			case e.wake <- struct{}{}:
			default:
			}
		})
		if ctx.Err() != nil {
			return
		}
		if !logged {
			e.o.Logger.Warn("leader lease: LISTEN unavailable; hand-over waits for the next tick", "err", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return
		case <-e.o.Clock.After(e.o.Lease):
		}
	}
}
