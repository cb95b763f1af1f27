package config

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/calendar"
)

// calendars decodes the top-level calendars: (SPEC §18), company calendars
// built on jp or on none.
func (d *decoder) calendars(root *fields) map[string]*calendar.Calendar {
	out := map[string]*calendar.Calendar{}
	v, ok := root.get("calendars")
	if !ok {
		return out
	}
	names, vals, _ := d.mapEntries(v)
	for i, name := range names {
		if slices.Contains(calendar.Builtins, name) {
			d.fail(vals[i], "calendar %s is built in; give yours another name and set base: jp", name)
			continue
		}
		if !namePattern.MatchString(name) {
			d.fail(vals[i], "name %q may only hold lowercase letters, digits, _ and -", name)
			continue
		}
		f := d.mapping(vals[i], KnownKeys["calendars.*"], nil)
		if f == nil {
			continue
		}
		def := calendar.Def{Base: d.oneOf(f, "base", "base", calendar.JP, calendar.Bases), Weekend: calendar.DefaultWeekend}
		if wv, ok := f.get("weekend"); ok {
			def.Weekend = []time.Weekday{}
			items, _ := d.list(wv)
			for _, it := range items {
				s, ok := d.scalarOf(it, false)
				if !ok {
					continue
				}
				w, ok := calendar.ParseWeekday(s.s)
				if !ok {
					d.fail(it, "unknown weekday %s; write sat, sun, mon, tue, wed, thu or fri", s.shown)
					continue
				}
				def.Weekend = append(def.Weekend, w)
			}
		}
		def.Holidays = d.dates(f, "holidays", nil)
		def.Workdays = d.dates(f, "workdays", def.Holidays)
		c, err := calendar.New(name, def)
		if err != nil {
			d.fail(vals[i], "%v", err)
			continue
		}
		out[name] = c
	}
	return out
}

// dates reads a list of YYYY-MM-DD dates; a date also in not is refused
// (a workday that is also a holiday).
func (d *decoder) dates(f *fields, key string, not []string) []string {
	return d.scalars(f, key, func(it val, s scalar) bool {
		if _, err := calendar.ParseDate(s.s); err != nil {
			d.fail(it, "bad date %s; write YYYY-MM-DD, like \"2026-12-29\"", s.shown)
			return false
		}
		if slices.Contains(not, s.s) {
			d.fail(it, "%s is also under holidays; a day is a holiday or a workday, not both", s.s)
			return false
		}
		return true
	})
}

// pipelineCalendar reads calendar: and business_day: of one pipeline.
func (d *decoder) pipelineCalendar(cfg *Config, p *Pipeline, f *fields) {
	if name, v, ok := d.str(f, "calendar"); ok {
		if c := cfg.Calendar(name); c != nil {
			p.Calendar, p.CalendarName = c, name
		} else {
			all := append(slices.Sorted(maps.Keys(cfg.Calendars)), calendar.Builtins...)
			slices.Sort(all)
			d.fail(v, "%s", unknownName("calendar", name, "calendars", all))
		}
	}
	n, v, ok := d.integer(f, "business_day")
	if !ok {
		return
	}
	switch {
	case n == 0:
		d.fail(v, "business_day 0 is not a day; count from 1 (the first business day of the month) or from -1 (the last)")
	case n > 23 || n < -23:
		d.fail(v, "business_day %d: no month has that many business days", n)
	case !f.has("calendar"):
		d.fail(v, "business_day needs a calendar; set calendar: jp_business (or one under calendars:)")
	default:
		p.BusinessDay = int(n)
	}
}

// businessTime checks a time of day read from key: a business-day offset
// ("+1bd 09:00") needs the pipeline's calendar, and only window_start may
// count back.
func (d *decoder) businessTime(p *Pipeline, f *fields, key string, t sekisho.TimeOfDay, v val) bool {
	if !t.BusinessDays {
		return true
	}
	if !f.has("calendar") {
		d.fail(v, "%q counts business days and needs a calendar; set calendar: jp_business (or one under calendars:)", t.String())
		return false
	}
	if t.Days < 0 && key != "window_start" {
		d.fail(v, "%q counts back; %s counts business days after the logical date, like \"+1bd 09:00\"", t.String(), key)
		return false
	}
	return true
}

