package status

import (
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
