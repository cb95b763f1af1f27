// Package incident decides how a pipeline's trouble is grouped by cause
// (SPEC §17). It is pure: Decide takes the open incidents and one step of a
// pipeline run (the notices it queues and the state it leaves the run in)
// and says which incidents open, grow, settle and resolve, which messages
// they queue (with their dedupe keys, from sekisho.NoticeKey), and which of
// the run's own notices an incident's messages speak for. The engine's
// executor writes the answer in the transaction of the step that caused it;
// the store persists it as told; the notifier only waits, renders and
// delivers.
package incident

import (
	"slices"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// kinds is what an incident does with each kind of a pipeline's own
// notice: whether its trouble is placed among the incidents, and whether an
// incident the pipeline is affected by speaks for it (its messages say it,
// so the sender marks the notice grouped instead of posting it). This is
// the one list; every other kind is the pipeline's own business.
var kinds = map[sekisho.NoticeKind]struct{ place, spokenFor bool }{
	sekisho.NoticeUpstreamFailed: {place: true, spokenFor: true},
	sekisho.NoticeDelay:          {place: true, spokenFor: true},
	sekisho.NoticeTimedOut:       {place: true, spokenFor: true},
	// A failed run is the cause of its own incident and speaks for itself.
	sekisho.NoticeRunFailed:     {place: true},
	sekisho.NoticeTriggerFailed: {place: true},
	// A recovery is said by the incident's recovered and resolved
	// messages, unless the run is also the cause of an incident (then it
	// sent alerts of its own, and its recovery answers them).
	sekisho.NoticeRecovery: {spokenFor: true},
}

// Graph answers which pipelines one waits on through type: pipeline
// upstreams, transitively. *config.Graph satisfies it.
type Graph interface {
	Upstreams(pipeline string) []string
}

// Locate says where a pipeline's upstream points: the key of the job
// resource it polls (sekisho.Resource.Key()), or, for a type: pipeline
// upstream, the pipeline it waits on.
type Locate func(pipeline, upstream string) (resource, upstreamPipeline string)

// Step is what one step of a pipeline run tells the incidents.
type Step struct {
	// Run is the run as the step leaves it: its memberships move to its
	// state. A zero Run (no pipeline) settles nothing.
	Run sekisho.Run
	// Notices are the notices the step queues, not yet in the outbox.
	Notices []sekisho.Notice
}

// Decision is Decide's answer, for the executor to write in one
// transaction with the step.
type Decision struct {
	// Changes are the incident writes (store.Step.Incidents).
	Changes []sekisho.IncidentChange
	// Notices are the step's notices, each an incident speaks for marked
	// with its key (Facts.SpokenFor), followed by the incidents' own
	// messages; every dedupe key comes from sekisho.NoticeKey.
	Notices []sekisho.Notice
	// Open are the open incidents once the decision is written: the view
	// the next decision starts from.
	Open []sekisho.Incident
}

// Decide decides what one step of a pipeline run does to the incidents. g
// and locate are read only to place a notice's trouble. In order:
//
//  1. Placement: the trouble of each notice whose kind is placed joins or
//     opens an incident (place). An affected pipeline joining queues the
//     incident's opening message when it is the first, a joined one after.
//  2. Settling: every open membership of the run moves to the run's state.
//     A member that is done (succeeded, skipped) resolves its incident when
//     every member is done, with a resolved message if the incident was
//     announced; otherwise an affected member's recovery is told.
//  3. Speaking for: a notice of a kind incidents speak for, of a pipeline
//     affected by an incident on that date, is marked with the earliest
//     such incident; a recovery is not, when the run is also a cause.
func Decide(g Graph, locate Locate, open []sekisho.Incident, s Step, now time.Time) Decision {
	view := openOnly(open)
	var d Decision
	var msgs []sekisho.Notice
	for _, n := range s.Notices {
		if !kinds[n.Kind].place || n.Pipeline == "" {
			continue
		}
		c := place(g, view, troubleOf(n, locate), now)
		d.Changes = append(d.Changes, c)
		var said []sekisho.Notice
		view, said = merge(view, c, now)
		msgs = append(msgs, said...)
	}
	if r := s.Run; r.Pipeline != "" {
		for _, inc := range byAge(view) {
			m, ok := inc.Member(r.Pipeline, keyOf(r.Key, r.LogicalDate))
			if !ok || m.State == r.State {
				continue
			}
			m.State = r.State
			c := sekisho.IncidentChange{Cause: inc.Cause, Members: []sekisho.IncidentMember{m}}
			after, _ := merge(view, c, now)
			if merged, _ := find(after, inc.Key); m.Done() && resolved(merged.Members) {
				c.ResolvedAt = now
				if len(merged.Affected()) > 0 {
					msgs = append(msgs, ResolvedNotice(inc.Key, inc.Cause.Date, now))
				}
			} else if m.Done() && m.Role == sekisho.RoleAffected {
				msgs = append(msgs, RecoveredNotice(inc.Key, m, now))
			}
			d.Changes = append(d.Changes, c)
			view, _ = merge(view, c, now)
		}
	}
	for _, n := range s.Notices {
		n.Facts.SpokenFor = speaker(view, n)
		d.Notices = append(d.Notices, n)
	}
	d.Notices = append(d.Notices, msgs...)
	d.Open = openOnly(view)
	return d
}

// speaker is the key of the incident that speaks for a run's own notice,
// or "". view holds the incidents open before the step and those it
// resolved: a resolution speaks for the recovery that caused it.
func speaker(view []sekisho.Incident, n sekisho.Notice) string {
	if !kinds[n.Kind].spokenFor || n.Pipeline == "" || n.LogicalDate == "" {
		return ""
	}
	key := ""
	for _, inc := range oldestFirst(slices.Clone(view)) {
		m, ok := inc.Member(n.Pipeline, keyOf(n.Key, n.LogicalDate))
		switch {
		case !ok:
		case m.Role == sekisho.RoleCause && n.Kind == sekisho.NoticeRecovery:
			return ""
		case m.Role == sekisho.RoleAffected && key == "":
			key = inc.Key
		}
	}
	return key
}

// resolved reports whether an incident with these members is over: it has
// members and every one has succeeded or was skipped.
func resolved(members []sekisho.IncidentMember) bool {
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

// trouble is what the engine knows of one pipeline run's trouble: the
// notice it is about to send and why.
type trouble struct {
	Pipeline string
	Date     string
	Key      string // the run's key: two hours of one pipeline are two members
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

// troubleOf reads a trouble from the notice the engine would send.
func troubleOf(n sekisho.Notice, locate Locate) trouble {
	t := trouble{Pipeline: n.Pipeline, Date: n.LogicalDate, Key: keyOf(n.Key, n.LogicalDate), RunID: n.RunID, State: n.Facts.State, Kind: n.Kind,
		Message: n.Facts.Message}
	switch n.Kind {
	case sekisho.NoticeTimedOut:
		t.State = sekisho.StateTimedOut
	case sekisho.NoticeRunFailed, sekisho.NoticeTriggerFailed:
		t.State = sekisho.StateFailed
	case sekisho.NoticeUpstreamFailed:
		t.Upstream, t.ExternalID = n.Facts.Upstream, n.Facts.ExternalID
		if locate != nil {
			t.Resource, t.UpstreamPipeline = locate(n.Pipeline, n.Facts.Upstream)
		}
	}
	return t
}

// place decides which incident a pipeline's trouble belongs to. open are
// the incidents not resolved yet (any date; only those with a member on the
// trouble's date, or the same failed job run, are considered); g is the
// pipelines' dependency graph; now stamps a new member.
//
// In order:
//  1. A failed job upstream whose run already has an incident joins it.
//  2. A pipeline run already in an open incident stays in it (a run is
//     its pipeline and run key: two hours of one pipeline are two runs).
//  3. A pipeline that waits (through type: pipeline, transitively) on a
//     pipeline in an open incident on that date joins the earliest one.
//  4. A failed type: pipeline upstream without an incident opens one with
//     that run as its cause.
//  5. A failed job upstream without an incident opens one for that run.
//  6. Otherwise the pipeline's own run is the cause of a new incident.
//
// Only the kinds an incident speaks for join as affected (cases 1 to 5).
// Notices about a pipeline's own downstream (run_failed, trigger_failed)
// always make it a cause (case 6): a failed run speaks for itself.
func place(g Graph, open []sekisho.Incident, t trouble, now time.Time) sekisho.IncidentChange {
	t.Key = keyOf(t.Key, t.Date)
	me := sekisho.IncidentMember{Pipeline: t.Pipeline, Date: t.Date, RunKey: t.Key, RunID: t.RunID, Role: sekisho.RoleAffected,
		Kind: t.Kind, State: t.State, JoinedAt: now}
	affected := func(c sekisho.IncidentCause, extra ...sekisho.IncidentMember) sekisho.IncidentChange {
		return sekisho.IncidentChange{Cause: c, Members: append(extra, me)}
	}
	if kinds[t.Kind].spokenFor {
		var job sekisho.IncidentCause
		if t.Resource != "" && t.ExternalID != "" {
			job = sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: t.Date, RunKey: t.Key, Resource: t.Resource, Upstream: t.Upstream,
				ExternalID: t.ExternalID, State: string(sekisho.JobFailed), Message: t.Message}
			if inc, ok := find(open, job.Key()); ok {
				return affected(inc.Cause)
			}
		}
		for _, inc := range byAge(open) {
			if m, ok := inc.Member(t.Pipeline, t.Key); ok {
				if m.Role == sekisho.RoleCause {
					// The cause's own trouble grows (late, then timed out,
					// then failed): the incident names its most severe
					// state, first seen; a failed run that is then also
					// late stays failed.
					me.Role = sekisho.RoleCause
					c := inc.Cause
					if st := causeState(t); severity(st) > severity(c.State) {
						c.State, c.Message = st, t.Message
					}
					return sekisho.IncidentChange{Cause: c, CauseSpoke: true, Members: []sekisho.IncidentMember{me}}
				}
				return affected(inc.Cause)
			}
		}
		if g != nil {
			ups := g.Upstreams(t.Pipeline)
			for _, inc := range byAge(open) {
				for _, m := range inc.Members {
					if m.Date == t.Date && slices.Contains(ups, m.Pipeline) {
						return affected(inc.Cause)
					}
				}
			}
		}
		if t.UpstreamPipeline != "" {
			key := upstreamKey(t)
			c := sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: t.Date, RunKey: key, Pipeline: t.UpstreamPipeline,
				State: string(sekisho.StateFailed), Message: t.Message}
			cause := sekisho.IncidentMember{Pipeline: t.UpstreamPipeline, Date: sekisho.KeyDate(key), RunKey: key, Role: sekisho.RoleCause,
				Kind: sekisho.NoticeRunFailed, State: sekisho.StateFailed, JoinedAt: now}
			return affected(c, cause)
		}
		if job.Kind != "" {
			return affected(job)
		}
	}
	me.Role = sekisho.RoleCause
	return sekisho.IncidentChange{Cause: sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: t.Date, RunKey: t.Key, Pipeline: t.Pipeline,
		State: causeState(t), Message: t.Message}, CauseSpoke: true, Members: []sekisho.IncidentMember{me}}
}

