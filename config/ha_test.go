package config

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestHALease(t *testing.T) {
	for body, want := range map[string]time.Duration{
		"":                     DefaultLease,
		"ha:\n  lease: 9s\n":   9 * time.Second,
		"ha: {lease: 1m30s}\n": 90 * time.Second,
	} {
		path := filepath.Join(t.TempDir(), "p.yaml")
		os.WriteFile(path, []byte("version: 1\n"+body+"pipelines:\n  - name: a\n    schedule: \"0 2 * * *\"\n    upstreams: []\n"), 0o644)
		cfg, err := Load(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.HA.Lease != want {
			t.Errorf("%q: lease %v, want %v", body, cfg.HA.Lease, want)
		}
	}
}
