// Package daemon assembles the running sekisho: the sensors and triggers
// of the config's connections, the engine, the Slack notice sender, the
// HTTP server and config reloads, on the store it is given. `sekisho run`,
// `sekisho demo` and the measured process of sekisho-bench all build the
// daemon here, so the benchmark measures what users run. Only commands
// import it.
package daemon

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/ha"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/observe"
	"github.com/sekisho-dev/sekisho/slackact"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/tracing"
	"github.com/sekisho-dev/sekisho/watch"
	"github.com/sekisho-dev/sekisho/web"
)

// GC halves Go's default GC headroom unless GOGC says otherwise: a daemon
// that mostly waits can afford to collect more often, and 10,000 pipelines
// then stay under 150 MiB (BENCHMARKS.md) at no measurable CPU.
func GC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}

// LoadConfig reads pipelines.yaml for the daemon (start and reload). It
// used to set the collector to 20 % headroom while reading, because the
// YAML node tree of 10,000 pipelines was garbage moments later and set the
// daemon's peak memory. config reads the pipelines list one item at a time
// now (config/split.go): at the daemon's usual headroom (GC) the heap
// peaks at 43-46 MiB while reading those 10,000 (the whole tree took
// 119-127 MiB), below what the open runs take later, and the eager
// collector only made the reading slower (BenchmarkParse10k).
func LoadConfig(path string) (*config.Config, error) {
	return config.Load(path, nil)
}

// Options are what a daemon is built from.
type Options struct {
	Config     *config.Config
	ConfigPath string // watched for changes; empty: no reloads from the file
	Store      *store.Store
	Logger     *slog.Logger
	Listen     string
	// Listener, if set, is the socket Run serves on instead of listening
	// on Listen: the demo listens before it builds its config, which
	// names the board's address.
	Listener net.Listener
	Clock    clockwork.Clock // default real
	Tune     Tuning          // quick retries against simulators; zero in production
	// NotifyOptions adjust the Slack sender (the demo's quick retries).
	NotifyOptions []notify.Option
	// Tick is the engine's safety-net pass interval; zero: the engine's default.
	Tick time.Duration
	// ReloadEvery is how often the config file is checked for changes.
	ReloadEvery time.Duration
	// Version names the producer in traces and lineage events.
	Version string
}

// Daemon is the running sekisho: engine, notice sender, long-query
// watches, HTTP server, and config reloads.
type Daemon struct {
	o       Options
	cfg     atomic.Pointer[config.Config]
	eng     *engine.Engine
	sender  *notify.Sender
	elector *ha.Elector
	metrics *metrics.Metrics
	watches *watch.Runner             // nil without watches
	sensors map[string]sekisho.Sensor // the current ones; a reload closes those it replaces
	handler http.Handler
	fileSig [32]byte
	lookups *Lookups
	slack   *slackact.Service // operator actions from Slack (SPEC §20)
	// calendarDay is the date the calendar warnings were last logged.
	calendarDay string
}

// New builds the daemon; nothing runs until Run.
func New(ctx context.Context, o Options) (*Daemon, error) {
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.ReloadEvery <= 0 {
		o.ReloadEvery = 5 * time.Second
	}
	// The daemon writes this binary's schema; it never migrates a store
	// itself (sekisho run and sekisho migrate do, before New).
	if err := o.Store.Current(ctx); err != nil {
		return nil, err
	}
	// An OTLP protocol sekisho cannot speak stops the start, rather than
	// every replica exporting nothing once it leads.
	if tracing.Enabled(os.Getenv) {
		if _, err := tracing.Protocol(os.Getenv); err != nil {
			return nil, err
		}
	}
	d := &Daemon{o: o, metrics: metrics.New()}
	d.cfg.Store(o.Config)
	sensors, triggers, err := Adapters(ctx, o.Config, o.Store, o.Clock, o.Logger, o.Tune)
	if err != nil {
		return nil, err
	}
	d.sensors = sensors
	d.elector = newElector(o)
	notifyOpts := []notify.Option{notify.WithMetrics(d.metrics)}
	if o.Store.Dialect() == store.Postgres {
		// Replicas: a leader paused past its lease must not post what the
		// next leader posts (notify.WithLeader). A SQLite store has one
		// daemon, and the demo runs its sender before any election.
		notifyOpts = append(notifyOpts, notify.WithLeader(d.elector.IsLeader))
	}
	d.sender, err = notify.New(o.Config, o.Store, o.Clock, o.Logger, append(notifyOpts, o.NotifyOptions...)...)
	if err != nil {
		return nil, err
	}
	d.eng, err = engine.New(o.Config, engine.Options{Store: o.Store, Clock: o.Clock, Logger: o.Logger,
		Sensors: sensors, Triggers: triggers, Metrics: d.metrics, OnNotice: d.sender.Kick, Tick: o.Tick,
		Elector: d.elector})
	if err != nil {
		return nil, err
	}
	d.lookups = NewLookups(sensors)
	if d.watches, err = newWatches(ctx, o.Config, o.Store, o.Clock, o.Logger, o.Tune, d.sender.Kick); err != nil {
		return nil, err
	}
	d.slack = &slackact.Service{Store: o.Store, Config: d.cfg.Load, Operator: d.eng, Clock: o.Clock, Logger: o.Logger,
		Groups: slackact.ConfigGroups{Config: d.cfg.Load}, Kick: d.sender.Kick}
	d.handler = web.New(web.Options{Config: d.cfg.Load, Store: o.Store, Operator: d.eng, Events: relayEvents{d}, Cluster: d.Cluster,
		Lookup: d.lookups.For, Metrics: d.metrics, Clock: o.Clock, Logger: o.Logger, Slack: d.slack, Kick: d.sender.Kick})
	if o.ConfigPath != "" {
		d.fileSig, _ = fileSignature(o.ConfigPath)
	}
	return d, nil
}

