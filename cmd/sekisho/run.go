package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"github.com/sekisho-dev/sekisho/internal/wire"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/internal/fastclock"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/watch"
	"github.com/sekisho-dev/sekisho/web"
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
		daemonGC()
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
		o := daemonOptions{cfg: cfg, cfgPath: f.configPath(), st: st, log: log, listen: addr}
		if fast != nil {
			// Test-only: a sped-up world on loopback simulators. A minute
			// tick and quick client retries keep the loops from spinning
			// when a simulated second lasts a fraction of a millisecond.
			o.clock, o.tune, o.tick = fast, wire.Fast(), time.Minute
			o.notifyOpts = []notify.Option{notify.WithPollInterval(time.Minute)}
			log.Warn("test-only accelerated clock", "clock", fast.String())
		}
		d, err := newDaemon(e.ctx, o)
		if err != nil {
			return err
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		return d.run(e.ctx, hup)
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

// daemonGC halves Go's default GC headroom unless GOGC says otherwise: a
// daemon that mostly waits can afford to collect more often, and 10,000
// pipelines then stay under 150 MiB (BENCHMARKS.md) at no measurable CPU.
func daemonGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

func newLogger(w io.Writer, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, nil)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

type daemonOptions struct {
	cfg     *config.Config
	cfgPath string // watched for changes; empty: no reloads from the file
	st      *store.Store
	log     *slog.Logger
	listen  string
	clock   clockwork.Clock // default real
	tune    wire.Tuning
	// notifyOpts adjust the Slack sender (the demo's quick retries).
	notifyOpts []notify.Option
	// engineOpts adjust the engine (the demo's tick).
	tick time.Duration
	// reloadEvery is how often the config file is checked for changes.
	reloadEvery time.Duration
}

// daemon is the running sekisho: engine, notice sender, HTTP server, and
// config reloads. The demo runs the same daemon on simulators.
type daemon struct {
	o       daemonOptions
	cfg     atomic.Pointer[config.Config]
	eng     *engine.Engine
	sender  *notify.Sender
	metrics *metrics.Metrics
	watches *watch.Runner             // nil without watches
	sensors map[string]sekisho.Sensor // the current ones; a reload closes those it replaces
	handler http.Handler
	fileSig [32]byte
}

func newDaemon(ctx context.Context, o daemonOptions) (*daemon, error) {
	if o.clock == nil {
		o.clock = clockwork.NewRealClock()
	}
	if o.reloadEvery <= 0 {
		o.reloadEvery = 5 * time.Second
	}
	d := &daemon{o: o, metrics: metrics.New()}
	d.cfg.Store(o.cfg)
	sensors, triggers, err := wire.Adapters(ctx, o.cfg, o.st, o.clock, o.log, o.tune)
	if err != nil {
		return nil, err
	}
	d.sensors = sensors
	d.sender, err = notify.New(o.cfg, o.st, o.clock, o.log, append([]notify.Option{notify.WithMetrics(d.metrics)}, o.notifyOpts...)...)
	if err != nil {
		return nil, err
	}
	d.eng, err = engine.New(o.cfg, engine.Options{Store: o.st, Clock: o.clock, Logger: o.log,
		Sensors: sensors, Triggers: triggers, Metrics: d.metrics, OnNotice: d.sender.Kick, Tick: o.tick})
	if err != nil {
		return nil, err
	}
	if d.watches, err = newWatches(ctx, o.cfg, o.st, o.clock, o.log, o.tune, d.sender.Kick); err != nil {
		return nil, err
	}
	d.handler = web.New(web.Options{Config: d.cfg.Load, Store: o.st, Operator: d.eng, Events: d.eng,
		Metrics: d.metrics, Clock: o.clock, Logger: o.log})
	if o.cfgPath != "" {
		d.fileSig, _ = fileSignature(o.cfgPath)
	}
	return d, nil
}

// run serves until ctx ends, then shuts down within 10 seconds: the HTTP
// server drains, the engine and the sender finish their current step. Every
// write is one transaction, so nothing is left half-written.
func (d *daemon) run(ctx context.Context, hup <-chan os.Signal) error {
	ln, err := net.Listen("tcp", d.o.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w (is another process using it? try --listen)", d.o.listen, err)
	}
	srv := web.NewServer(d.o.listen, d.handler)
	d.o.log.Info("sekisho started", "listen", ln.Addr().String(), "pipelines", len(d.cfg.Load().Pipelines),
		"db", d.o.st.Path())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	start := func(name string, fn func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(); err != nil && ctx.Err() == nil {
				errs <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	start("engine", func() error { return d.eng.Run(ctx) })
	start("notices", func() error { return d.sender.Run(ctx) })
	if d.watches != nil {
		start("watches", func() error { return d.watches.Run(ctx) })
	}
	start("http", func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	ticker := time.NewTicker(d.o.reloadEvery)
	defer ticker.Stop()
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-errs:
			runErr = err
			break loop
		case <-hup:
			d.reload(ctx, "SIGHUP")
		case <-ticker.C:
			if d.o.cfgPath == "" {
				continue
			}
			if sig, err := fileSignature(d.o.cfgPath); err == nil && sig != d.fileSig {
				d.fileSig = sig
				d.reload(ctx, "file changed")
			}
		}
	}
	d.o.log.Info("sekisho stopping")
	shutCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	srv.Shutdown(shutCtx)
	cancel()
	wg.Wait()
	d.o.log.Info("sekisho stopped")
	return runErr
}

// reload applies a changed config to gates that open from now on (SPEC §4
// rule 6). An invalid file is refused with a log line and a notice, and the
// old config keeps running.
func (d *daemon) reload(ctx context.Context, why string) {
	cfg, err := loadConfig(d.o.cfgPath)
	if err == nil {
		var sensors map[string]sekisho.Sensor
		var triggers map[string]sekisho.Trigger
		sensors, triggers, err = wire.Adapters(ctx, cfg, d.o.st, d.o.clock, d.o.log, d.o.tune)
		if err == nil {
			err = d.sender.SetConfig(cfg)
		}
		if err == nil {
			d.eng.SetAdapters(sensors, triggers)
			closeReplaced(d.o.clock, d.sensors)
			d.sensors = sensors
			d.eng.SetConfig(cfg)
			d.cfg.Store(cfg)
			d.o.log.Info("config reloaded", "why", why, "pipelines", len(cfg.Pipelines))
			return
		}
	}
	msg := err.Error()
	d.o.log.Error("config reload refused; the previous config keeps running", "why", why, "err", oneLine(msg))
	_, nerr := d.o.st.AddNotice(ctx, sekisho.Notice{Kind: sekisho.NoticeConfigInvalid,
		DedupeKey: sekisho.NoticeKey(sekisho.NoticeConfigInvalid, sekisho.NoticeSubject{Message: msg}), CreatedAt: d.o.clock.Now(),
		Facts: sekisho.NoticeFacts{Message: msg}})
	if nerr != nil {
		d.o.log.Error("queue config notice", "err", nerr)
	}
	d.sender.Kick()
}

// fileSignature identifies the config file's content.
func fileSignature(path string) ([32]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return [32]byte{}, err
	}
	return sha256.Sum256(b), nil
}
