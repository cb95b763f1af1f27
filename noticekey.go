package sekisho

import (
	"crypto/sha256"
	"fmt"
	"strconv"
)

// NoticeSubject is what one notice is about. The fields a kind's key needs
// are listed at NoticeKey; the others are ignored.
type NoticeSubject struct {
	Run        int64  // the run's id
	Attempt    int    // the run's attempt
	Upstream   string // the upstream's name (upstream_failed, an upstream's long_running)
	ExternalID string // the upstream run's id (upstream_failed, an upstream's long_running)
	Date       string // the logical date (digest)
	Message    string // the error text (config_invalid)
	Watch      string // the watch (long_query, long_query_ended); ExternalID is the query's key
}

// NoticeKey is the dedupe key of a notice: the outbox keeps one notice per
// key, so the same key must come out for the same subject in every process
// and every release, or a restart after an upgrade sends an alert again.
// Every notice's key is built here; noticekey_test.go pins the formats.
//
//	upstream_failed  upstream_failed:<run>:<upstream>:<external id>  (once per failed upstream run)
//	long_running     long_running:<run>:<attempt>                     (the downstream run)
//	                 long_running:<run>:<attempt>:<upstream>:<ext id> (an upstream run)
//	trigger_failed, trigger_unknown, run_failed   <kind>:<run>:<attempt>
//	delay, at_risk, timed_out, recovery           <kind>:<run>        (once per run, over all attempts)
//	data_anomaly     data_anomaly:<run>:<upstream>                    (once per run and upstream)
//	digest           digest:<date>
//	config_invalid   config_invalid:<first 8 bytes of sha256(message), hex>
//	long_query, long_query_ended  <kind>:<watch>:<query key>      (once per query a watch alerted about)
func NoticeKey(kind NoticeKind, s NoticeSubject) string {
	run := strconv.FormatInt(s.Run, 10)
	attempt := strconv.Itoa(s.Attempt)
	switch kind {
	case NoticeUpstreamFailed:
		return join(kind, run, s.Upstream, s.ExternalID)
	case NoticeLongRunning:
		if s.Upstream == "" {
			return join(kind, run, attempt)
		}
		return join(kind, run, attempt, s.Upstream, s.ExternalID)
	case NoticeTriggerFailed, NoticeTriggerUnknown, NoticeRunFailed:
		return join(kind, run, attempt)
	case NoticeDataAnomaly:
		return join(kind, run, s.Upstream)
	case NoticeDigest:
		return join(kind, s.Date)
	case NoticeConfigInvalid:
		sum := sha256.Sum256([]byte(s.Message))
		return join(kind, fmt.Sprintf("%x", sum[:8]))
	case NoticeLongQuery, NoticeLongQueryEnded:
		return join(kind, s.Watch, s.ExternalID)
	default: // delay, at_risk, timed_out, recovery
		return join(kind, run)
	}
}

func join(kind NoticeKind, parts ...string) string {
	k := string(kind)
	for _, p := range parts {
		k += ":" + p
	}
	return k
}
