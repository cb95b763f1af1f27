package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/calendar"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/status"
)

var cmdCalendar = &command{
	name:    "calendar",
	summary: "print, day by day, whether a pipeline's gate opens (and when) or why not",
	usage:   "calendar [--pipeline NAME | --calendar NAME] [--from YYYY-MM-DD] [--days N] [--json] [-c FILE]",
	run: func(e *env, c *command, args []string) error {
		f := newFlags(e, c, false)
		pipeline := f.String("pipeline", "", "a pipeline of the config: its gates")
		calName := f.String("calendar", "", "a calendar (jp, jp_business or one under calendars:): its business days")
		from := f.String("from", "", "the first date (default: today)")
		days := f.Int("days", 14, "how many days")
		asJSON := f.Bool("json", false, `print {"days":[{"date","gate_at","reason"}]}`)
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if err := noArgs(f.cmd, pos); err != nil {
			return err
		}
		if (*pipeline == "") == (*calName == "") {
			return usagef("give --pipeline NAME or --calendar NAME (see 'sekisho calendar --help')")
		}
		if *days < 1 || *days > 3660 {
			return usagef("--days %d: want 1 to 3660", *days)
		}
		if err := checkDate("--from", *from); err != nil {
			return err
		}
		cfg, err := calendarConfig(f, *calName)
		if err != nil {
			return err
		}
		plan, err := newCalendarPlan(cfg, *pipeline, *calName)
		if err != nil {
			return err
		}
		start := *from
		if start == "" {
			start = sekisho.DateOf(time.Now(), plan.loc)
		}
		d, _ := calendar.ParseDate(start)
		out := calendarDays{Days: []calendarDay{}}
		for i := range *days {
			out.Days = append(out.Days, plan.day(d.AddDate(0, 0, i).Format(sekisho.DateLayout), status.Language(cfg)))
		}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(out)
		}
		return out.write(e, plan)
	},
}

// calendarConfig loads the config as the reading commands do (no secrets
// needed). A built-in calendar needs no config: without a file it is read
// in Asia/Tokyo.
func calendarConfig(f *flags, calName string) (*config.Config, error) {
	if _, builtin := calendar.Builtin(calName); builtin {
		if _, err := os.Stat(f.configPath()); err != nil && *f.config == "" {
			tokyo, _ := time.LoadLocation("Asia/Tokyo")
			return config.Fill(&config.Config{Location: tokyo}), nil
		}
	}
	return f.loadConfigFor(true)
}

// calendarPlan answers for one pipeline, or for a bare calendar.
type calendarPlan struct {
	name string
	p    *config.Pipeline // nil for a calendar
	cal  *calendar.Calendar
	loc  *time.Location
}

func newCalendarPlan(cfg *config.Config, pipeline, calName string) (*calendarPlan, error) {
	if pipeline != "" {
		p := cfg.Pipeline(pipeline)
		if p == nil {
			return nil, usagef("pipeline %q is not in %s", pipeline, cfg.Path)
		}
		return &calendarPlan{name: p.Name, p: p, cal: p.Calendar, loc: p.Location}, nil
	}
	cal := cfg.Calendar(calName)
	if cal == nil {
		var names []string
		for n := range cfg.Calendars {
			names = append(names, n)
		}
		return nil, usagef("unknown calendar %q (built in: jp, jp_business; declared: %s)", calName, strings.Join(names, ", "))
	}
	return &calendarPlan{name: calName, cal: cal, loc: cfg.Location}, nil
}

// calendarDays is the JSON answer (SPEC §18).
type calendarDays struct {
	Days []calendarDay `json:"days"`
}

type calendarDay struct {
	Date        string  `json:"date"`
	GateAt      *string `json:"gate_at"`
	BusinessDay bool    `json:"business_day"`
	Reason      string  `json:"reason"`
}

// day answers for one date: the gate from config.Pipeline.GateOn (where the
// engine opens it), else the reason from the calendar or the schedule.
func (c *calendarPlan) day(date, lang string) calendarDay {
	d := calendarDay{Date: date, BusinessDay: true}
	if c.cal != nil {
		if off, isOff := c.cal.Why(date); isOff {
			d.BusinessDay, d.Reason = false, off.Name(lang)
		}
	}
	if c.p == nil {
		return d
	}
	if g := c.p.GateOn(date); !g.IsZero() {
		s := g.In(c.loc).Format(time.RFC3339)
		d.GateAt = &s
		return d
	}
	switch {
	case !d.BusinessDay:
	case c.p.BusinessDay != 0 && !c.p.Gates(date):
		d.Reason = nthWords(c.p.BusinessDay, lang)
	default:
		d.Reason = pickLang(lang, "the schedule does not fire", "スケジュール外")
	}
	return d
}

// nthWords reads "not the 3rd business day of the month".
func nthWords(n int, lang string) string {
	if lang != "en" {
		if n < 0 {
			if n == -1 {
				return "月末営業日ではありません"
			}
			return fmt.Sprintf("月末から%d営業日目ではありません", -n)
		}
		return fmt.Sprintf("第%d営業日ではありません", n)
	}
	if n == -1 {
		return "not the last business day of the month"
	}
	if n < 0 {
		return fmt.Sprintf("not the %s to last business day of the month", ordinal(-n))
	}
	return fmt.Sprintf("not the %s business day of the month", ordinal(n))
}

func ordinal(n int) string {
	suffix := "th"
	switch {
	case n%100 >= 11 && n%100 <= 13:
	case n%10 == 1:
		suffix = "st"
	case n%10 == 2:
		suffix = "nd"
	case n%10 == 3:
		suffix = "rd"
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

func pickLang(lang, en, ja string) string {
	if lang == "en" {
		return en
	}
	return ja
}

func (out calendarDays) write(e *env, c *calendarPlan) error {
	for _, d := range out.Days {
		t, _ := calendar.ParseDate(d.Date)
		line := d.Date + " " + t.Weekday().String()[:3] + "  "
		switch {
		case d.GateAt != nil:
			g, _ := time.Parse(time.RFC3339, *d.GateAt)
			g = g.In(c.loc)
			line += "gate " + g.Format("15:04 MST")
			if g.Format(sekisho.DateLayout) != d.Date {
				line += " " + g.Format("01-02")
			}
		case c.p != nil:
			line += "no gate  " + d.Reason
		case d.BusinessDay:
			line += "business day"
		default:
			line += "day off  " + d.Reason
		}
		if _, err := fmt.Fprintln(e.stdout, line); err != nil {
			return err
		}
	}
	return nil
}
