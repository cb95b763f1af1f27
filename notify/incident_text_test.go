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
		joined   []sekisho.IncidentMember
		runCause string // a troubled run as the cause: its state
	}{
		{"incident_opened", incident.OpenedNotice(cascadeKey, sampleIncident(false).Cause, time.Time{}), false, nil, ""},
		{"incident_joined", incident.JoinedNotice(cascadeKey, sampleIncident(false).Members[2], time.Time{}), false,
			[]sekisho.IncidentMember{{Pipeline: "report_c", Date: cascadeDay}, {Pipeline: "report_d", Date: cascadeDay}}, ""},
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
	joined := RenderIncident("en", incident.JoinedNotice(cascadeKey, inc.Members[2], time.Time{}), v, []sekisho.IncidentMember{{Pipeline: "report_c"}}, "", tokyo)
	if !strings.HasPrefix(joined.Headline, "<!subteam^S0C> 🚨") {
		t.Errorf("joined headline %q: the joiner's mention only", joined.Headline)
	}
	resolved := RenderIncident("en", incident.ResolvedNotice(cascadeKey, cascadeDay, time.Time{}), v, nil, "", tokyo)
	if strings.Contains(resolved.Headline, "subteam") {
		t.Errorf("a resolution mentions people: %q", resolved.Headline)
	}
}

// An incident over a sub-daily pipeline names each run by its interval
// (SPEC §19): two hours of one pipeline are two runs in the text, in the
// headline of a joined or recovered message (read back from the notice's
// dedupe key) and in the cause.
func TestIncidentNamesTheInterval(t *testing.T) {
	cfg := testConfig("en")
	cascadeConfig(cfg)
	h12, h13 := cascadeDay+"T12:00", cascadeDay+"T13:00"
	inc := sampleIncident(false)
	hour := func(key string) sekisho.IncidentMember {
		return sekisho.IncidentMember{Pipeline: "hourly_load", Date: cascadeDay, RunKey: key, Role: sekisho.RoleAffected,
			Kind: sekisho.NoticeUpstreamFailed, State: sekisho.StateBlocked}
	}
	inc.Members = []sekisho.IncidentMember{hour(h12), hour(h13), inc.Members[0]}
	v := incidentView{inc: inc, visible: inc.Members, cfg: cfg}
	for _, c := range []struct {
		lang string
		n    sekisho.Notice
		want []string
	}{
		{"en", incident.OpenedNotice(cascadeKey, inc.Cause, time.Time{}),
			[]string{"• hourly_load 12:00 run (", "• hourly_load 13:00 run ("}},
		{"ja", incident.OpenedNotice(cascadeKey, inc.Cause, time.Time{}), []string{"hourly_load の 12:00 の回"}},
		{"en", incident.JoinedNotice(cascadeKey, hour(h13), time.Time{}), []string{"hourly_load 13:00 run stopped too"}},
		{"en", incident.RecoveredNotice(cascadeKey, hour(h12), time.Time{}), []string{"hourly_load 12:00 run resumed"}},
	} {
		var joined []sekisho.IncidentMember
		if c.n.Facts.Reason == sekisho.IncidentJoined {
			joined = []sekisho.IncidentMember{memberOf(c.n)}
		}
		got := RenderIncident(c.lang, c.n, v, joined, "", tokyo).Text()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s %s: no %q in\n%s", c.lang, c.n.DedupeKey, w, got)
			}
		}
	}
	// The 13:00 run's own failure as the cause.
	inc.Key = "run:hourly_load#" + h13
	inc.Cause = sekisho.IncidentCause{Kind: sekisho.CauseRun, Date: cascadeDay, RunKey: h13, Pipeline: "hourly_load", State: "failed"}
	inc.Members = []sekisho.IncidentMember{hour(h13), inc.Members[2]}
	inc.Members[0].Role = sekisho.RoleCause
	v = incidentView{inc: inc, visible: inc.Members, cfg: cfg}
	got := RenderIncident("en", incident.OpenedNotice(inc.Key, inc.Cause, time.Time{}), v, nil, "", tokyo).Text()
	for _, w := range []string{"stopped by the failure of hourly_load 13:00 run", "The update of hourly_load 13:00 run (" + cascadeDay + ") failed",
		"waiting for hourly_load 13:00 run to finish"} {
		if !strings.Contains(got, w) {
			t.Errorf("run cause: no %q in\n%s", w, got)
		}
	}
}
