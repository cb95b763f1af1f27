package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"runtime/trace"
	"sync"
	"syscall"
	"time"

	"github.com/sekisho-dev/sekisho/daemon"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	"github.com/sekisho-dev/sekisho/sim/world"
	"github.com/sekisho-dev/sekisho/store"
)

// runChild is the measured process: the daemon `sekisho run` builds
// (daemon: engine, notice sender, HTTP server, real store, real
// clients), alone in its process so its RSS and CPU are not mixed with the
// simulators'. It serves until SIGTERM.
func runChild(cfgPath, dbPath, listen, cpuProfile, heapFile string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if heapFile != "" {
		reportHeap(ctx, heapFile)
	}
	if cpuProfile != "" {
		if err := profileCPU(ctx, cpuProfile); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
		defer stopTrace()
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

// profileCPU profiles the child's start (gates opening, first polls)
// into file, and at SIGUSR2 switches to file.window until the next
// SIGUSR2: the parent sends them as its measuring window starts and ends,
// so the window's profile holds what the CPU goal measures and nothing
// else. What follows the window (the listings) goes to file.listings. Each
// part but the start has an execution trace too (file.window.trace,
// file.listings.trace; `go tool trace`): where a pushed event or a
// listing waits, between goroutines, the store and the collector.
func profileCPU(ctx context.Context, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR2)
	go func() {
		defer signal.Stop(sig)
		for _, next := range []string{file + ".window", file + ".listings"} {
			select {
			case <-ctx.Done():
				return // runChild stops the profile as it returns, into f
			case <-sig:
			}
			pprof.StopCPUProfile()
			f.Close()
			if f, err = os.Create(next); err != nil {
				return
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return
			}
			// Execution traces of the window (FILE.window.trace) and of
			// the listings (FILE.trace).
			stopTrace()
			startTrace(next + ".trace")
		}
	}()
	return nil
}

// tracing is the execution trace being written, stopped as the child
// ends (stopTrace).
var tracing struct {
	sync.Mutex
	f *os.File
}

// startTrace writes an execution trace to file until stopTrace.
func startTrace(file string) {
	f, err := os.Create(file)
	if err != nil {
		return
	}
	if err := trace.Start(f); err != nil {
		f.Close()
		return
	}
	tracing.Lock()
	tracing.f = f
	tracing.Unlock()
}

func stopTrace() {
	tracing.Lock()
	defer tracing.Unlock()
	if tracing.f != nil {
		trace.Stop()
		tracing.f.Close()
		tracing.f = nil
	}
}

// reportHeap writes the live heap, in bytes after a full collection, to
// file at each SIGUSR1 (the memory model, -model): what the daemon's data
// holds, without the garbage a collection would free.
func reportHeap(ctx context.Context, file string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				runtime.GC()
				runtime.GC() // a second cycle frees what the first only marked
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				// live, then where the rest of the process's memory is:
				// heap spans in use, heap kept but free, goroutine stacks,
				// and everything the Go runtime has mapped.
				report := fmt.Sprintf("%d %d %d %d %d", ms.HeapAlloc, ms.HeapInuse, ms.HeapIdle-ms.HeapReleased,
					ms.StackInuse, ms.Sys-ms.HeapReleased)
				_ = os.WriteFile(file+".tmp", []byte(report), 0o600)
				_ = os.Rename(file+".tmp", file)
			}
		}
	}()
}

// heapReport is what reportHeap writes, in bytes.
type heapReport struct {
	live, inuse, idle, stacks, goMapped int64
}

// liveHeap asks the child for its live heap (reportHeap) and waits for
// the answer.
func liveHeap(p *os.Process, file string) (heapReport, error) {
	var h heapReport
	os.Remove(file)
	if err := p.Signal(syscall.SIGUSR1); err != nil {
		return h, err
	}
	for range 600 {
		if b, err := os.ReadFile(file); err == nil {
			_, err := fmt.Sscan(string(b), &h.live, &h.inuse, &h.idle, &h.stacks, &h.goMapped)
			return h, err
		}
		time.Sleep(50 * time.Millisecond)
	}
	return h, fmt.Errorf("the child did not report its heap within 30s")
}
