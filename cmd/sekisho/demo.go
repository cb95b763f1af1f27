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

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/daemon"
	"github.com/sekisho-dev/sekisho/sim/world"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/demo"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/notify"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/slackact"
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
	s.printPaths()
	s.printer.Printf("")
	return s.live(ctx)
}

// printPaths tells where the demo's record and config are, and how the
// command line reads them: the demo's clock runs ahead of the wall clock,
// so the commands are given its day (--date) and its time (--now).
func (s *demoSystem) printPaths() {
	kept := "removed on exit; keep them with --db"
	if s.o.db != "" {
		kept = "kept after exit"
	}
	s.printer.Printf("Store:  %s\nConfig: %s\n(%s)", s.dbPath, s.cfgPath, kept)
	s.printer.Printf("Try, in another terminal:\n  %s", s.statusCommand(s.liveAt))
}

// statusCommand is a ready-to-paste `sekisho status` of the demo's day at t.
func (s *demoSystem) statusCommand(t time.Time) string {
	return fmt.Sprintf("sekisho status -c %s --db %s --date %s", shellQuote(s.cfgPath), shellQuote(s.dbPath),
		sekisho.DateOf(t, s.world.Loc))
}

// shellQuote quotes p for a POSIX shell when it needs it.
func shellQuote(p string) string {
	if p != "" && strings.IndexFunc(p, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return p
	}
	return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
}

// demoSystem is the simulated world and the real daemon on top of it, all
// on one fake clock. While the history fills, a second engine on the same
// store writes it pass by pass and a stand-in server answers on the board's
// socket; then daemon.Run takes the socket and the open runs, as `sekisho
// run` does after a restart: the same election, engine, sender, watches,
// observability and shutdown.
type demoSystem struct {
	o       demoOptions
	dir     string // temporary: logs, the config, the database unless --db
	cfgPath string
	dbPath  string
	logFile *os.File
	log     *slog.Logger
	clock   *clockwork.FakeClock
	from    time.Time
	liveAt  time.Time
	world   *demo.World
	printer *demo.Printer
	cfg     *config.Config
	st      *store.Store
	ln      *net.TCPListener
	url     string
	d       *daemon.Daemon
	fill    *engine.Engine
	fillSrv *http.Server // serves the board while the history fills
	kicked  atomic.Bool  // the fill engine queued notices since the last settle

	stopFill context.CancelFunc // ends the fill's sender
	wg       sync.WaitGroup
}

