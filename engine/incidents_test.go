package engine

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

// cascade is the night of issue #17: the Glue export fails at 01:40; "sales"
// and "stock" wait on it directly, "mart" waits on sales and "report" on
// mart through type: pipeline upstreams. An engineer reruns the export after
// the 06:00 deadline; it succeeds at 06:40. "crm" waits on another Glue job
// that fails the same night: an unrelated cause.
func cascade(t *testing.T) *harness {
	t.Helper()
	export := []config.Upstream{glueUp("export", "hegel-rds-export")}
	pl := func(name string, ups []config.Upstream, trig *sekisho.TriggerSpec) *config.Pipeline {
		p := pipeline(name, "0 1 * * *", ups, trig)
		p.Timeout = 10 * time.Hour
		return p
	}
	h := newHarness(t, jst(1, 0, 50),
		pl("sales", export, dagTrigger),
		pl("stock", export, dagTrigger),
		pl("mart", []config.Upstream{{Name: "sales", Type: config.TypePipeline, Pipeline: "sales"}}, nil),
		pl("report", []config.Upstream{{Name: "mart", Type: config.TypePipeline, Pipeline: "mart"}}, nil),
		pl("crm", []config.Upstream{glueUp("crm_export", "crm-export")}, nil))
	h.jobs.runs["glue_job:hegel-rds-export"] = []scripted{
		{id: "jr_fail", start: jst(1, 1, 0), end: jst(1, 1, 40), final: sekisho.JobFailed, message: "Connection refused"},
		{id: "jr_rerun", start: jst(1, 6, 10), end: jst(1, 6, 40), final: sekisho.JobSucceeded},
	}
	h.jobs.runs["glue_job:crm-export"] = []scripted{
		{id: "jr_crm", start: jst(1, 1, 5), end: jst(1, 2, 0), final: sekisho.JobFailed, message: "OutOfMemory"},
	}
	return h
}

// restart replaces the harness's engine and store by new ones on the same
// database file: another process taking over mid-night.
func (h *harness) restart() { h.restartWith(h.dags) }

// restartWith is restart with trig as the airflow_dag trigger.
func (h *harness) restartWith(trig sekisho.Trigger) {
	h.t.Helper()
	st, err := teststore.Open(context.Background(), h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { st.Close() })
	eng, err := New(h.cfg, Options{Store: st, Clock: h.clock, Sync: true, Jitter: -1, FullEvery: 1000 * time.Hour, Logger: discard,
		Sensors:  map[string]sekisho.Sensor{config.TypeGlueJob: h.jobs},
		Triggers: map[string]sekisho.Trigger{config.TypeAirflowDag: trig}})
	if err != nil {
		h.t.Fatal(err)
	}
	h.st, h.eng = st, eng
}

func (h *harness) incidents() []sekisho.Incident {
	h.t.Helper()
	incs, err := h.st.Incidents(context.Background(), store.IncidentFilter{})
	if err != nil {
		h.t.Fatal(err)
	}
	slices.Reverse(incs) // oldest first
	return incs
}

