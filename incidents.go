package sekisho

import "time"

// Notice kinds of SPEC §17: the messages of an incident, which speak for
// every pipeline that joined it. They are not kinds a pipeline's notify.on
// names: an incident is filtered member by member (see notify).
const (
	NoticeIncidentOpened   NoticeKind = "incident_opened"
	NoticeIncidentUpdated  NoticeKind = "incident_updated"
	NoticeIncidentResolved NoticeKind = "incident_resolved"
)

// IncidentKinds lists the incident notice kinds.
var IncidentKinds = []NoticeKind{NoticeIncidentOpened, NoticeIncidentUpdated, NoticeIncidentResolved}

// IsIncident reports whether k is one of the incident notice kinds.
func (k NoticeKind) IsIncident() bool {
	return k == NoticeIncidentOpened || k == NoticeIncidentUpdated || k == NoticeIncidentResolved
}

// Reasons of an incident_updated notice (NoticeFacts.Reason).
const (
	IncidentJoined    = "joined"    // a pipeline joined as affected
	IncidentRecovered = "recovered" // an affected pipeline succeeded or was skipped
)

// Cause kinds: what an incident is about.
const (
	// CauseJob is a failed upstream job run (a Glue, TROCCO or Airflow run),
	// keyed by the resource and its external run id.
	CauseJob = "job"
	// CauseRun is a pipeline run that failed, timed out or is late, keyed
	// by the pipeline and its run key (SPEC §19: the logical date of a
	// daily run, the fire time of a sub-daily one).
	CauseRun = "run"
)

// CauseLate is the cause state of a run that missed its deadline.
const CauseLate = "late"

// Member roles.
const (
	// RoleCause is the pipeline whose own run is the incident's cause; it
	// keeps sending its own notices.
	RoleCause = "cause"
	// RoleAffected is a pipeline held back by the cause; the incident's
	// messages speak for it.
	RoleAffected = "affected"
)

// IncidentCause is the root cause of an incident.
type IncidentCause struct {
	Kind string `json:"kind"` // CauseJob | CauseRun
	// Date is the logical date the incident is listed under: the date of the
	// first pipeline that met the cause.
	Date string `json:"logical_date"`
	// RunKey is the run key (RunKey) of the cause run, or of the first
	// pipeline run that met a job cause: the interval an incident names
	// for a sub-daily pipeline. Empty reads as Date (see Interval).
	RunKey string `json:"key,omitempty"`

	// A failed job run.
	Resource   string `json:"resource,omitempty"`    // Resource.Key()
	Upstream   string `json:"upstream,omitempty"`    // its upstream name in the first pipeline that saw it
	ExternalID string `json:"external_id,omitempty"` // the failed run's id

	// A troubled pipeline run.
	Pipeline string `json:"pipeline,omitempty"`

	State   string `json:"state"` // failed | timed_out | late
	Message string `json:"message,omitempty"`
}

// Key is the incident's identity: the same cause always gives the same key,
// so opening it twice (a replay, a restart) finds the first one.
func (c IncidentCause) Key() string {
	if c.Kind == CauseJob {
		return CauseJob + ":" + c.Resource + "#" + c.ExternalID
	}
	return CauseRun + ":" + c.Pipeline + "#" + c.Interval()
}

// Interval is the cause's run key: RunKey, or Date when none was given (a
// daily run's key is its date), so a cause built from a date alone keeps
// the key every release before run keys wrote.
func (c IncidentCause) Interval() string { return keyOr(c.RunKey, c.Date) }

func keyOr(key, date string) string {
	if key == "" {
		return date
	}
	return key
}

// IncidentMember is a pipeline run in an incident.
type IncidentMember struct {
	Pipeline string     `json:"pipeline"`
	Date     string     `json:"logical_date"`
	RunKey   string     `json:"key"` // the run's key (RunKey); empty reads as Date (see Interval)
	RunID    int64      `json:"-"`
	Role     string     `json:"role"` // RoleCause | RoleAffected
	Kind     NoticeKind `json:"kind"` // the notice it would have sent on its own
	State    State      `json:"state"`
	JoinedAt time.Time  `json:"joined_at"`
}

// Interval is the member's run key: RunKey, or Date when none was given.
// Two runs of one sub-daily pipeline in one incident are two members.
func (m IncidentMember) Interval() string { return keyOr(m.RunKey, m.Date) }

// Done reports whether the member no longer holds the incident open.
func (m IncidentMember) Done() bool {
	return m.State == StateSucceeded || m.State == StateSkipped
}

// Incident is one root cause and the pipelines it holds back.
type Incident struct {
	ID         int64
	Key        string
	Cause      IncidentCause
	OpenedAt   time.Time
	ResolvedAt time.Time        // zero while open
	Members    []IncidentMember // in joining order
}

// Open reports whether the incident is not resolved yet.
func (i Incident) Open() bool { return i.ResolvedAt.IsZero() }

// Member returns the incident's member for a pipeline's run key (a daily
// run's key is its date).
func (i Incident) Member(pipeline, key string) (IncidentMember, bool) {
	for _, m := range i.Members {
		if m.Pipeline == pipeline && m.Interval() == key {
			return m, true
		}
	}
	return IncidentMember{}, false
}

// Affected returns the members held back by the cause, in joining order.
func (i Incident) Affected() []IncidentMember {
	var out []IncidentMember
	for _, m := range i.Members {
		if m.Role == RoleAffected {
			out = append(out, m)
		}
	}
	return out
}

// IncidentChange is what the store writes for one incident of a decision
// (incident.Decide): the incident is opened when no incident has the
// cause's key, and open again when it was resolved, unless ResolvedAt says
// it is resolved now. The store writes exactly this and decides nothing.
type IncidentChange struct {
	Cause IncidentCause
	// CauseSpoke: the cause run's own trouble grew (late, then timed
	// out, then failed), so Cause.State and Cause.Message replace the
	// stored ones.
	CauseSpoke bool
	// Members are added, or have their kind, state and run refreshed (a
	// member's role and joining time stay as first written; a zero RunID
	// keeps the stored one).
	Members []IncidentMember
	// ResolvedAt, when set, resolves the incident. The store refuses
	// (ErrConflict) to resolve one that is not open: the decision was made
	// on a stale view, and its resolved message would be sent twice.
	ResolvedAt time.Time
}

// Key is the incident's key.
func (c IncidentChange) Key() string { return c.Cause.Key() }