// Sender is the daemon's Slack notice sender.
func (d *Daemon) Sender() *notify.Sender { return d.sender }

// Watches is the runner of the config's long-query watches; nil without
// watches.
func (d *Daemon) Watches() *watch.Runner { return d.watches }

// Metrics are the daemon's Prometheus metrics.
func (d *Daemon) Metrics() *metrics.Metrics { return d.metrics }

// Config is the config in force (the latest accepted reload).
func (d *Daemon) Config() *config.Config { return d.cfg.Load() }

// Handler serves the board, the API, event ingestion and /metrics.
func (d *Daemon) Handler() http.Handler { return d.handler }

// Listen opens the board's socket; a port already taken is an error that
// says what to do.
func Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another process using it? try --listen 127.0.0.1:8081)", addr, err)
	}
	return ln, nil
}

// Run serves on the listen address until ctx ends. A signal on hup, or a
// change of the config file, reloads the config. It shuts down within 10
// seconds of ctx's end: the HTTP server drains, the engine and the sender
// finish their current step. Every write is one transaction, so nothing is
// left half-written.
func (d *Daemon) Run(ctx context.Context, hup <-chan os.Signal) error {
	ln := d.o.Listener
	if ln == nil {
		var err error
		if ln, err = Listen(d.o.Listen); err != nil {
			return err
		}
	}
	srv := web.NewServer(ln.Addr().String(), d.handler)
	d.o.Logger.Info("sekisho started", "listen", ln.Addr().String(), "pipelines", len(d.cfg.Load().Pipelines),
		"db", d.o.Store.Path())
	d.warnCalendars()
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
	leaderWork := []func(term context.Context) error{d.eng.Run, d.sender.Run, func(term context.Context) error {
		return observe.Start(term, d.o.Store, d.cfg.Load, d.o.Clock, d.o.Logger, d.o.Version)
	}}
	if d.watches != nil {
		leaderWork = append(leaderWork, d.watches.Run)
	}
	leaderWork = append(leaderWork, d.SlackWork()...)
	prune := &pruner{store: d.o.Store, config: d.cfg.Load, clock: d.o.Clock, log: d.o.Logger}
	leaderWork = append(leaderWork, prune.Run)
	d.runElected(ctx, start, leaderWork...)
	start("http", func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	ticker := time.NewTicker(d.o.ReloadEvery)
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
			d.Reload(ctx, "SIGHUP")
		case <-ticker.C:
			d.warnCalendars()
			if d.o.ConfigPath == "" {
				continue
			}
			if sig, err := fileSignature(d.o.ConfigPath); err == nil && sig != d.fileSig {
				d.fileSig = sig
				d.Reload(ctx, "file changed")
			}
		}
	}
	d.o.Logger.Info("sekisho stopping")
	shutCtx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer done()
	srv.Shutdown(shutCtx)
	cancel()
	wg.Wait()
	d.o.Logger.Info("sekisho stopped")
	return runErr
}

// warnCalendars logs, once a day (at start-up and at the first tick of
// each date), every calendar whose holiday data ends within 90 days
// (SPEC §18).
func (d *Daemon) warnCalendars() {
	cfg := d.cfg.Load()
	now := d.o.Clock.Now()
	today := sekisho.DateOf(now, cfg.Location)
	if today == d.calendarDay {
		return
	}
	d.calendarDay = today
	for _, w := range cfg.CalendarWarnings(now) {
		d.o.Logger.Warn("calendar data ends soon", "warning", w)
	}
}

// Reload applies a changed config to gates that open from now on (SPEC §4
// rule 6). An invalid file is refused with a log line and a notice, and the
// old config keeps running.
func (d *Daemon) Reload(ctx context.Context, why string) {
	cfg, err := LoadConfig(d.o.ConfigPath)
	if err == nil {
		var sensors map[string]sekisho.Sensor
		var triggers map[string]sekisho.Trigger
		sensors, triggers, err = Adapters(ctx, cfg, d.o.Store, d.o.Clock, d.o.Logger, d.o.Tune)
		if err == nil {
			err = d.sender.SetConfig(cfg)
		}
		if err == nil {
			d.eng.SetAdapters(sensors, triggers)
			closeReplaced(d.o.Clock, d.sensors)
			d.sensors = sensors
			d.lookups.Set(sensors)
			d.eng.SetConfig(cfg)
			d.cfg.Store(cfg)
			d.o.Logger.Info("config reloaded", "why", why, "pipelines", len(cfg.Pipelines))
			return
		}
	}
	msg := err.Error()
	// The notice is stored before the refusal is logged, as every state
	// change and notice is: whoever reads the log line (an operator, the
	// e2e harness) may kill the daemon next and still finds the notice.
	_, nerr := d.o.Store.AddNotice(ctx, sekisho.Notice{Kind: sekisho.NoticeConfigInvalid,
		DedupeKey: sekisho.NoticeKey(sekisho.NoticeConfigInvalid, sekisho.NoticeSubject{Message: msg}), CreatedAt: d.o.Clock.Now(),
		Facts: sekisho.NoticeFacts{Message: msg}})
	d.o.Logger.Error("config reload refused; the previous config keeps running", "why", why, "err", strings.ReplaceAll(strings.TrimSpace(msg), "\n", "; "))
	if nerr != nil {
		d.o.Logger.Error("queue config notice", "err", nerr)
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
