package sekisho

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// TimeLayout is how a time is written where it must read back the same in
// every process and release: the store's columns, and the dedupe key of an
// incident's resolution. RFC 3339 in UTC with a fixed millisecond part, so
// the stored text sorts as the time does.
const TimeLayout = "2006-01-02T15:04:05.000Z"

// NoticeSubject is what one notice is about. The fields a kind's key needs
// are listed at NoticeKey; the others are ignored.
type NoticeSubject struct {
	Run        int64  // the run's id
	Attempt    int    // the run's attempt
	Upstream   string // the upstream's name (upstream_failed, an upstream's long_running)
	ExternalID string // the upstream run's id (upstream_failed, an upstream's long_running)
	Date       string // the logical date (digest); an incident member's run key (IncidentMember.Interval)
	Message    string // the error text (config_invalid)
	Watch      string // the watch (long_query, long_query_ended); ExternalID is the query's key

	// Incident messages (SPEC §17).
	Incident string    // the incident's key (IncidentCause.Key)
	Reason   string    // an incident_updated's IncidentJoined or IncidentRecovered
	Pipeline string    // the member an incident_updated is about; Date is its run key
	State    State     // the state a member recovered to
	At       time.Time // when an incident was resolved
	// Operator actions and incident follow-ups (SPEC §20); Incident,
	// Pipeline and Date above serve them too (Date: the action's run key).
	Action  string // the action (operator_action): ack, rerun, skip, silence
	Request string // the action's request: Slack's action_ts, or an id (operator_action); eta_passed: the ETA as Unix seconds
}

// NoticeKey is the dedupe key of a notice: the outbox keeps one notice per
// key, so the same key must come out for the same subject in every process
// and every release, or a restart after an upgrade sends an alert again.
// Every notice's key is built here, and ParseNoticeKey reads each format
// back; noticekey_test.go pins the formats, and the e2e runs check that
// every key in their outboxes parses.
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
//	incident_opened  incident_opened:<incident>                   (once per incident)
//	incident_updated incident_joined:<incident>:<pipeline>:<run key>  (once per affected member)
//	                 incident_recovered:<incident>:<pipeline>:<run key>:<state> (once per state a member recovers to)
//	incident_resolved incident_resolved:<incident>:<at>           (once per resolution: a reopened incident resolves again)
//	operator_action  operator_action:<action>:<pipeline>#<run key>:<request>  (once per action)
//	escalation       escalation:<incident key>                    (once per incident)
//	eta_passed       eta_passed:<incident key>:<eta, unix seconds> (once per ETA given)
func NoticeKey(kind NoticeKind, s NoticeSubject) string {
	run := strconv.FormatInt(s.Run, 10)
	attempt := strconv.Itoa(s.Attempt)
	switch kind {
	case NoticeUpstreamFailed:
		return join(string(kind), run, s.Upstream, s.ExternalID)
	case NoticeLongRunning:
		if s.Upstream == "" {
			return join(string(kind), run, attempt)
		}
		return join(string(kind), run, attempt, s.Upstream, s.ExternalID)
	case NoticeTriggerFailed, NoticeTriggerUnknown, NoticeRunFailed:
		return join(string(kind), run, attempt)
	case NoticeDataAnomaly:
		return join(string(kind), run, s.Upstream)
	case NoticeDigest:
		return join(string(kind), s.Date)
	case NoticeConfigInvalid:
		sum := sha256.Sum256([]byte(s.Message))
		return join(string(kind), fmt.Sprintf("%x", sum[:8]))
	case NoticeLongQuery, NoticeLongQueryEnded:
		return join(string(kind), s.Watch, s.ExternalID)
	case NoticeOperatorAction:
		return join(string(kind), s.Action, s.Pipeline+"#"+s.Date, s.Request)
	case NoticeEscalation:
		return join(string(kind), s.Incident)
	case NoticeETAPassed:
		return join(string(kind), s.Incident, s.Request)
	case NoticeIncidentOpened:
		return join(string(kind), s.Incident)
	case NoticeIncidentUpdated:
		if s.Reason == IncidentRecovered {
			return join("incident_recovered", s.Incident, s.Pipeline, s.Date, string(s.State))
		}
		return join("incident_joined", s.Incident, s.Pipeline, s.Date)
	case NoticeIncidentResolved:
		return join(string(kind), s.Incident, s.At.UTC().Format(TimeLayout))
	default: // delay, at_risk, timed_out, recovery
		return join(string(kind), run)
	}
}

func join(head string, parts ...string) string {
	return head + ":" + strings.Join(parts, ":")
}

// The shapes of a key's parts, for ParseNoticeKey. Names (pipelines,
// upstreams, watches) are config names; external ids and query keys are
// the vendor's and may hold colons, so they come last in every format.
const (
	kName     = `([a-z0-9_-]+)`
	kInt      = `(0|-?[1-9][0-9]*)`
	kDate     = `([0-9]{4}-[0-9]{2}-[0-9]{2}[0-9T:+-]*)`
	kRest     = `(.*)`
	kIncident = `((?:job:[^#]+|run:[a-z0-9_-]+)#.*)`
	kTime     = `([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)`
	kState    = `([a-z_]+)`
)

