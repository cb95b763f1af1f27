package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Daemon runs `sekisho run` as a child process. The listen address and the
// database stay the same across restarts, so a restarted daemon answers
// where the last one did and finds what the last one wrote.
type Daemon struct {
	Bin     string
	Dir     string // holds pipelines.yaml, sekisho.db and daemon.log
	Listen  string // 127.0.0.1:port
	Env     []string
	Args    []string // more flags for `sekisho run`, e.g. the test-only --fast-clock
	DB      string   // the store; empty: sekisho.db in Dir (a postgres:// URL for replicas)
	Starts  int      // how many times the daemon was started
	logFile *os.File
	log     *logHook

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	err    error
}

// NewDaemon prepares a daemon in dir on a free loopback port.
func NewDaemon(bin, dir string, env ...string) (*Daemon, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pick a port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f, err := os.OpenFile(filepath.Join(dir, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("daemon log: %w", err)
	}
	return &Daemon{Bin: bin, Dir: dir, Listen: addr, Env: env, logFile: f, log: &logHook{w: f, changed: make(chan struct{}, 1)}}, nil
}

// logHook passes the daemon's output to its log file and signals every
// write: the daemon logs each gate it opens, each state change and each
// notice it sends, after the store has it, so a write is the moment to
// look at the store again.
type logHook struct {
	w       *os.File
	changed chan struct{}
}

func (h *logHook) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	select {
	case h.changed <- struct{}{}:
	default:
	}
	return n, err
}

// safetyNet bounds how long WaitFor goes without looking, should something
// the condition waits for happen without a log line (as the engine's
// once-a-minute pass does for a lost wake-up).
const safetyNet = time.Second

// WaitFor reports whether cond holds within limit. It checks cond again
// each time the daemon writes to its log, never on a guessed sleep.
func (d *Daemon) WaitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-d.log.changed:
		case <-time.After(safetyNet):
		case <-deadline.C:
			return cond()
		}
	}
}

// ConfigPath is the daemon's pipelines.yaml.
func (d *Daemon) ConfigPath() string { return filepath.Join(d.Dir, "pipelines.yaml") }

// DBPath is the daemon's SQLite file.
func (d *Daemon) DBPath() string { return filepath.Join(d.Dir, "sekisho.db") }

// LogPath is where every start appends its stderr.
func (d *Daemon) LogPath() string { return d.logFile.Name() }

// URL is the daemon's HTTP base.
func (d *Daemon) URL() string { return "http://" + d.Listen }

// Start starts the daemon; it does not wait for it to be ready.
func (d *Daemon) Start() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return errors.New("daemon already running")
	}
	fmt.Fprintf(d.logFile, "=== start %d at %s\n", d.Starts+1, time.Now().UTC().Format(time.RFC3339Nano))
	db := d.DB
	if db == "" {
		db = d.DBPath()
	}
	cmd := exec.Command(d.Bin, "run", "-c", d.ConfigPath(), "--db", db, "--listen", d.Listen)
	cmd.Args = append(cmd.Args, d.Args...)
	cmd.Env = append(os.Environ(), d.Env...)
	cmd.Stdout = d.log
	cmd.Stderr = d.log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start daemon: %w", err)
	}
	d.Starts++
	fmt.Fprintf(d.logFile, "=== start %d is pid %d\n", d.Starts, cmd.Process.Pid)
	d.cmd = cmd
	exited := make(chan struct{})
	d.exited = exited
	go func() {
		err := cmd.Wait()
		d.mu.Lock()
		d.err = err
		d.mu.Unlock()
		close(exited)
	}()
	return nil
}

// Running reports whether the child is alive.
func (d *Daemon) Running() bool {
	d.mu.Lock()
	ch := d.exited
	d.mu.Unlock()
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return false
	default:
		return true
	}
}

// WaitReady waits until /healthz answers 200: the daemon logs that it
// started once it listens.
func (d *Daemon) WaitReady(timeout time.Duration) error {
	c := &http.Client{Timeout: time.Second}
	exited := false
	ok := d.WaitFor(timeout, func() bool {
		if !d.Running() {
			exited = true
			return true
		}
		resp, err := c.Get(d.URL() + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	switch {
	case exited:
		return fmt.Errorf("daemon exited before it was ready (see %s)", d.LogPath())
	case !ok:
		return fmt.Errorf("daemon not ready after %s (see %s)", timeout, d.LogPath())
	}
	return nil
}

// Kill sends SIGKILL and waits for the process to be gone: no shutdown
// code runs, exactly as when a node dies or the OOM killer strikes.
func (d *Daemon) Kill() error { return d.signalAndWait(syscall.SIGKILL, 5*time.Second) }

// Stop sends SIGTERM and waits for the clean shutdown; it reports a non-zero exit.
func (d *Daemon) Stop() error { return d.signalAndWait(syscall.SIGTERM, 15*time.Second) }

// Signal sends sig (SIGSTOP, SIGCONT: a paused replica) without waiting.
func (d *Daemon) Signal(sig syscall.Signal) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return errors.New("daemon not running")
	}
	return d.cmd.Process.Signal(sig)
}

// HUP asks the daemon to reload its config.
func (d *Daemon) HUP() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return errors.New("daemon not running")
	}
	return d.cmd.Process.Signal(syscall.SIGHUP)
}

func (d *Daemon) signalAndWait(sig syscall.Signal, timeout time.Duration) error {
	d.mu.Lock()
	cmd, exited := d.cmd, d.exited
	d.mu.Unlock()
	if cmd == nil {
		return nil
	}
	// The marks let a reader of daemon.log line a request in a simulator's
	// log up with the process that was alive when it arrived.
	fmt.Fprintf(d.logFile, "=== %s pid %d at %s\n", sig, cmd.Process.Pid, time.Now().UTC().Format(time.RFC3339Nano))
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(timeout):
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("daemon did not exit within %s of %s", timeout, sig)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cmd, d.exited = nil, nil
	if sig == syscall.SIGTERM && d.err != nil {
		return fmt.Errorf("daemon exit after SIGTERM: %w (see %s)", d.err, d.LogPath())
	}
	return nil
}

// Close kills a daemon still running and closes the log.
func (d *Daemon) Close() {
	_ = d.Kill()
	d.logFile.Close()
}

// Log returns everything the daemon wrote so far.
func (d *Daemon) Log() []byte {
	b, _ := os.ReadFile(d.LogPath())
	return b
}

// Post sends an authorised JSON POST to the daemon.
func (d *Daemon) Post(ctx context.Context, path, token string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL()+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
