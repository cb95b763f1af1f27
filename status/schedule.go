package status

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sekisho-dev/sekisho"
)

// cronParser reads the 5-field and the 6-field (leading seconds) forms of SPEC §3.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// GateOn returns when the schedule fires on the logical date in loc, or the
// zero time when it does not fire that day (a weekday-only schedule on a
// Sunday).
func GateOn(schedule, date string, loc *time.Location) (time.Time, error) {
	sched, err := cronParser.Parse(schedule)
	if err != nil {
		return time.Time{}, fmt.Errorf("schedule %q: %w", schedule, err)
	}
	day, err := time.ParseInLocation(sekisho.DateLayout, date, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("date %q: %w", date, err)
	}
	// Next is strictly after its argument, at whole seconds.
	next := sched.Next(day.Add(-time.Second))
	if next.IsZero() || sekisho.DateOf(next, loc) != date {
		return time.Time{}, nil
	}
	return next, nil
}
