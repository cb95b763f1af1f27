package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const withSecrets = `version: 1
server:
  token: ${RT_SERVER_TOKEN}
  read_token: ${RT_READ_TOKEN}
connections:
  trocco:
    api_key: ${RT_TROCCO_KEY}
  airflow:
    three:
      base_url: https://airflow.example.com
      api_version: v2
      auth: password
      username: sekisho
      password: ${RT_AIRFLOW_PASSWORD}
    composer:
      base_url: https://composer.example.com
      auth: bearer
      token: ${RT_AIRFLOW_TOKEN}
slack:
  webhook_url: ${RT_SLACK_WEBHOOK}
timezone: ${RT_TZ}
pipelines:
  - name: a
    schedule: "0 2 * * *"
    upstreams:
      - {name: j, type: trocco_job, job_definition_id: 5}
`

func TestReadingCommandsNeedNoSecrets(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(withSecrets), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"RT_TZ": "Asia/Tokyo"}
	lookup := func(n string) (string, bool) { v, ok := env[n]; return v, ok }

	cfg, err := LoadReading(path, lookup)
	if err != nil {
		t.Fatalf("a reading command refused unset secrets: %v", err)
	}
	if cfg.Connections.Trocco.APIKey != "" || cfg.Server.Token != "" || cfg.Timezone != "Asia/Tokyo" {
		t.Errorf("cfg %+v", cfg.Server)
	}

	// run and validate still insist, naming every variable.
	_, err = Load(path, lookup)
	for _, v := range []string{"RT_SERVER_TOKEN", "RT_READ_TOKEN", "RT_TROCCO_KEY", "RT_AIRFLOW_PASSWORD", "RT_AIRFLOW_TOKEN", "RT_SLACK_WEBHOOK"} {
		if err == nil || !strings.Contains(err.Error(), v) {
			t.Errorf("Load did not name %s: %v", v, err)
		}
	}

	// An unset variable outside a secret field is still an error.
	delete(env, "RT_TZ")
	if _, err := LoadReading(path, lookup); err == nil || !strings.Contains(err.Error(), "RT_TZ is not set") {
		t.Errorf("LoadReading with timezone unset: %v", err)
	}
}
