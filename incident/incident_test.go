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

func failedExport(p string) Trouble {
	return Trouble{Pipeline: p, Date: day, State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
		Upstream: "hegel_export", Resource: glueKey, ExternalID: "jr_1", Message: "exit 1"}
}

func TestPlaceCascade(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 16, 40, 0, 0, time.UTC) // 01:40 JST
	steps := []struct {
		name     string
		trouble  Trouble
		key      string
		role     string
		suppress bool
	}{
		{"first direct pipeline opens the job's incident", failedExport("mart_a"), "job:" + glueKey + "#jr_1", RoleAffected, true},
		{"second direct pipeline joins by the same run", failedExport("mart_b"), "job:" + glueKey + "#jr_1", RoleAffected, true},
		{"a pipeline downstream is late: joins through mart_a",
			Trouble{Pipeline: "report_c", Date: day, State: sekisho.StateWaiting, Kind: sekisho.NoticeDelay},
			"job:" + glueKey + "#jr_1", RoleAffected, true},
		{"the other downstream times out: joins through mart_b",
			Trouble{Pipeline: "report_d", Date: day, State: sekisho.StateTimedOut, Kind: sekisho.NoticeTimedOut},
			"job:" + glueKey + "#jr_1", RoleAffected, true},
		{"a member's later trouble stays in the incident",
			Trouble{Pipeline: "mart_a", Date: day, State: sekisho.StateTimedOut, Kind: sekisho.NoticeTimedOut},
			"job:" + glueKey + "#jr_1", RoleAffected, true},
		{"a member seeing its pipeline upstream fail stays in the incident",
			Trouble{Pipeline: "report_c", Date: day, State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
				Upstream: "mart", UpstreamPipeline: "mart_a"},
			"job:" + glueKey + "#jr_1", RoleAffected, true},
		{"an unrelated failure the same night opens its own incident",
			Trouble{Pipeline: "ads", Date: day, State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
				Upstream: "ads_sync", Resource: "trocco_job:55", ExternalID: "9001"},
			"job:trocco_job:55#9001", RoleAffected, true},
		{"the same job failing the next day is another incident",
			Trouble{Pipeline: "mart_a", Date: "2026-11-22", State: sekisho.StateBlocked, Kind: sekisho.NoticeUpstreamFailed,
				Upstream: "hegel_export", Resource: glueKey, ExternalID: "jr_2"},
			"job:" + glueKey + "#jr_2", RoleAffected, true},
		{"a late pipeline with nothing troubled upstream is its own cause and speaks for itself",
			Trouble{Pipeline: "solo", Date: day, State: sekisho.StateRunning, Kind: sekisho.NoticeDelay},
			"run:solo#" + day, RoleCause, false},
		{"a failed downstream run is its own cause and keeps its run_failed",
			Trouble{Pipeline: "kant", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeRunFailed, Message: "dag failed"},
			"run:kant#" + day, RoleCause, false},
		{"a run_failed of an affected member is a cause of its own",
			Trouble{Pipeline: "mart_b", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeRunFailed},
			"run:mart_b#" + day, RoleCause, false},
	}
	var open []Incident
	for i, s := range steps {
		now := t0.Add(time.Duration(i) * time.Minute)
		d := Place(cascade, open, s.trouble, now)
		if d.Change.Key() != s.key || d.Suppress != s.suppress {
			t.Fatalf("%s: key %q suppress %v, want %q %v", s.name, d.Change.Key(), d.Suppress, s.key, s.suppress)
		}
		m := d.Change.Members[len(d.Change.Members)-1]
		if m.Pipeline != s.trouble.Pipeline || m.Role != s.role || m.Kind != s.trouble.Kind {
			t.Fatalf("%s: member %+v, want %s as %s", s.name, m, s.trouble.Pipeline, s.role)
		}
		open = Merge(open, d.Change, now)
	}
	var night []Incident
	for _, inc := range open {
		if inc.Cause.Date == day && inc.Cause.Kind == CauseJob && inc.Cause.Resource == glueKey {
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
	d := Place(cascade, nil, Trouble{Pipeline: "report_c", Date: day, State: sekisho.StateBlocked,
		Kind: sekisho.NoticeUpstreamFailed, Upstream: "mart", UpstreamPipeline: "mart_a"}, now)
	if d.Change.Key() != "run:mart_a#"+day || !d.Suppress || len(d.Change.Members) != 2 ||
		d.Change.Members[0].Role != RoleCause || d.Change.Members[1].Role != RoleAffected {
		t.Fatalf("decision = %+v", d)
	}
}

func TestPlaceIgnoresResolvedAndOtherDays(t *testing.T) {
	now := time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	old := Incident{Key: "job:x#1", Cause: Cause{Kind: CauseJob, Resource: "x", ExternalID: "1", Date: day},
		OpenedAt: now.Add(-time.Hour), ResolvedAt: now.Add(-time.Minute),
		Members: []Member{{Pipeline: "mart_a", Date: day, Role: RoleAffected}}}
	yesterday := Incident{Key: "run:mart_a#2026-11-20", Cause: Cause{Kind: CauseRun, Pipeline: "mart_a", Date: "2026-11-20"},
		OpenedAt: now.Add(-24 * time.Hour), Members: []Member{{Pipeline: "mart_a", Date: "2026-11-20", Role: RoleCause}}}
	d := Place(cascade, []Incident{old, yesterday}, Trouble{Pipeline: "report_c", Date: day, Kind: sekisho.NoticeDelay}, now)
	if d.Change.Key() != "run:report_c#"+day || d.Suppress {
		t.Fatalf("decision = %+v: a resolved incident and yesterday's must not absorb today's delay", d)
	}
}

func TestResolved(t *testing.T) {
	for _, c := range []struct {
		name    string
		members []Member
		want    bool
	}{
		{"no members", nil, false},
		{"all succeeded or skipped", []Member{{State: sekisho.StateSucceeded}, {State: sekisho.StateSkipped}}, true},
		{"one still blocked", []Member{{State: sekisho.StateSucceeded}, {State: sekisho.StateBlocked}}, false},
		{"one timed out", []Member{{State: sekisho.StateTimedOut}}, false},
	} {
		if got := Resolved(c.members); got != c.want {
			t.Errorf("%s: Resolved = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPlaceCauseStateOnlyMovesForward(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 20, 0, 0, 0, time.UTC)
	failed := Trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeRunFailed, Message: "dag failed"}
	late := Trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateFailed, Kind: sekisho.NoticeDelay, Message: "past 09:00"}
	waiting := Trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateWaiting, Kind: sekisho.NoticeDelay, Message: "past 09:00"}
	timedOut := Trouble{Pipeline: "ads_daily", Date: day, State: sekisho.StateTimedOut, Kind: sekisho.NoticeTimedOut, Message: "gave up"}
	for _, c := range []struct {
		name        string
		troubles    []Trouble
		state, text string
	}{
		{"a failed cause that is then also late stays failed", []Trouble{failed, late}, "failed", "dag failed"},
		{"a late cause that then fails becomes failed", []Trouble{waiting, failed}, "failed", "dag failed"},
		{"a late cause that times out becomes timed out", []Trouble{waiting, timedOut}, "timed_out", "gave up"},
		{"a timed out cause that is late again stays timed out", []Trouble{timedOut, waiting}, "timed_out", "gave up"},
		{"a failed cause that then times out stays failed", []Trouble{failed, timedOut, late}, "failed", "dag failed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var open []Incident
			var d Decision
			for i, tr := range c.troubles {
				now := t0.Add(time.Duration(i) * time.Minute)
				d = Place(cascade, open, tr, now)
				open = Merge(open, d.Change, now)
			}
			if d.Change.Cause.State != c.state || d.Change.Cause.Message != c.text {
				t.Errorf("last decision's cause = %s %q, want %s %q", d.Change.Cause.State, d.Change.Cause.Message, c.state, c.text)
			}
			if len(open) != 1 || open[0].Cause.State != c.state || open[0].Cause.Message != c.text {
				t.Errorf("merged incidents = %+v, want one with cause %s %q", open, c.state, c.text)
			}
		})
	}
}
