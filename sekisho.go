// Package sekisho holds the domain of the sekisho gatekeeper: the states a
// daily run goes through, the records the store keeps about it, and the small
// interfaces through which sensors, triggers and notifiers plug into the
// engine. It does no I/O; every adapter imports it, it imports none of them.
package sekisho

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// State is the stored state of a run (SPEC §4).
type State string

// The run states of SPEC §4. StateScheduled, StateMissed,
// StateBeforeHistory, StateNoGate and StateHoliday only appear in listings
// (SPEC §8), never in the store: a pipeline whose gate is still to come
// that day is scheduled, one whose gate has passed without a run is missed
// (before_history when the day falls before the pipeline's first run ever:
// it did not exist yet, and neither the board nor the SLO report counts
// it), one whose schedule does not fire that day has no gate, and one whose
// calendar has a day off (a weekend, a national or company holiday, SPEC
// §18) is on holiday.
const (
	StateWaiting   State = "waiting"
	StateBlocked   State = "blocked"
	StateTriggered State = "triggered"
	StateRunning   State = "running"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateTimedOut  State = "timed_out"
	StateSkipped   State = "skipped"

	StateScheduled State = "scheduled"
	StateMissed    State = "missed"
	// StateBeforeHistory is a missed day before the pipeline's first run.
	StateBeforeHistory State = "before_history"
	StateNoGate        State = "no_gate"
	StateHoliday       State = "holiday"
)

// States lists every stored run state, in the order of SPEC §4.
var States = []State{StateWaiting, StateBlocked, StateTriggered, StateRunning,
	StateSucceeded, StateFailed, StateTimedOut, StateSkipped}

// Terminal reports whether no further transition happens without an operator.
func (s State) Terminal() bool {
	switch s {
	case StateSucceeded, StateFailed, StateTimedOut, StateSkipped:
		return true
	}
	return false
}

// Open reports whether s is a stored state a run leaves on its own: the
// states a deadline can find it in, unfinished.
func (s State) Open() bool { return s.Valid() && !s.Terminal() }

// Valid reports whether s is one of the stored run states.
func (s State) Valid() bool {
	for _, v := range States {
		if v == s {
			return true
		}
	}
	return false
}

// AsUpstream is how a run in state s looks to a pipeline that waits on it
// through a `type: pipeline` upstream (SPEC §5). A skipped run did not
// produce the day's data, so it is a failure of the upstream, unless the
// upstream says skippedIsSuccess (`skipped_is_success: true`).
func (s State) AsUpstream(skippedIsSuccess bool) JobState {
	switch s {
	case StateSucceeded:
		return JobSucceeded
	case StateSkipped:
		if skippedIsSuccess {
			return JobSucceeded
		}
		return JobFailed
	case StateFailed, StateTimedOut:
		return JobFailed
	case StateTriggered, StateRunning:
		return JobRunning
	}
	return JobPending
}

// JobState is the state of an external job run as a sensor or a trigger
// reports it: an upstream's latest run in the window, or the downstream run.
type JobState string

