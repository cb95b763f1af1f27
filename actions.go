package sekisho

// Notice kinds of SPEC §20: what operators did from Slack (or the API), and
// the follow-ups of an incident nobody is on, or whose promised fix is
// late. They reply in the thread of the incident or the run they are
// about; no pipeline's notify.on names them.
const (
	// NoticeOperatorAction says who acknowledged, reran, skipped or
	// silenced what.
	NoticeOperatorAction NoticeKind = "operator_action"
	// NoticeEscalation mentions notify.escalate_to: an incident stayed
	// unacknowledged for notify.escalate_after.
	NoticeEscalation NoticeKind = "escalation"
	// NoticeETAPassed says an acknowledged incident's ETA passed before it
	// was resolved, and asks for a new one.
	NoticeETAPassed NoticeKind = "eta_passed"
)

// IsFollowUp reports whether k is one of the kinds of SPEC §20.
func (k NoticeKind) IsFollowUp() bool {
	return k == NoticeOperatorAction || k == NoticeEscalation || k == NoticeETAPassed
}
