package observe

import (
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/testkit/otlptest"
	"github.com/sekisho-dev/sekisho/tracing"
)

func newCollector(t *testing.T) *otlptest.Collector {
	c := otlptest.New(true)
	t.Cleanup(c.Close)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", c.URL)
	return c
}

var attr = otlptest.Attr

// The service started from the environment alone (OTEL_EXPORTER_OTLP_ENDPOINT).
func (w *world) tracingService() *Service {
	w.t.Helper()
	s, err := New(w.ctx, Options{Store: w.st, Config: func() *config.Config { return w.cfg }, Clock: w.clock})
	if err != nil || s == nil {
		w.t.Fatalf("New = %v, %v", s, err)
	}
	return s
}

// A run's span tree, exported by two processes: the first sees the run
// triggered and exports the waits and the trigger request, then stops; the
// second, with fresh exporters and no memory of the first, sees the run end
// and exports the downstream run and the root span, with the same ids.
func TestSpanTreeAcrossARestart(t *testing.T) {
	col := newCollector(t)
	w := newWorld(t)
	r := w.open("socrates_daily", "2026-11-21")
	w.observe(r, "hegel_export", "glue_job", sekisho.JobSucceeded, "jr_1", gate.Add(30*time.Minute))
	w.observe(r, "kant", "pipeline", sekisho.JobSucceeded, "", gate.Add(40*time.Minute))
	r = w.trigger(r, gate.Add(41*time.Minute))

	first := w.tracingService()
	if err := first.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}
	first.Close(w.ctx)
	if got := len(col.Spans()); got != 3 {
		t.Fatalf("first process exported %d spans, want 2 waits and the trigger", got)
	}

	r = w.move(r, sekisho.StateRunning, gate.Add(42*time.Minute), sekisho.ReasonDownstreamRunning, nil, nil)
	w.move(r, sekisho.StateSucceeded, gate.Add(2*time.Hour), sekisho.ReasonDownstreamSuccess,
		map[string]any{"external_id": r.ExternalID}, func(n *sekisho.Run) { n.FinishedAt = gate.Add(2 * time.Hour) })
	second := w.tracingService()
	defer second.Close(w.ctx)
	if err := second.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}
	if err := second.Pass(w.ctx); err != nil { // nothing new: nothing sent again
		t.Fatal(err)
	}

	if batches := col.Requests(); batches != 2 {
		t.Fatalf("%d export requests, want 2 (one per process)", batches)
	}
	spans := col.Spans()
	if len(spans) != 5 {
		t.Fatalf("%d spans, want 5", len(spans))
	}
	traceID := tracing.TraceID("socrates_daily", "2026-11-21", 1)
	rootID := tracing.SpanID("socrates_daily", "2026-11-21", 1, tracing.PartRoot)
	byName := map[string]*tracepb.Span{}
	for _, s := range spans {
		if string(s.TraceId) != string(traceID[:]) {
			t.Fatalf("span %s in trace %x, want %s", s.Name, s.TraceId, traceID)
		}
		key := s.Name
		if u, ok := attr(s, AttrUpstream).(string); ok {
			key += ":" + u
		}
		byName[key] = s
		if attr(s, AttrPipeline) != "socrates_daily" || attr(s, AttrLogicalDate) != "2026-11-21" || attr(s, AttrAttempt) != int64(1) {
			t.Errorf("span %s attributes %v", key, s.Attributes)
		}
	}
	root := byName["pipeline run"]
	if root == nil || string(root.SpanId) != string(rootID[:]) || len(root.ParentSpanId) != 0 {
		t.Fatalf("root span %v", root)
	}
	if root.StartTimeUnixNano != uint64(gate.UnixNano()) || root.EndTimeUnixNano != uint64(gate.Add(2*time.Hour).UnixNano()) {
		t.Errorf("root from %d to %d, want gate to the end", root.StartTimeUnixNano, root.EndTimeUnixNano)
	}
	if root.Status.GetCode() != tracepb.Status_STATUS_CODE_OK || attr(root, AttrExternalID) != "sekisho__socrates_daily__2026-11-21__1" {
		t.Errorf("root status %v, attributes %v", root.Status, root.Attributes)
	}
	for _, key := range []string{"upstream wait:hegel_export", "upstream wait:kant", "trigger", "downstream run"} {
		s := byName[key]
		if s == nil {
			t.Fatalf("no span %s among %v", key, byName)
		}
		if string(s.ParentSpanId) != string(rootID[:]) {
			t.Errorf("%s: parent %x, want the root %s", key, s.ParentSpanId, rootID)
		}
	}
	if s := byName["upstream wait:hegel_export"]; s.EndTimeUnixNano != uint64(gate.Add(30*time.Minute).UnixNano()) || attr(s, AttrExternalID) != "jr_1" {
		t.Errorf("wait span ends %d, attributes %v", s.EndTimeUnixNano, s.Attributes)
	}
	if s := byName["trigger"]; s.Kind != tracepb.Span_SPAN_KIND_CLIENT || s.StartTimeUnixNano != uint64(gate.Add(41*time.Minute-time.Second).UnixNano()) {
		t.Errorf("trigger span kind %v start %d", s.Kind, s.StartTimeUnixNano)
	}
	down := byName["downstream run"]
	downID := tracing.SpanID("socrates_daily", "2026-11-21", 1, tracing.PartDownstream)
	if string(down.SpanId) != string(downID[:]) {
		t.Errorf("downstream span id %x, want %s: the traceparent handed to Airflow names it", down.SpanId, downID)
	}
	if down.StartTimeUnixNano != uint64(gate.Add(41*time.Minute).UnixNano()) {
		t.Errorf("downstream starts %d, want when triggered", down.StartTimeUnixNano)
	}
}

