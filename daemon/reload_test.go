package daemon

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/testkit/teststore"
)

func TestReloadKeepsTheOldConfigWhenTheNewOneIsInvalid(t *testing.T) {
	// The gate-only example needs no connection and no environment.
	raw, err := os.ReadFile("../config/testdata/valid/gate_only.yaml")
	if err != nil {
		t.Fatal(err)
	}
	gateOnly := string(raw)
	cfgPath, cfg, st := setup(t, gateOnly)
	// The refusal's log line comes after its notice is stored: a daemon
	// killed right after the line (as TestChaosDays -chaos.full does) has
	// not lost the notice.
	stored := -1
	logger := slog.New(onRecord{slog.NewTextHandler(io.Discard, nil), func(r slog.Record) {
		if strings.HasPrefix(r.Message, "config reload refused") && stored < 0 {
			ns, err := st.AllNotices(context.Background())
			if err != nil {
				t.Error(err)
			}
			stored = len(ns)
		}
	}})
	d, err := New(context.Background(), Options{Config: cfg, ConfigPath: cfgPath, Store: st,
		Logger: logger, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	// A broken file: refused, one notice, the old config stays.
	if err := os.WriteFile(cfgPath, []byte(gateOnly+"  - name: Bad Name\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Reload(ctx, "SIGHUP")
	d.Reload(ctx, "SIGHUP") // the same error again: no second notice
	if d.cfg.Load() != cfg || d.eng.Config() != cfg {
		t.Fatal("an invalid config replaced the running one")
	}
	if stored != 1 {
		t.Fatalf("%d notices stored when the refusal was logged, want 1", stored)
	}
	ns, err := st.AllNotices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != 1 || ns[0].Kind != sekisho.NoticeConfigInvalid || !strings.Contains(ns[0].Facts.Message, "pipelines[3]") {
		t.Fatalf("notices = %+v", ns)
	}

	// A valid change: applied to the engine and the board.
	if err := os.WriteFile(cfgPath, []byte(strings.Replace(gateOnly, "opens every morning; the root of the chain", "the new clock", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	d.Reload(ctx, "file changed")
	if got := d.eng.Config().Pipeline("business_day").Description; got != "the new clock" {
		t.Fatalf("reload not applied to the engine: %q", got)
	}
	if d.cfg.Load() != d.eng.Config() {
		t.Fatal("the board and the engine disagree on the config")
	}
}

// setup writes yaml as a temporary pipelines.yaml, loads it, and opens a
// store beside it (closed when the test ends).
func setup(t *testing.T, yaml string) (string, *config.Config, *store.Store) {
	t.Helper()
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "pipelines.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := teststore.Open(context.Background(), filepath.Join(dir, "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return cfgPath, cfg, st
}

// onRecord is a slog handler that calls f with every record it handles.
type onRecord struct {
	slog.Handler
	f func(slog.Record)
}

func (h onRecord) Handle(ctx context.Context, r slog.Record) error {
	h.f(r)
	return h.Handler.Handle(ctx, r)
}