// keyOf is a run's key, or its logical date for a run or notice written
// without one (a daily run's key is its date).
func keyOf(key, date string) string {
	if key == "" {
		return date
	}
	return key
}

// upstreamKey is the key of the failed run of a type: pipeline upstream.
// The sensor names it in the observation's external id,
// "<pipeline>/<key>#<attempt>" or "<pipeline>/<key>#missing"
// (engine/rollup.go), so a daily mart blocked by an hourly load's 13:00 run
// opens the incident of that run. An id of another shape falls back to the
// blocked run's date, which is a daily upstream's key.
func upstreamKey(t trouble) string {
	if k, ok := sekisho.UpstreamRunKey(t.ExternalID, t.UpstreamPipeline); ok {
		return k
	}
	return t.Date
}

// causeState is how a pipeline's own trouble is named as a cause.
func causeState(t trouble) string {
	switch {
	case t.Kind == sekisho.NoticeDelay:
		return sekisho.CauseLate
	case t.State == sekisho.StateTimedOut || t.Kind == sekisho.NoticeTimedOut:
		return string(sekisho.StateTimedOut)
	}
	return string(sekisho.StateFailed)
}

// severity orders a cause run's states: a cause only moves forward, from
// late to timed out to failed.
func severity(state string) int {
	switch state {
	case sekisho.CauseLate:
		return 1
	case string(sekisho.StateTimedOut):
		return 2
	case string(sekisho.StateFailed):
		return 3
	}
	return 0
}

