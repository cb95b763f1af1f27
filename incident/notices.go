package incident

import (
	"time"

	"github.com/sekisho-dev/sekisho"
)

// The notices below carry no run: an incident speaks for several, and its
// messages must neither wait behind one run's notices nor open one run's
// Slack thread. Their dedupe keys (sekisho.NoticeKey) derive from the
// incident key, so deciding the same change twice queues each message once.

// OpenedNotice announces an incident: queued when its first affected
// pipeline joins.
func OpenedNotice(key string, c sekisho.IncidentCause, at time.Time) sekisho.Notice {
	return notice(sekisho.NoticeIncidentOpened, sekisho.NoticeSubject{Incident: key}, c.Date, at,
		sekisho.NoticeFacts{State: sekisho.State(c.State), Message: c.Message})
}

// JoinedNotice tells that a pipeline joined an announced incident.
func JoinedNotice(key string, m sekisho.IncidentMember, at time.Time) sekisho.Notice {
	return notice(sekisho.NoticeIncidentUpdated,
		sekisho.NoticeSubject{Incident: key, Reason: sekisho.IncidentJoined, Pipeline: m.Pipeline, Date: m.Interval()}, m.Date, at,
		sekisho.NoticeFacts{Reason: sekisho.IncidentJoined, State: m.State, Upstream: m.Pipeline})
}

// RecoveredNotice tells that an affected pipeline is done (once per state:
// a rerun that succeeds again says nothing new).
func RecoveredNotice(key string, m sekisho.IncidentMember, at time.Time) sekisho.Notice {
	return notice(sekisho.NoticeIncidentUpdated,
		sekisho.NoticeSubject{Incident: key, Reason: sekisho.IncidentRecovered, Pipeline: m.Pipeline, Date: m.Interval(), State: m.State},
		m.Date, at, sekisho.NoticeFacts{Reason: sekisho.IncidentRecovered, State: m.State, Upstream: m.Pipeline})
}

// ResolvedNotice announces the end of an incident. Its key holds the time:
// an incident reopened by the same cause coming back resolves, and says so,
// again.
func ResolvedNotice(key, date string, at time.Time) sekisho.Notice {
	return notice(sekisho.NoticeIncidentResolved, sekisho.NoticeSubject{Incident: key, At: at}, date, at,
		sekisho.NoticeFacts{State: sekisho.StateSucceeded})
}

func notice(kind sekisho.NoticeKind, s sekisho.NoticeSubject, date string, at time.Time, f sekisho.NoticeFacts) sekisho.Notice {
	f.Incident = s.Incident
	return sekisho.Notice{Kind: kind, DedupeKey: sekisho.NoticeKey(kind, s), LogicalDate: date, Facts: f, CreatedAt: at}
}
