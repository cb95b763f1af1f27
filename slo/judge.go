package slo

import (
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Verdict is the outcome of one target (the SLO deadline or the SLA
// recover_by) on one day.
type Verdict int8

// Verdicts of Judge.
const (
	VerdictNone    Verdict = iota // not judged: skipped, no target, or no gate due
	VerdictPending                // not decided yet: no success and the target is still ahead
	VerdictMet
	VerdictMissed
)

// Decided reports whether the verdict is final enough to count.
func (v Verdict) Decided() bool { return v == VerdictMet || v == VerdictMissed }

// Bool is the verdict as the JSON answers show it: true met, false missed,
// nil while undecided or not judged.
func (v Verdict) Bool() *bool {
	if !v.Decided() {
		return nil
	}
	b := v == VerdictMet
	return &b
}

// Day is one pipeline on one logical date as Judge reads it: the stored
// run's fields, or, without a run, whether its gate was due.
type Day struct {
	HasRun bool
	// Due is, without a run, whether the gate should have opened by now:
	// the schedule fired that day at or before now, on or after the
	// pipeline's first run ever (a pipeline is not blamed for days before
	// it existed).
	Due          bool
	State        sekisho.State
	Deadline     time.Time // zero without an SLO
	RecoverBy    time.Time
	FirstSuccess time.Time // kept across reruns
	Finished     time.Time
}

// Judgement is what Judge decides of a day.
type Judgement struct {
	Cell      CellState
	SLO, SLA  Verdict
	succeeded bool // any success, first or kept across reruns
}

// Judge decides a day's cell and its SLO and SLA verdicts at now. It is the
// one judge of the SLO report, the daily grid, the status board, the JSON
// API, the digest and the engine's delay notice; the slo_daily view
// (migration 003) answers the same for every stored run (view_test.go).
func Judge(d Day, now time.Time) Judgement {
	x := day{hasRun: d.HasRun, due: d.Due, state: d.State, deadline: ms(d.Deadline), recoverBy: ms(d.RecoverBy),
		success: ms(d.FirstSuccess), finished: ms(d.Finished)}
	x.judge(now.UnixMilli())
	return Judgement{Cell: x.cell, SLO: x.slo, SLA: x.sla, succeeded: x.success != 0}
}

// JudgeRun is Judge of a stored run.
func JudgeRun(r sekisho.Run, now time.Time) Judgement {
	return Judge(Day{HasRun: true, State: r.State, Deadline: r.Deadline, RecoverBy: r.RecoverBy,
		FirstSuccess: r.FirstSuccessAt, Finished: r.FinishedAt}, now)
}

// Late reports whether the day missed its SLO deadline without any
// success yet: the board's 🐢 and the engine's delay notice.
func (j Judgement) Late() bool { return j.SLO == VerdictMissed && !j.succeeded }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// day is one pipeline on one logical date, in the integer form the hot loop
// uses. Instants are Unix milliseconds, 0 when absent.
type day struct {
	day    int // days since 1970-01-01
	hasRun bool
	due    bool // without a run: the gate should have opened by now
	// dueAt is, without a run and not due yet, the gate at which it
	// comes due (0 when only a write can make it due: no run ever).
	dueAt     int64
	state     sekisho.State
	attempts  int
	gate      int64
	deadline  int64
	recoverBy int64
	success   int64 // first success, kept across reruns
	finished  int64

	cell     CellState
	slo, sla Verdict
	// parts are a sub-daily pipeline's intervals, each judged on its own
	// (intervals.go); nil for a daily pipeline.
	parts []day
}

// judge decides the day's cell and verdicts at instant now. It is the one
// place the definitions of the README live.
func (d *day) judge(now int64) {
	d.slo, d.sla = VerdictNone, VerdictNone
	switch {
	case d.hasRun && d.state == sekisho.StateSkipped:
		d.cell = CellSkipped
		return
	case !d.hasRun && !d.due:
		d.cell = CellNone
		return
	}
	if d.success == 0 && d.state == sekisho.StateSucceeded {
		d.success = d.finished // a row written before first_success_at existed
	}
	if success := d.success; success != 0 {
		if d.deadline != 0 {
			d.slo = metBy(success, d.deadline)
		}
		d.sla = VerdictMet
		if d.recoverBy != 0 {
			d.sla = metBy(success, d.recoverBy)
		}
		d.cell = CellLate
		if d.slo == VerdictMet || (d.slo == VerdictNone && d.sla == VerdictMet) {
			d.cell = CellMet
		}
		return
	}
	switch {
	case !d.hasRun:
		d.cell = CellMissed
	case d.state == sekisho.StateFailed:
		d.cell = CellFailed
	case d.state == sekisho.StateTimedOut:
		d.cell = CellTimedOut
	default:
		d.cell = CellOpen
	}
	d.slo = passed(d.deadline, now)
	d.sla = passed(d.recoverBy, now)
}

func metBy(at, limit int64) Verdict {
	if at <= limit {
		return VerdictMet
	}
	return VerdictMissed
}

// passed judges a target that has not been met yet: missed from the
// instant it is reached (as the slo_daily view and the delay notice have
// it), since a rerun may still make it until then.
func passed(limit, now int64) Verdict {
	switch {
	case limit == 0:
		return VerdictNone
	case now >= limit:
		return VerdictMissed
	}
	return VerdictPending
}

// changesAt is the first instant after now at which judge would decide
// d otherwise with no write to its run: its gate coming due, or a
// deadline or recovery limit reached without a success; 0 when only a
// write can change it. A sub-daily day's is its intervals' earliest.
// Standing re-walks a pipeline once the earliest of its days' is past.
func (d *day) changesAt(now int64) int64 {
	var next int64
	earliest := func(t int64) {
		if t > now && (next == 0 || t < next) {
			next = t
		}
	}
	for i := range d.parts {
		earliest(d.parts[i].changesAt(now))
	}
	switch {
	case d.hasRun && d.state == sekisho.StateSkipped:
	case !d.hasRun && !d.due:
		earliest(d.dueAt)
	case d.success == 0:
		earliest(d.deadline)
		earliest(d.recoverBy)
	}
	return next
}

// counted reports whether the day enters the report.
func (d *day) counted() bool { return d.slo.Decided() || d.sla.Decided() }
