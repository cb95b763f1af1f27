package main

import (
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/sekisho-dev/sekisho/daemon"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/sim/fastclock"
	"github.com/sekisho-dev/sekisho/tracing"
)

var cmdRun = &command{
	name:    "run",
	summary: "run the daemon: gates, sensors, triggers, notices and the board",
	usage:   "run [-c FILE] [--db PATH] [--listen ADDR]",
	run: func(e *env, c *command, args []string) error {
		args, fast, err := takeFastClock(args)
		if err != nil {
			return err
		}
		f := newFlags(e, c, true)
		f.migrate = true
		listen := f.String("listen", "", "HTTP listen address (overrides server.listen)")
		logFormat := f.String("log-format", "text", "text or json")
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if err := noArgs(f.cmd, pos); err != nil {
			return err
		}
		log, err := newLogger(e.stderr, *logFormat)
		if err != nil {
			return err
		}
		daemon.GC()
		cfg, st, err := f.open(e)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := st.LockDaemon(); err != nil {
			return err
		}
		// Parsing a large pipelines.yaml leaves a YAML node tree behind: give
		// that memory back before the long-lived daemon starts, so it does
		// not add to the daemon's peak.
		debug.FreeOSMemory()
		addr := *listen
		if addr == "" {
			addr = cfg.Server.Listen
		}
		o := daemon.Options{Config: cfg, ConfigPath: f.configPath(), Store: st, Logger: log, Listen: addr, Version: version}
		if fast != nil {
			// Test-only: a sped-up world on loopback simulators. A minute
			// tick and quick client retries keep the loops from spinning
			// when a simulated second lasts a fraction of a millisecond.
			o.Clock, o.Tune, o.Tick = fast, daemon.Fast(), time.Minute
			o.NotifyOptions = []notify.Option{notify.WithPollInterval(time.Minute)}
			log.Warn("test-only accelerated clock", "clock", fast.String())
		}
		d, err := daemon.New(e.ctx, o)
		if err != nil {
			return err
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		return d.Run(e.ctx, hup)
	},
}

// fastClockFlag is a hidden, test-only flag (docs/reliability.md): the
// daemon runs on a fastclock so a chaos test lives through simulated days,
// every restart agreeing on the time. It is taken out of the arguments
// before parsing so --help does not offer it to users.
const fastClockFlag = "fast-clock"

// takeFastClock removes --fast-clock SPEED@SIM-EPOCH@REAL-EPOCH (or
// =VALUE, one or two dashes) from args and parses it.
func takeFastClock(args []string) ([]string, *fastclock.Clock, error) {
	var rest []string
	var val string
	for i := 0; i < len(args); i++ {
		name, v, hasV := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") || name != fastClockFlag {
			rest = append(rest, args[i])
			continue
		}
		if !hasV {
			if i+1 >= len(args) {
				return nil, nil, usagef("--%s needs a value: SPEED@SIM-EPOCH@REAL-EPOCH", fastClockFlag)
			}
			i++
			v = args[i]
		}
		val = v
	}
	if val == "" {
		return args, nil, nil
	}
	c, err := fastclock.Parse(val)
	if err != nil {
		return nil, nil, usagef("--%s: %v", fastClockFlag, err)
	}
	return rest, c, nil
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(tracing.LogHandler(slog.NewTextHandler(w, nil))), nil
	case "json":
		return slog.New(tracing.LogHandler(slog.NewJSONHandler(w, nil))), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}