// A collector outage delays spans and loses none: the cursor stays before
// the undelivered transition until the collector answers again.
func TestCollectorOutageDelaysSpans(t *testing.T) {
	col := newCollector(t)
	w := newWorld(t)
	r := w.open("socrates_daily", "2026-11-21")
	w.observe(r, "hegel_export", "glue_job", sekisho.JobFailed, "jr_1", gate.Add(30*time.Minute))
	w.move(r, sekisho.StateFailed, gate.Add(31*time.Minute), sekisho.ReasonUpstreamFailed,
		map[string]any{"message": "upstream hegel_export failed (jr_1)"}, nil)
	s := w.tracingService()
	defer s.Close(w.ctx)
	col.SetDown(true)
	if err := s.Pass(w.ctx); err == nil {
		t.Fatal("a pass against a collector that is down reported success")
	}
	cur, _ := w.st.Cursor(w.ctx, "traces")
	if col.Refused() == 0 || cur != 1 {
		t.Fatalf("refused %d, cursor %d: want the cursor at the gate, before the undelivered failure", col.Refused(), cur)
	}
	col.SetDown(false)
	if err := s.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}
	spans := col.Spans()
	var root *tracepb.Span
	for _, sp := range spans {
		if sp.Name == "pipeline run" {
			root = sp
		}
	}
	if root == nil || root.Status.GetCode() != tracepb.Status_STATUS_CODE_ERROR || root.Status.GetMessage() != "upstream hegel_export failed (jr_1)" {
		t.Fatalf("after the outage: spans %v", spans)
	}
	if cur, _ := w.st.Cursor(w.ctx, "traces"); cur != 2 {
		t.Fatalf("cursor %d after delivery, want 2", cur)
	}
}

// A data check's wait span carries its number, its reason and what it said
// (SPEC §21): the value the gate opened on, or why it held.
func TestDataCheckSpanAttributes(t *testing.T) {
	col := newCollector(t)
	w := newWorld(t)
	r := w.open("volume", "2026-11-21")
	v := 40123.0
	if _, err := w.st.RecordObservation(w.ctx, r.ID, r.Attempt, sekisho.Observation{Upstream: "orders_rows", Type: "sql",
		State: sekisho.JobSucceeded, ExternalID: "check@1", StartedAt: gate, FinishedAt: gate.Add(10 * time.Minute),
		ObservedAt: gate.Add(10 * time.Minute), Value: &v, Reason: sekisho.ReasonDataAnomaly,
		Message: "value 40,123 is outside the expected band 50,000–90,000"}); err != nil {
		t.Fatal(err)
	}
	w.trigger(r, gate.Add(11*time.Minute))
	s := w.tracingService()
	defer s.Close(w.ctx)
	if err := s.Pass(w.ctx); err != nil {
		t.Fatal(err)
	}
	for _, sp := range col.Spans() {
		if attr(sp, AttrUpstream) != "orders_rows" {
			continue
		}
		if attr(sp, AttrCheckValue) != 40123.0 || attr(sp, AttrCheckReason) != sekisho.ReasonDataAnomaly ||
			attr(sp, AttrCheckMessage) != "value 40,123 is outside the expected band 50,000–90,000" {
			t.Errorf("wait span attributes %v", sp.Attributes)
		}
		return
	}
	t.Fatalf("no wait span for orders_rows among %d spans", len(col.Spans()))
}
