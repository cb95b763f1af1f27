package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/sekisho-dev/sekisho/daemon"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/world"
	"github.com/sekisho-dev/sekisho/store"
)

// runChild is the measured process: the daemon `sekisho run` builds
// (daemon: engine, notice sender, HTTP server, real store, real
// clients), alone in its process so its RSS and CPU are not mixed with the
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
	daemon.GC()
	cfg, err := daemon.LoadConfig(cfgPath)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		return err
	}
	defer st.Close()
	debug.FreeOSMemory() // as `sekisho run` does: the YAML parser's garbage goes back first
	tune := daemon.Fast()
	tune.Glue = append(tune.Glue, sensorglue.WithStaticCredentials(world.AWSAccessKey, world.AWSSecretKey))
	d, err := daemon.New(ctx, daemon.Options{Config: cfg, Store: st, Logger: log, Listen: listen, Tune: tune})
	if err != nil {
		return err
	}
	err = d.Run(ctx, nil)
	if cpuProfile != "" {
		// The heap as the run ends, beside the CPU profile.
		if f, ferr := os.Create(cpuProfile + ".heap"); ferr == nil {
			_ = pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	return err
}
