package e2e

import (
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/notify"
)

func TestCheckIncidentsCatchesViolations(t *testing.T) {
	const day = "2026-03-01"
	cause := sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: day, Resource: "glue_job:x", ExternalID: "jr_1"}
	key := cause.Key()
	member := func(p string, s sekisho.State) sekisho.IncidentMember {
		return sekisho.IncidentMember{Pipeline: p, Date: day, Role: sekisho.RoleAffected, Kind: sekisho.NoticeUpstreamFailed, State: s}
	}
	run := func(p string, s sekisho.State) History {
		return History{Run: sekisho.Run{Pipeline: p, LogicalDate: day, Key: day, State: s}}
	}
	resolved := sekisho.Incident{Key: key, Cause: cause, ResolvedAt: t0,
		Members: []sekisho.IncidentMember{member("a", sekisho.StateSucceeded), member("b", sekisho.StateSkipped)}}
	okRuns := []History{run("a", sekisho.StateSucceeded), run("b", sekisho.StateSkipped)}
	announced := sekisho.Notice{Kind: sekisho.NoticeIncidentOpened, SentAt: t0, Text: "🚨 …",
		Facts: sekisho.NoticeFacts{Incident: key}}
	grouped := sekisho.Notice{Kind: sekisho.NoticeUpstreamFailed, Pipeline: "a", LogicalDate: day, SentAt: t0,
		Text: notify.GroupedPrefix + "incident " + key + ") 🚨 …"}
	if bad := CheckIncidents([]sekisho.Incident{resolved}, okRuns, []sekisho.Notice{announced, grouped}); len(bad) != 0 {
		t.Fatalf("a clean incident is flagged: %v", bad)
	}
	hourMember := func(at string) sekisho.IncidentMember {
		m := member("h", sekisho.StateSucceeded)
		m.RunKey = day + "T" + at
		return m
	}
	hour := func(at string, s sekisho.State) History {
		return History{Run: sekisho.Run{Pipeline: "h", LogicalDate: day, Key: day + "T" + at, State: s}}
	}
	hourly := sekisho.Incident{Key: key, Cause: cause, ResolvedAt: t0, Members: []sekisho.IncidentMember{hourMember("12:00"), hourMember("13:00")}}
	if bad := CheckIncidents([]sekisho.Incident{hourly}, []History{hour("12:00", sekisho.StateSucceeded), hour("13:00", sekisho.StateSucceeded)}, nil); len(bad) != 0 {
		t.Fatalf("a clean incident over two hours is flagged: %v", bad)
	}
	open := sekisho.Incident{Key: key, Cause: cause, Members: []sekisho.IncidentMember{member("a", sekisho.StateBlocked), member("b", sekisho.StateBlocked)}}
	posted := grouped
	posted.Text = "🚨 Data for a may be late"
	cases := []struct {
		name string
		incs []sekisho.Incident
		hs   []History
		ns   []sekisho.Notice
		want string
	}{
		{"open though all done", []sekisho.Incident{open}, okRuns, nil, "is open though every member is done"},
		{"resolved though one is not done", []sekisho.Incident{resolved},
			[]History{run("a", sekisho.StateSucceeded), run("b", sekisho.StateTimedOut)}, nil, "is resolved though a member is not done"},
		{"member state behind its run", []sekisho.Incident{open},
			[]History{run("a", sekisho.StateBlocked), run("b", sekisho.StateTimedOut)}, nil, "member b 2026-03-01 is blocked, its run timed_out"},
		{"announced twice", []sekisho.Incident{resolved}, okRuns, []sekisho.Notice{announced, announced}, "announced 2 times"},
		{"two incidents for one cause", []sekisho.Incident{resolved, resolved}, okRuns, nil, "has 2 incidents"},
		{"an affected pipeline's own notice posted", []sekisho.Incident{resolved}, okRuns, []sekisho.Notice{posted},
			"upstream_failed of a 2026-03-01 reached Slack"},
		{"member without a run", []sekisho.Incident{resolved}, okRuns[:1], nil, "member b 2026-03-01 has no run"},
		// Two hours of one sub-daily pipeline are two members, each against
		// its own run: the 13:00 run's success does not settle 12:00.
		{"one hour of two not done", []sekisho.Incident{hourly}, []History{hour("12:00", sekisho.StateFailed), hour("13:00", sekisho.StateSucceeded)},
			nil, "is resolved though a member is not done"},
		{"an hour without a run", []sekisho.Incident{hourly}, []History{hour("13:00", sekisho.StateSucceeded)}, nil, "member h 2026-03-01T12:00 has no run"},
	}
	for _, c := range cases {
		bad := CheckIncidents(c.incs, c.hs, c.ns)
		if len(bad) == 0 || !strings.Contains(strings.Join(bad, "\n"), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, bad, c.want)
		}
	}
}
