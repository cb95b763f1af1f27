// Package awslog routes the AWS SDK's own log lines (retries, connection
// reuse warnings) into slog, so they reach the daemon's log in its format
// instead of stderr, where they would interleave with `sekisho demo`'s
// terminal and escape --log-format json.
package awslog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/smithy-go/logging"
)

// Logger is a smithy logging.Logger that writes to l (slog.Default when nil).
type Logger struct{ L *slog.Logger }

// Logf logs one SDK line at the level its classification names.
func (l Logger) Logf(c logging.Classification, format string, v ...any) {
	lg := l.L
	if lg == nil {
		lg = slog.Default()
	}
	level := slog.LevelInfo
	switch c {
	case logging.Warn:
		level = slog.LevelWarn
	case logging.Debug:
		level = slog.LevelDebug
	}
	lg.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...))
}