// Job states of SPEC §5.
const (
	JobPending   JobState = "pending"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Ended reports whether the job will not change any more by itself.
func (s JobState) Ended() bool { return s == JobSucceeded || s == JobFailed }

// Transition reasons: short machine words stored with every transition.
const (
	ReasonGateOpened        = "gate_opened"
	ReasonConditionMet      = "condition_met"
	ReasonUpstreamFailed    = "upstream_failed"
	ReasonUpstreamRecovered = "upstream_recovered"
	ReasonTimeout           = "timeout"
	ReasonTriggerRejected   = "trigger_rejected"
	ReasonDagPaused         = "dag_paused"
	ReasonTriggerUnknown    = "trigger_outcome_unknown"
	ReasonDownstreamRunning = "dag_run_running"
	ReasonDownstreamSuccess = "dag_run_success"
	ReasonDownstreamFailed  = "dag_run_failed"
	ReasonOperatorRerun     = "operator_rerun"
	ReasonOperatorSkip      = "operator_skip"
	// ReasonLogicalDateTaken fails an attempt whose DAG run's logical date
	// is held by a run sekisho did not create (SPEC §18).
	ReasonLogicalDateTaken = "logical_date_taken"
)

// Observation reasons of a data check (SPEC §21): why a sql or reconcile
// upstream is pending although its query answered, or why it passed with a
// notice.
const (
	// ReasonExpectationFailed: the value is outside its expected band
	// (on_violation: block); the upstream stays pending and is checked again.
	ReasonExpectationFailed = "expectation_failed"
	// ReasonDataAnomaly: the value is outside its band but on_violation is
	// warn; the upstream succeeds and a data_anomaly notice goes out.
	ReasonDataAnomaly = "data_anomaly"
	// ReasonReconcileMismatch: a reconcile upstream's source and target
	// differ by more than the tolerance.
	ReasonReconcileMismatch = "reconcile_mismatch"
)

// Run is one run of a pipeline, one gate: one row, many attempts. A daily
// pipeline has one run per logical date, a sub-daily one a run per fire.
type Run struct {
	ID          int64
	Pipeline    string
	LogicalDate string // YYYY-MM-DD in the pipeline's time zone
	// Key identifies the run among the pipeline's runs (RunKey): the
	// logical date of a daily run, the fire time of a sub-daily one.
	Key     string
	Attempt int
	State   State
	GateAt  time.Time // when the gate opened (the schedule's fire time)
	// AttemptAt is when the current attempt began: the gate for attempt 1,
	// the operator's rerun for later ones. Upstream windows and timeouts of
	// a rerun count from the original gate; this only orders events.
	AttemptAt time.Time
	TimeoutAt time.Time // waiting/blocked past this time becomes timed_out
	Deadline  time.Time // SLO deadline; zero without an slo
	RecoverBy time.Time // SLA recovery limit
	// IntentAt is set when the trigger request of the current attempt is
	// about to go out; with no ExternalID it marks an outcome not yet known.
	IntentAt    time.Time
	TriggeredAt time.Time
	StartedAt   time.Time // downstream observed running
	FinishedAt  time.Time // terminal state reached
	ExternalID  string    // downstream run id of the current attempt
	Message     string    // last human-readable reason (trigger error, downstream message)
	Spec        []byte    // JSON of the pipeline's config when the gate opened (SPEC §4 rule 6)
	UpdatedAt   time.Time
	// FirstSuccessAt is when the run first succeeded, kept across reruns:
	// SLO and SLA are judged on it.
	FirstSuccessAt time.Time
	// Version increases with every write; the store refuses a write based
	// on a stale version (compare-and-set), so concurrent writers (the
	// daemon, a CLI rerun) never overwrite each other.
	Version int64
}

// Transition is one change of a run's state. Transitions are appended and
// never updated or deleted.
type Transition struct {
	ID          int64
	RunID       int64
	Pipeline    string
	LogicalDate string
	Key         string // the run's key (RunKey)
	Attempt     int
	From        State // empty for the gate opening
	To          State
	At          time.Time
	Reason      string
	Detail      map[string]any
}

// JobRun is one run of an external job as a sensor sees it.
type JobRun struct {
	ExternalID string
	State      JobState
	StartedAt  time.Time
	FinishedAt time.Time
	Message    string
	// Value is the number a data check's query returned (sql upstreams);
	// nil for job runs and for answers that are not a number.
	Value *float64
	// Skipped marks a run the vendor skipped (TROCCO's "skipped"): State is
	// JobFailed, which an upstream with skipped_is_success reads as
	// JobSucceeded (see SkippedAs).
	Skipped bool
}

// SkippedAs is the state of a run as an upstream with the given
// skipped_is_success reads it: a skipped run succeeded or failed.
func (r JobRun) SkippedAs(skippedIsSuccess bool) JobState {
	if r.Skipped && skippedIsSuccess {
		return JobSucceeded
	}
	return r.State
}

// Observation is what sekisho knows of one upstream of one run: the state of
// its latest run in the window, plus the last check error, if any. A check
// error never changes State: the last known state is kept.
type Observation struct {
	Upstream   string
	Type       string
	State      JobState
	ExternalID string
	StartedAt  time.Time
	FinishedAt time.Time
	Message    string
	Error      string // last check error; empty when the last check worked
	ObservedAt time.Time
	// Value is a data check's number (sql: the query's value; reconcile:
	// the target's), kept with each observation for the history an
	// expectation compares with (SPEC §21). Nil for job upstreams.
	Value *float64
	// Reason says why a data check is pending although its query answered,
	// or passed with a notice (ReasonExpectationFailed, ReasonDataAnomaly,
	// ReasonReconcileMismatch); empty otherwise.
	Reason string
}

// Latest picks, from runs of one resource, the most recent that started at
// or after windowStart (SPEC §5 rule 2). ok is false when there is none.
func Latest(runs []JobRun, windowStart time.Time) (JobRun, bool) {
	var best JobRun
	found := false
	for _, r := range runs {
		if r.StartedAt.Before(windowStart) {
			continue
		}
		if !found || r.StartedAt.After(best.StartedAt) ||
			(r.StartedAt.Equal(best.StartedAt) && r.ExternalID > best.ExternalID) {
			best, found = r, true
		}
	}
	return best, found
}

// Resource identifies one polled upstream object (a Glue job, a TROCCO job
// definition, a DAG in one Airflow environment). Every pipeline that waits on
// the same resource shares one request per poke interval.
type Resource struct {
	Type       string // sensor type, e.g. "glue_job"
	Connection string // named connection, for airflow_dag
	ID         string // job name, workflow name, definition id or dag id
}

// Key is the resource's stable string form, used in maps and the store.
func (r Resource) Key() string {
	if r.Connection != "" {
		return r.Type + ":" + r.Connection + "/" + r.ID
	}
	return r.Type + ":" + r.ID
}

func (r Resource) String() string { return r.Key() }

// Sensor reports the runs of one kind of upstream resource.
type Sensor interface {
	// Runs returns the runs of r that started at or after since. Order does
	// not matter; Latest picks. Errors are transient unless they wrap
	// ErrNotFound, and never make an upstream failed.
	Runs(ctx context.Context, r Resource, since time.Time) ([]JobRun, error)
}

// JobLedger remembers external job ids that sekisho learned without a list
// endpoint: TROCCO workflow jobs announced by pushed events or started by
// sekisho's own trigger.
type JobLedger interface {
	LearnJob(ctx context.Context, resourceKey, jobID string, at time.Time) error
	LearnedJobs(ctx context.Context, resourceKey string, since time.Time) ([]string, error)
}

// TriggerRequest is everything a trigger needs to start one attempt.
type TriggerRequest struct {
	Pipeline    string
	LogicalDate string
	Key         string // the run's key (RunKey); the logical date for a daily run
	Attempt     int
	GateAt      time.Time
	TimeZone    *time.Location
	Spec        TriggerSpec
	Upstreams   map[string]Observation
	// IntervalStart is the previous fire of the pipeline's schedule (and
	// calendar) before GateAt: Airflow 2's data interval start (SPEC §18).
	IntervalStart time.Time
	// IntentAt is when the intent of this attempt's trigger was recorded,
	// before any request: a trigger whose request is not idempotent (an
	// Airflow clear) compares what the downstream shows with it to tell,
	// after a crash, whether its request already took effect.
	IntentAt time.Time
}

// TriggerSpec is the downstream half of a pipeline's config, kept with the
// run so a run finishes under the config it started with.
type TriggerSpec struct {
	Type                 string         `json:"type"`
	Connection           string         `json:"connection,omitempty"`
	DagID                string         `json:"dag_id,omitempty"`
	Conf                 map[string]any `json:"conf,omitempty"`
	Note                 string         `json:"note,omitempty"`
	Unpause              bool           `json:"unpause,omitempty"`
	PipelineDefinitionID int64          `json:"pipeline_definition_id,omitempty"`
	// RetryUnknown lets a trigger without an idempotency key (TROCCO) post
	// again when a crash left the outcome of its request unknown.
	RetryUnknown bool `json:"retry_unknown,omitempty"`
	// TraceContext passes the attempt's W3C traceparent to Airflow in the
	// DAG run's conf, so Airflow's spans join sekisho's trace (SPEC §16).
	TraceContext bool `json:"trace_context,omitempty"`
	// LogicalDate is the Airflow logical date a DAG run gets (SPEC §18):
	// LogicalDateFire, LogicalDateIntervalStart, LogicalDateNone or a
	// template rendering an RFC 3339 time. Empty is none (a snapshot
	// from before the field existed).
	LogicalDate string `json:"logical_date,omitempty"`
}

// Values of TriggerSpec.LogicalDate besides a template.
const (
	LogicalDateFire          = "fire"
	LogicalDateIntervalStart = "interval_start"
	LogicalDateNone          = "none"
)

// DagRunID is the deterministic Airflow dag_run_id of one attempt of the
// run with the given key (SPEC §6, §19): sekisho__<pipeline>__<date>__<n>
// for a daily run, sekisho__<pipeline>__<YYYY-MM-DDTHHMM>__<n> for a
// sub-daily one.
func DagRunID(pipeline, key string, attempt int) string {
	return fmt.Sprintf("sekisho__%s__%s__%d", pipeline, KeyID(key), attempt)
}

// Trigger starts a downstream run and reports on it.
type Trigger interface {
	// Start asks the downstream to run. It must be safe to call again for
	// the same attempt when the trigger has an idempotency key; the
	// returned JobRun carries the external id. Errors wrapping ErrRejected
	// or ErrPaused fail the attempt; any other error is retried.
	Start(ctx context.Context, req TriggerRequest) (JobRun, error)
	// Status reports the downstream run with the given external id.
	Status(ctx context.Context, req TriggerRequest, externalID string) (JobRun, error)
	// Idempotent reports whether Start may be sent again after a crash
	// left its outcome unknown.
	Idempotent() bool
}

// LandingBound is implemented by a Trigger that is not idempotent and can
// say how long a request of a daemon that died while sending it may still
// take to reach the downstream. A restarted daemon waits that long from
// the attempt's intent before it calls the outcome unknown: an operator
// told to look in the downstream then finds the job if it started, and a
// rerun cannot race the dead daemon's request.
type LandingBound interface {
	LandsWithin() time.Duration
}

// Sentinel errors that callers test with errors.Is.
var (
	// ErrRejected marks a permanent refusal (4xx other than 409/429): retrying cannot help.
	ErrRejected = errors.New("rejected")
	// ErrPaused marks a downstream DAG that is paused.
	ErrPaused = errors.New("dag is paused")
	// ErrNotFound marks a missing run, pipeline or external resource.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a state change that lost a race: the run moved on.
	ErrConflict = errors.New("run changed concurrently")
	// ErrLogicalDateTaken marks a downstream run that cannot be created
	// because a run sekisho did not create holds its logical date.
	ErrLogicalDateTaken = errors.New("logical date taken")
)

// NoticeKind names a kind of Slack notice (SPEC §7).
type NoticeKind string

// Notice kinds of SPEC §7, plus config_invalid for a refused reload (§4 rule 6).
const (
	NoticeUpstreamFailed NoticeKind = "upstream_failed"
	NoticeTriggerFailed  NoticeKind = "trigger_failed"
	NoticeRunFailed      NoticeKind = "run_failed"
	NoticeDelay          NoticeKind = "delay"
	NoticeAtRisk         NoticeKind = "at_risk"
	NoticeLongRunning    NoticeKind = "long_running"
	NoticeTimedOut       NoticeKind = "timed_out"
	NoticeRecovery       NoticeKind = "recovery"
	NoticeDigest         NoticeKind = "digest"
	NoticeConfigInvalid  NoticeKind = "config_invalid"
	NoticeTriggerUnknown NoticeKind = "trigger_unknown"
	// NoticeLongQuery: a warehouse query runs past a watch's threshold
	// (SPEC §15); NoticeLongQueryEnded replies in its thread when it ends.
	NoticeLongQuery      NoticeKind = "long_query"
	NoticeLongQueryEnded NoticeKind = "long_query_ended"
	// NoticeDataAnomaly: a sql upstream with on_violation: warn returned a
	// value outside its expected band; the gate opened anyway (SPEC §21).
	NoticeDataAnomaly NoticeKind = "data_anomaly"
)

// NoticeKinds lists the kinds a pipeline's notify.on may name.
var NoticeKinds = []NoticeKind{NoticeUpstreamFailed, NoticeTriggerFailed, NoticeRunFailed,
	NoticeDelay, NoticeAtRisk, NoticeLongRunning, NoticeTimedOut, NoticeRecovery, NoticeDataAnomaly}

// Notice is one message in the durable outbox. The engine writes it with the
// transition that causes it; the notifier renders Facts into text in the
// configured language and delivers it.
type Notice struct {
	ID          int64
	RunID       int64 // 0 for notices about no single run (digest, config)
	Pipeline    string
	LogicalDate string
	Key         string // the run's key (RunKey); empty for notices about no single run
	Attempt     int
	Kind        NoticeKind
	DedupeKey   string // unique: a second insert with the same key is ignored
	Facts       NoticeFacts
	Text        string // rendered text, filled in when delivered
	CreatedAt   time.Time
	SentAt      time.Time // zero until delivered
	Tries       int
	NextTryAt   time.Time
	LastError   string
}

// NoticeFacts is what a notice says, in data: the notifier turns it into
// words. Fields irrelevant to a kind stay empty.
type NoticeFacts struct {
	State       State     `json:"state,omitempty"`
	Upstream    string    `json:"upstream,omitempty"`
	ExternalID  string    `json:"external_id,omitempty"`
	Message     string    `json:"message,omitempty"`
	Deadline    time.Time `json:"deadline,omitempty"`
	ExpectedAt  time.Time `json:"expected_at,omitempty"`
	StartedAt   time.Time `json:"started_at,omitempty"`
	Duration    string    `json:"duration,omitempty"`
	MaxDuration string    `json:"max_duration,omitempty"`
	Reason      string    `json:"reason,omitempty"`
	Incident    string    `json:"incident,omitempty"` // an incident notice's incident key (SPEC §17)
	// Via is the line from the upstream that makes a run late to the run
	// (at_risk, SPEC §21): the pipelines in between, first station first.
	Via []string `json:"via,omitempty"`
	// SpokenFor is the key of the incident whose messages say what this
	// run's notice says (incident.Decide): the sender marks it grouped
	// instead of posting it, and the board still shows it.
	SpokenFor string `json:"spoken_for,omitempty"`
	// Query notices (long_query): the watch, the query's user and pid, the
	// mention and the time zone the start time is shown in.
	Watch     string `json:"watch,omitempty"`
	Warehouse string `json:"warehouse,omitempty"`
	User      string `json:"user,omitempty"`
	PID       string `json:"pid,omitempty"`
	Mention   string `json:"mention,omitempty"`
	TimeZone  string `json:"time_zone,omitempty"`
}

// Clock is the time source of the components that only read the time (the
// board, the metrics, the simulators); those that also wait on it (the
// engine, the sender, the elector) take a clockwork.Clock. Either way tests
// run a week in milliseconds. github.com/jonboulle/clockwork satisfies it.
type Clock interface {
	Now() time.Time
}
