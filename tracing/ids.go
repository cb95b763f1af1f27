// Package tracing turns sekisho's runs into OpenTelemetry traces: one trace
// per attempt of a run, exported over OTLP/HTTP with the official Go SDK and
// configured by the standard OTEL_* environment variables.
//
// Every id is derived from the run (pipeline, logical date, attempt), never
// drawn at random. A span started before a crash is therefore ended, with
// the same ids, by whichever process sees the run end; and the trigger can
// hand Airflow a traceparent without asking anyone (Traceparent).
package tracing

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strconv"

	"go.opentelemetry.io/otel/trace"
)

// Span parts: the name under which each span of a run's trace is derived.
const (
	PartRoot       = "run"
	PartTrigger    = "trigger"
	PartDownstream = "downstream"
)

// PartWait is the part of the span that waits on the named upstream.
func PartWait(upstream string) string { return "wait:" + upstream }

func digest(pipeline, date string, attempt int, part string) [32]byte {
	return sha256.Sum256([]byte("sekisho\x00" + pipeline + "\x00" + date + "\x00" + strconv.Itoa(attempt) + "\x00" + part))
}

// TraceID is the trace of one attempt of a run.
func TraceID(pipeline, date string, attempt int) trace.TraceID {
	var id trace.TraceID
	d := digest(pipeline, date, attempt, "")
	copy(id[:], d[:16])
	if !id.IsValid() { // all zeros: not a valid id; astronomically unlikely
		id[15] = 1
	}
	return id
}

// SpanID is the span of one part of an attempt's trace.
func SpanID(pipeline, date string, attempt int, part string) trace.SpanID {
	var id trace.SpanID
	d := digest(pipeline, date, attempt, part)
	binary.BigEndian.PutUint64(id[:], binary.BigEndian.Uint64(d[:8]))
	if !id.IsValid() {
		id[7] = 1
	}
	return id
}

// SpanContext is the sampled span context of one part of an attempt.
func SpanContext(pipeline, date string, attempt int, part string) trace.SpanContext {
	return trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    TraceID(pipeline, date, attempt),
		SpanID:     SpanID(pipeline, date, attempt, part),
		TraceFlags: trace.FlagsSampled,
		Remote:     true,
	})
}

// Traceparent is the W3C trace context header value
// (https://www.w3.org/TR/trace-context/#traceparent-header) that makes a
// downstream's own spans children of the attempt's downstream span. Its
// trace-flags say sampled (01), which is true only while sekisho exports
// traces: every span of every attempt is exported (New pins the sampler to
// AlwaysSample), and callers send it only when tracing is on
// (triggers/airflow WithTracing). The spec: "the caller may have recorded
// trace data" for 01, "the caller did not record" for 00.
func Traceparent(pipeline, date string, attempt int) string {
	sc := SpanContext(pipeline, date, attempt, PartDownstream)
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}
