package airflow_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/sekisho-dev/sekisho"
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
