package status

import (
	"context"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
	"github.com/sekisho-dev/sekisho/store"
)

// setETAs projects every open run's success along its line (SPEC §21) with
// policy/eta, the projection the engine's at_risk uses, from the stored
// runs and observations of the board's dates and each pipeline's history.
func setETAs(ctx context.Context, st *store.Store, cfg *config.Config, b *Board, runs map[[2]string]sekisho.Run,
	obs map[int64]map[string]sekisho.Observation, now time.Time) error {
	hist := map[string]eta.History{}
	var readErr error
	history := func(pipeline, date string) eta.History {
		key := pipeline + "/" + date
		if h, ok := hist[key]; ok {
			return h
		}
		h, err := eta.Read(ctx, st, pipeline, date)
		if err != nil && readErr == nil {
			readErr = err
		}
		hist[key] = h
		return h
	}
	inputOf := func(name, date string) (eta.Input, bool) {
		r, ok := runs[[2]string{name, date}]
		if !ok {
			return eta.Input{}, false
		}
		p := cfg.Pipeline(name)
		if p == nil {
			return eta.Input{Pipeline: name, Run: r}, true
		}
		cond, err := condition.Parse(p.Condition, p.UpstreamNames())
		if err != nil {
			cond = nil // a condition the config validated; nil is "all"
		}
		return eta.InputOf(p, cond, r, obs[r.ID], history(name, date)), true
	}
	for _, e := range b.Pipelines {
		if !e.HasRun || !e.State.Open() {
			continue
		}
		in, ok := inputOf(e.Name, e.LogicalDate)
		if !ok {
			continue
		}
		date := e.LogicalDate
		proj := eta.Along(in, func(pipeline string) (eta.Input, bool) { return inputOf(pipeline, date) }, now)
		if proj.Known() {
			at := proj.At.In(e.Location)
			e.ETA, e.ETACause = &at, &proj.Cause
		}
	}
	return readErr
}

// ETAText is an open run's projection as the board and the route map show
// it: "見込み 06:25" (ja) or "ETA 06:25" (en), a day-crossing time with its
// date; empty without a projection.
func (p *Pipeline) ETAText(lang string) string {
	if p.ETA == nil {
		return ""
	}
	word := "見込み"
	if lang == "en" {
		word = "ETA"
	}
	return word + " " + Clock(*p.ETA, p.LogicalDate, p.Location)
}
