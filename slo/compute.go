package slo

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// Compute builds the SLO report for q from the runs in st, judged against
// cfg's pipelines. An unknown q.Pipeline is an error wrapping
// sekisho.ErrNotFound; a range without counted days gives zero counts and
// null percentages.
func Compute(ctx context.Context, st *store.Store, cfg *config.Config, q Query) (*Report, error) {
	s, err := resolve(cfg, q)
	if err != nil {
		return nil, err
	}
	rep := &Report{From: s.from, To: s.to, Pipelines: make([]Row, 0, len(s.pipelines))}
	accs := make([]acc, len(s.pipelines))
	err = walk(ctx, st, s, func(i int, _ *config.Pipeline, d *day) { accs[i].add(d) })
	if err != nil {
		return nil, err
	}
	var all acc
	n := 0
	for i := range accs {
		n += len(accs[i].finish)
	}
	all.finish = make([]int32, 0, n)
	all.duration = make([]int32, 0, n)
	for i, p := range s.pipelines {
		rep.Pipelines = append(rep.Pipelines, accs[i].row(p.Name, p.SLO))
		all.merge(&accs[i])
		accs[i] = acc{} // let the samples go
	}
	rep.Overall = all.row("", nil)
	// Pipelines have objectives of their own, so the overall budget is the
	// sum of theirs (overspent ones included), not one objective applied
	// to all days.
	for _, r := range rep.Pipelines {
		if r.ErrorBudgetLeft != nil {
			if rep.Overall.ErrorBudgetLeft == nil {
				rep.Overall.ErrorBudgetLeft = new(int)
			}
			*rep.Overall.ErrorBudgetLeft += *r.ErrorBudgetLeft
		}
	}
	return rep, nil
}

// acc accumulates one pipeline's days, or every pipeline's for the overall row.
type acc struct {
	days, sloDays, sloMet, slaDays, slaMet, skipped int
	runDays, attempts                               int
	finish, duration                                []int32 // seconds
}

func (a *acc) add(d *day) {
	if d.cell == CellSkipped {
		a.skipped++
		return
	}
	if !d.counted() {
		return
	}
	a.days++
	if d.slo.Decided() {
		a.sloDays++
		if d.slo == VerdictMet {
			a.sloMet++
		}
	}
	if d.sla.Decided() {
		a.slaDays++
		if d.sla == VerdictMet {
			a.slaMet++
		}
	}
	if d.hasRun {
		a.runDays++
		a.attempts += d.attempts
	}
	if success := d.success; success != 0 {
		if d.deadline != 0 {
			a.finish = append(a.finish, seconds(success-d.deadline))
		}
		if d.gate != 0 {
			a.duration = append(a.duration, seconds(success-d.gate))
		}
	}
}

func (a *acc) merge(b *acc) {
	a.days += b.days
	a.sloDays += b.sloDays
	a.sloMet += b.sloMet
	a.slaDays += b.slaDays
	a.slaMet += b.slaMet
	a.skipped += b.skipped
	a.runDays += b.runDays
	a.attempts += b.attempts
	a.finish = append(a.finish, b.finish...)
	a.duration = append(a.duration, b.duration...)
}

func seconds(ms int64) int32 { return int32(math.Round(float64(ms) / 1000)) }

func (a *acc) row(name string, objective *config.SLO) Row {
	r := Row{Pipeline: name, Days: a.days, SLODays: a.sloDays, SLOMet: a.sloMet, SLADays: a.slaDays,
		SLAMet: a.slaMet, Skipped: a.skipped, Missed: a.sloDays - a.sloMet}
	r.SLOPct = pct(a.sloMet, a.sloDays)
	r.SLAPct = pct(a.slaMet, a.slaDays)
	if objective != nil && objective.Objective > 0 {
		o := round2(objective.Objective * 100)
		r.Objective = &o
		// The epsilon keeps 0.05 × 20 = 1.0000000000000009 (or 0.9999…)
		// from losing a whole day of budget to float rounding.
		allowed := int(math.Floor((1-objective.Objective)*float64(a.sloDays) + 1e-9))
		left := allowed - r.Missed
		r.ErrorBudgetLeft = &left
	}
	if a.runDays > 0 {
		v := round2(float64(a.attempts) / float64(a.runDays))
		r.AttemptsPerDay = &v
	}
	slices.Sort(a.finish)
	slices.Sort(a.duration)
	if p, ok := percentile(a.finish, 50); ok {
		r.FinishP50Seconds, r.FinishP50 = &p, ptr(Offset(p))
	}
	if p, ok := percentile(a.finish, 95); ok {
		r.FinishP95Seconds, r.FinishP95 = &p, ptr(Offset(p))
	}
	if p, ok := percentile(a.duration, 50); ok {
		r.DurationP50Seconds = &p
	}
	if p, ok := percentile(a.duration, 95); ok {
		r.DurationP95Seconds = &p
	}
	return r
}

func ptr[T any](v T) *T { return &v }

func pct(n, of int) *float64 {
	if of == 0 {
		return nil
	}
	v := round2(100 * float64(n) / float64(of))
	return &v
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// percentile is the nearest-rank percentile of sorted values: the smallest
// value with at least p% of the values at or below it. It is a value that
// happened, which a reviewer can find in the daily grid.
func percentile(sorted []int32, p int) (int64, bool) {
	if len(sorted) == 0 {
		return 0, false
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 × n)
	if rank < 1 {
		rank = 1
	}
	return int64(sorted[rank-1]), true
}

// Offset formats seconds against a deadline in whole minutes, as the
// deadline is written: "-00:42" is 42 minutes early, "+01:05" an hour and
// five minutes late. Seconds round up to the next minute, towards late, so
// thirty seconds late reads "+00:01", never on time. Hours go past 24
// rather than into days, so offsets sort as they read.
func Offset(sec int64) string {
	min := sec / 60
	if sec%60 > 0 {
		min++ // round towards later; Go's division already does for negatives
	}
	sign := "+"
	if min < 0 {
		sign, min = "-", -min
	}
	return fmt.Sprintf("%s%02d:%02d", sign, min/60, min%60)
}
