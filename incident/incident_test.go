package incident

import (
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// graph maps a pipeline to the pipelines it waits on directly.
type graph map[string][]string

func (g graph) Upstreams(p string) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(string)
	walk = func(n string) {
		for _, u := range g[n] {
			if !seen[u] {
				seen[u] = true
				out = append(out, u)
				walk(u)
			}
		}
	}
	walk(p)
	return out
}

const day = "2026-11-21"

// cascade is the night: hegel-rds-export fails at 01:40; mart_a and
// mart_b wait on it directly, report_c waits on mart_a and report_d on
// mart_b through type: pipeline upstreams.
var cascade = graph{"report_c": {"mart_a"}, "report_d": {"mart_b"}}

const glueKey = "glue_job:hegel-rds-export"

func failedExport(p string) trouble {
	return trouble{Pipeline: p, Date: day, State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
		Upstream: "hegel_export", Resource: glueKey, ExternalID: "jr_1", Message: "exit 1"}
}

func TestPlaceCascade(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC) // 01:40 JST
	steps := []struct {
		name     string
		trouble  trouble
		key      string
		role     string
		suppress bool
	}{
		{"first direct pipeline opens the job's incident", failedExport("mart_a"), "job:" + glueKey + "#jr_1", sekisho.RoleAffected, true},
		{"second direct pipeline joins by the same run", failedExport("mart_b"), "job:" + glueKey + "#jr_1", sekisho.RoleAffected, true},
		{"a pipeline downstream is late: joins through mart_a",
			trouble{Pipeline: "report_c", Date: day, State: sekisho.StateWaiting, Kind: sekisho.NoticeDelay},
			"job:" + glueKey + "#jr_1", sekisho.RoleAffected, true},
		{"the other downstream times out: joins through mart_b",
			trouble{Pipeline: "report_d", Date: day, State: sekisho.StateTimedOut, Kind: sekisho.NoticeTimedOut},
			"job:" + glueKey + "#jr_1", sekisho.RoleAffected, true},
		{"a member's later trouble stays in the incident",
			trouble{Pipeline: "mart_a", Date: day, State: sekisho.StateTimedOut, Kind: sekisho.NoticeTimedOut},
			"job:" + glueKey + "#jr_1", sekisho.RoleAffected, true},
		{"a member seeing its pipeline upstream fail stays in the incident",
			trouble{Pipeline: "report_c", Date: day, State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
				Upstream: "mart", UpstreamPipeline: "mart_a"},
			"job:" + glueKey + "#jr_1", sekisho.RoleAffected, true},
		{"an unrelated failure the same night opens its own incident",
			trouble{Pipeline: "ads", Date: day, State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
				Upstream: "ads_sync", Resource: "trocco_job:55", ExternalID: "9001"},
			"job:trocco_job:55#9001", sekisho.RoleAffected, true},
		{"the same job failing the next day is another incident",
			trouble{Pipeline: "mart_a", Date: "2026-11-22", State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
				Upstream: "hegel_export", Resource: glueKey, ExternalID: "jr_2"},
			"job:" + glueKey + "#jr_2", sekisho.RoleAffected, true},
		{"a late pipeline with nothing troubled upstream is its own cause and speaks for itself",
			trouble{Pipeline: "solo", Date: day, State: sekisho.StateRunning, Kind: sekisho.NoticeDelay},
			"run:solo#" + day, sekisho.RoleCause, false},
		{"a failed downstream run is its own cause and keeps its run_failed",
			trouble{Pipeline: "kant", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeRunFailed, Message: "dag failed"},
			"run:kant#" + day, sekisho.RoleCause, false},
		{"a run_failed of an affected member is a cause of its own",
			trouble{Pipeline: "mart_b", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeRunFailed},
			"run:mart_b#" + day, sekisho.RoleCause, false},
	}
	var open []sekisho.Incident
	for i, s := range steps {
		now := t0.Add(time.Duration(i) * time.Minute)
		d := place(cascade, open, s.trouble, now)
		if suppress := d.Members[len(d.Members)-1].Role == sekisho.RoleAffected; d.Key() != s.key || suppress != s.suppress {
			t.Fatalf("%s: key %q suppress %v, want %q %v", s.name, d.Key(), suppress, s.key, s.suppress)
		}
		m := d.Members[len(d.Members)-1]
		if m.Pipeline != s.trouble.Pipeline || m.Role != s.role || m.Kind != s.trouble.Kind {
			t.Fatalf("%s: member %+v, want %s as %s", s.name, m, s.trouble.Pipeline, s.role)
		}
		open, _ = merge(open, d, now)
	}
	var night []sekisho.Incident
	for _, inc := range open {
		if inc.Cause.Date == day && inc.Cause.Kind == sekisho.CauseJob && inc.Cause.Resource == glueKey {
			night = append(night, inc)
		}
	}
	if len(night) != 1 {
		t.Fatalf("the export's failure gave %d incidents, want 1", len(night))
	}
	got := map[string]bool{}
	for _, m := range night[0].Affected() {
		got[m.Pipeline] = true
	}
	for _, p := range []string{"mart_a", "mart_b", "report_c", "report_d"} {
		if !got[p] {
			t.Errorf("%s is not affected by the export's incident: %+v", p, night[0].Members)
		}
	}
	if len(night[0].Members) != 4 {
		t.Errorf("members = %+v, want the four pipelines once each", night[0].Members)
	}
	if m, _ := night[0].Member("mart_a", day); m.Kind != sekisho.NoticeTimedOut || !m.JoinedAt.Equal(t0) {
		t.Errorf("mart_a's refreshed member = %+v: kind timed_out, joined at 01:40", m)
	}
	if len(open) != 6 {
		t.Errorf("%d incidents, want 6 (export, trocco, next day, solo, kant, mart_b's own)", len(open))
	}
}

