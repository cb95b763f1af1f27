package main

import (
	"context"
	"errors"
	"github.com/sekisho-dev/sekisho/internal/wire"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/metrics"
	"github.com/sekisho-dev/sekisho/notify"
	"github.com/sekisho-dev/sekisho/observe"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/web"
)

// runChild is the measured process: the daemon's pieces (engine, notice
// sender, HTTP server, real store, real clients) wired as cmd/sekisho does,
// alone in its process so its RSS and CPU are not mixed with the
// simulators'. It serves until SIGTERM.
func runChild(cfgPath, dbPath, listen, cpuProfile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// As `sekisho run` does: half Go's default GC headroom unless GOGC is
	// set, and eager collection while the YAML tree is alive.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
	gc := debug.SetGCPercent(20)
	cfg, err := config.Load(cfgPath, nil)
	debug.SetGCPercent(gc)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	debug.FreeOSMemory() // as `sekisho run` does: the YAML parser's garbage goes back first
	clock := clockwork.NewRealClock()
	sensors, triggers, err := adapters(ctx, cfg, st, clock, log)
	if err != nil {
		return err
	}
	m := metrics.New()
	sender, err := notify.New(cfg, st, clock, log, notify.WithMetrics(m))
	if err != nil {
		return err
	}
	eng, err := engine.New(cfg, engine.Options{Store: st, Clock: clock, Logger: log, Sensors: sensors,
		Triggers: triggers, Metrics: m, OnNotice: sender.Kick})
	if err != nil {
		return err
	}
	h := web.New(web.Options{Config: func() *config.Config { return cfg }, Store: st, Operator: eng, Events: eng,
		Metrics: m, Clock: clock, Logger: log})
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	srv := web.NewServer(listen, h)
	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); _ = eng.Run(ctx) }()
	go func() {
		defer wg.Done()
		if err := observe.Start(ctx, st, func() *config.Config { return cfg }, clock, log, "bench"); err != nil {
			log.Error("observe", "err", err)
		}
	}()
	go func() { defer wg.Done(); _ = sender.Run(ctx) }()
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "err", err)
		}
	}()
	<-ctx.Done()
	if cpuProfile != "" {
		// The heap as the run ends, beside the CPU profile.
		if f, err := os.Create(cpuProfile + ".heap"); err == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	wg.Wait()
	return nil
}

// adapters are the daemon's, with the simulators' credentials and quick
// retries on loopback.
func adapters(ctx context.Context, cfg *config.Config, st *store.Store, clock clockwork.Clock, log *slog.Logger) (map[string]sekisho.Sensor, map[string]sekisho.Trigger, error) {
	tune := wire.Fast()
	tune.Glue = append(tune.Glue, sensorglue.WithStaticCredentials(simAccessKey, simSecretKey))
	return wire.Adapters(ctx, cfg, st, clock, log, tune)
}
