package slackact

import (
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// MaintenanceSilences are the config's maintenance windows (SPEC §20) that
// overlap [from, to), as silences: recurring silences that need no store
// row, so a window in pipelines.yaml holds on every replica from the moment
// the config is loaded, and is gone when the entry is removed. Each gets a
// stable id, "maint_<entry>_<start, unix seconds>".
func MaintenanceSilences(cfg *config.Config, from, to time.Time) store.Silences {
	if cfg == nil {
		return nil
	}
	var out store.Silences
	for i, m := range cfg.Maintenance {
		pipelines := m.Pipelines
		if len(pipelines) == 0 {
			for _, p := range cfg.Pipelines {
				pipelines = append(pipelines, p.Name)
			}
		}
		for _, w := range m.Windows(from, to) {
			out = append(out, store.Silence{ID: fmt.Sprintf("maint_%d_%d", i, w[0].Unix()), Pipelines: pipelines,
				Reason: m.Reason, StartsAt: w[0], EndsAt: w[1], CreatedAt: w[0]})
		}
	}
	return out
}
