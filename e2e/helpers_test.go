package e2e

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/store"
)

var seedFlag = flag.Uint64("e2e.seed", 1, "seed of the kill and chaos scripts (same seed, same script)")

// harness is one world, one daemon and a reader of its database.
type harness struct {
	t     *testing.T
	world *World
	d     *Daemon
	st    *store.Store
}

func newHarness(t *testing.T, seed uint64) *harness {
	t.Helper()
	return newHarnessOf(t, func() *World { return NewWorld(seed) })
}

// newHarnessOf is newHarness on the world newWorld makes (e.g. on a fastclock).
func newHarnessOf(t *testing.T, newWorld func() *World) *harness {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld()
	t.Cleanup(w.Close)
	d, err := NewDaemon(bin, t.TempDir(), w.Env()...)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, world: w, d: d}
	t.Cleanup(func() {
		d.Close()
		if h.st != nil {
			h.st.Close()
		}
		if t.Failed() {
			t.Logf("daemon log: %s", d.LogPath())
			keep := os.Getenv("E2E_KEEP")
			if keep == "" {
				t.Logf("last lines:\n%s", tail(d.Log(), 60))
			} else if fi, err := os.Stat(keep); err == nil && fi.IsDir() {
				// t.TempDir goes with the test: a directory in E2E_KEEP
				// keeps the failed run's daemon log.
				to := filepath.Join(keep, fmt.Sprintf("%s-%d.log", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano()))
				if err := os.WriteFile(to, d.Log(), 0o644); err == nil {
					t.Logf("daemon log kept: %s", to)
				}
			}
		}
	})
	return h
}

func (h *harness) writeConfig(yaml string) *config.Config {
	h.t.Helper()
	if err := os.WriteFile(h.d.ConfigPath(), []byte(yaml), 0o600); err != nil {
		h.t.Fatal(err)
	}
	cfg, err := config.Load(h.d.ConfigPath(), func(string) (string, bool) { return "", false })
	if err != nil {
		h.t.Fatalf("config: %v\n%s", err, yaml)
	}
	return cfg
}

// store opens the daemon's database from the test once the daemon has created it.
func (h *harness) store() *store.Store {
	h.t.Helper()
	if h.st != nil {
		return h.st
	}
	var openErr error
	ok := h.d.WaitFor(10*time.Second, func() bool {
		if _, err := os.Stat(h.d.DBPath()); err != nil {
			return false
		}
		h.st, openErr = store.Open(context.Background(), h.d.DBPath())
		return openErr == nil
	})
	if !ok {
		h.t.Fatalf("no database at %s: %v", h.d.DBPath(), openErr)
	}
	return h.st
}

func (h *harness) checkNoSecrets() {
	h.t.Helper()
	log := h.d.Log()
	for _, s := range Secrets() {
		if bytes.Contains(log, []byte(s)) {
			h.t.Errorf("a secret (%d chars) reached the daemon's log", len(s))
		}
	}
}

func tail(b []byte, lines int) []byte {
	n := 0
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			n++
			if n > lines {
				return b[i+1:]
			}
		}
	}
	return b
}

func reportProblems(t *testing.T, what string, bad []string) {
	t.Helper()
	for i, b := range bad {
		if i == 20 {
			t.Errorf("%s: … and %d more", what, len(bad)-20)
			break
		}
		t.Errorf("%s: %s", what, b)
	}
}

// rerunFinished reruns, as an operator would with the daemon down, the
// finished run of date of each pipeline that pick chooses. It returns how
// many it reran.
func (h *harness) rerunFinished(st *store.Store, cfg *config.Config, ps []Pipeline, date string, pick func(sekisho.Run) bool) int {
	h.t.Helper()
	ctx := context.Background()
	n := 0
	for _, p := range ps {
		r, err := st.Run(ctx, p.Name, date)
		if errors.Is(err, sekisho.ErrNotFound) {
			continue
		}
		if err != nil {
			h.t.Fatal(err)
		}
		if r.State.Terminal() && pick(r) {
			if _, err := engine.Rerun(ctx, st, cfg, p.Name, date, time.Now(), engine.By{Who: engine.ByCLI}); err != nil {
				h.t.Fatal(err)
			}
			n++
		}
	}
	return n
}

// noticeKinds counts notices by kind and checks the one broken-config
// reload of a chaos run queued exactly one config_invalid notice.
func (h *harness) noticeKinds(ns []sekisho.Notice) map[sekisho.NoticeKind]int {
	h.t.Helper()
	kinds := map[sekisho.NoticeKind]int{}
	for _, n := range ns {
		kinds[n.Kind]++
	}
	if kinds[sekisho.NoticeConfigInvalid] != 1 {
		h.t.Errorf("%d config_invalid notices, want 1", kinds[sekisho.NoticeConfigInvalid])
	}
	return kinds
}
