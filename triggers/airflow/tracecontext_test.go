package airflow_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/lineage"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/tracing"
	"github.com/sekisho-dev/sekisho/triggers/airflow"
)

// The traceparent travels in the DAG run's conf only when asked for and
// only while sekisho's own tracing is on: its sampled flag then tells the
// truth, and with tracing off no parent is named that no backend has. It is
// the one derived from the attempt, so Airflow's dag_run span nests under
// sekisho's downstream span.
func TestTraceContextInConf(t *testing.T) {
	for _, tt := range []struct {
		name            string
		asked, tracing  bool
		wantTraceparent bool
	}{
		{"not asked", false, true, false},
		{"asked, tracing off", true, false, false},
		{"asked, tracing on", true, true, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "v2", airflowsim.Options{Auth: airflowsim.AuthBearer, Tokens: []string{"tok"}})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{})
			trig := airflow.New(e.clients, nil, airflow.WithTracing(tt.tracing))
			req := request(sekisho.TriggerSpec{TraceContext: tt.asked, Conf: map[string]any{"d": "{{ .LogicalDate }}"}})
			if _, err := trig.Start(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			c := e.sim.Triggers()[0].Conf
			if c["d"] != "2025-04-02" {
				t.Fatalf("conf %v", c)
			}
			got, present := c[airflow.ParentTraceContextKey]
			if present != tt.wantTraceparent {
				t.Fatalf("conf %v: traceparent present %v, want %v", c, present, tt.wantTraceparent)
			}
			if !present {
				return
			}
			want := tracing.Traceparent("socrates_daily", "2025-04-02", 1)
			if got != want || !regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`).MatchString(want) {
				t.Fatalf("traceparent %v, want %s (sampled)", got, want)
			}
		})
	}
}

// TestLineageParentInConf: with lineage on, the DAG run conf carries the
// parent run facet keys the Airflow OpenLineage provider reads, so Marquez
// links the DAG's runs to sekisho's job; a conf that already has an
// "openlineage" entry keeps it; with lineage off nothing is added.
func TestLineageParentInConf(t *testing.T) {
	for _, tt := range []struct {
		name, namespace string
		conf            map[string]any
		want            string // parentJobName expected, "" for none added
	}{
		{"lineage off", "", nil, ""},
		{"lineage on", "sekisho", nil, "socrates_daily"},
		{"the user's own", "sekisho", map[string]any{"openlineage": map[string]any{"parentJobName": "mine"}}, "mine"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, "v2", airflowsim.Options{Auth: airflowsim.AuthBearer, Tokens: []string{"tok"}})
			e.sim.AddDAG("socrates_main", airflowsim.DAG{})
			trig := airflow.New(e.clients, nil, airflow.WithLineage(tt.namespace))
			req := request(sekisho.TriggerSpec{Conf: tt.conf})
			if _, err := trig.Start(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			c := e.sim.Triggers()[0].Conf
			ol, present := c[lineage.ConfKey].(map[string]any)
			if tt.want == "" {
				if present {
					t.Fatalf("lineage off, conf %v", c)
				}
				return
			}
			if !present || ol["parentJobName"] != tt.want {
				t.Fatalf("conf %v", c)
			}
			if tt.want != "socrates_daily" {
				return
			}
			id := lineage.RunID(req.Pipeline, req.LogicalDate, req.Attempt, req.GateAt)
			if ol["parentRunId"] != id || ol["parentJobNamespace"] != "sekisho" || ol["rootParentRunId"] != id {
				t.Errorf("openlineage conf %v, want run %s", ol, id)
			}
		})
	}
}
