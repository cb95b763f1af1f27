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
	acked, readErr := acknowledgedETAs(ctx, st)
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
			return eta.Input{Pipeline: name, Run: r, Acknowledged: acked[[2]string{name, date}]}, true
		}
		cond, err := condition.Parse(p.Condition, p.UpstreamNames())
		if err != nil {
			cond = nil // a condition the config validated; nil is "all"
		}
		in := eta.InputOf(p, cond, r, obs[r.ID], history(name, date))
		in.Acknowledged = acked[[2]string{name, date}]
		return in, true
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
			e.ETA, e.ETACause, e.ETASource = &at, &proj.Cause, proj.Source
		}
	}
	return readErr
}

// acknowledgedETAs is, for each unfinished member (pipeline, logical date)
// of an open incident, the ETA an operator gave when acknowledging it
// (SPEC §20). It overrides the projection of that run, and through
// eta.Along the projections of the runs waiting on it (SPEC §21). A member
// of two acknowledged incidents takes the later ETA: it is not back before
// both are fixed.
func acknowledgedETAs(ctx context.Context, st *store.Store) (map[[2]string]time.Time, error) {
	open, err := st.OpenIncidents(ctx)
	if err != nil || len(open) == 0 {
		return nil, err
	}
	keys := make([]string, 0, len(open))
	for _, in := range open {
		keys = append(keys, in.Key)
	}
	acks, err := st.Acks(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := map[[2]string]time.Time{}
	for _, in := range open {
		a, ok := acks[in.Key]
		if !ok || a.ETA.IsZero() {
			continue
		}
		for _, m := range in.Members {
			k := [2]string{m.Pipeline, m.Date}
			if m.Done() {
				continue
			}
			if t, ok := out[k]; !ok || a.ETA.After(t) {
				out[k] = a.ETA
			}
		}
	}
	return out, nil
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
