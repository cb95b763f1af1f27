package airflowapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// DAG run states Airflow reports (DagState in v1, DagRunState in v2).
const (
	StateQueued  = "queued"
	StateRunning = "running"
	StateSuccess = "success"
	StateFailed  = "failed"
)

// DagRun is one DAG run, the fields sekisho uses from either API version.
// Times are zero when Airflow sends null.
type DagRun struct {
	DagID             string
	DagRunID          string
	State             string
	RunType           string
	Note              string
	Conf              map[string]any
	LogicalDate       time.Time // v1 also calls it execution_date; null for v2 runs triggered without one
	StartDate         time.Time // null while queued
	EndDate           time.Time
	QueuedAt          time.Time // v2 only
	RunAfter          time.Time // v2 only: when the run became runnable
	DataIntervalStart time.Time
	DataIntervalEnd   time.Time
}

// Since returns the instant that places the run in a window: its start
// date, or, for a run that has not started yet, when it was queued (v2
// queued_at, then run_after). Airflow 2 does not say when a run was queued,
// so v1 falls back to the later of logical_date and data_interval_end,
// which is when a scheduled run becomes runnable and when a manual one was
// triggered. Zero when Airflow says nothing at all.
func (r DagRun) Since() time.Time {
	switch {
	case !r.StartDate.IsZero():
		return r.StartDate
	case !r.QueuedAt.IsZero():
		return r.QueuedAt
	case !r.RunAfter.IsZero():
		return r.RunAfter
	}
	if r.DataIntervalEnd.After(r.LogicalDate) {
		return r.DataIntervalEnd
	}
	return r.LogicalDate
}

// wireDagRun is the JSON of a DAG run in both versions.
type wireDagRun struct {
	DagID             string         `json:"dag_id"`
	DagRunID          string         `json:"dag_run_id"`
	State             string         `json:"state"`
	RunType           string         `json:"run_type"`
	Note              *string        `json:"note"`
	Conf              map[string]any `json:"conf"`
	LogicalDate       nullTime       `json:"logical_date"`
	ExecutionDate     nullTime       `json:"execution_date"`
	StartDate         nullTime       `json:"start_date"`
	EndDate           nullTime       `json:"end_date"`
	QueuedAt          nullTime       `json:"queued_at"`
	RunAfter          nullTime       `json:"run_after"`
	DataIntervalStart nullTime       `json:"data_interval_start"`
	DataIntervalEnd   nullTime       `json:"data_interval_end"`
}

func (w wireDagRun) dagRun() DagRun {
	r := DagRun{DagID: w.DagID, DagRunID: w.DagRunID, State: w.State, RunType: w.RunType,
		Conf: w.Conf, LogicalDate: w.LogicalDate.t, StartDate: w.StartDate.t, EndDate: w.EndDate.t,
		QueuedAt: w.QueuedAt.t, RunAfter: w.RunAfter.t, DataIntervalStart: w.DataIntervalStart.t,
		DataIntervalEnd: w.DataIntervalEnd.t}
	if r.LogicalDate.IsZero() {
		r.LogicalDate = w.ExecutionDate.t
	}
	if w.Note != nil {
		r.Note = *w.Note
	}
	return r
}

type wireDagRunList struct {
	DagRuns      []wireDagRun `json:"dag_runs"`
	TotalEntries *int         `json:"total_entries"`
}

// nullTime reads an RFC 3339 time that may be null or empty. Airflow sends
// "+00:00" offsets and microseconds; RFC3339Nano reads both.
type nullTime struct{ t time.Time }

func (n *nullTime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || strings.TrimSpace(*s) == "" {
		n.t = time.Time{}
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return fmt.Errorf("time %q: %w", *s, err)
	}
	n.t = t.UTC()
	return nil
}

// Dag is the part of a DAG sekisho reads.
type Dag struct {
	DagID    string
	IsPaused bool
}

type wireDag struct {
	DagID    string `json:"dag_id"`
	IsPaused *bool  `json:"is_paused"`
}

// JobState maps an Airflow DAG run state to sekisho's: success → succeeded,
// failed → failed, and queued, running or anything unknown → running (an
// unknown state is most likely a new in-progress one, and a false failure
// would page someone at night).
func JobState(state string) sekisho.JobState {
	switch state {
	case StateSuccess:
		return sekisho.JobSucceeded
	case StateFailed:
		return sekisho.JobFailed
	}
	return sekisho.JobRunning
}

// Finished reports whether a DAG run state is final.
func Finished(state string) bool { return state == StateSuccess || state == StateFailed }

// KnownState reports whether Airflow documents the state.
func KnownState(state string) bool {
	switch state {
	case StateQueued, StateRunning, StateSuccess, StateFailed:
		return true
	}
	return false
}