func TestCascadeIsOneIncident(t *testing.T) {
	for _, restarts := range [][]time.Time{nil, {jst(1, 1, 45), jst(1, 6, 5), jst(1, 6, 45)}} {
		name := "one process"
		if restarts != nil {
			name = "restarts"
		}
		t.Run(name, func(t *testing.T) {
			h := cascade(t)
			for _, at := range restarts {
				h.runUntil(at, time.Minute, time.Minute)
				h.restart()
			}
			h.runUntil(jst(1, 9, 0), time.Minute, time.Minute)

			incs := h.incidents()
			if len(incs) != 2 {
				t.Fatalf("incidents = %d, want the export's and crm's: %+v", len(incs), incs)
			}
			exp, crm := incs[0], incs[1]
			if exp.Key != "job:glue_job:hegel-rds-export#jr_fail" || exp.Cause.Upstream != "export" || exp.Cause.Message != "Connection refused" {
				t.Errorf("first incident = %s %+v", exp.Key, exp.Cause)
			}
			var members []string
			for _, m := range exp.Members {
				members = append(members, m.Pipeline+":"+m.Role+":"+string(m.Kind)+":"+string(m.State))
			}
			slices.Sort(members)
			// A member's kind is its latest trouble: sales and stock were
			// blocked at 01:40, then late at 06:00 like mart and report.
			want := []string{"mart:affected:delay:succeeded", "report:affected:delay:succeeded",
				"sales:affected:delay:succeeded", "stock:affected:delay:succeeded"}
			if !slices.Equal(members, want) {
				t.Errorf("members = %v, want %v", members, want)
			}
			if exp.Open() || exp.ResolvedAt.Before(jst(1, 6, 40)) {
				t.Errorf("export incident resolved at %v, want once every member succeeded after the rerun", exp.ResolvedAt)
			}
			if crm.Key != "job:glue_job:crm-export#jr_crm" || len(crm.Members) != 1 || crm.Members[0].Pipeline != "crm" || !crm.Open() {
				t.Errorf("crm incident = %s open=%v %+v", crm.Key, crm.Open(), crm.Members)
			}
			// Each incident message once: an opening per incident, a join per
			// later member, one resolution.
			count := map[string]int{}
			failed := 0
			for _, n := range mustNotices(t, h.st) {
				if n.Kind == sekisho.NoticeUpstreamFailed && n.Facts.Upstream == "export" && n.Facts.ExternalID == "jr_fail" {
					failed++ // still queued: the sender groups it (SPEC §17)
				}
				if n.Facts.Incident != "" {
					count[string(n.Kind)+" "+n.Facts.Incident+" "+n.Facts.Reason+" "+n.Facts.Upstream]++
				}
			}
			wantCount := map[string]int{
				"incident_opened job:glue_job:hegel-rds-export#jr_fail  ":              1,
				"incident_updated job:glue_job:hegel-rds-export#jr_fail joined stock":  1,
				"incident_updated job:glue_job:hegel-rds-export#jr_fail joined mart":   1,
				"incident_updated job:glue_job:hegel-rds-export#jr_fail joined report": 1,
				"incident_resolved job:glue_job:hegel-rds-export#jr_fail  ":            1,
				"incident_opened job:glue_job:crm-export#jr_crm  ":                     1,
			}
			for k, n := range count {
				if strings.Contains(k, " recovered ") {
					if n != 1 {
						t.Errorf("%s queued %d times", k, n)
					}
					delete(count, k)
				}
			}
			if failed != 2 {
				t.Errorf("upstream_failed of the export queued %d times, want once for sales and once for stock", failed)
			}
			if !maps.Equal(count, wantCount) {
				t.Errorf("incident messages = %v, want %v", count, wantCount)
			}
		})
	}
}

func mustNotices(t *testing.T, st *store.Store) []sekisho.Notice {
	t.Helper()
	ns, err := st.AllNotices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// TestRestartDoesNotMoveASentNotice: x is late at 01:30 (the cause of its
// own incident, its delay sent), then the export fails: x's upstream_failed
// stays with x's incident, y's opens the export's. After a restart the new
// engine proposes x's upstream_failed again (its memory of queued notices is
// empty); the notice is in the outbox already, so nothing moves x into the
// export's incident after its notice went out on its own.
func TestRestartDoesNotMoveASentNotice(t *testing.T) {
	export := []config.Upstream{glueUp("export", "hegel-rds-export")}
	x := pipeline("x", "0 1 * * *", export, nil)
	x.SLO = &config.SLO{Deadline: tod("01:30"), Objective: 0.95}
	y := pipeline("y", "0 1 * * *", export, nil)
	h := newHarness(t, jst(1, 0, 55), x, y)
	h.jobs.runs["glue_job:hegel-rds-export"] = []scripted{
		{id: "jr_fail", start: jst(1, 1, 0), end: jst(1, 2, 30), final: sekisho.JobFailed, message: "Connection refused"},
	}
	roles := func() string {
		t.Helper()
		incs, err := h.st.Incidents(context.Background(), store.IncidentFilter{Pipeline: "x"})
		if err != nil {
			t.Fatal(err)
		}
		key, cause := "", false
		for _, inc := range incs {
			if m, ok := inc.Member("x", "2026-11-01"); ok && m.Role == sekisho.RoleCause {
				cause = true
			} else if ok {
				key = inc.Key
			}
		}
		return fmt.Sprintf("affected by %q, cause %v", key, cause)
	}
	h.runUntil(jst(1, 2, 40), time.Minute, time.Minute)
	want := `affected by "", cause true`
	if got := roles(); got != want {
		t.Fatalf("before the restart x is %s, want %s", got, want)
	}
	if r := h.run("x", "2026-11-01"); r.State != sekisho.StateBlocked {
		t.Fatalf("x is %s, want blocked", r.State)
	}
	h.restart()
	h.runUntil(jst(1, 3, 0), time.Minute, time.Minute)
	if got := roles(); got != want {
		t.Errorf("after the restart x is %s, want %s", got, want)
	}
}
