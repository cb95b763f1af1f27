package web

import (
	"context"
	"math"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/expect"
	"github.com/sekisho-dev/sekisho/store"
)

// valueChart is a sql upstream's numbers over the last days with the band
// its expectations drew on each day (SPEC §21): the dots are the values
// the days passed with (today's latest, passed or not), the shaded rects
// the band.
type valueChart struct {
	Upstream string
	W, H     float64
	Band     []chartBar // X, Y, W, H of each day's band
	Dots     []valueDot
	Ticks    []chartTick
	Dates    []chartTick
}

type valueDot struct {
	X, Y  float64
	Out   bool // outside the band
	Title string
}

const (
	valueW, valueH = 360.0, 110.0
	valueL, valueR = 52.0, 352.0
	valueT, valueB = 8.0, 92.0
	valueDays      = 30
)

// valueCharts draws one chart per sql upstream with expectations, from the
// store's values of the pipeline's succeeded days and today's latest
// observation. The bands come from expect.Judge: the board and the gate
// draw the same band.
func valueCharts(ctx context.Context, st *store.Store, p *config.Pipeline, today string, todayRun *sekisho.Run) ([]valueChart, error) {
	var out []valueChart
	end, err := time.Parse(sekisho.DateLayout, today)
	if err != nil {
		return nil, nil
	}
	var latest map[string]sekisho.Observation
	if todayRun != nil && todayRun.ID != 0 {
		if latest, err = st.LatestObservations(ctx, todayRun.ID); err != nil {
			return nil, err
		}
	}
	for _, u := range p.Upstreams {
		if u.Type != config.TypeSQL || u.DataCheck == nil || u.DataCheck.Expect == nil {
			continue
		}
		back := valueDays
		if h := u.DataCheck.Expect.VsHistory; h != nil {
			back += h.Days
		}
		since := end.AddDate(0, 0, -back).Format(sekisho.DateLayout)
		vals, err := st.UpstreamValues(ctx, p.Name, u.Name, since, today)
		if err != nil {
			return nil, err
		}
		hist := make([]expect.Point, 0, len(vals)+1)
		for _, v := range vals {
			hist = append(hist, expect.Point{Date: v.Date, Value: v.Value})
		}
		shown := hist
		if o, ok := latest[u.Name]; ok && o.Value != nil {
			shown = append(append([]expect.Point(nil), hist...), expect.Point{Date: today, Value: *o.Value})
		}
		out = append(out, drawValues(u, shown, hist, end))
	}
	return out, nil
}

// drawValues lays out one chart over the valueDays days ending with end.
func drawValues(u config.Upstream, shown, hist []expect.Point, end time.Time) valueChart {
	c := valueChart{Upstream: u.Name, W: valueW, H: valueH}
	first := end.AddDate(0, 0, -(valueDays - 1))
	type day struct {
		i      int
		v      expect.Verdict
		value  float64
		has    bool
		lo, hi float64
	}
	var days []day
	lo, hi := math.Inf(1), math.Inf(-1)
	widen := func(x float64) { lo, hi = math.Min(lo, x), math.Max(hi, x) }
	values := map[string]float64{}
	for _, p := range shown {
		values[p.Date] = p.Value
	}
	for i := range valueDays {
		date := first.AddDate(0, 0, i).Format(sekisho.DateLayout)
		x, has := values[date]
		v := expect.Judge(u.DataCheck.Expect, date, x, hist)
		d := day{i: i, v: v, value: x, has: has}
		if v.Low != nil {
			widen(*v.Low)
		}
		if v.High != nil {
			widen(*v.High)
		}
		if has {
			widen(x)
		}
		days = append(days, d)
	}
	if math.IsInf(lo, 1) {
		return c
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	y := func(v float64) float64 { return round1(valueB - (v-lo)/(hi-lo)*(valueB-valueT)) }
	slot := (valueR - valueL) / valueDays
	for _, v := range []float64{lo, (lo + hi) / 2, hi} {
		c.Ticks = append(c.Ticks, chartTick{X: valueL - 4, Y: y(v), Label: expect.Format(math.Round(v))})
	}
	for _, d := range days {
		x := valueL + float64(d.i)*slot
		if d.i%7 == 0 || d.i == valueDays-1 {
			c.Dates = append(c.Dates, chartTick{X: round1(x + slot/2), Y: valueB + 14, Label: first.AddDate(0, 0, d.i).Format("01-02")})
		}
		if d.v.Low != nil || d.v.High != nil {
			top, bottom := hi, lo
			if d.v.High != nil {
				top = *d.v.High
			}
			if d.v.Low != nil {
				bottom = *d.v.Low
			}
			c.Band = append(c.Band, chartBar{X: round1(x), Y: y(top), W: round1(slot), H: math.Max(1, round1(y(bottom)-y(top)))})
		}
		if d.has {
			c.Dots = append(c.Dots, valueDot{X: round1(x + slot/2), Y: y(d.value), Out: !d.v.OK,
				Title: first.AddDate(0, 0, d.i).Format(sekisho.DateLayout) + ": " + d.v.Message})
		}
	}
	return c
}
