package config

import (
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/calendar"

	"github.com/robfig/cron/v3"
)

var (
	standardParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
	secondsParser  = cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
)

// starBit is robfig/cron's marker for a field written as "*".
const starBit = 1 << 63

// parsed keeps the schedules parseSchedule has read, by expression: the
// board, the engine and the metrics ask a pipeline for its gates many
// times a second at 10,000 pipelines, and parsing the expression each time
// was most of the board's garbage. A parsed schedule is never changed
// (cron.SpecSchedule.Next only reads it), so callers share it. A config
// holds few distinct expressions; the memo is emptied past parsedMax so
// reloads with ever new ones cannot grow it without bound.
var parsed struct {
	sync.RWMutex
	m map[string]*cron.SpecSchedule
}

const parsedMax = 4096

// parseSchedule reads a cron expression of 5 fields, 6 with leading
// seconds, or a descriptor such as @daily. The time zone comes from the
// pipeline, never from a CRON_TZ= prefix, so there is one place to look.
func parseSchedule(expr string) (*cron.SpecSchedule, error) {
	parsed.RLock()
	s, ok := parsed.m[expr]
	parsed.RUnlock()
	if ok {
		return s, nil
	}
	s, err := parseScheduleText(expr)
	if err != nil {
		return nil, err
	}
	parsed.Lock()
	if parsed.m == nil || len(parsed.m) >= parsedMax {
		parsed.m = map[string]*cron.SpecSchedule{}
	}
	parsed.m[expr] = s
	parsed.Unlock()
	return s, nil
}

