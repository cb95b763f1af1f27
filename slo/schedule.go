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
// (see wallToInstant). Evaluating the cron in the zone itself, as
// robfig/cron does, would skip a 02:30 gate on the spring-forward day in
// America/New_York, where 02:30 does not exist.
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
		out[day-fromDay] = wallToInstant(t, loc).UnixMilli()
		// sekisho gates once a day: the first fire opens it, so go on
		// from the next midnight.
		t = sched.Next(time.Unix(int64(day+1)*86400-1, 0).UTC())
	}
	return out, nil
}

// wallToInstant places the wall clock time of w (read in UTC) in loc. A wall
// time inside a spring-forward gap, which never shows on the clock, becomes
// the instant the clock would have shown it without the jump (02:30 becomes
// 03:30 EDT), as cron daemons run jobs of the skipped hour right after it.
// time.Date alone would move it back to 01:30 EST, before the other gates of
// the night. A repeated fall-back time takes whichever instant time.Date
// picks.
func wallToInstant(w time.Time, loc *time.Location) time.Time {
	y, m, d := w.Date()
	t := time.Date(y, m, d, w.Hour(), w.Minute(), w.Second(), 0, loc)
	if t.Hour() == w.Hour() && t.Minute() == w.Minute() {
		return t
	}
	// In the gap: apply the offset in force before the jump.
	_, before := time.Date(y, m, d, w.Hour(), w.Minute(), w.Second(), 0, loc).Add(-12 * time.Hour).Zone()
	return w.Add(-time.Duration(before) * time.Second).In(loc)
}
