package sekisho

import (
	"crypto/sha256"
	"fmt"
	"testing"
)

// TestNoticeKeyFormats pins the dedupe keys releases before NoticeKey wrote
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
func TestNoticeKeyFormats(t *testing.T) {
	msg := "pipelines.yaml:3:5: unknown key \"scheduel\""
	sum := sha256.Sum256([]byte(msg))
	tests := []struct {
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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NoticeKey(tt.kind, tt.s); got != tt.want {
				t.Errorf("NoticeKey(%s, %+v) = %q, want %q", tt.kind, tt.s, got, tt.want)
			}
		})
	}
}
