package e2e

import (
	"fmt"
	"sort"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/notify"
)

// CheckIncidents checks the incidents of SPEC §17 against the runs and the
// outbox: every cause has one incident, announced at most once; an incident
// is resolved exactly when all its members' runs have succeeded or were
// skipped; a member's stored state is its run's state; and an affected
// pipeline's own upstream_failed, delay and timed_out never reached Slack.
// A member is a run: its pipeline and run key (two hours of one sub-daily
// pipeline are two members).
func CheckIncidents(incs []sekisho.Incident, hs []History, ns []sekisho.Notice) []string {
	var bad []string
	state := map[string]sekisho.State{}
	for _, h := range hs {
		state[runOf(h.Run.Pipeline, h.Run.Key, h.Run.LogicalDate)] = h.Run.State
	}
	keys := map[string]int{}
	affected := map[string]string{}
	for _, inc := range incs {
		keys[inc.Key]++
		if inc.Key != inc.Cause.Key() {
			bad = append(bad, fmt.Sprintf("incident %s is stored under another cause's key %s", inc.Key, inc.Cause.Key()))
		}
		done := len(inc.Members) > 0
		for _, m := range inc.Members {
			s, ok := state[runOf(m.Pipeline, m.RunKey, m.Date)]
			if !ok {
				bad = append(bad, fmt.Sprintf("incident %s: member %s %s has no run", inc.Key, m.Pipeline, m.Interval()))
				continue
			}
			if inc.Open() && m.State != s {
				bad = append(bad, fmt.Sprintf("incident %s: member %s %s is %s, its run %s", inc.Key, m.Pipeline, m.Interval(), m.State, s))
			}
			done = done && (s == sekisho.StateSucceeded || s == sekisho.StateSkipped)
			if m.Role == sekisho.RoleAffected {
				affected[runOf(m.Pipeline, m.RunKey, m.Date)] = inc.Key
			}
		}
		switch {
		case inc.Open() && done:
			bad = append(bad, fmt.Sprintf("incident %s is open though every member is done", inc.Key))
		case !inc.Open() && !done:
			bad = append(bad, fmt.Sprintf("incident %s is resolved though a member is not done", inc.Key))
		}
	}
	opened := map[string]int{}
	for _, n := range ns {
		if n.Kind == sekisho.NoticeIncidentOpened && !n.SentAt.IsZero() && !notify.NotPosted(n.Text) {
			opened[n.Facts.Incident]++
		}
		switch n.Kind {
		case sekisho.NoticeUpstreamFailed, sekisho.NoticeDelay, sekisho.NoticeTimedOut:
			if key, ok := affected[runOf(n.Pipeline, n.Key, n.LogicalDate)]; ok && !n.SentAt.IsZero() && !notify.NotPosted(n.Text) {
				bad = append(bad, fmt.Sprintf("%s of %s %s reached Slack though incident %s speaks for it",
					n.Kind, n.Pipeline, n.LogicalDate, key))
			}
		}
	}
	for k, c := range keys {
		if c > 1 {
			bad = append(bad, fmt.Sprintf("cause %s has %d incidents", k, c))
		}
	}
	for k, c := range opened {
		if c > 1 {
			bad = append(bad, fmt.Sprintf("incident %s was announced %d times", k, c))
		}
	}
	sort.Strings(bad)
	return bad
}

// runOf names a run for the checks: its pipeline and key, the logical date
// for a record written without one (a daily run's key is its date).
func runOf(pipeline, key, date string) string {
	if key == "" {
		key = date
	}
	return pipeline + " " + key
}
