package sekisho

import (
	"crypto/sha256"
	"fmt"
	"testing"
	"time"
)

// keyCases pins the dedupe keys releases before NoticeKey wrote
// to users' outboxes (engine/notices.go, engine/trigger.go,
// notify/digest.go, cmd/sekisho/run.go built them with Sprintf). A key that
// changes makes the outbox take the same alert as new after an upgrade, and
// Slack gets it twice.
//
// long_running had two formats: the downstream's (trigger.go,
// long_running:<run>:<attempt>) and an upstream's (notices.go,
// long_running:<run>:<attempt>:<upstream>:<external id>). They name
// different things, a run may have both, and both are in stores today, so
// both are kept: switching either to the other's format would resend every
// long_running notice of an open run on the first pass after the upgrade.
var keyCases = []struct {
	name string
	kind NoticeKind
	s    NoticeSubject
	want string
}{
	{"upstream failed", NoticeUpstreamFailed, NoticeSubject{Run: 7, Attempt: 2, Upstream: "export", ExternalID: "jr_1"}, "upstream_failed:7:export:jr_1"},
	{"upstream failed, no run id yet", NoticeUpstreamFailed, NoticeSubject{Run: 7, Upstream: "a"}, "upstream_failed:7:a:"},
	{"long running downstream", NoticeLongRunning, NoticeSubject{Run: 7, Attempt: 2}, "long_running:7:2"},
	{"long running upstream", NoticeLongRunning, NoticeSubject{Run: 7, Attempt: 2, Upstream: "export", ExternalID: "jr_1"}, "long_running:7:2:export:jr_1"},
	{"trigger failed", NoticeTriggerFailed, NoticeSubject{Run: 7, Attempt: 2}, "trigger_failed:7:2"},
	{"trigger unknown", NoticeTriggerUnknown, NoticeSubject{Run: 7, Attempt: 2}, "trigger_unknown:7:2"},
	{"run failed", NoticeRunFailed, NoticeSubject{Run: 7, Attempt: 2}, "run_failed:7:2"},
	{"delay", NoticeDelay, NoticeSubject{Run: 7, Attempt: 2}, "delay:7"},
	{"at risk", NoticeAtRisk, NoticeSubject{Run: 7, Attempt: 2}, "at_risk:7"},
	{"timed out", NoticeTimedOut, NoticeSubject{Run: 7, Attempt: 2}, "timed_out:7"},
	{"recovery", NoticeRecovery, NoticeSubject{Run: 7, Attempt: 2}, "recovery:7"},
	{"digest", NoticeDigest, NoticeSubject{Date: "2026-11-21"}, "digest:2026-11-21"},
	{"config invalid", NoticeConfigInvalid, NoticeSubject{Message: msg}, fmt.Sprintf("config_invalid:%x", sum[:8])},
	{"config invalid, literal", NoticeConfigInvalid, NoticeSubject{Message: "x"}, "config_invalid:2d711642b726b044"},
	{"long query", NoticeLongQuery, NoticeSubject{Watch: "long_queries", ExternalID: "4711"}, "long_query:long_queries:4711"},
	{"long query ended", NoticeLongQueryEnded, NoticeSubject{Watch: "w", ExternalID: "123@2026-11-21T01:02:03.5Z"}, "long_query_ended:w:123@2026-11-21T01:02:03.5Z"},
	{"data anomaly", NoticeDataAnomaly, NoticeSubject{Run: 7, Attempt: 2, Upstream: "orders_rows"}, "data_anomaly:7:orders_rows"},
	// The incident messages' keys, as store/incidents.go wrote them
	// before incident.Decide built them here.
	{"incident opened", NoticeIncidentOpened, NoticeSubject{Incident: "job:glue_job:x#jr_1"}, "incident_opened:job:glue_job:x#jr_1"},
	{"incident joined", NoticeIncidentUpdated, NoticeSubject{Incident: "job:glue_job:x#jr_1", Reason: IncidentJoined, Pipeline: "mart_a", Date: "2026-11-21"},
		"incident_joined:job:glue_job:x#jr_1:mart_a:2026-11-21"},
	{"incident recovered", NoticeIncidentUpdated, NoticeSubject{Incident: "run:p#2026-11-21", Reason: IncidentRecovered, Pipeline: "mart_a", Date: "2026-11-21", State: StateSkipped},
		"incident_recovered:run:p#2026-11-21:mart_a:2026-11-21:skipped"},
	{"incident resolved", NoticeIncidentResolved, NoticeSubject{Incident: "run:p#2026-11-21", At: time.Date(2026, 11, 21, 13, 10, 0, 0, time.FixedZone("JST", 9*3600))},
		"incident_resolved:run:p#2026-11-21:2026-11-21T04:10:00.000Z"},
	// Incidents over sub-daily runs (SPEC §19): the cause and the member
	// are named by their run keys, which hold colons of their own.
	{"incident joined by an hour", NoticeIncidentUpdated, NoticeSubject{Incident: "run:hourly#2026-11-21T13:00", Reason: IncidentJoined, Pipeline: "hourly_b", Date: "2026-11-21T14:00"},
		"incident_joined:run:hourly#2026-11-21T13:00:hourly_b:2026-11-21T14:00"},
	{"incident recovered, a fall-back hour", NoticeIncidentUpdated, NoticeSubject{Incident: "job:glue_job:x#jr_1", Reason: IncidentRecovered, Pipeline: "hourly", Date: "2026-11-01T01:00-05:00", State: StateSucceeded},
		"incident_recovered:job:glue_job:x#jr_1:hourly:2026-11-01T01:00-05:00:succeeded"},
	{"incident resolved, an hour's cause", NoticeIncidentResolved, NoticeSubject{Incident: "run:hourly#2026-11-21T13:00", At: time.Date(2026, 11, 21, 4, 10, 0, 0, time.UTC)},
		"incident_resolved:run:hourly#2026-11-21T13:00:2026-11-21T04:10:00.000Z"},
	// Operator actions and incident follow-ups (SPEC §20).
	{"operator action", NoticeOperatorAction, NoticeSubject{Action: "rerun", Pipeline: "mart", Date: "2026-11-21", Request: "1700000000.123456"}, "operator_action:rerun:mart#2026-11-21:1700000000.123456"},
	{"operator action on a sub-daily run", NoticeOperatorAction, NoticeSubject{Action: "ack", Pipeline: "hourly", Date: "2026-11-21T13:00", Request: "req_0123456789abcdef"}, "operator_action:ack:hourly#2026-11-21T13:00:req_0123456789abcdef"},
	{"escalation", NoticeEscalation, NoticeSubject{Incident: "job:glue_job:export#jr_1"}, "escalation:job:glue_job:export#jr_1"},
	{"eta passed", NoticeETAPassed, NoticeSubject{Incident: "run:mart#2026-11-21", Request: "1763712000"}, "eta_passed:run:mart#2026-11-21:1763712000"},
}

