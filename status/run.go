package status

import (
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// run is what the listing keeps of a stored run between calls (reads):
// the fields the board shows, judges and projects from, its times as Unix
// nanoseconds (0: none). A sekisho.Run is ~400 bytes, which a map keeps
// boxed on the heap, one allocation a run; this is 120, kept in the map
// itself. At 10,000 pipelines the runs were the largest part of what the
// cache keeps (issue 23).
type run struct {
	id                                                                    int64
	key, message                                                          string
	state                                                                 sekisho.State
	attempt                                                               int
	gate, triggered, started, finished, firstSuccess, deadline, recoverBy int64
}

func compactRun(r sekisho.Run) run {
	return run{id: r.ID, key: r.Key, message: r.Message, state: r.State, attempt: r.Attempt,
		gate: unixNano(r.GateAt), triggered: unixNano(r.TriggeredAt), started: unixNano(r.StartedAt),
		finished: unixNano(r.FinishedAt), firstSuccess: unixNano(r.FirstSuccessAt), deadline: unixNano(r.Deadline),
		recoverBy: unixNano(r.RecoverBy)}
}

// date is the run's logical date, from its key.
func (r run) date() string { return sekisho.KeyDate(r.key) }

// full is r as a sekisho.Run of pipeline, with the fields the listing
// keeps (the store's times are UTC, and come back so).
func (r run) full(pipeline string) sekisho.Run {
	return sekisho.Run{ID: r.id, Pipeline: pipeline, LogicalDate: r.date(), Key: r.key, Message: r.message, State: r.state,
		Attempt: r.attempt, GateAt: fromUnixNano(r.gate), TriggeredAt: fromUnixNano(r.triggered), StartedAt: fromUnixNano(r.started),
		FinishedAt: fromUnixNano(r.finished), FirstSuccessAt: fromUnixNano(r.firstSuccess), Deadline: fromUnixNano(r.deadline),
		RecoverBy: fromUnixNano(r.recoverBy)}
}

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// observation is what the listing keeps of a run's latest observation of
// an upstream: what its entry shows and its projection reads, times as
// Unix nanoseconds, the names and states shared (an interner) instead of
// a string each, and what most observations lack (a message, an error, a
// data check's value and reason) behind a pointer. A sekisho.Observation
// is ~190 bytes and four strings of its own; at 10,000 pipelines with
// three upstreams each the observations were the largest part of the
// cache (issue 23). This is 80 bytes.
type observation struct {
	upstream                    string
	state                       sekisho.JobState
	externalID                  string
	started, finished, observed int64
	more                        *observationMore // nil: none of it
}

// observationMore is the rest of an observation, when it has any.
type observationMore struct {
	message, errText, reason string
	value                    *float64
}

// compactObservation is o as the listing keeps it, its upstream name and
// state from in (the one copy of each). Its other texts are copied: the
// store hands them as parts of one string a row (store.EachLatest-
// ObservationOn), which keeping one part would keep whole.
func compactObservation(o sekisho.Observation, in interner) observation {
	c := observation{upstream: in.of(o.Upstream), state: sekisho.JobState(in.of(string(o.State))),
		externalID: strings.Clone(o.ExternalID), started: unixNano(o.StartedAt), finished: unixNano(o.FinishedAt),
		observed: unixNano(o.ObservedAt)}
	if o.Message != "" || o.Error != "" || o.Reason != "" || o.Value != nil {
		c.more = &observationMore{message: strings.Clone(o.Message), errText: strings.Clone(o.Error),
			reason: strings.Clone(o.Reason), value: o.Value}
	}
	return c
}

// interner hands out one copy of each string it is given.
type interner map[string]string

func (in interner) of(s string) string {
	if c, ok := in[s]; ok {
		return c
	}
	c := strings.Clone(s)
	in[c] = c
	return c
}

// compactObservations are a run's observations as the listing keeps them.
func compactObservations(obs []sekisho.Observation, in interner) []observation {
	out := make([]observation, len(obs))
	for i, o := range obs {
		out[i] = compactObservation(o, in)
	}
	return out
}

// observationOf is the observation of the named upstream among obs.
func observationOf(obs []observation, upstream string) (observation, bool) {
	for _, o := range obs {
		if o.upstream == upstream {
			return o, true
		}
	}
	return observation{}, false
}

// forETA is o as the ETA projection reads it (eta.AppendInput).
func (o observation) forETA() sekisho.Observation {
	return sekisho.Observation{Upstream: o.upstream, State: o.state, StartedAt: fromUnixNano(o.started),
		FinishedAt: fromUnixNano(o.finished)}
}