// newDemoSystem builds the demo; on error nothing it made is left behind
// (no temporary directory, no open socket).
func newDemoSystem(ctx context.Context, o demoOptions) (*demoSystem, error) {
	s := &demoSystem{o: o}
	built := false
	defer func() {
		if !built {
			s.close()
		}
	}()
	// The socket first: a port already taken is the likeliest failure,
	// and it should cost nothing.
	ln, err := daemon.Listen(o.listen)
	if err != nil {
		return nil, err
	}
	s.ln = ln.(*net.TCPListener)
	s.url = "http://" + s.ln.Addr().String() + "/"
	if s.dir, err = os.MkdirTemp("", "sekisho-demo-"); err != nil {
		return nil, fmt.Errorf("demo: temporary directory: %w", err)
	}
	if s.logFile, err = os.Create(filepath.Join(s.dir, "sekisho.log")); err != nil {
		return nil, fmt.Errorf("demo: log file: %w", err)
	}
	s.log = slog.New(tracing.LogHandler(slog.NewTextHandler(s.logFile, nil)))
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
	// The history starts at midnight, o.days before: the hourly
	// pipeline's first gate opens on time, and no gate of the evening
	// before is caught up as after a restart (the engine looks back over
	// each pipeline's timeout).
	first := s.liveAt.AddDate(0, 0, -o.days)
	s.from = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
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
	s.dbPath = o.db
	if s.dbPath == "" {
		s.dbPath = filepath.Join(s.dir, "sekisho.db")
	}
	cfg, yaml, err := demo.Config(demo.ConfigOptions{URLs: s.world.URLs(), PublicURL: s.url, Listen: s.ln.Addr().String(),
		Token: token, DBPath: s.dbPath, Language: o.lang})
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
	if s.st, err = openDemoStore(ctx, s.dbPath); err != nil {
		return nil, fmt.Errorf("%w (check --db)", err)
	}
	if err := s.st.LockDaemon(); err != nil {
		return nil, err
	}

	tune := daemon.Fast()
	tune.Glue = append(tune.Glue, sensorglue.WithStaticCredentials(world.AWSAccessKey, world.AWSSecretKey))
	tune.Warehouse = demoWarehouse()
	// The daemon keeps the board's socket, the fake clock and the quick
	// retries the simulators allow: those are its only differences from
	// `sekisho run`.
	s.d, err = daemon.New(ctx, daemon.Options{Config: cfg, Store: s.st, Logger: s.log, Listen: s.ln.Addr().String(),
		Listener: s.ln, Clock: s.clock, Tune: tune, Tick: time.Minute, Version: version,
		NotifyOptions: []notify.Option{notify.WithPollInterval(time.Minute), notify.WithBackoff(10*time.Second, 5*time.Minute)}})
	if err != nil {
		return nil, err
	}
	// The history is written by a second engine on the same store, run
	// pass by pass (Sync), so weeks go by in seconds yet every pass sees
	// the world as it is at that moment. The daemon then takes over the
	// open runs, as after a restart.
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
	// Clicks on Slack's buttons act through the fill engine too (SPEC §20).
	clicks := &slackact.Service{Store: s.st, Config: func() *config.Config { return cfg }, Operator: s.fill, Clock: s.clock,
		Logger: s.log, Kick: s.d.Sender().Kick}
	fillWeb := web.New(web.Options{Config: func() *config.Config { return cfg }, Store: s.st, Operator: s.fill,
		Events: s.fill, Lookup: daemon.NewLookups(sensors).For, Metrics: s.d.Metrics(), Clock: s.clock, Logger: s.log,
		Slack: clicks, Kick: s.d.Sender().Kick})
	s.fillSrv = web.NewServer(s.ln.Addr().String(), fillWeb)
	s.world.Connect(s.url, token)
	built = true
	return s, nil
}

func randomToken() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("demo: token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// pausedListener is the board's socket as the fill's server sees it:
// closing it only wakes Accept, so the socket stays open for the daemon.
type pausedListener struct{ *net.TCPListener }

func (p pausedListener) Close() error { return p.SetDeadline(time.Now()) }

// start serves the board and runs the notice sender while the history
// fills: the world pushes events to the board, and the fill's notices reach
// Slack as they would.
func (s *demoSystem) start() {
	ctx, cancel := context.WithCancel(context.Background())
	s.stopFill = cancel
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		if err := s.fillSrv.Serve(pausedListener{s.ln}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("demo: http server", "err", err)
		}
	}()
	go func() {
		defer s.wg.Done()
		_ = s.d.Sender().Run(ctx)
	}()
}

// endFill stops the fill's server and sender, leaving the board's socket
// open for the daemon. It may be called more than once.
func (s *demoSystem) endFill() {
	if s.fillSrv != nil {
		sctx, done := context.WithTimeout(context.Background(), 3*time.Second)
		_ = s.fillSrv.Shutdown(sctx)
		done()
	}
	if s.stopFill != nil {
		s.stopFill()
	}
	s.wg.Wait()
	if s.ln != nil {
		_ = s.ln.SetDeadline(time.Time{})
	}
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

// live hands the board's socket and the open runs to daemon.Run and moves
// the clock at the chosen speed until ctx ends or the daemon stops.
func (s *demoSystem) live(ctx context.Context) error {
	last, err := s.st.LastTransitionID(ctx)
	if err != nil {
		return err
	}
	s.endFill()
	s.printer.SetLive(true)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	ran := make(chan error, 1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer cancel()
		err := s.d.Run(lctx, nil)
		s.ln = nil // Run closed it
		ran <- err
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
	if rerr := <-ran; rerr != nil {
		return rerr
	}
	return err
}

// close stops everything it started, within a few seconds, and removes
// the temporary directory.
func (s *demoSystem) close() {
	s.endFill()
	if s.ln != nil {
		s.ln.Close()
	}
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
