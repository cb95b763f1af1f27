package sekisho

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"text/template"
	"time"
)

// DateLayout is the layout of a logical date.
const DateLayout = "2006-01-02"

// TimeOfDay is a time of day relative to a logical date: "06:00", or
// "+1d 06:00" for the next morning, "-1d 22:00" for the evening before, or
// "+1bd 09:00" for the next business day of the pipeline's calendar (SPEC
// §18), which only the pipeline can place (config.Pipeline.TimeOn).
type TimeOfDay struct {
	Days                 int
	Hour, Minute, Second int
	Set                  bool // false for an absent value
	// BusinessDays makes Days count business days, not calendar days.
	BusinessDays bool `json:",omitempty"`
}

// ParseTimeOfDay parses "HH:MM", "HH:MM:SS", optionally prefixed "+Nd ",
// "-Nd ", "+Nbd " or "-Nbd ".
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	t := TimeOfDay{Set: true}
	rest := strings.TrimSpace(s)
	if strings.HasPrefix(rest, "+") || strings.HasPrefix(rest, "-") {
		prefix, clock, ok := strings.Cut(rest, " ")
		if !ok || !strings.HasSuffix(prefix, "d") {
			return TimeOfDay{}, fmt.Errorf("time of day %q: a day offset looks like \"+1d 06:00\"", s)
		}
		num, bd := strings.CutSuffix(prefix, "bd")
		if !bd {
			num = strings.TrimSuffix(prefix, "d")
		}
		t.BusinessDays = bd
		n, err := strconv.Atoi(num)
		if err != nil {
			return TimeOfDay{}, fmt.Errorf("time of day %q: bad day offset %q", s, prefix)
		}
		t.Days = n
		rest = strings.TrimSpace(clock)
	}
	parts := strings.Split(rest, ":")
	if len(parts) != 2 && len(parts) != 3 {
		return TimeOfDay{}, fmt.Errorf("time of day %q: want HH:MM or HH:MM:SS", s)
	}
	vals := make([]int, 3)
	limits := []int{23, 59, 59}
	for i, p := range parts {
		if len(p) != 2 {
			return TimeOfDay{}, fmt.Errorf("time of day %q: want two digits in each part", s)
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > limits[i] {
			return TimeOfDay{}, fmt.Errorf("time of day %q: %q is out of range", s, p)
		}
		vals[i] = n
	}
	t.Hour, t.Minute, t.Second = vals[0], vals[1], vals[2]
	return t, nil
}

// String formats t the way ParseTimeOfDay reads it.
func (t TimeOfDay) String() string {
	if !t.Set {
		return ""
	}
	clock := fmt.Sprintf("%02d:%02d", t.Hour, t.Minute)
	if t.Second != 0 {
		clock += fmt.Sprintf(":%02d", t.Second)
	}
	if t.BusinessDays {
		return fmt.Sprintf("%+dbd %s", t.Days, clock)
	}
	if t.Days != 0 {
		return fmt.Sprintf("%+dd %s", t.Days, clock)
	}
	return clock
}

// ErrBusinessDays is On's answer for a business-day offset: only a
// pipeline, which knows its calendar, can place "+1bd 09:00".
var ErrBusinessDays = errors.New("a business-day offset needs the pipeline's calendar")

// On returns the instant t names for the logical date in loc. It builds the
// wall clock time with time.Date, so a day with a daylight saving change
// still puts "06:00" at 06:00 local time.
func (t TimeOfDay) On(date string, loc *time.Location) (time.Time, error) {
	d, err := time.ParseInLocation(DateLayout, date, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("logical date %q: %w", date, err)
	}
	if t.BusinessDays {
		return time.Time{}, fmt.Errorf("time of day %s: %w", t, ErrBusinessDays)
	}
	return WallTime(d.Year(), d.Month(), d.Day()+t.Days, t.Hour, t.Minute, t.Second, loc), nil
}

// WallTime is the instant the wall clock in loc reads the given time. A
// reading that falls into a daylight saving gap (02:30 on a spring-forward
// night) is moved on by the gap's length (to 03:30), never placed before
// it: a deadline or a gate must not come early. A reading the clock shows
// twice (the fall-back hour) is the first of the two.
func WallTime(year int, month time.Month, day, hour, min, sec int, loc *time.Location) time.Time {
	r := time.Date(year, month, day, hour, min, sec, 0, loc)
	want := time.Date(year, month, day, hour, min, sec, 0, time.UTC)
	l := r.In(loc)
	if time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC).Equal(want) {
		return r
	}
	// In a gap: read the wall time with the offset in force before it.
	_, off := r.Zone()
	if alt := want.Add(-time.Duration(off) * time.Second).In(loc); alt.After(r) {
		return alt
	}
	return r
}

