package slo

import (
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho/config"
)

// Sub-daily pipelines (SPEC §19) have a run per fire. Each run, an
// interval, is judged as a day of a daily pipeline is (day.judge, against
// its own deadline, slo.within after its gate), and the day is the roll-up
// of its intervals: its SLO (or SLA) is met when every interval's is,
// missed as soon as one interval's is, and undecided while any is. The
// report counts the intervals too (intervals, intervals_met), and the
// daily grid shows the day's worst interval.

// walkSubDaily is walkPipeline for a sub-daily pipeline: it groups the
// records by logical date, matches them with the day's gates (gates[n]:
// the span's day n, from the worker's gateCache), and hands fn one day per
// date with its intervals in parts.
func walkSubDaily(p *config.Pipeline, s span, gates [][]time.Time, firstRun, blob string, fn func(d *day)) error {
	firstDay, ran := parseDay(firstRun)
	byDay := map[int][]day{}
	if blob != "" {
		var f [8]string
		for _, rec := range strings.Split(blob, ";") {
			d, err := parseRecord(rec, &f, s.fromDay, s.toDay)
			if err != nil {
				return err
			}
			byDay[d.day] = append(byDay[d.day], d)
		}
	}
	for n := s.fromDay; n <= s.toDay; n++ {
		date := dateString(n)
		runs := byDay[n]
		parts := make([]day, 0, len(runs))
		stored := make(map[int64]bool, len(runs))
		for _, r := range runs {
			stored[r.gate] = true
			r.judge(s.now)
			parts = append(parts, r)
		}
		// A gate of the day without a run is a missed interval once due,
		// from the pipeline's first run on.
		for _, g := range gates[n-s.fromDay] {
			gm := g.UnixMilli()
			if stored[gm] {
				continue
			}
			d := day{day: n, gate: gm, due: ran && n >= firstDay && gm <= s.now}
			if ran && n >= firstDay && gm > s.now {
				d.dueAt = gm
			}
			if d.due {
				d.deadline = ms(p.Deadline(date, g))
				d.recoverBy = ms(p.RecoverBy(date, g))
			}
			d.judge(s.now)
			parts = append(parts, d)
		}
		slices.SortFunc(parts, func(a, b day) int { return int(a.gate - b.gate) })
		d := rollUpDay(n, parts)
		if d.cell == CellNone && len(parts) == 0 && p.Calendar != nil {
			if _, off := p.DayOff(date); off {
				d.cell = CellHoliday
			}
		}
		fn(&d)
	}
	return nil
}

// rollUpDay is the day of a sub-daily pipeline from its intervals, in gate
// order: met when every judged interval met, missed when one missed,
// pending while one is undecided; skipped when every interval with a run
// was skipped; its cell the worst of theirs.
func rollUpDay(n int, parts []day) day {
	d := day{day: n, parts: parts, cell: CellNone}
	if len(parts) > 0 {
		d.gate = parts[0].gate
	}
	skipped, judged := 0, 0
	for i := range parts {
		x := &parts[i]
		if x.hasRun {
			d.hasRun = true
			d.attempts += x.attempts
			d.state = x.state // the latest interval's
		}
		if x.cell == CellSkipped {
			skipped++
			continue
		}
		if x.cell == CellNone {
			continue
		}
		judged++
		d.slo = worse(d.slo, x.slo, judged == 1)
		d.sla = worse(d.sla, x.sla, judged == 1)
		if cellRank[x.cell] > cellRank[d.cell] {
			d.cell = x.cell
		}
		if x.deadline > d.deadline {
			d.deadline, d.recoverBy = x.deadline, x.recoverBy
		}
		if x.success > d.success {
			d.success = x.success
		}
	}
	if judged == 0 && skipped > 0 {
		d.cell = CellSkipped
	}
	return d
}

// cellRank orders cells from best to worst for a day's roll-up.
var cellRank = map[CellState]int{CellNone: 0, CellMet: 1, CellOpen: 2, CellLate: 3, CellTimedOut: 4, CellFailed: 5, CellMissed: 6}

// worse folds one interval's verdict into the day's: a miss decides the
// day, an undecided interval keeps it undecided, and it is met only when
// every judged interval met.
func worse(day, part Verdict, first bool) Verdict {
	switch {
	case first:
		return part
	case day == VerdictMissed || part == VerdictMissed:
		return VerdictMissed
	case day == VerdictPending || part == VerdictPending:
		return VerdictPending
	case day == VerdictNone:
		return part
	case part == VerdictNone:
		return day
	}
	return VerdictMet
}
