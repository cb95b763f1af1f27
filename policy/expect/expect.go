// Package expect judges data checks (SPEC §21): whether a sql upstream's
// number meets its expectations (a fixed min and max, and a band around its
// own history, weekday against weekday), and whether a reconcile's source
// and target agree. It is pure: the engine gives it the value and the
// history, the board and the notices show what it says.
package expect

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// MinHistory is how many past values vs_history needs before it judges:
// with fewer, the value passes with a note (the first weeks of a new check).
const MinHistory = 3

// Point is the value of one succeeded day.
type Point struct {
	Date  string // the logical date, YYYY-MM-DD (a sub-daily key starts with one)
	Value float64
}

// Verdict is what Judge decides.
type Verdict struct {
	OK bool
	// Low and High bound the band the value was held against; nil is
	// unbounded on that side.
	Low, High *float64
	// Median and N describe the history vs_history used (N zero when it
	// was not used).
	Median float64
	N      int
	// Message names the value and the band, for the board and the notice.
	Message string
}

// Judge holds value, the number a sql upstream's query returned for the
// logical date, against e; history holds the upstream's values on its
// succeeded days (any order, any dates: Judge picks the days e asks for).
func Judge(e *config.Expect, date string, value float64, history []Point) Verdict {
	v := Verdict{OK: true}
	if e == nil {
		v.Message = "value " + Format(value)
		return v
	}
	v.Low, v.High = e.Min, e.Max
	var note string
	if h := e.VsHistory; h != nil {
		vals := Window(h, date, history)
		if len(vals) < MinHistory {
			note = fmt.Sprintf("not compared with history yet: %d of %d %s", len(vals), MinHistory, daysWord(h, date))
		} else {
			med := median(vals)
			lo, hi := med*(1-h.Tolerance), med*(1+h.Tolerance)
			v.Median, v.N = med, len(vals)
			if v.Low == nil || lo > *v.Low {
				v.Low = &lo
			}
			if v.High == nil || hi < *v.High {
				v.High = &hi
			}
			note = fmt.Sprintf("median %s of %d %s ±%s", bound(med), len(vals), daysWord(h, date), pct(h.Tolerance))
		}
	}
	switch {
	case v.Low != nil && value < *v.Low, v.High != nil && value > *v.High:
		v.OK = false
		v.Message = fmt.Sprintf("value %s is outside the expected %s", Format(value), band(v.Low, v.High))
	default:
		v.Message = fmt.Sprintf("value %s is within the expected %s", Format(value), band(v.Low, v.High))
		if v.Low == nil && v.High == nil {
			v.Message = "value " + Format(value)
		}
	}
	if note != "" {
		v.Message += " (" + note + ")"
	}
	return v
}

// Window is the history vs_history compares with: the values of the days
// before date within h.Days, and with SameWeekday only those on date's
// weekday.
func Window(h *config.VsHistory, date string, history []Point) []float64 {
	day, ok := dayOf(date)
	if !ok {
		return nil
	}
	from := day.AddDate(0, 0, -h.Days)
	var out []float64
	for _, p := range history {
		d, ok := dayOf(p.Date)
		if !ok || !d.Before(day) || d.Before(from) {
			continue
		}
		if h.SameWeekday && d.Weekday() != day.Weekday() {
			continue
		}
		out = append(out, p.Value)
	}
	return out
}

// dayOf reads the calendar day a logical date (or a sub-daily run key
// that starts with one) falls on.
func dayOf(date string) (time.Time, bool) {
	if len(date) < len(sekisho.DateLayout) {
		return time.Time{}, false
	}
	d, err := time.Parse(sekisho.DateLayout, date[:len(sekisho.DateLayout)])
	return d, err == nil
}

func daysWord(h *config.VsHistory, date string) string {
	if h.SameWeekday {
		if d, ok := dayOf(date); ok {
			return d.Weekday().String() + "s"
		}
	}
	return "days"
}

func median(vals []float64) float64 {
	s := slices.Clone(vals)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// band writes a band as people read it: "band 28,000–52,000", "minimum
// 1,000", "maximum 500".
func band(lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return "band " + bound(*lo) + "–" + bound(*hi)
	case lo != nil:
		return "minimum " + bound(*lo)
	case hi != nil:
		return "maximum " + bound(*hi)
	}
	return "band (none)"
}

// bound writes a band's edge: a history's band of counts in whole numbers
// (13,144, not 13,143.55), small numbers as they are.
func bound(x float64) string {
	if math.Abs(x) >= 100 {
		return Format(math.Round(x))
	}
	return Format(x)
}

func pct(share float64) string {
	return strconv.FormatFloat(share*100, 'f', -1, 64) + "%"
}

// Reconciliation is what Reconcile decides.
type Reconciliation struct {
	OK         bool
	Difference float64 // target − source
	Allowed    float64 // the largest |difference| the tolerance accepts
	Message    string  // both numbers and the difference
}

// Reconcile decides whether a reconcile upstream's source and target
// agree within the tolerance.
func Reconcile(source, target float64, tol config.Tolerance) Reconciliation {
	r := Reconciliation{Difference: target - source, Allowed: tol.Allowed(source)}
	r.OK = math.Abs(r.Difference) <= r.Allowed
	diff := Format(r.Difference)
	if r.Difference > 0 {
		diff = "+" + diff
	}
	if source != 0 {
		diff += " (" + strconv.FormatFloat(100*r.Difference/math.Abs(source), 'f', 2, 64) + "%)"
	}
	verdict := "within"
	if !r.OK {
		verdict = "over"
	}
	r.Message = fmt.Sprintf("source %s, target %s: difference %s, %s the tolerance %s",
		Format(source), Format(target), diff, verdict, tol.String())
	return r
}

// Format writes a check's number as people read it: whole numbers with
// thousands separators (1,234,567), others rounded to at most four
// decimals.
func Format(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	if r := math.Round(v); math.Abs(v-r) > 1e-9 {
		s := strconv.FormatFloat(v, 'f', 4, 64)
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
		whole, frac, _ := strings.Cut(s, ".")
		if frac == "" {
			return groupDigits(whole)
		}
		return groupDigits(whole) + "." + frac
	}
	return groupDigits(strconv.FormatInt(int64(math.Round(v)), 10))
}

func groupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
