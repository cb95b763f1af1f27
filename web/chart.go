package web

import (
	"fmt"
	"math"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/status"
)

// Charts are inline SVG with coordinates computed here: presentation
// attributes, not style attributes, so the CSP needs no 'unsafe-inline'.

// timeline is today's progress of one pipeline against its deadline.
type timeline struct {
	Show     bool
	BarX     float64
	BarW     float64
	Deadline *float64
	Now      *float64
	Marks    []mark
}

type mark struct {
	X            float64
	Label, Clock string
	Class        string
}

const timelineW = 300.0

func newTimeline(p *status.Pipeline, now time.Time, lang string) timeline {
	t := texts[lang]
	if p.GateAt.IsZero() {
		return timeline{}
	}
	start := p.GateAt
	end := start.Add(time.Hour)
	for _, x := range []time.Time{p.Deadline, p.FinishedAt, p.TriggeredAt} {
		if x.After(end) {
			end = x
		}
	}
	if now.After(start) && now.Before(end.Add(6*time.Hour)) && now.After(end) {
		end = now
	}
	span := end.Sub(start)
	end = end.Add(span / 20)
	pos := func(x time.Time) float64 {
		return math.Round(float64(x.Sub(start))/float64(end.Sub(start))*timelineW*10) / 10
	}
	tl := timeline{Show: true}
	stop := p.FinishedAt
	if stop.IsZero() {
		stop = now
	}
	if stop.After(start) {
		tl.BarW = math.Min(pos(stop), timelineW)
	}
	if !p.Deadline.IsZero() {
		d := pos(p.Deadline)
		tl.Deadline = &d
		tl.Marks = append(tl.Marks, mark{X: d, Label: t["deadline"], Clock: clockOrEmpty(p.Deadline, p), Class: "deadline"})
	}
	if p.FinishedAt.IsZero() && now.After(start) && now.Before(end) {
		n := pos(now)
		tl.Now = &n
	}
	add := func(at time.Time, key string) {
		if !at.IsZero() {
			tl.Marks = append(tl.Marks, mark{X: pos(at), Label: t[key], Clock: clockOrEmpty(at, p), Class: key})
		}
	}
	add(p.GateAt, "gate")
	add(p.UpstreamsDoneAt(), "upstreams")
	add(p.TriggeredAt, "triggered")
	add(p.FinishedAt, "finished")
	return tl
}

// chart plots finish times and durations of the last days against the deadline.
type chart struct {
	W, H     float64
	Bars     []chartBar
	Ticks    []chartTick
	Dates    []chartTick
	Deadline []chartLine
	Empty    bool
}

type chartBar struct {
	X, Y, W, H float64
	CX, CY     float64
	Class      string
	Title      string
}

type chartTick struct {
	X, Y  float64
	Label string
}

type chartLine struct{ X1, X2, Y float64 }

const (
	chartW, chartH        = 720.0, 260.0
	plotL, plotR          = 48.0, 712.0
	plotT, plotB          = 12.0, 228.0
	chartMinHourSpanHours = 4.0
	chartPadHours         = 0.25
)

func newChart(cells []slo.Cell, lang string) chart {
	c := chart{W: chartW, H: chartH}
	if len(cells) == 0 {
		c.Empty = true
		return c
	}
	hours := func(date string, t time.Time) float64 {
		mid, err := time.ParseInLocation(sekisho.DateLayout, date, t.Location())
		if err != nil {
			return 0
		}
		return t.Sub(mid).Hours()
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, cell := range cells {
		for _, t := range []time.Time{cell.GateAt, cell.FinishedAt, cell.Deadline} {
			if !t.IsZero() {
				h := hours(cell.Date, t)
				lo, hi = math.Min(lo, h), math.Max(hi, h)
			}
		}
	}
	if math.IsInf(lo, 1) {
		c.Empty = true
		return c
	}
	// A quarter hour of headroom either side, so a finish at 07:50 is
	// drawn inside the plot, not on its bottom edge.
	lo, hi = math.Floor(lo-chartPadHours), math.Ceil(hi+chartPadHours)
	if hi-lo < chartMinHourSpanHours {
		hi = lo + chartMinHourSpanHours
	}
	y := func(h float64) float64 {
		return round1(plotT + (h-lo)/(hi-lo)*(plotB-plotT))
	}
	slot := (plotR - plotL) / float64(len(cells))
	step := math.Max(1, math.Ceil((hi-lo)/6))
	for h := lo; h <= hi; h += step {
		c.Ticks = append(c.Ticks, chartTick{X: plotL - 6, Y: y(h), Label: fmt.Sprintf("%02d:00", int(h)%24)})
	}
	for i, cell := range cells {
		x := plotL + float64(i)*slot
		if i%5 == 0 || i == len(cells)-1 {
			c.Dates = append(c.Dates, chartTick{X: round1(x + slot/2), Y: plotB + 16, Label: cell.Date[5:]})
		}
		if !cell.Deadline.IsZero() {
			c.Deadline = append(c.Deadline, chartLine{X1: round1(x), X2: round1(x + slot), Y: y(hours(cell.Date, cell.Deadline))})
		}
		if cell.GateAt.IsZero() || cell.FinishedAt.IsZero() {
			continue
		}
		top, bottom := y(hours(cell.Date, cell.GateAt)), y(hours(cell.Date, cell.FinishedAt))
		title := cellTitle(cell, lang)
		if d := cell.FinishedAt.Sub(cell.GateAt); d > 0 {
			title += fmt.Sprintf(" — %s", d.Round(time.Minute))
		}
		c.Bars = append(c.Bars, chartBar{X: round1(x + slot*0.25), Y: top, W: round1(slot * 0.5), H: math.Max(1, round1(bottom-top)),
			CX: round1(x + slot/2), CY: bottom, Class: "c-" + string(cell.State), Title: title})
	}
	return c
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
