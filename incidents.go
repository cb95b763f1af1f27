package sekisho

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