// MustOn is On for dates already known to be valid.
func (t TimeOfDay) MustOn(date string, loc *time.Location) time.Time {
	v, err := t.On(date, loc)
	if err != nil {
		panic(err)
	}
	return v
}

// DateOf returns the logical date of instant at in loc.
func DateOf(at time.Time, loc *time.Location) string { return at.In(loc).Format(DateLayout) }

// TemplateData is what the conf and note templates of a trigger see (SPEC §6).
type TemplateData struct {
	Pipeline    string
	LogicalDate string
	Key         string // the run's key: the logical date, or a sub-daily run's fire time
	Attempt     int
	GateAt      string // RFC 3339 in the pipeline's time zone
	// IntervalStart is the schedule's previous fire, RFC 3339 in the
	// pipeline's time zone (empty when unknown).
	IntervalStart string
	Upstreams     map[string]TemplateUpstream
}

// TemplateUpstream is one upstream as templates see it.
type TemplateUpstream struct {
	ExternalID string
	FinishedAt string // RFC 3339, empty if unknown
}

// NewTemplateData builds the template view of a trigger request.
func NewTemplateData(req TriggerRequest) TemplateData {
	d := TemplateData{Pipeline: req.Pipeline, LogicalDate: req.LogicalDate, Key: req.Key, Attempt: req.Attempt,
		GateAt: req.GateAt.In(req.TimeZone).Format(time.RFC3339), Upstreams: map[string]TemplateUpstream{}}
	if !req.IntervalStart.IsZero() {
		d.IntervalStart = req.IntervalStart.In(req.TimeZone).Format(time.RFC3339)
	}
	for name, o := range req.Upstreams {
		u := TemplateUpstream{ExternalID: o.ExternalID}
		if !o.FinishedAt.IsZero() {
			u.FinishedAt = o.FinishedAt.In(req.TimeZone).Format(time.RFC3339)
		}
		d.Upstreams[name] = u
	}
	return d
}

// RenderTemplate executes one text/template over data. Missing keys are
// errors, so a typo in pipelines.yaml is caught by validate, not at 02:00.
func RenderTemplate(name, text string, data TemplateData) (string, error) {
	s, err := ExecuteTemplate(name, text, data)
	if err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return s, nil
}

// ExecuteTemplate executes text as the text/template name over data, a
// missing key an error. It is how every template of pipelines.yaml is
// rendered (conf, note and logical-date templates here, a sql upstream's
// query in config.RenderQuery), so each text is parsed once (templates).
// A text without an action renders as itself, without a parse.
func ExecuteTemplate(name, text string, data any) (string, error) {
	if !strings.Contains(text, "{{") {
		return text, nil
	}
	tmpl, err := parsedTemplate(name, text)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// templates keeps parsed templates by name and text. Checking a config
// renders every template with sample data, and a gate renders its run's:
// at 10,000 pipelines, most sharing their texts, parsing each afresh was
// 28 of the 265 MB that reading the file allocated (BenchmarkParse10k,
// issue 23). A parsed template may be executed by several goroutines at
// once. Past maxTemplates distinct ones, a text is parsed each time.
var templates struct {
	sync.RWMutex
	m map[[2]string]*template.Template
}

const maxTemplates = 4096

// parsedTemplate is text parsed as template name, from templates when it
// was parsed before.
func parsedTemplate(name, text string) (*template.Template, error) {
	key := [2]string{name, text}
	templates.RLock()
	tmpl, ok := templates.m[key]
	templates.RUnlock()
	if ok {
		return tmpl, nil
	}
	tmpl, err := template.New(name).Option("missingkey=error").Parse(text)
	if err != nil {
		return nil, err
	}
	templates.Lock()
	if templates.m == nil {
		templates.m = map[[2]string]*template.Template{}
	}
	if len(templates.m) < maxTemplates {
		templates.m[key] = tmpl
	}
	templates.Unlock()
	return tmpl, nil
}

// RenderConf renders every string inside a conf value (maps, lists, strings)
// as a template; other scalars pass through unchanged.
func RenderConf(conf any, data TemplateData) (any, error) {
	return renderValue("conf", conf, data)
}

func renderValue(path string, v any, data TemplateData) (any, error) {
	switch x := v.(type) {
	case string:
		return RenderTemplate(path, x, data)
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := renderValue(path+"."+k, e, data)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := renderValue(fmt.Sprintf("%s[%d]", path, i), e, data)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	default:
		return v, nil
	}
}

// DefaultNote is the note of a triggered DAG run when the config sets none.
func DefaultNote(pipeline, key string, attempt int) string {
	return fmt.Sprintf("triggered by sekisho: %s %s attempt %d", pipeline, key, attempt)
}
