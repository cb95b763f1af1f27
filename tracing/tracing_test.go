package tracing

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
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
	buf.Reset()
	log.Info("explicit", LogAttr("p", "2026-11-21", 2), "pipeline", "p", "date", "2026-11-21", "attempt", 2)
	if strings.Count(buf.String(), "trace_id=") != 1 {
		t.Errorf("trace_id twice: %s", buf.String())
	}
}