func find(open []sekisho.Incident, key string) (sekisho.Incident, bool) {
	for _, inc := range open {
		if inc.Key == key && inc.Open() {
			return inc, true
		}
	}
	return sekisho.Incident{}, false
}

// byAge returns the open incidents oldest first (ties by key), so a
// pipeline with two troubled upstreams always joins the same one.
func byAge(open []sekisho.Incident) []sekisho.Incident {
	return oldestFirst(openOnly(open))
}

func oldestFirst(out []sekisho.Incident) []sekisho.Incident {
	slices.SortStableFunc(out, func(a, b sekisho.Incident) int {
		if c := a.OpenedAt.Compare(b.OpenedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

func openOnly(incs []sekisho.Incident) []sekisho.Incident {
	out := make([]sekisho.Incident, 0, len(incs))
	for _, inc := range incs {
		if inc.Open() {
			out = append(out, inc)
		}
	}
	return out
}

// merge returns a new view with the change applied as the store applies it
// (the incident opened, or open again, unless the change resolves it; the
// cause's state taken when the cause spoke; each member added, or its kind,
// state and run refreshed), and the messages an affected pipeline joining
// queues: the opening one for the first, a joined one after. open is not
// modified.
func merge(open []sekisho.Incident, c sekisho.IncidentChange, now time.Time) ([]sekisho.Incident, []sekisho.Notice) {
	key := c.Key()
	open = slices.Clone(open)
	at := slices.IndexFunc(open, func(inc sekisho.Incident) bool { return inc.Key == key })
	if at < 0 {
		open = append(open, sekisho.Incident{Key: key, Cause: c.Cause, OpenedAt: now})
		at = len(open) - 1
	}
	inc := &open[at]
	if c.CauseSpoke {
		inc.Cause.State, inc.Cause.Message = c.Cause.State, c.Cause.Message
	}
	inc.ResolvedAt = c.ResolvedAt
	members := slices.Clone(inc.Members)
	var said []sekisho.Notice
	for _, m := range c.Members {
		i := slices.IndexFunc(members, func(o sekisho.IncidentMember) bool {
			return o.Pipeline == m.Pipeline && o.Interval() == m.Interval()
		})
		if i >= 0 {
			members[i].Kind, members[i].State = m.Kind, m.State
			if m.RunID != 0 {
				members[i].RunID = m.RunID
			}
			continue
		}
		members = append(members, m)
		if m.Role != sekisho.RoleAffected {
			continue
		}
		if !slices.ContainsFunc(members[:len(members)-1], isAffected) {
			said = append(said, OpenedNotice(key, inc.Cause, now))
		} else {
			said = append(said, JoinedNotice(key, m, now))
		}
	}
	inc.Members = members
	return open, said
}

func isAffected(m sekisho.IncidentMember) bool { return m.Role == sekisho.RoleAffected }
