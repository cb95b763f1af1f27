package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestIDsAreDerivedFromTheAttempt(t *testing.T) {
	a := TraceID("socrates_daily", "2026-11-21", 1)
	if a != TraceID("socrates_daily", "2026-11-21", 1) || !a.IsValid() {
		t.Fatalf("trace id %s not stable or not valid", a)
	}
	if a == TraceID("socrates_daily", "2026-11-21", 2) || a == TraceID("socrates_daily", "2026-11-22", 1) {
		t.Fatal("another attempt shares the trace id")
	}
	seen := map[string]string{}
	for _, part := range []string{PartRoot, PartTrigger, PartDownstream, PartWait("a"), PartWait("b")} {
		id := SpanID("socrates_daily", "2026-11-21", 1, part).String()
		if other, dup := seen[id]; dup {
			t.Fatalf("parts %s and %s share span id %s", part, other, id)
		}
		seen[id] = part
	}
}

// The traceparent is valid W3C trace context, and it names the attempt's
// downstream span, the parent Airflow's dag_run span will take.
func TestTraceparentRoundTrips(t *testing.T) {
	tp := Traceparent("socrates_daily", "2026-11-21", 1)
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
	sc := SpanContext("socrates_daily", "2026-11-21", 1, PartDownstream)
	got := trace.SpanContextFromContext(ctx)
	if got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsSampled() {
		t.Fatalf("traceparent %s extracts to %v, want %v", tp, got, sc)
	}
}

func TestLogHandlerAddsTraceID(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(LogHandler(slog.NewTextHandler(&buf, nil)))
	want := "trace_id=" + TraceID("p", "2026-11-21", 2).String()

	log.Info("triggered", "pipeline", "p", "date", "2026-11-21", "attempt", 2)
	log.With("pipeline", "p", "date", "2026-11-21").Info("followed", "attempt", 2)
	log.Info("no attempt", "pipeline", "p", "date", "2026-11-21")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], want) || !strings.Contains(lines[1], want) {
		t.Fatalf("log lines:\n%s\nwant %s in the first two", buf.String(), want)
	}
	if strings.Contains(lines[2], "trace_id") {
		t.Errorf("a line without an attempt got a trace id: %s", lines[2])
	}
	// A sub-daily run's trace is its hour's (SPEC §19): the key decides.
	buf.Reset()
	log.Info("hourly", "pipeline", "p", "date", "2026-11-21", "key", "2026-11-21T13:00", "attempt", 1)
	if want := "trace_id=" + TraceID("p", "2026-11-21T13:00", 1).String(); !strings.Contains(buf.String(), want) {
		t.Errorf("hourly run's line: %s\nwant %s", buf.String(), want)
	}
	buf.Reset()
	log.Info("explicit", LogAttr("p", "2026-11-21", 2), "pipeline", "p", "date", "2026-11-21", "attempt", 2)
	if strings.Count(buf.String(), "trace_id=") != 1 {
		t.Errorf("trace_id twice: %s", buf.String())
	}
}

// TestEverySpanIsExported: the traceparent handed to Airflow says sampled,
// so the exporter samples every span whatever OTEL_TRACES_SAMPLER says; a
// sampler that drops traces would make that flag untrue.
func TestEverySpanIsExported(t *testing.T) {
	t.Setenv("OTEL_TRACES_SAMPLER", "always_off")
	exp := tracetest.NewInMemoryExporter()
	e := New(exp, nil)
	start := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	spans := []Span{{Part: PartRoot, Name: "run", Start: start, End: start.Add(time.Hour)},
		{Part: PartDownstream, Parent: PartRoot, Name: "downstream", Start: start, End: start.Add(time.Hour)}}
	if err := e.Export(context.Background(), Attempt{Pipeline: "p", Date: "2026-11-21", Attempt: 1}, spans); err != nil {
		t.Fatal(err)
	}
	got := exp.GetSpans()
	if len(got) != 2 || !got[0].SpanContext.IsSampled() {
		t.Fatalf("exported %d spans (%v) under OTEL_TRACES_SAMPLER=always_off; want both, sampled", len(got), got)
	}
}
