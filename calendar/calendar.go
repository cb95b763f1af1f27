// Package calendar answers the questions business calendars raise (SPEC
// §18): is a date a business day, and if not, why not; which date is the
// Nth business day of a month; which date lies N business days after
// another. It is pure: the Japanese national holidays are data embedded
// from the Cabinet Office's list (jp.csv, see jpgen.go), never computed
// from rules, and a company calendar is that data plus the days the config
// adds or removes.
package calendar

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DateLayout is the layout of the dates a calendar reads and answers.
const DateLayout = "2006-01-02"

// Built-in calendar names and bases.
const (
	JP         = "jp"          // national holidays only, no weekend
	JPBusiness = "jp_business" // national holidays, Saturday and Sunday
	BaseNone   = "none"        // a company calendar without national holidays
)

// Builtins lists the calendars every config knows without declaring them.
var Builtins = []string{JP, JPBusiness}

// Bases lists what a company calendar may build on.
var Bases = []string{JP, BaseNone}

// WarnDays is how close the end of a calendar's holiday data may come
// before validate, the log, /metrics and the board warn (SPEC §18): the
// Cabinet Office publishes the next year's holidays each February, so a
// warning from October leaves a quarter to update.
const WarnDays = 90

// Kinds of day off.
const (
	KindWeekend = "weekend"
	KindHoliday = "holiday" // a national holiday
	KindCompany = "company" // a day off the config adds
)

// Off says why a date is not a business day.
type Off struct {
	Kind   string // KindWeekend, KindHoliday or KindCompany
	Ja, En string // the holiday's name; for the other kinds a word
}

// Name is the reason in lang (ja unless en). A weekend reads "weekend" in
// English and 週末 in Japanese, a company day off 会社休日.
func (o Off) Name(lang string) string {
	if lang == "en" {
		return o.En
	}
	return o.Ja
}

// Label is how listings name the day off in their "holiday" field (SPEC
// §18): a holiday's or company day off's name in lang, and "weekend" for a
// weekend in either language, a word the JSON API's readers can test for.
func (o Off) Label(lang string) string {
	if o.Kind == KindWeekend {
		return o.En
	}
	return o.Name(lang)
}

var (
	weekendOff = Off{Kind: KindWeekend, Ja: "週末", En: "weekend"}
	companyOff = Off{Kind: KindCompany, Ja: "会社休日", En: "company holiday"}
)

// Calendar is one named set of business days. The zero value is not
// usable; get one from Builtin or New.
type Calendar struct {
	name     string
	base     string
	weekend  [7]bool
	holidays map[string]bool // the company's extra days off
	workdays map[string]bool // the company's extra working days
}

// Builtin returns the built-in calendar of that name.
func Builtin(name string) (*Calendar, bool) {
	switch name {
	case JP:
		return &Calendar{name: JP, base: JP}, true
	case JPBusiness:
		c := &Calendar{name: JPBusiness, base: JP}
		c.weekend[time.Saturday], c.weekend[time.Sunday] = true, true
		return c, true
	}
	return nil, false
}

// Def is a company calendar as the config declares it.
type Def struct {
	Base     string         `json:"base"`
	Weekend  []time.Weekday `json:"weekend"`
	Holidays []string       `json:"holidays,omitempty"`
	Workdays []string       `json:"workdays,omitempty"`
}

// DefaultWeekend is a company calendar's weekend unless it says otherwise.
var DefaultWeekend = []time.Weekday{time.Saturday, time.Sunday}

// New builds a company calendar. The config checks each field where it is
// written; New refuses what would make the calendar useless.
func New(name string, d Def) (*Calendar, error) {
	if !slices.Contains(Bases, d.Base) {
		return nil, fmt.Errorf("calendar %s: base %q: want jp or none", name, d.Base)
	}
	c := &Calendar{name: name, base: d.Base, holidays: map[string]bool{}, workdays: map[string]bool{}}
	for _, w := range d.Weekend {
		c.weekend[w] = true
	}
	if !slices.Contains(c.weekend[:], false) && len(d.Workdays) == 0 {
		return nil, fmt.Errorf("calendar %s: every day of the week is weekend, so no day is a business day", name)
	}
	for _, s := range d.Holidays {
		if _, err := ParseDate(s); err != nil {
			return nil, fmt.Errorf("calendar %s: holidays: %w", name, err)
		}
		c.holidays[s] = true
	}
	for _, s := range d.Workdays {
		if _, err := ParseDate(s); err != nil {
			return nil, fmt.Errorf("calendar %s: workdays: %w", name, err)
		}
		if c.holidays[s] {
			return nil, fmt.Errorf("calendar %s: %s is both a holiday and a workday", name, s)
		}
		c.workdays[s] = true
	}
	return c, nil
}

// Name is the calendar's name.
func (c *Calendar) Name() string { return c.name }

