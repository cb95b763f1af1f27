package world_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/sim/world"
)

// TestConnectionsLoad: the blocks a world writes are a valid config whose
// connections reach its servers.
func TestConnectionsLoad(t *testing.T) {
	w, err := world.New(world.Options{Airflow: []world.Airflow{{"af1", "composer", "v1"}, {"af2", "composer", "v2"},
		{"legacy", "old", "v1"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(w.Airflow) != 2 {
		t.Fatalf("deployments = %d, want 2", len(w.Airflow))
	}
	for _, slack := range []string{w.SlackWebhook("en"), w.SlackBot("ja")} {
		path := filepath.Join(t.TempDir(), "pipelines.yaml")
		yaml := "version: 1\n" + w.Connections() + slack + "pipelines:\n  - {name: p, schedule: \"0 2 * * *\", upstreams: []}\n"
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(path, nil)
		if err != nil {
			t.Fatalf("%v\n%s", err, yaml)
		}
		if got := cfg.Connections.Airflow["af2"]; got.BaseURL != w.URLs.Airflow["composer"] || got.APIVersion != "v2" {
			t.Errorf("af2 = %+v", got)
		}
		if got := cfg.Connections.Airflow["legacy"]; got.BaseURL != w.URLs.Airflow["old"] {
			t.Errorf("legacy = %+v", got)
		}
		if cfg.Connections.Glue.Endpoint != w.URLs.Glue || cfg.Connections.Trocco.BaseURL != w.URLs.Trocco {
			t.Errorf("glue %+v trocco %+v", cfg.Connections.Glue, cfg.Connections.Trocco)
		}
	}
	for _, kv := range w.Env() {
		if strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") && kv != "AWS_SECRET_ACCESS_KEY="+world.AWSSecretKey {
			t.Errorf("env %s", kv)
		}
	}
}
