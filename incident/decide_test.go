package incident

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// summarize renders a decision as "changes | notices": each change as
// key[+cause][ resolved] with its members (pipeline[@HH:MM]/role/state,
// the time naming a sub-daily run), each
// notice as its dedupe key, with "→ <incident>" when an incident speaks
// for it.
func summarize(d Decision) string {
	var cs []string
	for _, c := range d.Changes {
		s := c.Key()
		if c.CauseSpoke {
			s += "+" + c.Cause.State
		}
		for _, m := range c.Members {
			name := m.Pipeline
			if t := sekisho.KeyTime(m.RunKey); t != "" {
				name += "@" + t
			}
			s += fmt.Sprintf(" %s/%s/%s", name, m.Role, m.State)
		}
		if !c.ResolvedAt.IsZero() {
			s += " resolved"
		}
		cs = append(cs, s)
	}
	var ns []string
	for _, n := range d.Notices {
		s := n.DedupeKey
		if n.Facts.SpokenFor != "" {
			s += " → " + n.Facts.SpokenFor
		}
		ns = append(ns, s)
	}
	return strings.Join(cs, "; ") + " | " + strings.Join(ns, "; ")
}

func TestDecide(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC) // 01:40 JST
	at := t0.UTC().Format(sekisho.TimeLayout)
	locate := func(pipeline, upstream string) (string, string) {
		switch upstream {
		case "mart":
			return "", "mart_a"
		case "loads":
			return "", "hourly_load"
		}
		return glueKey, ""
	}
	job := "job:" + glueKey + "#jr_1"
	run := func(p string, id int64, st sekisho.State) sekisho.Run {
		return sekisho.Run{ID: id, Pipeline: p, LogicalDate: day, Attempt: 1, State: st}
	}
	failed := func(p string, id int64) sekisho.Notice {
		return sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, RunID: id, Pipeline: p, LogicalDate: day,
			DedupeKey: sekisho.NoticeKey(sekisho.NoticeUpstreamFailed, sekisho.NoticeSubject{Run: id, Upstream: "hegel_export", ExternalID: "jr_1"}),
			Facts:     sekisho.NoticeFacts{Upstream: "hegel_export", ExternalID: "jr_1", State: sekisho.StateBlocked, Message: "exit 1"}}
	}
	own := func(kind sekisho.NoticeKind, p string, id int64, st sekisho.State) sekisho.Notice {
		return sekisho.Notice{Kind: kind, RunID: id, Pipeline: p, LogicalDate: day,
			DedupeKey: sekisho.NoticeKey(kind, sekisho.NoticeSubject{Run: id, Attempt: 1}), Facts: sekisho.NoticeFacts{State: st}}
	}
	member := func(p, role string, st sekisho.State) sekisho.IncidentMember {
		return sekisho.IncidentMember{Pipeline: p, Date: day, Role: role, State: st, Kind: sekisho.NoticeUpstreamFailed, JoinedAt: t0.Add(-time.Hour)}
	}
	export := func(resolvedAt time.Time, ms ...sekisho.IncidentMember) sekisho.Incident {
		return sekisho.Incident{Key: job, OpenedAt: t0.Add(-time.Hour), ResolvedAt: resolvedAt, Members: ms,
			Cause: sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: day, Resource: glueKey, Upstream: "hegel_export", ExternalID: "jr_1", State: "failed"}}
	}
	kant := sekisho.Incident{Key: "run:kant#" + day, OpenedAt: t0.Add(-2 * time.Hour),
		Cause:   sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: day, Pipeline: "kant", State: sekisho.CauseLate},
		Members: []sekisho.IncidentMember{{Pipeline: "kant", Date: day, Role: sekisho.RoleCause, State: sekisho.StateWaiting, Kind: sekisho.NoticeDelay}}}
	// An hourly pipeline's runs (SPEC §19): each hour is its own member.
	h12, h13 := day+"T12:00", day+"T13:00"
	hour := func(key string, id int64, st sekisho.State) sekisho.Run {
		r := run("hourly", id, st)
		r.Key = key
		return r
	}
	hourFailed := func(key string, id int64) sekisho.Notice {
		n := failed("hourly", id)
		n.Key = key
		return n
	}
	hourOwn := func(kind sekisho.NoticeKind, key string, id int64, st sekisho.State) sekisho.Notice {
		n := own(kind, "hourly", id, st)
		n.Key = key
		return n
	}
	hourMember := func(key string, st sekisho.State) sekisho.IncidentMember {
		m := member("hourly", sekisho.RoleAffected, st)
		m.RunKey = key
		return m
	}
	tests := []struct {
		name string
		open []sekisho.Incident
		step Step
		want string
	}{
		{"the first pipeline to see a job run fail opens its incident, which speaks for its notice",
			nil, Step{Run: run("mart_a", 1, sekisho.StateBlocked), Notices: []sekisho.Notice{failed("mart_a", 1)}},
			job + " mart_a/affected/blocked | upstream_failed:1:hegel_export:jr_1 → " + job + "; incident_opened:" + job},
		{"the second joins it and says so",
			[]sekisho.Incident{export(time.Time{}, member("mart_a", sekisho.RoleAffected, sekisho.StateBlocked))},
			Step{Run: run("mart_b", 2, sekisho.StateBlocked), Notices: []sekisho.Notice{failed("mart_b", 2)}},
			job + " mart_b/affected/blocked | upstream_failed:2:hegel_export:jr_1 → " + job + "; incident_joined:" + job + ":mart_b:" + day},
		{"a pipeline downstream that is late joins through the graph",
			[]sekisho.Incident{export(time.Time{}, member("mart_a", sekisho.RoleAffected, sekisho.StateBlocked))},
			Step{Run: run("report_c", 3, sekisho.StateWaiting), Notices: []sekisho.Notice{own(sekisho.NoticeDelay, "report_c", 3, sekisho.StateWaiting)}},
			job + " report_c/affected/waiting | delay:3 → " + job + "; incident_joined:" + job + ":report_c:" + day},
		{"a failed downstream run is its own cause and speaks for itself",
			nil, Step{Run: run("kant", 4, sekisho.StateFailed), Notices: []sekisho.Notice{own(sekisho.NoticeRunFailed, "kant", 4, sekisho.StateFailed)}},
			"run:kant#" + day + "+failed kant/cause/failed | run_failed:4:1"},
		{"a late cause that then fails names the incident failed; no message, the run's own notice is sent",
			[]sekisho.Incident{kant}, Step{Run: run("kant", 4, sekisho.StateFailed), Notices: []sekisho.Notice{own(sekisho.NoticeRunFailed, "kant", 4, sekisho.StateFailed)}},
			"run:kant#" + day + "+failed kant/cause/failed | run_failed:4:1"},
		{"an affected member that succeeds while another is blocked: recovered, and its recovery is spoken for",
			[]sekisho.Incident{export(time.Time{}, member("mart_a", sekisho.RoleAffected, sekisho.StateBlocked), member("mart_b", sekisho.RoleAffected, sekisho.StateBlocked))},
			Step{Run: run("mart_a", 1, sekisho.StateSucceeded), Notices: []sekisho.Notice{own(sekisho.NoticeRecovery, "mart_a", 1, sekisho.StateSucceeded)}},
			job + " mart_a/affected/succeeded | recovery:1 → " + job + "; incident_recovered:" + job + ":mart_a:" + day + ":succeeded"},
		{"the last member done resolves it, and the resolution speaks for the recovery",
			[]sekisho.Incident{export(time.Time{}, member("mart_a", sekisho.RoleAffected, sekisho.StateSucceeded), member("mart_b", sekisho.RoleAffected, sekisho.StateBlocked))},
			Step{Run: run("mart_b", 2, sekisho.StateSkipped), Notices: []sekisho.Notice{own(sekisho.NoticeRecovery, "mart_b", 2, sekisho.StateSkipped)}},
			job + " mart_b/affected/skipped resolved | recovery:2 → " + job + "; incident_resolved:" + job + ":" + at},
		{"a cause's recovery is its own, and an incident nobody was told of resolves silently",
			[]sekisho.Incident{kant}, Step{Run: run("kant", 4, sekisho.StateSucceeded), Notices: []sekisho.Notice{own(sekisho.NoticeRecovery, "kant", 4, sekisho.StateSucceeded)}},
			"run:kant#" + day + " kant/cause/succeeded resolved | recovery:4"},
		{"a run moving without notices only moves its memberships",
			[]sekisho.Incident{export(time.Time{}, member("mart_a", sekisho.RoleAffected, sekisho.StateBlocked))},
			Step{Run: run("mart_a", 1, sekisho.StateWaiting)},
			job + " mart_a/affected/waiting | "},
		{"a member already in its state changes nothing; resolved incidents are not looked at",
			[]sekisho.Incident{export(time.Time{}, member("mart_a", sekisho.RoleAffected, sekisho.StateBlocked)),
				{Key: "run:mart_b#" + day, Cause: sekisho.IncidentCause{Kind: sekisho.CauseRun, Pipeline: "mart_b", Date: day}, ResolvedAt: t0,
					Members: []sekisho.IncidentMember{{Pipeline: "mart_a", Date: day, Role: sekisho.RoleAffected, State: sekisho.StateFailed}}}},
			Step{Run: run("mart_a", 1, sekisho.StateBlocked), Notices: []sekisho.Notice{own(sekisho.NoticeLongRunning, "mart_a", 1, sekisho.StateBlocked)}},
			" | long_running:1:1"},
		{"a pipeline in no incident: its delay opens one with it as the cause, and is its own",
			nil, Step{Run: run("solo", 9, sekisho.StateWaiting), Notices: []sekisho.Notice{own(sekisho.NoticeDelay, "solo", 9, sekisho.StateWaiting)}},
			"run:solo#" + day + "+late solo/cause/waiting | delay:9"},
		{"a pipeline's type: pipeline upstream failed with no incident: that run is the cause",
			nil, Step{Run: run("report_c", 3, sekisho.StateBlocked), Notices: []sekisho.Notice{{Kind: sekisho.NoticeUpstreamFailed, RunID: 3,
				Pipeline: "report_c", LogicalDate: day, DedupeKey: "upstream_failed:3:mart:",
				Facts: sekisho.NoticeFacts{Upstream: "mart", State: sekisho.StateBlocked}}}},
			"run:mart_a#" + day + " mart_a/cause/failed report_c/affected/blocked | upstream_failed:3:mart: → run:mart_a#" + day +
				"; incident_opened:run:mart_a#" + day},
		{"a second hour of a sub-daily pipeline blocked by the same job run joins as its own member, named by its key",
			[]sekisho.Incident{export(time.Time{}, member("mart_a", sekisho.RoleAffected, sekisho.StateBlocked), hourMember(h12, sekisho.StateBlocked))},
			Step{Run: hour(h13, 21, sekisho.StateBlocked), Notices: []sekisho.Notice{hourFailed(h13, 21)}},
			job + " hourly@13:00/affected/blocked | upstream_failed:21:hegel_export:jr_1 → " + job + "; incident_joined:" + job + ":hourly:" + h13},
		{"an hour that succeeds settles its own membership only: the other hour still holds the incident open",
			[]sekisho.Incident{export(time.Time{}, hourMember(h12, sekisho.StateBlocked), hourMember(h13, sekisho.StateBlocked))},
			Step{Run: hour(h13, 21, sekisho.StateSucceeded), Notices: []sekisho.Notice{hourOwn(sekisho.NoticeRecovery, h13, 21, sekisho.StateSucceeded)}},
			job + " hourly@13:00/affected/succeeded | recovery:21 → " + job + "; incident_recovered:" + job + ":hourly:" + h13 + ":succeeded"},
		{"the last hour done resolves it",
			[]sekisho.Incident{export(time.Time{}, hourMember(h12, sekisho.StateBlocked), hourMember(h13, sekisho.StateSucceeded))},
			Step{Run: hour(h12, 20, sekisho.StateSucceeded), Notices: []sekisho.Notice{hourOwn(sekisho.NoticeRecovery, h12, 20, sekisho.StateSucceeded)}},
			job + " hourly@12:00/affected/succeeded resolved | recovery:20 → " + job + "; incident_resolved:" + job + ":" + at},
		{"a failed hour is the cause of its own incident, keyed by the hour: another hour failing opens another",
			[]sekisho.Incident{{Key: "run:hourly#" + h12, OpenedAt: t0.Add(-time.Hour),
				Cause:   sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: day, RunKey: h12, Pipeline: "hourly", State: "failed"},
				Members: []sekisho.IncidentMember{{Pipeline: "hourly", Date: day, RunKey: h12, Role: sekisho.RoleCause, State: sekisho.StateFailed}}}},
			Step{Run: hour(h13, 21, sekisho.StateFailed), Notices: []sekisho.Notice{hourOwn(sekisho.NoticeRunFailed, h13, 21, sekisho.StateFailed)}},
			"run:hourly#" + h13 + "+failed hourly@13:00/cause/failed | run_failed:21:1"},
		{"a daily run rolled up over an hourly pipeline, blocked by its failed 13:00 run with no incident: that hour is the cause",
			nil, Step{Run: run("mart_b", 2, sekisho.StateBlocked), Notices: []sekisho.Notice{{Kind: sekisho.NoticeUpstreamFailed, RunID: 2,
				Pipeline: "mart_b", LogicalDate: day, Key: day, DedupeKey: "upstream_failed:2:loads:hourly_load/" + h13 + "#1",
				Facts: sekisho.NoticeFacts{Upstream: "loads", ExternalID: "hourly_load/" + h13 + "#1", State: sekisho.StateBlocked}}}},
			"run:hourly_load#" + h13 + " hourly_load@13:00/cause/failed mart_b/affected/blocked | upstream_failed:2:loads:hourly_load/" + h13 +
				"#1 → run:hourly_load#" + h13 + "; incident_opened:run:hourly_load#" + h13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := fmt.Sprint(tt.open)
			d := Decide(cascade, locate, tt.open, tt.step, t0)
			if got := summarize(d); got != tt.want {
				t.Errorf("\ngot  %s\nwant %s", got, tt.want)
			}
			if fmt.Sprint(tt.open) != before {
				t.Errorf("Decide changed the incidents it was given")
			}
			for _, n := range d.Notices {
				if _, _, err := sekisho.ParseNoticeKey(n.DedupeKey); err != nil {
					t.Errorf("notice key: %v", err)
				}
			}
			for _, inc := range d.Open {
				if !inc.Open() {
					t.Errorf("Open holds resolved incident %s", inc.Key)
				}
			}
		})
	}
}

// TestDecideTwiceQueuesNothingNew replays a decision on the view it left:
// a replay after a crash must not open, join or resolve anything again.
func TestDecideTwiceQueuesNothingNew(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC)
	locate := func(string, string) (string, string) { return glueKey, "" }
	n := sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, RunID: 1, Pipeline: "mart_a", LogicalDate: day, DedupeKey: "upstream_failed:1:x:jr_1",
		Facts: sekisho.NoticeFacts{Upstream: "x", ExternalID: "jr_1", State: sekisho.StateBlocked}}
	step := Step{Run: sekisho.Run{ID: 1, Pipeline: "mart_a", LogicalDate: day, State: sekisho.StateBlocked}, Notices: []sekisho.Notice{n}}
	first := Decide(cascade, locate, nil, step, t0)
	again := Decide(cascade, locate, first.Open, step, t0.Add(time.Minute))
	if len(first.Notices) != 2 || len(again.Notices) != 1 || again.Notices[0].Facts.SpokenFor == "" {
		t.Fatalf("first %s, again %s: the replay must only mark the run's notice", summarize(first), summarize(again))
	}
}
