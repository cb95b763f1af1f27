package status

import (
	"context"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// setNextChecks fills NextCheckAt of the upstreams still awaited, from the
// poll schedule the engine keeps in the store.
func setNextChecks(ctx context.Context, st *store.Store, cfg *config.Config, b *Board) error {
	next, err := st.NextChecks(ctx)
	if err != nil || len(next) == 0 {
		return err
	}
	for i, p := range b.Pipelines {
		cp := cfg.Pipelines[i]
		if cp.Name != p.Name {
			cp = cfg.Pipeline(p.Name)
		}
		if cp == nil || p.State.Terminal() {
			continue
		}
		for j := range p.Upstreams {
			if j >= len(cp.Upstreams) || p.Upstreams[j].State.Ended() {
				continue
			}
			p.Upstreams[j].NextCheckAt = next[cp.Upstreams[j].Resource().Key()]
		}
	}
	return nil
}
