package tracing

import (
	"context"
	"log/slog"
)

// LogKey is the key of the trace id in log lines.
const LogKey = "trace_id"

// LogAttr is the trace_id attribute for log lines about one attempt of a
// run, so a log search and a trace search find each other.
func LogAttr(pipeline, date string, attempt int) slog.Attr {
	return slog.String(LogKey, TraceID(pipeline, date, attempt).String())
}

// LogHandler adds trace_id to every record that carries the attributes
// pipeline, date (or key, the run's key: a sub-daily run's hour, which
// its trace is derived from, SPEC §19) and attempt (the keys sekisho's log
// lines use) and no trace_id yet. Wrap the daemon's handler with it: a log line about a run
// then carries its trace id without the caller computing it.
func LogHandler(h slog.Handler) slog.Handler { return &logHandler{next: h} }

type logHandler struct {
	next  slog.Handler
	attrs []slog.Attr // attributes added with WithAttrs, seen before the record's own
}

func (h *logHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

func (h *logHandler) Handle(ctx context.Context, r slog.Record) error {
	var pipeline, date, key string
	attempt := 0
	has := false
	see := func(a slog.Attr) bool {
		switch a.Key {
		case "pipeline":
			pipeline = a.Value.String()
		case "date":
			date = a.Value.String()
		case "key":
			key = a.Value.String()
		case "attempt":
			if a.Value.Kind() == slog.KindInt64 {
				attempt = int(a.Value.Int64())
			}
		case LogKey:
			has = true
		}
		return true
	}
	for _, a := range h.attrs {
		see(a)
	}
	r.Attrs(see)
	if key != "" {
		date = key // a daily run's key is its date
	}
	if !has && pipeline != "" && date != "" && attempt > 0 {
		r = r.Clone()
		r.AddAttrs(LogAttr(pipeline, date, attempt))
	}
	return h.next.Handle(ctx, r)
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{next: h.next.WithAttrs(attrs), attrs: append(append([]slog.Attr{}, h.attrs...), attrs...)}
}

func (h *logHandler) WithGroup(name string) slog.Handler {
	return &logHandler{next: h.next.WithGroup(name), attrs: h.attrs}
}
