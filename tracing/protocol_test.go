package tracing

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
)

// collector is an OTLP/gRPC trace collector on loopback: the real
// TraceService over real gRPC, recording the span names it receives.
type collector struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	names []string
}

func (c *collector) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				c.names = append(c.names, sp.Name)
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// TestOTLPOverGRPC: OTEL_EXPORTER_OTLP_PROTOCOL=grpc exports over gRPC
// (otlptracegrpc) to the endpoint the environment names, instead of being
// ignored and sending OTLP/HTTP to a gRPC port.
func TestOTLPOverGRPC(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	col := &collector{}
	collectortrace.RegisterTraceServiceServer(srv, col)
	go srv.Serve(ln)
	defer srv.Stop()
	env := map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://" + ln.Addr().String(), // http: plaintext gRPC
		"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := NewFromEnv(ctx, "test", func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 21, 2, 0, 0, 0, time.UTC)
	if err := e.Export(ctx, Attempt{Pipeline: "p", Date: "2026-11-21", Attempt: 1},
		[]Span{{Part: PartRoot, Name: "gate p 2026-11-21", Start: start, End: start.Add(time.Minute)}}); err != nil {
		t.Fatalf("export over gRPC: %v", err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	if len(col.names) != 1 || col.names[0] != "gate p 2026-11-21" {
		t.Errorf("the gRPC collector received %v", col.names)
	}
}

// TestProtocolFromEnv: the traces variable wins over the general one;
// http/protobuf is the default; http/json and unknown words are refused
// with what to set.
func TestProtocolFromEnv(t *testing.T) {
	for _, tt := range []struct {
		env     map[string]string
		want    string
		wantErr string
	}{
		{env: nil, want: ProtocolHTTPProtobuf},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, want: ProtocolGRPC},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, want: ProtocolHTTPProtobuf},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"},
			wantErr: "OTEL_EXPORTER_OTLP_PROTOCOL=http/json is not supported (the Go OpenTelemetry SDK has no OTLP/JSON exporter); set it to grpc or http/protobuf"},
		{env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpcs"},
			wantErr: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="grpcs" is not an OTLP protocol`},
	} {
		got, err := Protocol(func(k string) string { return tt.env[k] })
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: %v, want %q", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%v: %q, %v; want %q", tt.env, got, err, tt.want)
		}
	}
}