// Calendar returns the calendar of that name, built in or declared, or nil.
func (c *Config) Calendar(name string) *calendar.Calendar {
	if cal, ok := c.Calendars[name]; ok {
		return cal
	}
	if cal, ok := calendar.Builtin(name); ok {
		return cal
	}
	return nil
}

// CalendarWarnings returns a warning for every calendar a pipeline uses
// whose holiday data ends within calendar.WarnDays of now (in the config's
// time zone): validate prints them, the daemon logs them.
func (c *Config) CalendarWarnings(now time.Time) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range c.Pipelines {
		if p.Calendar == nil || seen[p.CalendarName] {
			continue
		}
		seen[p.CalendarName] = true
		if w := p.Calendar.Warning(sekisho.DateOf(now, c.Location)); w != "" {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

// UsedCalendars returns the calendars the pipelines use, by name.
func (c *Config) UsedCalendars() map[string]*calendar.Calendar {
	out := map[string]*calendar.Calendar{}
	for _, p := range c.Pipelines {
		if p.Calendar != nil {
			out[p.CalendarName] = p.Calendar
		}
	}
	return out
}

// Gates reports whether p's calendar lets a gate open on date: every date
// without a calendar; with one, its business days, and with business_day
// only the Nth of the month. The schedule still decides the time, and
// whether it fires that day at all.
func (p *Pipeline) Gates(date string) bool {
	if p.Calendar == nil {
		return true
	}
	if p.BusinessDay != 0 {
		return p.Calendar.BusinessDayOfMonth(date, p.BusinessDay)
	}
	return p.Calendar.IsBusinessDay(date)
}

// DayOff returns why p's calendar has no business day on date, and false
// on a business day or without a calendar: the board lists such a day as
// holiday, with this reason.
func (p *Pipeline) DayOff(date string) (calendar.Off, bool) {
	if p.Calendar == nil {
		return calendar.Off{}, false
	}
	return p.Calendar.Why(date)
}

// TimeOn places a time of day of p on the logical date: a business-day
// offset counts business days of p's calendar (without one, calendar
// days, which validate never lets through).
func (p *Pipeline) TimeOn(t sekisho.TimeOfDay, date string) (time.Time, error) {
	if t.BusinessDays {
		t.BusinessDays = false
		if p.Calendar != nil {
			shifted, ok := p.Calendar.AddBusinessDays(date, t.Days)
			if !ok {
				return time.Time{}, fmt.Errorf("time of day %+dbd: no business day within reach of %s in calendar %s", t.Days, date, p.CalendarName)
			}
			date, t.Days = shifted, 0
		}
	}
	return t.On(date, p.Location)
}

func (p *Pipeline) mustTimeOn(t sekisho.TimeOfDay, date string) time.Time {
	v, err := p.TimeOn(t, date)
	if err != nil {
		panic(err)
	}
	return v
}

// TimeoutOn returns when the run of date whose gate opened at gate times
// out: gate plus timeout, or the time of day timeout names ("+1bd 09:00").
func (p *Pipeline) TimeoutOn(date string, gate time.Time) time.Time {
	if p.TimeoutAt.Set {
		return p.mustTimeOn(p.TimeoutAt, date)
	}
	return gate.Add(p.Timeout)
}

// MaxTimeout bounds how long after its gate any run of p can time out: the
// engine's catch-up window. A business-day timeout may stretch over a
// weekend and a run of holidays, so it counts a fortnight more.
func (p *Pipeline) MaxTimeout() time.Duration {
	if p.TimeoutAt.Set {
		return time.Duration(p.TimeoutAt.Days+14) * 24 * time.Hour
	}
	return p.Timeout
}