// keyFormats are NoticeKey's formats as patterns, each with the function
// that reads its parts back into a subject.
var keyFormats = []struct {
	kind NoticeKind
	re   *regexp.Regexp
	read func(m []string) (NoticeSubject, error)
}{
	{NoticeUpstreamFailed, keyRE("upstream_failed", kInt, kName, kRest), func(m []string) (NoticeSubject, error) {
		r, err := strconv.ParseInt(m[1], 10, 64)
		return NoticeSubject{Run: r, Upstream: m[2], ExternalID: m[3]}, err
	}},
	{NoticeLongRunning, keyRE("long_running", kInt, kInt, kName, kRest), runAttempt},
	{NoticeLongRunning, keyRE("long_running", kInt, kInt), runAttempt},
	{NoticeTriggerFailed, keyRE("trigger_failed", kInt, kInt), runAttempt},
	{NoticeTriggerUnknown, keyRE("trigger_unknown", kInt, kInt), runAttempt},
	{NoticeRunFailed, keyRE("run_failed", kInt, kInt), runAttempt},
	{NoticeDelay, keyRE("delay", kInt), runOnly},
	{NoticeAtRisk, keyRE("at_risk", kInt), runOnly},
	{NoticeTimedOut, keyRE("timed_out", kInt), runOnly},
	{NoticeRecovery, keyRE("recovery", kInt), runOnly},
	{NoticeDataAnomaly, keyRE("data_anomaly", kInt, kName), func(m []string) (NoticeSubject, error) {
		r, err := strconv.ParseInt(m[1], 10, 64)
		return NoticeSubject{Run: r, Upstream: m[2]}, err
	}},
	{NoticeDigest, keyRE("digest", kDate), func(m []string) (NoticeSubject, error) { return NoticeSubject{Date: m[1]}, nil }},
	// The message is not in the key, only its hash: the subject cannot be
	// read back, so the round trip is checked on the hash's shape alone.
	{NoticeConfigInvalid, keyRE("config_invalid", `([0-9a-f]{16})`), func(m []string) (NoticeSubject, error) { return NoticeSubject{}, nil }},
	{NoticeLongQuery, keyRE("long_query", kName, kRest), watchQuery},
	{NoticeLongQueryEnded, keyRE("long_query_ended", kName, kRest), watchQuery},
	{NoticeIncidentOpened, keyRE("incident_opened", kIncident), func(m []string) (NoticeSubject, error) {
		return NoticeSubject{Incident: m[1]}, nil
	}},
	{NoticeIncidentUpdated, keyRE("incident_joined", kIncident, kName, kDate), func(m []string) (NoticeSubject, error) {
		return NoticeSubject{Incident: m[1], Reason: IncidentJoined, Pipeline: m[2], Date: m[3]}, nil
	}},
	{NoticeIncidentUpdated, keyRE("incident_recovered", kIncident, kName, kDate, kState), func(m []string) (NoticeSubject, error) {
		return NoticeSubject{Incident: m[1], Reason: IncidentRecovered, Pipeline: m[2], Date: m[3], State: State(m[4])}, nil
	}},
	{NoticeIncidentResolved, keyRE("incident_resolved", kIncident, kTime), func(m []string) (NoticeSubject, error) {
		at, err := time.Parse(TimeLayout, m[2])
		return NoticeSubject{Incident: m[1], At: at}, err
	}},
	{NoticeOperatorAction, keyRE("operator_action", kName, kName+"#"+kDate, kRest), func(m []string) (NoticeSubject, error) {
		return NoticeSubject{Action: m[1], Pipeline: m[2], Date: m[3], Request: m[4]}, nil
	}},
	{NoticeEscalation, keyRE("escalation", kIncident), func(m []string) (NoticeSubject, error) {
		return NoticeSubject{Incident: m[1]}, nil
	}},
	{NoticeETAPassed, keyRE("eta_passed", kIncident, kInt), func(m []string) (NoticeSubject, error) {
		return NoticeSubject{Incident: m[1], Request: m[2]}, nil
	}},
}

func keyRE(head string, parts ...string) *regexp.Regexp {
	return regexp.MustCompile("^" + regexp.QuoteMeta(head) + ":" + strings.Join(parts, ":") + "$")
}

func runAttempt(m []string) (NoticeSubject, error) {
	r, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return NoticeSubject{}, err
	}
	a, err := strconv.Atoi(m[2])
	s := NoticeSubject{Run: r, Attempt: a}
	if len(m) > 4 {
		s.Upstream, s.ExternalID = m[3], m[4]
	}
	return s, err
}

func runOnly(m []string) (NoticeSubject, error) {
	r, err := strconv.ParseInt(m[1], 10, 64)
	return NoticeSubject{Run: r}, err
}

func watchQuery(m []string) (NoticeSubject, error) {
	return NoticeSubject{Watch: m[1], ExternalID: m[2]}, nil
}

// ParseNoticeKey reads a dedupe key back into the kind and subject
// NoticeKey built it from. A key that matches none of NoticeKey's formats,
// or that NoticeKey would not build again from what was read, is an error:
// it was built somewhere else. (config_invalid keeps only a hash of its
// message, so its subject comes back empty.)
func ParseNoticeKey(key string) (NoticeKind, NoticeSubject, error) {
	for _, f := range keyFormats {
		m := f.re.FindStringSubmatch(key)
		if m == nil {
			continue
		}
		s, err := f.read(m)
		if err != nil {
			return "", NoticeSubject{}, fmt.Errorf("notice key %q: %w", key, err)
		}
		if f.kind != NoticeConfigInvalid && NoticeKey(f.kind, s) != key {
			continue // another format may read it (an upstream's long_running before the downstream's)
		}
		return f.kind, s, nil
	}
	return "", NoticeSubject{}, fmt.Errorf("notice key %q is not one NoticeKey builds", key)
}
