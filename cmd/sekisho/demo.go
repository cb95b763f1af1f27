package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sekisho-dev/sekisho/daemon"
	"github.com/sekisho-dev/sekisho/sim/world"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/demo"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/observe"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/tracing"
	"github.com/sekisho-dev/sekisho/web"
)

var cmdDemo = &command{
	name:    "demo",
	summary: "run the whole system against built-in simulators (no cloud account needed)",
	usage:   "demo [--speed N] [--days N] [--listen ADDR] [--seed N] [--db PATH] [--lang ja|en] [--lineage-url URL]",
	run: func(e *env, c *command, args []string) error {
		fs := flag.NewFlagSet("sekisho demo", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f := &flags{FlagSet: fs, cmd: c}
		o := demoOptions{out: e.stdout}
		fs.Float64Var(&o.speed, "speed", 1440, "simulated seconds per real second (1440: a day per minute)")
		fs.IntVar(&o.days, "days", 28, "days of history to fill in before going live")
		fs.StringVar(&o.listen, "listen", "127.0.0.1:8080", "HTTP listen address of the board")
		fs.Uint64Var(&o.seed, "seed", 1, "seed of the simulated world: which day has which incident")
		fs.StringVar(&o.db, "db", "", "SQLite database to keep (default: a temporary one, removed on exit)")
		fs.StringVar(&o.lang, "lang", "ja", "language of the Slack notices: ja or en")
		fs.StringVar(&o.lineageURL, "lineage-url", "", "send OpenLineage events to this endpoint (e.g. Marquez's http://localhost:5000/api/v1/lineage); traces follow OTEL_EXPORTER_OTLP_ENDPOINT")
		pos, err := f.parse(e, args)
		if err != nil {
			return err
		}
		if err := noArgs(c, pos); err != nil {
			return err
		}
		switch {
		case o.speed <= 0:
			return usagef("--speed %v: want a positive number (1440 is a day per minute)", o.speed)
		case o.days < 1 || o.days > 366:
			return usagef("--days %d: want 1 to 366", o.days)
		case o.lang != "ja" && o.lang != "en":
			return usagef("--lang %q: want ja or en", o.lang)
		}
		return runDemo(e.ctx, o)
	},
}

// demoOptions are the demo's flags.
type demoOptions struct {
	speed  float64
	days   int
	listen string
	seed   uint64
	db     string
	lang   string
	out    io.Writer
	// lineageURL, if set, receives the OpenLineage events (SPEC §16).
	lineageURL string
	// liveAt is the simulated moment the demo goes live; zero: 00:50 today
	// in Tokyo, just before the first gate, so the action starts at once.
	liveAt time.Time
}

// runDemo runs the demo until ctx ends: fill the history, then go live.
func runDemo(ctx context.Context, o demoOptions) error {
	s, err := newDemoSystem(ctx, o)
	if err != nil {
		return err
	}
	defer s.close()
	s.start()
	began := time.Now()
	s.printer.Printf("Filling %d days of history (%s to %s)…", o.days,
		s.from.In(s.world.Loc).Format("2006-01-02"), s.liveAt.In(s.world.Loc).Format("2006-01-02"))
	st, err := s.fillHistory(ctx, s.liveAt)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.printer.Printf("History ready in %.1fs (%d engine passes). Going live at %s per real second; Ctrl-C stops.",
		time.Since(began).Seconds(), st.Passes, time.Duration(float64(time.Second)*o.speed))
	if o.db != "" {
		s.printer.Printf("The record stays in %s; afterwards try: sekisho report slo -c %s", o.db, s.cfgPath)
	}
	s.printer.Printf("")
	return s.live(ctx)
}

// demoSystem is the simulated world and the real daemon on top of it, all
// on one fake clock: the store, the engine, the notice sender and the board
// are the ones `sekisho run` uses.
type demoSystem struct {
	o       demoOptions
	dir     string // temporary: logs, the config, the database unless --db
	cfgPath string
	logFile *os.File
	log     *slog.Logger
	clock   *clockwork.FakeClock
	from    time.Time
	liveAt  time.Time
	world   *demo.World
	printer *demo.Printer
	cfg     *config.Config
	st      *store.Store
	ln      net.Listener
	url     string
	d       *daemon.Daemon
	fill    *engine.Engine
	fillWeb http.Handler
	handler atomic.Pointer[http.Handler]
	srv     *http.Server
	kicked  atomic.Bool // the fill engine queued notices since the last settle

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func newDemoSystem(ctx context.Context, o demoOptions) (s *demoSystem, err error) {
	s = &demoSystem{o: o}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if s.dir, err = os.MkdirTemp("", "sekisho-demo-"); err != nil {
		return nil, fmt.Errorf("demo: temporary directory: %w", err)
	}
	if s.logFile, err = os.Create(filepath.Join(s.dir, "sekisho.log")); err != nil {
		return nil, fmt.Errorf("demo: log file: %w", err)
	}
	s.log = slog.New(tracing.LogHandler(slog.NewTextHandler(s.logFile, nil)))

	s.ln, err = net.Listen("tcp", o.listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another process using it? try --listen 127.0.0.1:8081)", o.listen, err)
	}
	s.url = "http://" + s.ln.Addr().String() + "/"
	fmt.Fprintf(o.out, "Board: %s\n", s.url)

	loc, err := time.LoadLocation(demo.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	s.liveAt = o.liveAt
	if s.liveAt.IsZero() {
		now := time.Now().In(loc)
		s.liveAt = time.Date(now.Year(), now.Month(), now.Day(), 0, 50, 0, 0, loc)
	}
	s.from = s.liveAt.AddDate(0, 0, -o.days)
	s.clock = clockwork.NewFakeClockAt(s.from)
	s.printer = demo.NewPrinter(o.out, loc)
	s.world, err = demo.NewWorld(s.clock, demo.Options{Seed: o.seed, OnSlack: s.printer.Notice,
		OnAction: s.printer.Action, Logger: s.log})
	if err != nil {
		return nil, err
	}

	token, err := randomToken()
	if err != nil {
		return nil, err
	}
	dbPath := o.db
	if dbPath == "" {
		dbPath = filepath.Join(s.dir, "sekisho.db")
	}
	cfg, yaml, err := demo.Config(demo.ConfigOptions{URLs: s.world.URLs(), PublicURL: s.url, Listen: s.ln.Addr().String(),
		Token: token, DBPath: dbPath, Language: o.lang})
	if err != nil {
		return nil, err
	}
	if o.lineageURL != "" {
		cfg.Lineage.URL = o.lineageURL
	}
	s.cfg = cfg
	// With --db the record outlives the demo: keep its config beside it,
	// so report, status and export work on it afterwards.
	s.cfgPath = filepath.Join(s.dir, "pipelines.yaml")
	if o.db != "" {
		s.cfgPath = strings.TrimSuffix(o.db, filepath.Ext(o.db)) + "-pipelines.yaml"
	}
	if err := os.WriteFile(s.cfgPath, yaml, 0o600); err != nil {
		return nil, fmt.Errorf("demo: write config: %w", err)
	}
	if s.st, err = store.Open(ctx, dbPath); err != nil {
		return nil, fmt.Errorf("%w (check --db)", err)
	}
	if err := s.st.LockDaemon(); err != nil {
		return nil, err
	}

	tune := daemon.Fast()
	tune.Glue = append(tune.Glue, sensorglue.WithStaticCredentials(world.AWSAccessKey, world.AWSSecretKey))
	tune.Warehouse = demoWarehouse()
	s.d, err = daemon.New(ctx, daemon.Options{Config: cfg, Store: s.st, Logger: s.log, Listen: s.ln.Addr().String(),
		Clock: s.clock, Tune: tune, Tick: time.Minute,
		NotifyOptions: []notify.Option{notify.WithPollInterval(time.Minute), notify.WithBackoff(10*time.Second, 5*time.Minute)}})
	if err != nil {
		return nil, err
	}
	// The history is written by a second engine on the same store, run
	// pass by pass (Sync), so weeks go by in seconds yet every pass sees
	// the world as it is at that moment. The live engine then takes over
	// the open runs, as after a restart.
	sensors, triggers, err := daemon.Adapters(ctx, cfg, s.st, s.clock, s.log, tune)
	if err != nil {
		return nil, err
	}
	s.fill, err = engine.New(cfg, engine.Options{Store: s.st, Clock: s.clock, Logger: s.log, Sensors: sensors,
		Triggers: triggers, Metrics: s.d.Metrics(), Sync: true, Jitter: -1, Seed: o.seed + 1,
		OnNotice: func() { s.kicked.Store(true); s.d.Sender().Kick() }})
	if err != nil {
		return nil, err
	}
	s.fillWeb = web.New(web.Options{Config: func() *config.Config { return cfg }, Store: s.st, Operator: s.fill,
		Events: s.fill, Lookup: daemon.NewLookups(sensors).For, Metrics: s.d.Metrics(), Clock: s.clock, Logger: s.log})
	s.handler.Store(&s.fillWeb)
	s.srv = web.NewServer(s.ln.Addr().String(), http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*s.handler.Load()).ServeHTTP(w, r)
	}))
	s.world.Connect(s.url, token)
	return s, nil
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// start serves the board and runs the notice sender until close.
func (s *demoSystem) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(3)
	go func() {
		defer s.wg.Done()
		// Traces and lineage run on real time: the tailing service only
		// reads what the simulated days wrote.
		if err := observe.Start(ctx, s.st, s.d.Config, clockwork.NewRealClock(), s.log, version); err != nil {
			s.log.Error("demo: observability", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("demo: http server", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		_ = s.d.Sender().Run(ctx)
	}()
}

// fillHistory writes the history up to until, then waits for its notices
// to reach Slack, so none of them scroll past once the terminal is live.
func (s *demoSystem) fillHistory(ctx context.Context, until time.Time) (demo.FillStats, error) {
	st, err := s.world.Fill(ctx, demo.FillOptions{Engine: s.fill, Store: s.st, Config: s.cfg, Until: until,
		Settle: func(ctx context.Context) error { return s.settle(ctx, false) }})
	if err != nil {
		return st, err
	}
	return st, s.settle(ctx, true)
}

// settle waits, briefly and in real time, until the outbox is empty: the
// sender delivers on its own goroutine, and the clock must not move on
// before the notices of a pass carry its time.
func (s *demoSystem) settle(ctx context.Context, always bool) error {
	if !s.kicked.Swap(false) && !always {
		return nil
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		// Notices held for later (an incident's opening waits group_wait
		// of simulated time, which stands still here) are not waited for.
		n, err := s.st.OutboxDue(ctx, s.clock.Now())
		if err != nil {
			return fmt.Errorf("demo: outbox: %w", err)
		}
		if n == 0 || time.Now().After(deadline) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// live hands the board and the open runs to the daemon's engine and moves
// the clock at the chosen speed until ctx ends.
func (s *demoSystem) live(ctx context.Context) error {
	last, err := s.st.LastTransitionID(ctx)
	if err != nil {
		return err
	}
	h := s.d.Handler()
	s.handler.Store(&h)
	s.printer.SetLive(true)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	s.runWatches(lctx, &wg)
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := s.d.Engine().Run(lctx); err != nil {
			s.log.Error("demo: engine", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		tail := &demo.Tail{Store: s.st, After: last}
		tail.Follow(lctx, 100*time.Millisecond, s.printer.Transition, s.printer.Flush)
	}()
	err = s.world.Live(lctx, s.o.speed, 50*time.Millisecond, func(err error) {
		s.log.Warn("demo: scripted action failed", "err", err)
	})
	cancel()
	wg.Wait()
	return err
}

// close stops everything it started, within a few seconds.
func (s *demoSystem) close() {
	if s.srv != nil {
		sctx, done := context.WithTimeout(context.Background(), 3*time.Second)
		_ = s.srv.Shutdown(sctx)
		done()
	}
	if s.ln != nil {
		s.ln.Close() // when Serve never ran; harmless after Shutdown
	}
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.world != nil {
		s.world.Close()
	}
	if s.st != nil {
		s.st.Close()
	}
	if s.logFile != nil {
		s.logFile.Close()
	}
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
