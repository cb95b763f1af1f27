package slo

import (
	"context"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// Daily returns the day-by-day grid of q: one cell per pipeline (in name
// order) and logical date (oldest first), judged as Compute judges them.
// Times are in the pipeline's zone, so a board shows local deadlines.
func Daily(ctx context.Context, st *store.Store, cfg *config.Config, q Query) ([]Cell, error) {
	s, err := resolve(cfg, q)
	if err != nil {
		return nil, err
	}
	per := make([][]Cell, len(s.pipelines))
	err = walk(ctx, st, s, func(i int, p *config.Pipeline, d *day) {
		loc := p.Location
		c := Cell{Pipeline: p.Name, Date: dateString(d.day), State: d.cell, RunState: d.state,
			Counted: d.counted(), SLOMet: d.slo.Bool(), SLAMet: d.sla.Bool(), Attempts: d.attempts,
			GateAt: msTime(d.gate, loc), Deadline: msTime(d.deadline, loc), RecoverBy: msTime(d.recoverBy, loc)}
		if d.cell == CellHoliday {
			off, _ := p.DayOff(c.Date)
			c.Holiday = off.Label(cfg.Slack.Language)
		}
		switch {
		case d.success != 0:
			c.FinishedAt = msTime(d.success, loc)
		case d.cell == CellFailed || d.cell == CellTimedOut:
			c.FinishedAt = msTime(d.finished, loc)
		}
		if per[i] == nil {
			// A cell a day: sized once, not grown (the board's page asks
			// for 200 pipelines' 30 days at every view).
			per[i] = make([]Cell, 0, s.toDay-s.fromDay+1)
		}
		per[i] = append(per[i], c)
	})
	if err != nil {
		return nil, err
	}
	cells := make([]Cell, 0, len(s.pipelines)*(s.toDay-s.fromDay+1))
	for _, c := range per {
		cells = append(cells, c...)
	}
	return cells, nil
}
