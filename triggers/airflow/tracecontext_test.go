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

// The traceparent travels in the DAG run's conf only when asked for, and it
// is the one derived from the attempt, so Airflow's dag_run span nests under
// sekisho's downstream span.
func TestTraceContextInConf(t *testing.T) {
	for _, on := range []bool{false, true} {
		e := newEnv(t, "v2", airflowsim.Options{Auth: airflowsim.AuthBearer, Tokens: []string{"tok"}})
		e.sim.AddDAG("socrates_main", airflowsim.DAG{})
		req := request(sekisho.TriggerSpec{TraceContext: on, Conf: map[string]any{"d": "{{ .LogicalDate }}"}})
		if _, err := e.trig.Start(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		c := e.sim.Triggers()[0].Conf
		got, present := c[airflow.ParentTraceContextKey]
		if present != on {
			t.Fatalf("trace_context %v: conf %v", on, c)
		}
		if !on {
			continue
		}
		want := tracing.Traceparent("socrates_daily", "2025-04-02", 1)
		if got != want || !regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`).MatchString(want) {
			t.Fatalf("traceparent %v, want %s", got, want)
		}
		if c["d"] != "2025-04-02" {
			t.Fatalf("conf %v", c)
		}
	}
}
