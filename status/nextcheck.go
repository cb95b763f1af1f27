package status

import (
	"time"

	"github.com/sekisho-dev/sekisho/config"
)

// setNextChecks fills NextCheckAt of e's upstreams still awaited (p's),
// from the poll schedule the engine keeps in the store (next:
// Store.NextChecks).
func setNextChecks(e *Pipeline, p *config.Pipeline, next map[string]time.Time) {
	if len(next) == 0 || e.State.Terminal() {
		return
	}
	for j := range e.Upstreams {
		if j >= len(p.Upstreams) || e.Upstreams[j].State.Ended() {
			continue
		}
		e.Upstreams[j].NextCheckAt = next[p.Upstreams[j].Resource().Key()]
	}
}
