package config

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"

	"github.com/robfig/cron/v3"
)

var (
	standardParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	secondsParser  = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// starBit is robfig/cron's marker for a field written as "*".
const starBit = 1 << 63

// parseSchedule reads a cron expression of 5 fields, 6 with leading
// seconds, or a descriptor such as @daily. The time zone comes from the
// pipeline, never from a CRON_TZ= prefix, so there is one place to look.
func parseSchedule(expr string) (*cron.SpecSchedule, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "CRON_TZ=") || strings.HasPrefix(expr, "TZ=") {
		return nil, errors.New("set the pipeline's timezone instead of a TZ= prefix")
	}
	if strings.HasPrefix(expr, "@every") {
		return nil, errors.New("@every is an interval, not a time of day; write a cron expression like \"0 2 * * *\"")
	}
	var parser cron.Parser
	switch n := len(strings.Fields(expr)); {
	case strings.HasPrefix(expr, "@"):
		parser = standardParser
	case n == 5:
		parser = standardParser
	case n == 6:
		parser = secondsParser
	default:
		return nil, fmt.Errorf("want 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, got %d", n)
	}
	s, err := parser.Parse(expr)
	if err != nil {
		return nil, err
	}
	spec, ok := s.(*cron.SpecSchedule)
	if !ok {
		return nil, errors.New("not a calendar schedule")
	}
	return spec, nil
}

// dailyProblem says why a schedule cannot gate a daily batch, or "". Any day
// a cron schedule fires on, it fires at every combination of its seconds,
// minutes and hours, so "at most once a day" is exactly "one value in each".
func dailyProblem(s *cron.SpecSchedule) string {
	for _, f := range []uint64{s.Second, s.Minute, s.Hour} {
		if bits.OnesCount64(f&^starBit) != 1 {
			return "fires more than once a day; sekisho gates daily batches"
		}
	}
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.Next(from).IsZero() {
		return "never fires; check the day of month and month"
	}
	return ""
}

// gateClock is the time of day a daily schedule fires.
func gateClock(s *cron.SpecSchedule) (h, m, sec int) {
	return bits.TrailingZeros64(s.Hour &^ starBit), bits.TrailingZeros64(s.Minute &^ starBit),
		bits.TrailingZeros64(s.Second &^ starBit)
}

// wall and real convert between instants and wall clock readings in loc.
// Schedules are evaluated on the wall clock, then placed with time.Date: a
// day whose gate time falls into a spring-forward gap still gets its gate
// (moved on by the gap, 02:30 becomes 03:30), and a fall-back day does not
// get two.
func wall(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
}

func real(w time.Time, loc *time.Location) time.Time {
	return sekisho.WallTime(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), loc)
}

func (p *Pipeline) schedule() (*cron.SpecSchedule, *time.Location, error) {
	s, err := parseSchedule(p.Schedule)
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline %s: schedule: %w", p.Name, err)
	}
	return s, p.Location, nil
}

// ScheduleFires returns the gate times of p in [from, to), one per day at
// most, in p's time zone. The engine uses it to open the gates it missed
// while down; reports use it to find the days a gate should have opened.
func ScheduleFires(p *Pipeline, from, to time.Time) []time.Time {
	s, loc, err := p.schedule()
	if err != nil || !from.Before(to) {
		return nil
	}
	var out []time.Time
	end := wall(to, loc).Add(48 * time.Hour)
	for w := s.Next(wall(from, loc).Add(-48 * time.Hour)); !w.IsZero() && w.Before(end); w = s.Next(w) {
		r := real(w, loc)
		if r.Before(from) {
			continue
		}
		if !r.Before(to) {
			break
		}
		if !p.Gates(sekisho.DateOf(r, loc)) {
			continue
		}
		out = append(out, r)
	}
	return out
}

// NextFire returns p's first gate time strictly after t, or zero if the
// schedule never fires again.
func (p *Pipeline) NextFire(t time.Time) time.Time {
	s, loc, err := p.schedule()
	if err != nil {
		return time.Time{}
	}
	// A calendar can skip weeks (a company's year-end days off) and
	// business_day whole months, never more than a year and some.
	limit := wall(t, loc).Add(800 * 24 * time.Hour)
	for w := s.Next(wall(t, loc).Add(-48 * time.Hour)); !w.IsZero() && w.Before(limit); w = s.Next(w) {
		if r := real(w, loc); r.After(t) && p.Gates(sekisho.DateOf(r, loc)) {
			return r
		}
	}
	return time.Time{}
}

// PrevFire returns p's last gate time strictly before t, or zero: the
// start of Airflow 2's data interval of the run whose gate is t (SPEC §18).
// It asks ScheduleFires, so a calendar's days off are skipped as the
// engine skips them (Tuesday's after a holiday Monday is Friday's).
func (p *Pipeline) PrevFire(t time.Time) time.Time {
	for _, span := range []time.Duration{8 * 24 * time.Hour, 70 * 24 * time.Hour, 800 * 24 * time.Hour} {
		if fires := ScheduleFires(p, t.Add(-span), t); len(fires) > 0 {
			return fires[len(fires)-1]
		}
	}
	return time.Time{}
}

// GateClock returns the time of day p's gate opens, in p's time zone.
func (p *Pipeline) GateClock() (hour, minute, second int) {
	s, err := parseSchedule(p.Schedule)
	if err != nil {
		return 0, 0, 0
	}
	return gateClock(s)
}

// GateOn returns when p's gate opens on the logical date, or zero when the
// schedule does not fire that day (a weekday schedule on a Sunday). It is
// ScheduleFires over the day, so the board and `sekisho status` place a gate
// exactly where the engine opens it, daylight-saving gaps included.
func (p *Pipeline) GateOn(date string) time.Time {
	_, loc, err := p.schedule()
	if err != nil {
		return time.Time{}
	}
	day, err := time.ParseInLocation(sekisho.DateLayout, date, loc)
	if err != nil {
		return time.Time{}
	}
	next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	for _, t := range ScheduleFires(p, day, next) {
		if sekisho.DateOf(t, loc) == date {
			return t
		}
	}
	return time.Time{}
}