// Def returns the definition that rebuilds c with New (a built-in's too):
// what a run's snapshot keeps.
func (c *Calendar) Def() Def {
	d := Def{Base: c.base, Weekend: []time.Weekday{}}
	for w, off := range c.weekend {
		if off {
			d.Weekend = append(d.Weekend, time.Weekday(w))
		}
	}
	d.Holidays = sortedKeys(c.holidays)
	d.Workdays = sortedKeys(c.workdays)
	return d
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// ParseDate reads a YYYY-MM-DD date, refusing what time.Parse would
// normalise or misread.
func ParseDate(s string) (time.Time, error) {
	t, err := time.Parse(DateLayout, s)
	if err != nil || t.Format(DateLayout) != s {
		return time.Time{}, fmt.Errorf("%q is not a date: write YYYY-MM-DD, like \"2026-12-29\"", s)
	}
	return t, nil
}

// Why returns why date is not a business day, and false when it is one. A
// national holiday is named even on a weekend or a company day off, since
// its name says most; a company workday is a business day whatever else
// the date is.
func (c *Calendar) Why(date string) (Off, bool) {
	t, err := ParseDate(date)
	if err != nil {
		return Off{}, false
	}
	return c.why(t)
}

func (c *Calendar) why(t time.Time) (Off, bool) {
	date := t.Format(DateLayout)
	if c.workdays[date] {
		return Off{}, false
	}
	if c.base == JP {
		if h, ok := jpHolidays()[date]; ok {
			return Off{Kind: KindHoliday, Ja: h.ja, En: h.en}, true
		}
	}
	if c.holidays[date] {
		return companyOff, true
	}
	if c.weekend[t.Weekday()] {
		return weekendOff, true
	}
	return Off{}, false
}

// IsBusinessDay reports whether date is a business day of c. A date that
// does not parse is not one.
func (c *Calendar) IsBusinessDay(date string) bool {
	if _, err := ParseDate(date); err != nil {
		return false
	}
	_, off := c.Why(date)
	return !off
}

// maxScan bounds every search for a business day: a year and more, far
// past any calendar New accepts (a working day each week at least, or a
// declared workday).
const maxScan = 800

// AddBusinessDays returns the date n business days after date (before it
// for a negative n); date itself need not be a business day. With n 0 it is
// date. ok is false when no such day is found within maxScan days.
func (c *Calendar) AddBusinessDays(date string, n int) (string, bool) {
	t, err := ParseDate(date)
	if err != nil {
		return "", false
	}
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for i := 0; n > 0; i++ {
		if i == maxScan {
			return "", false
		}
		t = t.AddDate(0, 0, step)
		if _, off := c.why(t); !off {
			n--
		}
	}
	return t.Format(DateLayout), true
}

// NthBusinessDay returns the nth business day of the month (n ≥ 1), or
// counting from the month's end for a negative n (-1 the last). ok is false
// when the month has fewer business days, or n is 0.
func (c *Calendar) NthBusinessDay(year int, month time.Month, n int) (string, bool) {
	if n == 0 {
		return "", false
	}
	first := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	days := first.AddDate(0, 1, -1).Day()
	count := 0
	for i := range days {
		d := i
		if n < 0 {
			d = days - 1 - i
		}
		t := first.AddDate(0, 0, d)
		if _, off := c.why(t); off {
			continue
		}
		if count++; count == abs(n) {
			return t.Format(DateLayout), true
		}
	}
	return "", false
}

// BusinessDayOfMonth reports whether date is the nth business day of its
// month (counting from the end for a negative n).
func (c *Calendar) BusinessDayOfMonth(date string, n int) bool {
	t, err := ParseDate(date)
	if err != nil {
		return false
	}
	d, ok := c.NthBusinessDay(t.Year(), t.Month(), n)
	return ok && d == date
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// DataEnd returns the last date the calendar's holiday data covers, and
// false for a calendar that needs none (base none). After it, every date
// would read as a business day unless a weekend: sekisho warns before.
func (c *Calendar) DataEnd() (string, bool) {
	if c.base != JP {
		return "", false
	}
	return jpDataEnd(), true
}

// DaysLeft returns the whole days from today to the end of the data (0 on
// its last day, negative after it), and false for a calendar without data.
func (c *Calendar) DaysLeft(today string) (int, bool) {
	end, ok := c.DataEnd()
	if !ok {
		return 0, false
	}
	t, err := ParseDate(today)
	if err != nil {
		return 0, false
	}
	e, _ := ParseDate(end)
	return int(e.Sub(t).Hours() / 24), true
}

// Warning says that the calendar's holiday data ends within WarnDays of
// today, or is "". Its words are the same in validate, the log and the
// board footer.
func (c *Calendar) Warning(today string) string {
	left, ok := c.DaysLeft(today)
	if !ok || left >= WarnDays {
		return ""
	}
	end, _ := c.DataEnd()
	if left < 0 {
		return fmt.Sprintf("calendar %s: its holiday data ended on %s; every later date reads as a business day unless a weekend: update sekisho (docs/calendars.md)", c.name, end)
	}
	return fmt.Sprintf("calendar %s: its holiday data ends on %s, in %d days; update sekisho once the Cabinet Office publishes the next year (docs/calendars.md)", c.name, end, left)
}

// ParseWeekday reads a weekday as the config writes it: sat, sun, mon, …
// (or the full English name).
func ParseWeekday(s string) (time.Weekday, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	for w := time.Sunday; w <= time.Saturday; w++ {
		full := strings.ToLower(w.String())
		if s == full || s == full[:3] {
			return w, true
		}
	}
	return 0, false
}
