package sekisho

import (
	"fmt"
	"strings"
	"time"
)

// DagDates are the dates a DAG run is created with (SPEC §18): its logical
// date, zero for none, and its data interval, zero to let Airflow infer it.
type DagDates struct {
	Logical                    time.Time
	IntervalStart, IntervalEnd time.Time
}

// DagRunDates returns the dates the trigger spec gives the DAG run of req:
//   - fire: the gate's fire time, with the interval [fire, fire], as
//     Airflow 3 gives a cron DAG (CronTriggerTimetable);
//   - interval_start: the previous fire of the pipeline's schedule, with
//     the interval [previous fire, fire], as Airflow 2 gives a cron DAG
//     (its data-interval timetable), so a DAG moved from its own schedule
//     to sekisho sees the same ds, logical_date and data_interval_*;
//   - none (or empty): no logical date;
//   - a template: the RFC 3339 time it renders, with no interval.
//
// Every attempt of a run gets the same dates: they depend on the gate, not
// on the attempt's time.
func DagRunDates(req TriggerRequest) (DagDates, error) {
	switch mode := req.Spec.LogicalDate; mode {
	case "", LogicalDateNone:
		return DagDates{}, nil
	case LogicalDateFire:
		return DagDates{Logical: req.GateAt, IntervalStart: req.GateAt, IntervalEnd: req.GateAt}, nil
	case LogicalDateIntervalStart:
		if req.IntervalStart.IsZero() || !req.IntervalStart.Before(req.GateAt) {
			return DagDates{}, fmt.Errorf("logical_date interval_start: the schedule has no fire before %s", req.GateAt.In(req.TimeZone).Format(time.RFC3339))
		}
		return DagDates{Logical: req.IntervalStart, IntervalStart: req.IntervalStart, IntervalEnd: req.GateAt}, nil
	default:
		s, err := RenderTemplate("logical_date", mode, NewTemplateData(req))
		if err != nil {
			return DagDates{}, err
		}
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
		if err != nil {
			return DagDates{}, fmt.Errorf("logical_date renders %q, not an RFC 3339 time like 2026-11-20T02:00:00+09:00", s)
		}
		return DagDates{Logical: t}, nil
	}
}