func TestPlacePipelineUpstreamWithoutIncident(t *testing.T) {
	// A pipeline sees its type: pipeline upstream failed, but that run has
	// no incident (it failed before the daemon knew incidents): the failed
	// run becomes the cause, with both pipelines as members.
	now := time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	d := place(cascade, nil, trouble{Pipeline: "report_c", Date: day, State: sekisho.StateBlocked,
		Kind: sekisho.NoticeUpstreamFailed, Upstream: "mart", UpstreamPipeline: "mart_a"}, now)
	if d.Key() != "run:mart_a#"+day || len(d.Members) != 2 ||
		d.Members[0].Role != sekisho.RoleCause || d.Members[1].Role != sekisho.RoleAffected {
		t.Fatalf("decision = %+v", d)
	}
}

func TestPlaceIgnoresResolvedAndOtherDays(t *testing.T) {
	now := time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	old := sekisho.Incident{Key: "job:x#1", Cause: sekisho.IncidentCause{Kind: sekisho.CauseJob, Resource: "x", ExternalID: "1", Date: day},
		OpenedAt: now.Add(-time.Hour), ResolvedAt: now.Add(-time.Minute),
		Members: []sekisho.IncidentMember{{Pipeline: "mart_a", Date: day, Role: sekisho.RoleAffected}}}
	yesterday := sekisho.Incident{Key: "run:mart_a#2026-11-20", Cause: sekisho.IncidentCause{Kind: sekisho.CauseRun, Pipeline: "mart_a", Date: "2026-11-20"},
		OpenedAt: now.Add(-24 * time.Hour), Members: []sekisho.IncidentMember{{Pipeline: "mart_a", Date: "2026-11-20", Role: sekisho.RoleCause}}}
	d := place(cascade, []sekisho.Incident{old, yesterday}, trouble{Pipeline: "report_c", Date: day, Kind: sekisho.NoticeDelay}, now)
	if d.Key() != "run:report_c#"+day || d.Members[0].Role != sekisho.RoleCause {
		t.Fatalf("decision = %+v: a resolved incident and yesterday's must not absorb today's delay", d)
	}
}

func TestResolved(t *testing.T) {
	for _, c := range []struct {
		name    string
		members []sekisho.IncidentMember
		want    bool
	}{
		{"no members", nil, false},
		{"all succeeded or skipped", []sekisho.IncidentMember{{State: sekisho.StateSucceeded}, {State: sekisho.StateSkipped}}, true},
		{"one still blocked", []sekisho.IncidentMember{{State: sekisho.StateSucceeded}, {State: sekisho.StateBlocked}}, false},
		{"one timed out", []sekisho.IncidentMember{{State: sekisho.StateTimedOut}}, false},
	} {
		if got := resolved(c.members); got != c.want {
			t.Errorf("%s: resolved = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPlaceCauseStateOnlyMovesForward(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	failed := trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeRunFailed, Message: "dag failed"}
	late := trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeDelay, Message: "past 09:00"}
	waiting := trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateWaiting, Kind: sekisho.NoticeDelay, Message: "past 09:00"}
	timedOut := trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateTimedOut, Kind: sekisho.NoticeTimedOut, Message: "gave up"}
	for _, c := range []struct {
		name        string
		troubles    []trouble
		state, text string
	}{
		{"a failed cause that is then also late stays failed", []trouble{failed, late}, "failed", "dag failed"},
		{"a late cause that then fails becomes failed", []trouble{waiting, failed}, "failed", "dag failed"},
		{"a late cause that times out becomes timed out", []trouble{waiting, timedOut}, "timed_out", "gave up"},
		{"a timed out cause that is late again stays timed out", []trouble{timedOut, waiting}, "timed_out", "gave up"},
		{"a failed cause that then times out stays failed", []trouble{failed, timedOut, late}, "failed", "dag failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var open []sekisho.Incident
			var d sekisho.IncidentChange
			for i, tr := range c.troubles {
				now := t0.Add(time.Duration(i) * time.Minute)
				d = place(cascade, open, tr, now)
				open, _ = merge(open, d, now)
			}
			if d.Cause.State != c.state || d.Cause.Message != c.text {
				t.Errorf("last decision's cause = %s %q, want %s %q", d.Cause.State, d.Cause.Message, c.state, c.text)
			}
			if len(open) != 1 || open[0].Cause.State != c.state || open[0].Cause.Message != c.text {
				t.Errorf("merged incidents = %+v, want one with cause %s %q", open, c.state, c.text)
			}
		})
	}
}