var (
	msg = "pipelines.yaml:3:5: unknown key \"scheduel\""
	sum = sha256.Sum256([]byte(msg))
)

// TestNoticeKeyFormats: NoticeKey builds every pinned key.
func TestNoticeKeyFormats(t *testing.T) {
	tests := keyCases
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NoticeKey(tt.kind, tt.s); got != tt.want {
				t.Errorf("NoticeKey(%s, %+v) = %q, want %q", tt.kind, tt.s, got, tt.want)
			}
		})
	}
}

// TestParseNoticeKeyReadsEveryFormatBack: every format NoticeKey builds
// parses back to its kind and a subject that builds the same key; keys
// built another way do not parse.
func TestParseNoticeKeyReadsEveryFormatBack(t *testing.T) {
	for _, c := range keyCases {
		kind, back, err := ParseNoticeKey(c.want)
		if err != nil || kind != c.kind {
			t.Errorf("ParseNoticeKey(%q) = %s, %v; want %s", c.want, kind, err, c.kind)
			continue
		}
		if kind != NoticeConfigInvalid && NoticeKey(kind, back) != c.want {
			t.Errorf("%q read back as %+v, which builds %q", c.want, back, NoticeKey(kind, back))
		}
	}
	for _, key := range []string{
		"", "delay", "delay:", "delay:x", "delay:7:extra", "digest:tomorrow", "config_invalid:xyz",
		"incident_opened:mart_a", "incident_resolved:run:p#2026-11-21:2026-11-21 04:10",
		"incident_joined:job:x#1:Mart A:2026-11-21", "upstream_failed:7", "wat:1",
	} {
		if kind, _, err := ParseNoticeKey(key); err == nil {
			t.Errorf("ParseNoticeKey(%q) = %s, want an error: NoticeKey builds no such key", key, kind)
		}
	}
}
