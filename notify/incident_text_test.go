package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/incident"
)

// sampleIncident is the cascade an hour after the export failed:
// the two direct pipelines blocked, the two downstream late.
func sampleIncident(resolved bool) sekisho.Incident {
	opened := time.Date(2026, 11, 21, 1, 40, 0, 0, tokyo)
	inc := sekisho.Incident{ID: 1, Key: cascadeKey, OpenedAt: opened,
		Cause: sekisho.IncidentCause{Kind: sekisho.CauseJob, Date: cascadeDay, Resource: "glue_job:hegel-rds-export",
			Upstream: "hegel_export", ExternalID: "jr_1", State: "failed", Message: "Command failed with exit code 1"}}
	member := func(p string, kind sekisho.NoticeKind, state sekisho.State) sekisho.IncidentMember {
		if resolved {
			state = sekisho.StateSucceeded
		}
		return sekisho.IncidentMember{Pipeline: p, Date: cascadeDay, Role: sekisho.RoleAffected, Kind: kind, State: state, JoinedAt: opened}
	}
	inc.Members = []sekisho.IncidentMember{
		member("mart_a", sekisho.NoticeUpstreamFailed, sekisho.StateBlocked),
		member("mart_b", sekisho.NoticeUpstreamFailed, sekisho.StateBlocked),
		member("report_c", sekisho.NoticeDelay, sekisho.StateWaiting),
		member("report_d", sekisho.NoticeDelay, sekisho.StateWaiting),
	}
	if resolved {
		inc.ResolvedAt = opened.Add(6 * time.Hour)
	}
	return inc
}

func TestIncidentGolden(t *testing.T) {
	cfg := testConfig("ja")
	cascadeConfig(cfg)
	cases := []struct {
		name     string
		n        sekisho.Notice
		resolved bool
		joined   []string
		runCause string // a troubled run as the cause: its state
	}{
		{"incident_opened", incident.OpenedNotice(cascadeKey, sampleIncident(false).Cause, time.Time{}), false, nil, ""},
		{"incident_joined", incident.JoinedNotice(cascadeKey, sampleIncident(false).Members[2], time.Time{}), false,
			[]string{"report_c", "report_d"}, ""},
		{"incident_recovered", incident.RecoveredNotice(cascadeKey, sampleIncident(false).Members[0], time.Time{}), false, nil, ""},
		{"incident_resolved", incident.ResolvedNotice(cascadeKey, cascadeDay, time.Time{}), true, nil, ""},
		{"incident_opened_late_run", incident.OpenedNotice("run:mart_a#"+cascadeDay, sekisho.IncidentCause{}, time.Time{}), false, nil, sekisho.CauseLate},
		{"incident_opened_failed_run", incident.OpenedNotice("run:mart_a#"+cascadeDay, sekisho.IncidentCause{}, time.Time{}), false, nil, "failed"},
	}
	for _, lang := range []string{"ja", "en"} {
		for _, c := range cases {
			t.Run(c.name+"."+lang, func(t *testing.T) {
				inc := sampleIncident(c.resolved)
				if c.runCause != "" {
					// mart_a's own run is the cause; report_c waits on it.
					inc.Key = "run:mart_a#" + cascadeDay
					inc.Cause = sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: cascadeDay, Pipeline: "mart_a", State: c.runCause}
					if c.runCause == "failed" {
						inc.Cause.Message = "task build_marts failed"
					}
					inc.Members = []sekisho.IncidentMember{inc.Members[0], inc.Members[2]}
					inc.Members[0].Role, inc.Members[0].Kind = sekisho.RoleCause, sekisho.NoticeRunFailed
				}
				v := incidentView{inc: inc, visible: inc.Members, cfg: cfg}
				got := RenderIncident(lang, c.n, v, c.joined, "https://sekisho.example.internal", tokyo).Text() + "\n"
				checkGolden(t, c.name+"."+lang+".txt", got)
				if strings.Contains(got, "{") || strings.Contains(got, "%!") {
					t.Errorf("a placeholder is left in:\n%s", got)
				}
			})
		}
	}
}

func TestIncidentMentionsAndEscaping(t *testing.T) {
	cfg := testConfig("en")
	cascadeConfig(cfg)
	cfg.Pipeline("report_c").Notify.Mention = "<!subteam^S0C>"
	cfg.Pipeline("mart_a").Notify.Mention = "<!subteam^S0A>"
	inc := sampleIncident(false)
	inc.Cause.Message = "<script> & <@U123>"
	v := incidentView{inc: inc, visible: inc.Members, cfg: cfg}
	opened := RenderIncident("en", incident.OpenedNotice(cascadeKey, inc.Cause, time.Time{}), v, nil, "", tokyo)
	if !strings.HasPrefix(opened.Headline, "<!subteam^S0A> <!subteam^S0C> 🚨") {
		t.Errorf("opening headline %q: every affected pipeline's mention", opened.Headline)
	}
	if !strings.Contains(opened.Text(), "&lt;script&gt; &amp; &lt;@U123&gt;") {
		t.Errorf("the job's message is not escaped:\n%s", opened.Text())
	}
	joined := RenderIncident("en", incident.JoinedNotice(cascadeKey, inc.Members[2], time.Time{}), v, []string{"report_c"}, "", tokyo)
	if !strings.HasPrefix(joined.Headline, "<!subteam^S0C> 🚨") {
		t.Errorf("joined headline %q: the joiner's mention only", joined.Headline)
	}
	resolved := RenderIncident("en", incident.ResolvedNotice(cascadeKey, cascadeDay, time.Time{}), v, nil, "", tokyo)
	if strings.Contains(resolved.Headline, "subteam") {
		t.Errorf("a resolution mentions people: %q", resolved.Headline)
	}
}
