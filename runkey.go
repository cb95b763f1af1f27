package sekisho

import (
	"fmt"
	"strings"
	"time"
)

// KeyLayout is the layout of a sub-daily run's key: the gate's wall clock
// time in the pipeline's zone, to the minute (SPEC §19).
const KeyLayout = "2006-01-02T15:04"

// offsetLayout is what a key adds for the second pass of a wall-clock hour
// that a fall-back night repeats: "2026-11-01T01:00-05:00".
const offsetLayout = "-07:00"

// RunKey is the key that identifies the run whose gate fires at gateAt, one
// per run of a pipeline (SPEC §19): the logical date of a daily pipeline's
// run, "YYYY-MM-DD" as always, and the fire time in loc, "YYYY-MM-DDTHH:MM",
// of a sub-daily one. A fall-back night shows one wall-clock hour twice and
// an hourly schedule fires in both; the second fire's key carries its zone
// offset ("2026-11-01T01:00-05:00") so the two runs stay apart. Every key in
// the store, the API, the CLI, notices and dag_run_ids comes from here.
func RunKey(gateAt time.Time, loc *time.Location, subDaily bool) string {
	if !subDaily {
		return DateOf(gateAt, loc)
	}
	l := gateAt.In(loc)
	k := l.Format(KeyLayout)
	if ins := WallInstants(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), loc); len(ins) > 1 && ins[1].Equal(gateAt) {
		k += l.Format(offsetLayout)
	}
	return k
}

// KeyDate is the logical date of a run key: the key itself for a daily run,
// its date part for a sub-daily one.
func KeyDate(key string) string {
	if len(key) > len(DateLayout) {
		return key[:len(DateLayout)]
	}
	return key
}

// SubDailyKey reports whether key names one run of a sub-daily pipeline
// rather than a whole logical date.
func SubDailyKey(key string) bool { return len(key) > len(DateLayout) }

// ParseKey checks a key an operator typed (a CLI argument, an API path):
// a logical date or a fire time, both as RunKey writes them.
func ParseKey(s string) (string, error) {
	s = strings.TrimSpace(s)
	if _, err := time.Parse(DateLayout, s); err == nil {
		return s, nil
	}
	if len(s) >= len(KeyLayout) {
		if _, err := time.Parse(KeyLayout, s[:len(KeyLayout)]); err == nil {
			rest := s[len(KeyLayout):]
			if rest == "" {
				return s, nil
			}
			if _, err := time.Parse(offsetLayout, rest); err == nil {
				return s, nil
			}
		}
	}
	return "", fmt.Errorf("bad run key %q: want a date (2026-06-01) or a fire time (2026-06-01T13:00)", s)
}

// KeyTime is the wall-clock time of day a sub-daily key names, "13:00", or
// "" for a daily key: how notices and pages name an interval.
func KeyTime(key string) string {
	if !SubDailyKey(key) {
		return ""
	}
	return key[len(DateLayout)+1 : len(KeyLayout)]
}

// KeyID is the key in the form identifiers carry (dag_run_ids, trace ids):
// without the colons, "2026-06-01T1300". A daily key is unchanged, so the
// dag_run_ids of daily runs stay what every release wrote.
func KeyID(key string) string { return strings.ReplaceAll(key, ":", "") }

// WallInstants returns the instants, earliest first, at which the wall
// clock in loc reads the given time: one on most days, none when the
// reading falls into a spring-forward gap, two when a fall-back night shows
// it twice. Sub-daily schedules fire at each of them; WallTime is the one
// gate of a daily schedule.
func WallInstants(year int, month time.Month, day, hour, min, sec int, loc *time.Location) []time.Time {
	want := time.Date(year, month, day, hour, min, sec, 0, time.UTC)
	var out []time.Time
	// The offsets in force a day either side cover any one transition.
	for _, probe := range []time.Time{want.Add(-26 * time.Hour), want.Add(26 * time.Hour)} {
		_, off := probe.In(loc).Zone()
		at := want.Add(-time.Duration(off) * time.Second)
		l := at.In(loc)
		if !time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC).Equal(want) {
			continue
		}
		switch {
		case len(out) == 0:
			out = append(out, at)
		case at.Before(out[0]):
			out = append([]time.Time{at}, out...)
		case at.After(out[0]):
			out = append(out, at)
		}
	}
	return out
}

// UpstreamRunID is the external id a `type: pipeline` upstream reports for
// the run it waited on, "pipeline/key#attempt" (attempt "missing" for a run
// that never opened). Incidents read the key back with UpstreamRunKey, so
// the two stay one format.
func UpstreamRunID(pipeline, key, attempt string) string {
	return pipeline + "/" + key + "#" + attempt
}

// UpstreamRunKey returns the run key of an UpstreamRunID of pipeline.
func UpstreamRunKey(id, pipeline string) (string, bool) {
	rest, ok := strings.CutPrefix(id, pipeline+"/")
	key, _, found := strings.Cut(rest, "#")
	if !ok || !found {
		return "", false
	}
	k, err := ParseKey(key)
	return k, err == nil
}
