package slo

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/sekisho-dev/sekisho/config"
)

var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom |
	cron.Month | cron.Dow | cron.Descriptor)

// gateTimes returns, for each day in [fromDay, toDay], the instant the
// pipeline's gate opens that day (Unix ms), or 0 when the schedule does not
// fire that day.
//
// The cron expression is evaluated on the wall clock (in UTC, which has no
// daylight saving) and each wall time is then placed in the pipeline's zone
// with time.Date, as TimeOfDay.On places deadlines. Evaluating the cron in
// the zone itself would skip a 02:30 gate on the spring-forward day in
// America/New_York, where 02:30 does not exist; time.Date moves it to 03:30
// instead, and on the fall-back day takes the first 01:30.
func gateTimes(p *config.Pipeline, fromDay, toDay int) ([]int64, error) {
	sched, err := cronParser.Parse(p.Schedule)
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: schedule %q: %w", p.Name, p.Schedule, err)
	}
	loc := p.Location
	if loc == nil {
		loc = time.UTC
	}
	out := make([]int64, toDay-fromDay+1)
	start := time.Unix(int64(fromDay)*86400, 0).UTC().Add(-time.Second)
	end := time.Unix(int64(toDay+1)*86400, 0).UTC()
	for t := sched.Next(start); !t.IsZero() && t.Before(end); {
		day := int(t.Unix() / 86400)
		y, m, d := t.Date()
		out[day-fromDay] = time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, loc).UnixMilli()
		// sekisho gates once a day: the first fire opens it, so go on
		// from the next midnight.
		t = sched.Next(time.Unix(int64(day+1)*86400-1, 0).UTC())
	}
	return out, nil
}
