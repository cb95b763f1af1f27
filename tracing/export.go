package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Enabled reports whether the environment asks for traces: an OTLP endpoint
// is set (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT),
// and neither OTEL_SDK_DISABLED=true nor OTEL_TRACES_EXPORTER=none turns the
// SDK off.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(strings.TrimSpace(getenv("OTEL_SDK_DISABLED")), "true") ||
		strings.TrimSpace(getenv("OTEL_TRACES_EXPORTER")) == "none" {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Attempt names one attempt of a run: the key every id is derived from.
type Attempt struct {
	Pipeline string
	Date     string // logical date, YYYY-MM-DD
	Attempt  int
}

// Span is one finished span of an attempt's trace, in data.
type Span struct {
	Part   string // PartRoot, PartWait(name), PartTrigger, PartDownstream
	Parent string // the parent's part; empty for the root span
	Name   string
	Kind   trace.SpanKind
	Start  time.Time
	End    time.Time
	Attrs  []attribute.KeyValue
	// Status: codes.Ok, codes.Error (with Description) or codes.Unset.
	Status      codes.Code
	Description string
}

// Exporter makes the SDK's spans with derived ids and exports them
// synchronously, so its caller knows whether they were delivered.
type Exporter struct {
	mu  sync.Mutex
	tp  *sdktrace.TracerProvider
	rec *recorder
	exp sdktrace.SpanExporter
}

// NewFromEnv builds an exporter to the OTLP endpoint that the OTEL_*
// environment variables name (endpoint, headers, timeout, compression,
// certificates), over the protocol OTEL_EXPORTER_OTLP_TRACES_PROTOCOL or
// OTEL_EXPORTER_OTLP_PROTOCOL names (Protocol), with the resource of
// OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (service.name defaults to
// sekisho). The exporter's own retries are off: the caller keeps
// undelivered spans and tries again, so nothing waits inside the SDK.
func NewFromEnv(ctx context.Context, version string, getenv func(string) string) (*Exporter, error) {
	proto, err := Protocol(getenv)
	if err != nil {
		return nil, err
	}
	var exp sdktrace.SpanExporter
	switch proto {
	case ProtocolGRPC:
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	default:
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}))
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: otlp exporter (%s): %w", proto, err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("sekisho"), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	return New(exp, res), nil
}

// OTLP transport protocols, as OTEL_EXPORTER_OTLP_PROTOCOL spells them.
const (
	ProtocolHTTPProtobuf = "http/protobuf"
	ProtocolGRPC         = "grpc"
	ProtocolHTTPJSON     = "http/json"
)

// Protocol is the OTLP protocol the environment asks for traces:
// OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, else OTEL_EXPORTER_OTLP_PROTOCOL, else
// http/protobuf (the specification's default). grpc and http/protobuf are
// exported; http/json, which the Go SDK has no exporter for, and any other
// word are refused with a message saying what to set, so traces are never
// dropped silently by talking the wrong protocol to a collector.
func Protocol(getenv func(string) string) (string, error) {
	key := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"
	p := strings.TrimSpace(getenv(key))
	if p == "" {
		key = "OTEL_EXPORTER_OTLP_PROTOCOL"
		p = strings.TrimSpace(getenv(key))
	}
	switch p {
	case "", ProtocolHTTPProtobuf:
		return ProtocolHTTPProtobuf, nil
	case ProtocolGRPC:
		return ProtocolGRPC, nil
	case ProtocolHTTPJSON:
		return "", fmt.Errorf("tracing: %s=%s is not supported (the Go OpenTelemetry SDK has no OTLP/JSON exporter); set it to grpc or http/protobuf", key, p)
	}
	return "", fmt.Errorf("tracing: %s=%q is not an OTLP protocol; set it to grpc or http/protobuf", key, p)
}

// New builds an exporter around any SpanExporter.
func New(exp sdktrace.SpanExporter, res *resource.Resource) *Exporter {
	rec := &recorder{}
	// AlwaysSample, whatever OTEL_TRACES_SAMPLER says: a run is one small
	// trace exported from the durable outbox, and the traceparent handed to
	// Airflow says sampled (Traceparent), which a ratio sampler would make
	// untrue for the traces it drops.
	opts := []sdktrace.TracerProviderOption{sdktrace.WithIDGenerator(derivedIDs{}), sdktrace.WithSpanProcessor(rec),
		sdktrace.WithSampler(sdktrace.AlwaysSample())}
	if res != nil {
		opts = append(opts, sdktrace.WithResource(res))
	}
	return &Exporter{tp: sdktrace.NewTracerProvider(opts...), rec: rec, exp: exp}
}

// Export makes the spans of one attempt and sends them in one request. An
// error means nothing of this call was delivered; calling again with the
// same spans is safe: the ids are the same.
func (e *Exporter) Export(ctx context.Context, a Attempt, spans []Span) error {
	if len(spans) == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	tracer := e.tp.Tracer("github.com/sekisho-dev/sekisho/tracing")
	for _, s := range spans {
		sctx := context.WithValue(ctx, idKey{}, ids{a: a, part: s.Part})
		opts := []trace.SpanStartOption{trace.WithTimestamp(s.Start), trace.WithAttributes(s.Attrs...), trace.WithSpanKind(s.Kind)}
		if s.Parent == "" {
			opts = append(opts, trace.WithNewRoot())
		} else {
			sctx = trace.ContextWithRemoteSpanContext(sctx, SpanContext(a.Pipeline, a.Date, a.Attempt, s.Parent))
		}
		_, sp := tracer.Start(sctx, s.Name, opts...)
		if s.Status != codes.Unset {
			sp.SetStatus(s.Status, s.Description)
		}
		end := s.End
		if end.Before(s.Start) {
			end = s.Start
		}
		sp.End(trace.WithTimestamp(end))
	}
	done := e.rec.take()
	if len(done) == 0 {
		return nil // not sampled
	}
	if err := e.exp.ExportSpans(ctx, done); err != nil {
		return fmt.Errorf("tracing: export %d spans of %s %s attempt %d: %w", len(done), a.Pipeline, a.Date, a.Attempt, err)
	}
	return nil
}

// Shutdown releases the exporter. Calling it twice is safe.
func (e *Exporter) Shutdown(ctx context.Context) error {
	return errors.Join(e.tp.Shutdown(ctx), e.exp.Shutdown(ctx))
}

type idKey struct{}

type ids struct {
	a    Attempt
	part string
}

// derivedIDs hands the SDK the ids derived from the attempt and part that
// Export put into the context.
type derivedIDs struct{}

func (derivedIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	v, _ := ctx.Value(idKey{}).(ids)
	return TraceID(v.a.Pipeline, v.a.Date, v.a.Attempt), SpanID(v.a.Pipeline, v.a.Date, v.a.Attempt, v.part)
}

func (derivedIDs) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	v, _ := ctx.Value(idKey{}).(ids)
	return SpanID(v.a.Pipeline, v.a.Date, v.a.Attempt, v.part)
}

// recorder keeps the spans ended since the last take.
type recorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

func (r *recorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *recorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}
func (r *recorder) Shutdown(context.Context) error   { return nil }
func (r *recorder) ForceFlush(context.Context) error { return nil }

func (r *recorder) take() []sdktrace.ReadOnlySpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.spans
	r.spans = nil
	return out
}
