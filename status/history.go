package status

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// Day verdicts of a history cell; the same words as the SLO report's daily grid.
const (
	CellMet      = "met"
	CellLate     = "late"
	CellFailed   = "failed"
	CellTimedOut = "timed_out"
	CellSkipped  = "skipped"
	CellNoRun    = "no_run"
	CellOpen     = "open"
)

// Cell is one day of a pipeline's history.
type Cell struct {
	Date       string         `json:"date"`
	Status     string         `json:"status"`
	State      string         `json:"state,omitempty"`
	Attempts   int            `json:"attempts,omitempty"`
	GateAt     time.Time      `json:"gate_at"`
	FinishedAt time.Time      `json:"finished_at"` // first success, else the terminal time
	Deadline   time.Time      `json:"deadline"`
	Location   *time.Location `json:"-"`
}

// Duration is the time from the gate to the finish, or zero.
func (c Cell) Duration() time.Duration {
	if c.GateAt.IsZero() || c.FinishedAt.IsZero() {
		return 0
	}
	return c.FinishedAt.Sub(c.GateAt)
}

// Title is the tooltip of the cell: "2026-11-03: late (06:42, deadline 06:00)".
func (c Cell) Title(lang string) string {
	word := CellWord(c.Status, lang)
	if c.FinishedAt.IsZero() {
		return fmt.Sprintf("%s: %s", c.Date, word)
	}
	fin := Clock(c.FinishedAt, c.Date, c.Location)
	if c.Deadline.IsZero() {
		return fmt.Sprintf("%s: %s (%s)", c.Date, word, fin)
	}
	dl := Clock(c.Deadline, c.Date, c.Location)
	if lang == "en" {
		return fmt.Sprintf("%s: %s (%s, deadline %s)", c.Date, word, fin, dl)
	}
	return fmt.Sprintf("%s: %s (%s、期限 %s)", c.Date, word, fin, dl)
}

// CellWord names a cell status in the language.
func CellWord(status, lang string) string {
	w, ok := cellWords[status]
	if !ok {
		return status
	}
	if lang == "en" {
		return w[0]
	}
	return w[1]
}

var cellWords = map[string][2]string{
	CellMet:      {"met", "期限内"},
	CellLate:     {"late", "遅延"},
	CellFailed:   {"failed", "失敗"},
	CellTimedOut: {"timed out", "タイムアウト"},
	CellSkipped:  {"skipped", "スキップ"},
	CellNoRun:    {"no run", "実行なし"},
	CellOpen:     {"in progress", "進行中"},
}

// History is a pipeline's last days, oldest first, with its SLO attainment.
type History struct {
	Pipeline string `json:"pipeline"`
	Cells    []Cell `json:"cells"`
	// Met and Judged count the days with an SLO verdict; Attainment is
	// Met/Judged, or nil without an SLO or without a judged day.
	Met        int      `json:"met"`
	Judged     int      `json:"judged"`
	Attainment *float64 `json:"attainment"`
}

// Histories returns the last days of every configured pipeline, ending on
// each one's current logical date, in one store query.
func Histories(ctx context.Context, st *store.Store, cfg *config.Config, days int, now time.Time) (map[string]*History, error) {
	if days <= 0 {
		days = 30
	}
	var from, to string
	type span struct {
		loc   *time.Location
		dates []string
	}
	spans := map[string]span{}
	for _, p := range cfg.Pipelines {
		loc := location(p, cfg)
		today := now.In(loc)
		var ds []string
		for i := days - 1; i >= 0; i-- {
			ds = append(ds, time.Date(today.Year(), today.Month(), today.Day()-i, 12, 0, 0, 0, loc).Format(sekisho.DateLayout))
		}
		spans[p.Name] = span{loc, ds}
		if from == "" || ds[0] < from {
			from = ds[0]
		}
		if ds[len(ds)-1] > to {
			to = ds[len(ds)-1]
		}
	}
	out := map[string]*History{}
	if len(cfg.Pipelines) == 0 {
		return out, nil
	}
	runs, err := st.Runs(ctx, store.RunFilter{From: from, To: to})
	if err != nil {
		return nil, fmt.Errorf("status: history: %w", err)
	}
	byKey := make(map[[2]string]sekisho.Run, len(runs))
	for _, r := range runs {
		byKey[[2]string{r.Pipeline, r.LogicalDate}] = r
	}
	for _, p := range cfg.Pipelines {
		sp := spans[p.Name]
		h := &History{Pipeline: p.Name}
		for _, d := range sp.dates {
			r, ok := byKey[[2]string{p.Name, d}]
			c := cellOf(p, d, sp.loc, r, ok, now)
			if p.SLO != nil {
				switch c.Status {
				case CellMet:
					h.Met++
					h.Judged++
				case CellLate, CellFailed, CellTimedOut:
					h.Judged++
				}
			}
			h.Cells = append(h.Cells, c)
		}
		if h.Judged > 0 {
			a := float64(h.Met) / float64(h.Judged)
			h.Attainment = &a
		}
		out[p.Name] = h
	}
	return out, nil
}

func cellOf(p *config.Pipeline, date string, loc *time.Location, r sekisho.Run, ok bool, now time.Time) Cell {
	c := Cell{Date: date, Location: loc}
	if p.SLO != nil && p.SLO.Deadline.Set {
		c.Deadline, _ = p.SLO.Deadline.On(date, loc)
	}
	if !ok {
		c.Status = CellNoRun
		if gate, err := GateOn(p.Schedule, date, loc); err == nil && !gate.IsZero() && gate.After(now) {
			c.Status = CellOpen
		}
		return c
	}
	if !r.Deadline.IsZero() {
		c.Deadline = r.Deadline
	}
	c.State, c.Attempts, c.GateAt = string(r.State), r.Attempt, r.GateAt
	c.FinishedAt = firstNonZero(r.FirstSuccessAt, r.FinishedAt)
	switch {
	case !r.FirstSuccessAt.IsZero() || r.State == sekisho.StateSucceeded:
		c.Status = CellMet
		if !c.Deadline.IsZero() && c.FinishedAt.After(c.Deadline) {
			c.Status = CellLate
		}
	case r.State == sekisho.StateSkipped:
		c.Status = CellSkipped
	case r.State == sekisho.StateFailed:
		c.Status = CellFailed
	case r.State == sekisho.StateTimedOut:
		c.Status = CellTimedOut
	case !c.Deadline.IsZero() && now.After(c.Deadline):
		c.Status = CellLate
	default:
		c.Status = CellOpen
	}
	return c
}
