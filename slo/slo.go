// Package slo computes SLO and SLA attainment from the store: per pipeline
// the days counted, the days that met the deadline or recovered in time, the
// error budget left, and where finishes fall against the deadline. It reads
// the runs table through one ordered query and streams it, so a year of a
// thousand pipelines fits in a few megabytes.
//
// A day's SLO is met when its run first succeeded at or before the deadline,
// and missed when it succeeded later, failed, timed out, or never ran
// although its gate should have opened. Its SLA is met when it succeeded at
// or before recover_by. Skipped days count for neither. A verdict waits
// until it is final: an unfinished day is counted once its deadline (or
// recover_by) has passed.
package slo

import (
	"errors"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/marks"
)

// DefaultDays is the length of the default range: the last four weeks, a
// two-weekly review looks at twice.
const DefaultDays = 28

// Query selects what a report covers.
type Query struct {
	From, To string    // logical dates YYYY-MM-DD, inclusive; default the last DefaultDays days
	Pipeline string    // one pipeline; empty for all
	Now      time.Time // the judging instant: gates and deadlines after it are not counted yet
}

// Last30 is the query of the 30 days ending today in the config's zone,
// judged at now: the board's history bars and the attainment metric.
func Last30(cfg *config.Config, now time.Time, pipeline string) Query {
	t := now.In(cfg.Location)
	from := time.Date(t.Year(), t.Month(), t.Day()-29, 12, 0, 0, 0, cfg.Location)
	return Query{From: from.Format(sekisho.DateLayout), To: t.Format(sekisho.DateLayout), Pipeline: pipeline, Now: now}
}

// ErrBadRange marks a query whose dates cannot be read or are in the wrong order.
var ErrBadRange = errors.New("bad date range")

// Report is the SLO report of SPEC §8, as `report slo --format json` and
// GET /api/v1/slo answer it.
type Report struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Pipelines []Row  `json:"pipelines"` // in name order
	Overall   Row    `json:"overall"`
}

// Row is one pipeline's figures, or the overall figures across them.
// Pointers are null when there is nothing to compute them from, so an empty
// range never divides by zero.
type Row struct {
	Pipeline string `json:"pipeline,omitempty"`
	// Days counts the days judged for the SLO or the SLA (skipped days and
	// days still undecided are left out).
	Days    int      `json:"days"`
	SLODays int      `json:"slo_days"` // days judged against a deadline
	SLOMet  int      `json:"slo_met"`
	SLOPct  *float64 `json:"slo_pct"` // percent, two decimals
	SLADays int      `json:"sla_days"`
	SLAMet  int      `json:"sla_met"`
	SLAPct  *float64 `json:"sla_pct"`
	// Objective is the slo.objective in percent (95 for "95%").
	Objective *float64 `json:"objective"`
	// ErrorBudgetLeft is floor((1-objective) × slo_days) minus the SLO
	// misses: how many more days may miss before attainment drops below
	// the objective. Negative when overspent.
	ErrorBudgetLeft *int `json:"error_budget_left"`
	// FinishP50 and FinishP95 place the first success against the deadline:
	// "-00:42" is 42 minutes early, "+01:05" an hour and five minutes late.
	FinishP50        *string `json:"finish_p50"`
	FinishP95        *string `json:"finish_p95"`
	FinishP50Seconds *int64  `json:"finish_p50_seconds"`
	FinishP95Seconds *int64  `json:"finish_p95_seconds"`
	// DurationP50Seconds and DurationP95Seconds measure gate to first success.
	DurationP50Seconds *int64   `json:"duration_p50_seconds"`
	DurationP95Seconds *int64   `json:"duration_p95_seconds"`
	AttemptsPerDay     *float64 `json:"attempts_per_day"` // attempts per counted day that had a run
	Skipped            int      `json:"skipped"`
	Missed             int      `json:"slo_missed"` // SLO misses, which the budget pays for
	// Intervals and IntervalsMet count a sub-daily pipeline's runs judged
	// and met (SPEC §19); its days count a day as met when every interval
	// of it met. Absent for daily pipelines.
	Intervals    *int `json:"intervals,omitempty"`
	IntervalsMet *int `json:"intervals_met,omitempty"`
}

// CellState is the state of one pipeline on one day in the daily grid.
type CellState string

// Cell states of the daily grid.
const (
	CellMet      CellState = "met"       // succeeded by the deadline (or by recover_by without an SLO)
	CellLate     CellState = "late"      // succeeded after the deadline
	CellFailed   CellState = "failed"    // failed, no success yet
	CellTimedOut CellState = "timed_out" // the gate timed out, no success yet
	CellSkipped  CellState = "skipped"   // an operator skipped the day
	CellMissed   CellState = "missed"    // the gate should have opened but no run exists
	CellOpen     CellState = "open"      // still waiting or running
	CellNone     CellState = "none"      // no gate was due: the schedule did not fire, it is still ahead, or before the first run
	CellHoliday  CellState = "holiday"   // the pipeline's calendar has the day off (SPEC §18): no gate, not counted
)

// Mark is the cell's mark and word from the one table of package marks:
// the emoji of the state the day ended in, the word of its verdict.
func (s CellState) Mark() marks.Mark { return marks.Day(string(s)) }

// Symbol is the cell's mark in the daily grid; empty when no gate was due.
func (s CellState) Symbol() string { return s.Mark().Emoji }

// Cell is one pipeline on one logical date.
type Cell struct {
	Pipeline string        `json:"pipeline"`
	Date     string        `json:"date"`
	State    CellState     `json:"state"`
	RunState sekisho.State `json:"run_state,omitempty"` // the stored state; empty without a run
	// Holiday names a holiday cell's day off (SPEC §18), as the board does.
	Holiday string `json:"holiday,omitempty"`
	// Counted reports whether the day counts in the report (judged, not skipped).
	Counted bool `json:"counted"`
	// SLOMet and SLAMet are null while undecided, for skipped days, and
	// (SLOMet) without a deadline.
	SLOMet     *bool     `json:"slo_met"`
	SLAMet     *bool     `json:"sla_met"`
	GateAt     time.Time `json:"gate_at,omitzero"`
	Deadline   time.Time `json:"deadline,omitzero"`
	RecoverBy  time.Time `json:"recover_by,omitzero"`
	FinishedAt time.Time `json:"finished_at,omitzero"` // first success; else when it failed or timed out
	Attempts   int       `json:"attempts"`
}

func badRange(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadRange, fmt.Sprintf(format, args...))
}
