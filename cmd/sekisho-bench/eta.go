package main

// The ETA accuracy benchmark (issue #26): how good the projections of
// policy/eta are on a store's history. For every run with an SLO that
// succeeded, the projection is made again as the engine would have made
// it when the gate opened (the run and its line as the store says they
// stood then, the history of the days before) and compared with the first
// success; the at_risk notices the engine sent are compared with the
// delay notices: how much earlier they came, and how many were false
// alarms (the run met its deadline after all).

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
	"github.com/sekisho-dev/sekisho/store"
)

// etaFigures are one store's figures.
type etaFigures struct {
	runs               int // succeeded runs with a deadline, projected
	unprojected        int // runs the projection had nothing for at the gate
	p50, p90           time.Duration
	atRisk, delays     int
	leads              []time.Duration // delay − at_risk, for runs with both
	falseAlarms        int             // at_risk, then the deadline was met
	missedWithoutAlarm int             // delay without an at_risk before it
}

// gateLook is how long after the gate the projection is made: the
// engine's first look, after the gate's first poll.
const gateLook = time.Minute

func runETABench(ctx context.Context, path string) (etaFigures, error) {
	var f etaFigures
	st, err := store.Open(ctx, path) // reads an existing store; never creates or migrates one
	if err != nil {
		return f, err
	}
	defer st.Close()
	runs, err := st.Runs(ctx, store.RunFilter{})
	if err != nil {
		return f, err
	}
	byKey := map[[2]string]sekisho.Run{}
	for _, r := range runs {
		byKey[[2]string{r.Pipeline, r.LogicalDate}] = r
	}
	trs := map[int64][]sekisho.Transition{}
	transitions := func(r sekisho.Run) []sekisho.Transition {
		if ts, ok := trs[r.ID]; ok {
			return ts
		}
		ts, _ := st.Transitions(ctx, r.ID)
		trs[r.ID] = ts
		return ts
	}
	hist := map[[2]string]eta.History{}
	history := func(pipeline, date string) eta.History {
		k := [2]string{pipeline, date}
		if h, ok := hist[k]; ok {
			return h
		}
		h, _ := eta.Read(ctx, st, pipeline, date)
		hist[k] = h
		return h
	}
	// inputAt is a run as the engine knew it at t.
	inputAt := func(r sekisho.Run, t time.Time) (eta.Input, bool) {
		p, err := config.PipelineFromSpec(r.Spec)
		if err != nil {
			return eta.Input{}, false
		}
		cond, _ := condition.Parse(p.Condition, p.UpstreamNames())
		obs, err := st.ObservationsAt(ctx, r.ID, t)
		if err != nil {
			return eta.Input{}, false
		}
		return eta.InputOf(p, cond, asOf(r, transitions(r), t), obs, history(r.Pipeline, r.LogicalDate)), true
	}
	var errs []time.Duration
	for _, r := range runs {
		if r.Deadline.IsZero() || r.FirstSuccessAt.IsZero() || r.GateAt.IsZero() {
			continue
		}
		t := r.GateAt.Add(gateLook)
		if !r.FirstSuccessAt.After(t) {
			continue // done at the gate: nothing to project
		}
		in, ok := inputAt(r, t)
		if !ok {
			continue
		}
		proj := eta.Along(in, func(pipeline string) (eta.Input, bool) {
			other, ok := byKey[[2]string{pipeline, r.LogicalDate}]
			if !ok || other.GateAt.After(t) {
				return eta.Input{}, false
			}
			return inputAt(other, t)
		}, t)
		if !proj.Known() {
			f.unprojected++
			continue
		}
		f.runs++
		errs = append(errs, absDur(proj.At.Sub(r.FirstSuccessAt)))
	}
	f.p50, f.p90 = quantile(errs, 0.5), quantile(errs, 0.9)

	ns, err := st.AllNotices(ctx)
	if err != nil {
		return f, err
	}
	atRisk, delay := map[int64]time.Time{}, map[int64]time.Time{}
	for _, n := range ns {
		switch n.Kind {
		case sekisho.NoticeAtRisk:
			atRisk[n.RunID] = n.CreatedAt
		case sekisho.NoticeDelay:
			delay[n.RunID] = n.CreatedAt
		}
	}
	f.atRisk, f.delays = len(atRisk), len(delay)
	for id, at := range atRisk {
		if d, ok := delay[id]; ok {
			f.leads = append(f.leads, d.Sub(at))
		} else {
			f.falseAlarms++
		}
	}
	for id := range delay {
		if _, ok := atRisk[id]; !ok {
			f.missedWithoutAlarm++
		}
	}
	sort.Slice(f.leads, func(i, j int) bool { return f.leads[i] < f.leads[j] })
	return f, nil
}

// asOf is r as it stood at t: its state from the transitions up to t, and
// the times a later step set cleared.
func asOf(r sekisho.Run, ts []sekisho.Transition, t time.Time) sekisho.Run {
	out := r
	out.State = sekisho.StateWaiting
	for _, tr := range ts {
		if tr.At.After(t) {
			break
		}
		out.State = tr.To
	}
	clear := func(x *time.Time) {
		if x.After(t) {
			*x = time.Time{}
		}
	}
	clear(&out.TriggeredAt)
	clear(&out.StartedAt)
	clear(&out.FinishedAt)
	clear(&out.FirstSuccessAt)
	clear(&out.IntentAt)
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

func printETA(name string, f etaFigures) {
	fmt.Printf("## ETA accuracy: %s\n\n", name)
	fmt.Printf("| figure | value |\n|---|---|\n")
	fmt.Printf("| runs with an SLO projected at the gate (+%s) | %d (no projection: %d) |\n", gateLook, f.runs, f.unprojected)
	fmt.Printf("| absolute error of that ETA, median | %s |\n", f.p50.Round(time.Second))
	fmt.Printf("| absolute error of that ETA, p90 | %s |\n", f.p90.Round(time.Second))
	fmt.Printf("| at_risk notices | %d |\n", f.atRisk)
	fmt.Printf("| delay notices | %d (without an at_risk before: %d) |\n", f.delays, f.missedWithoutAlarm)
	if len(f.leads) > 0 {
		fmt.Printf("| at_risk before delay, minutes (median, min–max) | %.0f (%.0f–%.0f) |\n",
			quantile(f.leads, 0.5).Minutes(), f.leads[0].Minutes(), f.leads[len(f.leads)-1].Minutes())
	}
	fmt.Printf("| false alarms (at_risk, deadline met) | %d |\n\n", f.falseAlarms)
}