func parseScheduleText(expr string) (*cron.SpecSchedule, error) {
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

// MinInterval is the shortest time between two fires of a schedule that
// sekisho gates: each fire is a run, with its polls, its row and its
// notices, and a gate every minute is a stream, not a batch (SPEC §19).
const MinInterval = 5 * time.Minute

// scheduleProblem says why a schedule cannot gate a batch, or "". Any day a
// cron schedule fires on, it fires at every combination of its seconds,
// minutes and hours, so the shortest gap between two fires is the shortest
// gap between two of those times of day, or from the last of one day to the
// first of the next.
func scheduleProblem(s *cron.SpecSchedule) string {
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if s.Next(from).IsZero() {
		return "never fires; check the day of month and month"
	}
	times := firesOfDay(s)
	gap, a, b := 24*time.Hour, times[0], times[0]+24*time.Hour
	for i := 1; i < len(times); i++ {
		if d := times[i] - times[i-1]; i == 1 || d < gap {
			gap, a, b = d, times[i-1], times[i]
		}
	}
	// From the day's last fire to the next day's first.
	if last, next := times[len(times)-1], times[0]+24*time.Hour; len(times) > 1 && next-last < gap {
		gap, a, b = next-last, last, next
	}
	if gap < MinInterval {
		return fmt.Sprintf("fires every %s (at %s and %s); sekisho gates at most every %s, each fire is a run",
			shortDuration(gap), clockText(a), clockText(b%(24*time.Hour)), shortDuration(MinInterval))
	}
	return ""
}

// firesOfDay lists the times of day a schedule fires at, in order, on any
// day it fires.
func firesOfDay(s *cron.SpecSchedule) []time.Duration {
	var out []time.Duration
	for h := 0; h < 24; h++ {
		if s.Hour&(1<<h) == 0 {
			continue
		}
		for m := 0; m < 60; m++ {
			if s.Minute&(1<<m) == 0 {
				continue
			}
			for sec := 0; sec < 60; sec++ {
				if s.Second&(1<<sec) != 0 {
					out = append(out, time.Duration(h)*time.Hour+time.Duration(m)*time.Minute+time.Duration(sec)*time.Second)
				}
			}
		}
	}
	return out
}

func clockText(d time.Duration) string {
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	return sekisho.TimeOfDay{Hour: h, Minute: m, Second: s, Set: true}.String()
}

// shortDuration prints 5m0s as 5m and 1h0m0s as 1h.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// subDaily reports whether a schedule fires more than once on a day it
// fires: then each fire is a run with its own key (SPEC §19).
func subDaily(s *cron.SpecSchedule) bool {
	for _, f := range []uint64{s.Second, s.Minute, s.Hour} {
		if bits.OnesCount64(f&^starBit) != 1 {
			return true
		}
	}
	return false
}

// gateClock is the time of day a daily schedule fires.
func gateClock(s *cron.SpecSchedule) (h, m, sec int) {
	return bits.TrailingZeros64(s.Hour &^ starBit), bits.TrailingZeros64(s.Minute &^ starBit),
		bits.TrailingZeros64(s.Second &^ starBit)
}

// gateSeconds is gateClock as seconds after midnight.
func gateSeconds(s *cron.SpecSchedule) int {
	h, m, sec := gateClock(s)
	return h*3600 + m*60 + sec
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

// instants are the gates of one wall clock fire. A daily schedule has one
// gate a day whatever the clocks do (real). A sub-daily one fires each time
// the wall clock shows a fire time: not at all in a spring-forward gap (the
// next fire comes soon), twice in a fall-back hour, so an hourly pipeline
// has 23 runs on one day of the year and 25 on another, one per hour that
// passes.
func instants(w time.Time, loc *time.Location, sub bool) []time.Time {
	if !sub {
		return []time.Time{real(w, loc)}
	}
	return sekisho.WallInstants(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), loc)
}

func (p *Pipeline) schedule() (*cron.SpecSchedule, *time.Location, error) {
	s, err := parseSchedule(p.Schedule)
	if err != nil {
		return nil, nil, fmt.Errorf("pipeline %s: schedule: %w", p.Name, err)
	}
	return s, p.Location, nil
}

// ScheduleFires returns the gate times of p in [from, to), in order: one
// per day at most for a daily pipeline, every fire for a sub-daily one. The
// engine uses it to open the gates it missed while down; reports use it to
// find the gates that should have opened.
func ScheduleFires(p *Pipeline, from, to time.Time) []time.Time {
	s, loc, err := p.schedule()
	if err != nil || !from.Before(to) {
		return nil
	}
	sub := subDaily(s)
	var out []time.Time
	end := wall(to, loc).Add(48 * time.Hour)
	for w := s.Next(wall(from, loc).Add(-48 * time.Hour)); !w.IsZero() && w.Before(end); w = s.Next(w) {
		for _, r := range instants(w, loc, sub) {
			if !r.Before(from) && r.Before(to) && p.Gates(sekisho.DateOf(r, loc)) {
				out = append(out, r)
			}
		}
	}
	// A fall-back hour's second pass comes after fires of the next wall
	// clock readings' first: order by the instant.
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return slices.CompactFunc(out, func(a, b time.Time) bool { return a.Equal(b) })
}

// NextFire returns p's first gate time strictly after t, or zero if the
// schedule never fires again.
func (p *Pipeline) NextFire(t time.Time) time.Time {
	s, loc, err := p.schedule()
	if err != nil {
		return time.Time{}
	}
	sub := subDaily(s)
	var best time.Time
	// A calendar can skip weeks (a company's year-end days off) and
	// business_day whole months, never more than a year and some.
	limit := wall(t, loc).Add(800 * 24 * time.Hour)
	for w := s.Next(wall(t, loc).Add(-48 * time.Hour)); !w.IsZero() && w.Before(limit); w = s.Next(w) {
		// Wall readings and instants differ by the zone's offset, which a
		// transition changes by hours at most: past that, nothing earlier
		// can come.
		if !best.IsZero() && w.After(wall(best, loc).Add(3*time.Hour)) {
			break
		}
		for _, r := range instants(w, loc, sub) {
			if r.After(t) && (best.IsZero() || r.Before(best)) && p.Gates(sekisho.DateOf(r, loc)) {
				best = r
			}
		}
	}
	return best
}

// Fires remembers NextFire's answers for the pipelines that share what
// their fire times depend on (schedule, zone, calendar, business day):
// 10,000 pipelines on a few schedules then work out a few fire times, not
// 10,000. Working them out was a tenth of the daemon's start-up CPU, where
// the engine scans every pipeline for the gates due (issue 23). The zero
// value is ready; keep one for a scan, since it remembers every instant
// asked.
type Fires struct{ m map[fireKey]time.Time }

// fireKey is what NextFire's answer depends on: everything schedule and
// Gates read, and the instant asked.
type fireKey struct {
	schedule    string
	loc         *time.Location
	calendar    *calendar.Calendar
	businessDay int
	after       int64 // the instant, Unix nanoseconds
}

// Next is p.NextFire(t).
func (f *Fires) Next(p *Pipeline, t time.Time) time.Time {
	k := fireKey{p.Schedule, p.Location, p.Calendar, p.BusinessDay, t.UnixNano()}
	if next, ok := f.m[k]; ok {
		return next
	}
	next := p.NextFire(t)
	if f.m == nil {
		f.m = map[fireKey]time.Time{}
	}
	f.m[k] = next
	return next
}

// PrevFire returns p's last gate time strictly before t, or zero: where a
// sub-daily run's default window starts (SPEC §19), and the start of
// Airflow 2's data interval of the run whose gate is t (SPEC §18). It asks
// ScheduleFires, so a calendar's days off are skipped as the engine skips
// them (Monday 09:00's previous fire is Friday's last; Tuesday's after a
// holiday Monday is Friday's).
func (p *Pipeline) PrevFire(t time.Time) time.Time {
	to := t
	for _, back := range []time.Duration{26 * time.Hour, 8 * 24 * time.Hour, 70 * 24 * time.Hour, 800 * 24 * time.Hour} {
		from := t.Add(-back)
		if fires := ScheduleFires(p, from, to); len(fires) > 0 {
			return fires[len(fires)-1]
		}
		to = from
	}
	return time.Time{}
}

// SubDaily reports whether p's schedule fires more than once on a day it
// fires (SPEC §19): its runs are keyed by fire time, not by date.
func (p *Pipeline) SubDaily() bool {
	s, err := parseSchedule(p.Schedule)
	return err == nil && subDaily(s)
}

// RunKey is the key of p's run whose gate fires at gateAt (sekisho.RunKey).
func (p *Pipeline) RunKey(gateAt time.Time) string {
	return sekisho.RunKey(gateAt, p.Location, p.SubDaily())
}

// GateOn returns when p's gate opens on the logical date, or zero when the
// schedule does not fire that day (a weekday schedule on a Sunday); for a
// sub-daily pipeline, its first gate of the day. It is ScheduleFires over
// the day, so the board and `sekisho status` place a gate exactly where the
// engine opens it, daylight-saving gaps included.
func (p *Pipeline) GateOn(date string) time.Time {
	if gates := p.GatesOn(date); len(gates) > 0 {
		return gates[0]
	}
	return time.Time{}
}

// GateOf returns the gate of p's run with the given key (sekisho.RunKey),
// or zero when p's schedule has no such run.
func (p *Pipeline) GateOf(key string) time.Time {
	for _, g := range p.GatesOn(sekisho.KeyDate(key)) {
		if p.RunKey(g) == key {
			return g
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

// GatesOn returns every gate of p on the logical date, in order: one or
// none for a daily pipeline, each interval's for a sub-daily one.
func (p *Pipeline) GatesOn(date string) []time.Time {
	_, loc, err := p.schedule()
	if err != nil {
		return nil
	}
	day, err := time.ParseInLocation(sekisho.DateLayout, date, loc)
	if err != nil {
		return nil
	}
	next := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
	var out []time.Time
	for _, t := range ScheduleFires(p, day, next) {
		if sekisho.DateOf(t, loc) == date {
			out = append(out, t)
		}
	}
	return out
}
