// Package incident decides how a pipeline's trouble is grouped by cause
// (SPEC §17). It is pure: given the pipelines' dependency graph, the open
// incidents and one pipeline's trouble, it says which incident the trouble
// belongs to, whether it opens that incident, and whether the pipeline's own
// notice (upstream_failed, delay, timed_out) is replaced by the incident's
// messages. The store writes its answer in the same transaction as the
// transition that caused it; the notifier turns incidents into Slack
// threads and messages.
package incident

import (
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Cause kinds: what an incident is about.
const (
	// CauseJob is a failed upstream job run (a Glue, TROCCO or Airflow run),
	// keyed by the resource and its external run id.
	CauseJob = "job"
	// CauseRun is a pipeline run that failed, timed out or is late, keyed
	// by the pipeline and its logical date.
	CauseRun = "run"
)

// Member roles.
const (
	// RoleCause is the pipeline whose own run is the incident's cause; it
	// keeps sending its own notices.
	RoleCause = "cause"
	// RoleAffected is a pipeline held back by the cause; the incident's
	// messages speak for it.
	RoleAffected = "affected"
)

// CauseLate is the cause state of a run that missed its deadline.
const CauseLate = "late"

// Cause is the root cause of an incident.
type Cause struct {
	Kind string `json:"kind"` // CauseJob | CauseRun
	// Date is the logical date the incident is listed under: the date of the
	// first pipeline that met the cause.
	Date string `json:"logical_date"`

	// A failed job run.
	Resource   string `json:"resource,omitempty"`    // sekisho.Resource.Key()
	Upstream   string `json:"upstream,omitempty"`    // its upstream name in the first pipeline that saw it
	ExternalID string `json:"external_id,omitempty"` // the failed run's id

	// A troubled pipeline run.
	Pipeline string `json:"pipeline,omitempty"`

	State   string `json:"state"` // failed | timed_out | late
	Message string `json:"message,omitempty"`
}

// Key is the incident's identity: the same cause always gives the same key,
// so opening it twice (a replay, a restart) finds the first one.
func (c Cause) Key() string {
	if c.Kind == CauseJob {
		return CauseJob + ":" + c.Resource + "#" + c.ExternalID
	}
	return CauseRun + ":" + c.Pipeline + "#" + c.Date
}

// Member is a pipeline run in an incident.
type Member struct {
	Pipeline string             `json:"pipeline"`
	Date     string             `json:"logical_date"`
	RunID    int64              `json:"-"`
	Role     string             `json:"role"` // RoleCause | RoleAffected
	Kind     sekisho.NoticeKind `json:"kind"` // the notice it would have sent on its own
	State    sekisho.State      `json:"state"`
	JoinedAt time.Time          `json:"joined_at"`
}

// Done reports whether the member no longer holds the incident open.
func (m Member) Done() bool {
	return m.State == sekisho.StateSucceeded || m.State == sekisho.StateSkipped
}

// Incident is one root cause and the pipelines it holds back.
type Incident struct {
	ID         int64
	Key        string
	Cause      Cause
	OpenedAt   time.Time
	ResolvedAt time.Time // zero while open
	Members    []Member  // in joining order
}

// Open reports whether the incident is not resolved yet.
func (i Incident) Open() bool { return i.ResolvedAt.IsZero() }

// Member returns the incident's member for a pipeline's date.
func (i Incident) Member(pipeline, date string) (Member, bool) {
	for _, m := range i.Members {
		if m.Pipeline == pipeline && m.Date == date {
			return m, true
		}
	}
	return Member{}, false
}

// Affected returns the members held back by the cause, in joining order.
func (i Incident) Affected() []Member {
	var out []Member
	for _, m := range i.Members {
		if m.Role == RoleAffected {
			out = append(out, m)
		}
	}
	return out
}

// Resolved reports whether an incident with these members is over: it has
// members and every one has succeeded or was skipped.
func Resolved(members []Member) bool {
	if len(members) == 0 {
		return false
	}
	for _, m := range members {
		if !m.Done() {
			return false
		}
	}
	return true
}

// Trouble is what the engine knows of one pipeline run's trouble: the
// notice it is about to send and why.
type Trouble struct {
	Pipeline string
	Date     string
	RunID    int64
	State    sekisho.State      // the run's state now
	Kind     sekisho.NoticeKind // upstream_failed | delay | timed_out | run_failed | trigger_failed
	Message  string

	// For upstream_failed: the failed upstream. A job upstream has a
	// Resource and the failed run's ExternalID; a type: pipeline upstream
	// names the pipeline in UpstreamPipeline.
	Upstream         string
	Resource         string
	ExternalID       string
	UpstreamPipeline string
}

// Graph answers which pipelines one waits on through type: pipeline
// upstreams, transitively. *config.Graph satisfies it.
type Graph interface {
	Upstreams(pipeline string) []string
}

// Change is what the store writes for a decision: the incident (opened when
// no incident has the cause's key) and the members it gains or refreshes.
type Change struct {
	Cause   Cause
	Members []Member
}

// Key is the incident's key.
func (c Change) Key() string { return c.Cause.Key() }

// Decision is Place's answer.
type Decision struct {
	Change Change
	// Suppress: the pipeline's own notice is not sent; the incident's
	// messages speak for it.
	Suppress bool
}

// folded are the kinds an affected pipeline does not send on its own.
var folded = map[sekisho.NoticeKind]bool{
	sekisho.NoticeUpstreamFailed: true, sekisho.NoticeDelay: true, sekisho.NoticeTimedOut: true,
}

// Place decides which incident a pipeline's trouble belongs to. open are the
// incidents not resolved yet (any date; only those with a member on the
// trouble's date, or the same failed job run, are considered); g is the
// pipelines' dependency graph; now stamps a new member.
//
// In order:
//  1. A failed job upstream whose run already has an incident joins it.
//  2. A pipeline already in an open incident on that date stays in it.
//  3. A pipeline that waits (through type: pipeline, transitively) on a
//     pipeline in an open incident on that date joins the earliest one.
//  4. A failed type: pipeline upstream without an incident opens one with
//     that run as its cause.
//  5. A failed job upstream without an incident opens one for that run.
//  6. Otherwise the pipeline's own run is the cause of a new incident.
//
// The pipeline's own notice is suppressed (Decision.Suppress) when it joins
// as affected (cases 1 to 5) and its kind is upstream_failed, delay or
// timed_out; the notifier enforces it from the stored membership. Notices
// about its own downstream (run_failed, trigger_failed, long_running) are
// never suppressed: a failed run is the cause of its own incident (case 6)
// and speaks for itself.
func Place(g Graph, open []Incident, t Trouble, now time.Time) Decision {
	me := Member{Pipeline: t.Pipeline, Date: t.Date, RunID: t.RunID, Role: RoleAffected, Kind: t.Kind,
		State: t.State, JoinedAt: now}
	own := !folded[t.Kind]
	affected := func(c Cause, extra ...Member) Decision {
		return Decision{Change: Change{Cause: c, Members: append(extra, me)}, Suppress: !own}
	}
	if !own {
		var job Cause
		if t.Resource != "" && t.ExternalID != "" {
			job = Cause{Kind: CauseJob, Date: t.Date, Resource: t.Resource, Upstream: t.Upstream,
				ExternalID: t.ExternalID, State: string(sekisho.JobFailed), Message: t.Message}
			if inc, ok := find(open, job.Key()); ok {
				return affected(inc.Cause)
			}
		}
		for _, inc := range byAge(open) {
			if m, ok := inc.Member(t.Pipeline, t.Date); ok {
				if m.Role == RoleCause {
					// The cause's own trouble grows (late, then timed out,
					// then failed): the incident names its most severe
					// state, first seen; a failed run that is then also
					// late stays failed.
					me.Role = RoleCause
					c := inc.Cause
					if st := causeState(t); severity(st) > severity(c.State) {
						c.State, c.Message = st, t.Message
					}
					return Decision{Change: Change{Cause: c, Members: []Member{me}}}
				}
				return affected(inc.Cause)
			}
		}
		ups := g.Upstreams(t.Pipeline)
		for _, inc := range byAge(open) {
			for _, m := range inc.Members {
				if m.Date == t.Date && slices.Contains(ups, m.Pipeline) {
					return affected(inc.Cause)
				}
			}
		}
		if t.UpstreamPipeline != "" {
			c := Cause{Kind: CauseRun, Date: t.Date, Pipeline: t.UpstreamPipeline, State: string(sekisho.StateFailed),
				Message: t.Message}
			cause := Member{Pipeline: t.UpstreamPipeline, Date: t.Date, Role: RoleCause,
				Kind: sekisho.NoticeRunFailed, State: sekisho.StateFailed, JoinedAt: now}
			return affected(c, cause)
		}
		if job.Kind != "" {
			return affected(job)
		}
	}
	me.Role = RoleCause
	return Decision{Change: Change{Cause: Cause{Kind: CauseRun, Date: t.Date, Pipeline: t.Pipeline,
		State: causeState(t), Message: t.Message}, Members: []Member{me}}}
}

// causeState is how a pipeline's own trouble is named as a cause.
func causeState(t Trouble) string {
	switch {
	case t.Kind == sekisho.NoticeDelay:
		return CauseLate
	case t.State == sekisho.StateTimedOut || t.Kind == sekisho.NoticeTimedOut:
		return string(sekisho.StateTimedOut)
	}
	return string(sekisho.StateFailed)
}

// severity orders a cause run's states: a cause only moves forward, from
// late to timed out to failed.
func severity(state string) int {
	switch state {
	case CauseLate:
		return 1
	case string(sekisho.StateTimedOut):
		return 2
	case string(sekisho.StateFailed):
		return 3
	}
	return 0
}

func find(open []Incident, key string) (Incident, bool) {
	for _, inc := range open {
		if inc.Key == key && inc.Open() {
			return inc, true
		}
	}
	return Incident{}, false
}

// byAge returns the open incidents oldest first (ties by key), so a
// pipeline with two troubled upstreams always joins the same one.
func byAge(open []Incident) []Incident {
	out := make([]Incident, 0, len(open))
	for _, inc := range open {
		if inc.Open() {
			out = append(out, inc)
		}
	}
	slices.SortStableFunc(out, func(a, b Incident) int {
		if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// Merge returns open with the change applied, as the store applies it: the
// incident is opened when no incident has the change's key, its cause state
// is the change's when the cause run itself speaks, and each member is added
// or has its kind and state refreshed (its role and joining time stay). The engine can keep its view of the open incidents current with
// it between reads.
func Merge(open []Incident, c Change, now time.Time) []Incident {
	key := c.Key()
	at := -1
	for i := range open {
		if open[i].Key == key {
			at = i
			break
		}
	}
	if at < 0 {
		open = append(open, Incident{Key: key, Cause: c.Cause, OpenedAt: now})
		at = len(open) - 1
	}
	inc := &open[at]
	if speaks(c) {
		inc.Cause.State, inc.Cause.Message = c.Cause.State, c.Cause.Message
	}
	members := slices.Clone(inc.Members)
	for _, m := range c.Members {
		found := false
		for i := range members {
			if members[i].Pipeline == m.Pipeline && members[i].Date == m.Date {
				members[i].Kind, members[i].State = m.Kind, m.State
				if m.RunID != 0 {
					members[i].RunID = m.RunID
				}
				found = true
				break
			}
		}
		if !found {
			members = append(members, m)
		}
	}
	inc.Members = members
	return open
}

// speaks reports whether a change carries the cause run's own trouble, so
// its cause state replaces the incident's.
func speaks(c Change) bool {
	if c.Cause.Kind != CauseRun {
		return false
	}
	for _, m := range c.Members {
		if m.Role == RoleCause && m.Pipeline == c.Cause.Pipeline && m.Date == c.Cause.Date {
			return true
		}
	}
	return false
}
