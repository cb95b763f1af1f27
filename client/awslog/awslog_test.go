package awslog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
)

func TestLinesReachSlogAtTheirLevel(t *testing.T) {
	var buf bytes.Buffer
	l := Logger{L: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	l.Logf(logging.Warn, "failed to discard %s", "body")
	l.Logf(logging.Debug, "hidden")
	out := buf.String()
	if !strings.Contains(out, "level=WARN") || !strings.Contains(out, `msg="aws sdk: failed to discard body"`) {
		t.Errorf("warn line: %q", out)
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("a debug line passed an info handler: %q", out)
	}
}
