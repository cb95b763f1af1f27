package slo

import "github.com/sekisho-dev/sekisho"

// verdict is the outcome of one target (deadline or recover_by) on one day.
type verdict int8

const (
	vNone    verdict = iota // not judged: skipped, no target, or no gate due
	vPending                // not decided yet: no success and the target is still ahead
	vMet
	vMissed
)

func (v verdict) decided() bool { return v == vMet || v == vMissed }

func (v verdict) ptr() *bool {
	if !v.decided() {
		return nil
	}
	b := v == vMet
	return &b
}

// day is one pipeline on one logical date, in the integer form the hot loop
// uses. Instants are Unix milliseconds, 0 when absent.
type day struct {
	day       int // days since 1970-01-01
	hasRun    bool
	due       bool // without a run: the gate should have opened by now
	state     sekisho.State
	attempts  int
	gate      int64
	deadline  int64
	recoverBy int64
	success   int64 // first success, kept across reruns
	finished  int64

	cell     CellState
	slo, sla verdict
}

// judge decides the day's cell and verdicts at instant now. It is the one
// place the definitions of the README live.
func (d *day) judge(now int64) {
	d.slo, d.sla = vNone, vNone
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
		d.sla = vMet
		if d.recoverBy != 0 {
			d.sla = metBy(success, d.recoverBy)
		}
		d.cell = CellLate
		if d.slo == vMet || (d.slo == vNone && d.sla == vMet) {
			d.cell = CellMet
		}
		return
	}
	switch {
	case !d.hasRun:
		d.cell = CellNoRun
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

func metBy(at, limit int64) verdict {
	if at <= limit {
		return vMet
	}
	return vMissed
}

// passed judges a target that has not been met yet: missed once it is
// behind us, since a rerun may still make it until then.
func passed(limit, now int64) verdict {
	switch {
	case limit == 0:
		return vNone
	case now > limit:
		return vMissed
	}
	return vPending
}

// counted reports whether the day enters the report.
func (d *day) counted() bool { return d.slo.decided() || d.sla.decided() }
