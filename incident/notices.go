package incident

import (
	"time"

	"github.com/sekisho-dev/sekisho"
)

// Reasons of an incident_updated notice (NoticeFacts.Reason).
const (
	ReasonJoined    = "joined"    // a pipeline joined as affected
	ReasonRecovered = "recovered" // an affected pipeline succeeded or was skipped
)

// The notices below carry no run: an incident speaks for several, and its
// messages must neither wait behind one run's notices nor open one run's
// Slack thread. Their dedupe keys derive from the incident key, so writing
// the same change twice queues each message once.

// OpenedNotice announces an incident: queued when its first affected
// pipeline joins.
func OpenedNotice(key string, c Cause, at time.Time) sekisho.Notice {
	return notice(sekisho.NoticeIncidentOpened, "incident_opened:"+key, key, c.Date, at,
		sekisho.NoticeFacts{Incident: key, State: sekisho.State(c.State), Message: c.Message})
}

// JoinedNotice tells that a pipeline joined an announced incident.
func JoinedNotice(key string, m Member, at time.Time) sekisho.Notice {
	n := notice(sekisho.NoticeIncidentUpdated, "incident_joined:"+key+":"+m.Pipeline+":"+m.Date, key, m.Date, at,
		sekisho.NoticeFacts{Incident: key, Reason: ReasonJoined, State: m.State, Upstream: m.Pipeline})
	return n
}

// RecoveredNotice tells that an affected pipeline is done (once per state:
// a rerun that succeeds again says nothing new).
func RecoveredNotice(key string, m Member, at time.Time) sekisho.Notice {
	return notice(sekisho.NoticeIncidentUpdated, "incident_recovered:"+key+":"+m.Pipeline+":"+m.Date+":"+string(m.State),
		key, m.Date, at, sekisho.NoticeFacts{Incident: key, Reason: ReasonRecovered, State: m.State, Upstream: m.Pipeline})
}

// ResolvedNotice announces the end of an incident.
func ResolvedNotice(key, date string, at time.Time) sekisho.Notice {
	return notice(sekisho.NoticeIncidentResolved, "incident_resolved:"+key, key, date, at,
		sekisho.NoticeFacts{Incident: key, State: sekisho.StateSucceeded})
}

func notice(kind sekisho.NoticeKind, dedupe, key, date string, at time.Time, f sekisho.NoticeFacts) sekisho.Notice {
	f.Incident = key
	return sekisho.Notice{Kind: kind, DedupeKey: dedupe, LogicalDate: date, Facts: f, CreatedAt: at}
}
