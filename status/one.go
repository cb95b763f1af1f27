package status

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// ForPipeline builds the board entry of one pipeline on date. It reads only
// the pipeline and the pipelines upstream of it, so one run's page does not
// cost a whole board. A pipeline no longer in the config is still shown
// from the snapshot kept with its run; without a run either it is
// sekisho.ErrNotFound.
func ForPipeline(ctx context.Context, st *store.Store, cfg *config.Config, name, date string, now time.Time) (*Pipeline, error) {
	sub := &config.Config{Location: cfg.Location, Slack: cfg.Slack}
	if cfg.Pipeline(name) == nil {
		r, err := st.Run(ctx, name, date)
		if err != nil {
			return nil, err
		}
		p, err := config.PipelineFromSpec(r.Spec)
		if err != nil || p.Name != name {
			p = &config.Pipeline{Name: name, Location: cfg.Location}
		}
		sub.Pipelines = []*config.Pipeline{p}
	} else {
		seen := map[string]bool{}
		stack := []string{name}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			p := cfg.Pipeline(n)
			if seen[n] || p == nil {
				continue
			}
			seen[n] = true
			sub.Pipelines = append(sub.Pipelines, p)
			for _, u := range p.Upstreams {
				if u.Type == config.TypePipeline {
					stack = append(stack, u.Pipeline)
				}
			}
		}
	}
	if date == "" {
		return nil, errors.New("status: ForPipeline needs a date")
	}
	b, err := Build(ctx, st, sub, date, now)
	if err != nil {
		return nil, err
	}
	if p := b.Pipeline(name); p != nil {
		return p, nil
	}
	return nil, fmt.Errorf("pipeline %s: %w", name, sekisho.ErrNotFound)
}
