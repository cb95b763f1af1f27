package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/observe"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/testkit/otlptest"
	"github.com/sekisho-dev/sekisho/tracing"
	"github.com/sekisho-dev/sekisho/triggers/airflow"
)

// TestTraceAcrossSIGKILL runs the real binary with OTEL_EXPORTER_OTLP_ENDPOINT
// pointing at an OTLP/HTTP receiver, SIGKILLs it once the run is triggered
// and its first spans are out, and restarts it: the second process ends
// the run's trace with the same ids (SPEC §16), and Airflow got the
// traceparent of the downstream span in the DAG run's conf.
func TestTraceAcrossSIGKILL(t *testing.T) {
	h := newHarness(t, *seedFlag)
	col := otlptest.New(true)
	defer col.Close()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	// The harness's daemon, with the collector in its environment.
	h.d.Close()
	if h.d, err = NewDaemon(bin, t.TempDir(), append(h.world.Env(), "OTEL_EXPORTER_OTLP_ENDPOINT="+col.URL)...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.d.Close)
	w := h.world
	now := time.Now().UTC()
	w.Glue.PlanRun("export-t", gluesim.Run{Start: now.Add(-2 * time.Minute), Duration: time.Minute})
	w.Airflow.AddDAG("dag_traced", airflowsim.DAG{Duration: 15 * time.Second})
	gate := now.Add(2 * time.Second)
	trig := fmt.Sprintf(`{type: airflow_dag, connection: %s, dag_id: dag_traced, trace_context: true}`, airflowV2Conn)
	h.writeConfig(w.Config(Settings{}, []Pipeline{{Name: "traced", Schedule: CronAt(gate),
		Upstreams: []string{GlueUpstream("src", "export-t")}, Trigger: trig}}))
	date := sekisho.DateOf(gate, time.UTC)
	if err := h.d.Start(); err != nil {
		t.Fatal(err)
	}
	find := func(name string) *tracepb.Span {
		for _, s := range col.Spans() {
			if s.Name == name {
				return s
			}
		}
		return nil
	}
	waitFor := func(what string, limit time.Duration, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(limit)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; spans %v", what, col.Spans())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The first process exports the wait and the trigger once triggered.
	waitFor("the trigger span", 30*time.Second, func() bool { return find("trigger") != nil })
	if err := h.d.Kill(); err != nil {
		t.Fatal(err)
	}
	if find("pipeline run") != nil {
		t.Fatal("the root span ended before the run did")
	}
	killedAt := len(col.Spans())
	if err := h.d.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor("the root span from the restarted daemon", 60*time.Second, func() bool { return find("pipeline run") != nil })

	st := h.store()
	r, err := st.Run(context.Background(), "traced", date)
	if err != nil || r.State != sekisho.StateSucceeded || r.Attempt != 1 {
		t.Fatalf("run %+v, %v", r, err)
	}
	traceID := tracing.TraceID("traced", date, 1)
	rootID := tracing.SpanID("traced", date, 1, tracing.PartRoot)
	downID := tracing.SpanID("traced", date, 1, tracing.PartDownstream)
	ids := map[string]map[string]bool{} // span name → its span ids
	for i, s := range col.Spans() {
		if ids[s.Name] == nil {
			ids[s.Name] = map[string]bool{}
		}
		ids[s.Name][string(s.SpanId)] = true
		if string(s.TraceId) != string(traceID[:]) {
			t.Errorf("span %s in trace %x, want %s", s.Name, s.TraceId, traceID)
		}
		switch s.Name {
		case "pipeline run":
			if string(s.SpanId) != string(rootID[:]) || len(s.ParentSpanId) != 0 || i < killedAt {
				t.Errorf("root span %x parent %x (index %d, killed at %d)", s.SpanId, s.ParentSpanId, i, killedAt)
			}
			if s.Status.GetCode() != tracepb.Status_STATUS_CODE_OK || s.StartTimeUnixNano != uint64(r.GateAt.UnixNano()) {
				t.Errorf("root status %v start %d, want OK from the gate %s", s.Status, s.StartTimeUnixNano, r.GateAt)
			}
		case "downstream run":
			if string(s.SpanId) != string(downID[:]) || string(s.ParentSpanId) != string(rootID[:]) {
				t.Errorf("downstream span %x parent %x", s.SpanId, s.ParentSpanId)
			}
			if otlptest.Attr(s, observe.AttrExternalID) != sekisho.DagRunID("traced", date, 1) {
				t.Errorf("downstream attributes %v", s.Attributes)
			}
		default:
			if string(s.ParentSpanId) != string(rootID[:]) {
				t.Errorf("span %s parent %x, want the root", s.Name, s.ParentSpanId)
			}
		}
	}
	// Delivery is at least once (a kill between an export and its cursor
	// write repeats it), but a repeat carries the same ids.
	for _, name := range []string{"upstream wait", "trigger", "downstream run", "pipeline run"} {
		if len(ids[name]) != 1 {
			t.Errorf("%d distinct %q spans, want 1", len(ids[name]), name)
		}
	}
	var tp any
	for _, tr := range w.Airflow.Triggers() {
		if tr.DagID == "dag_traced" && tr.Status == 200 {
			tp = tr.Conf[airflow.ParentTraceContextKey]
		}
	}
	if tp != tracing.Traceparent("traced", date, 1) {
		t.Errorf("Airflow's conf carried %v, want the downstream span's traceparent", tp)
	}
}
