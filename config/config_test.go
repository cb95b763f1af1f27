package config

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// secretEnv stands in for a real environment; its values must never show up
// in an error.
var secretEnv = map[string]string{
	"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T000/B000/SECRETwebhook",
	"SLACK_BOT_TOKEN":   "xoxb-SECRET-bot-token",
	"TOKEN":             "SECRET-server-token",
	"TROCCO":            "SECRET-trocco-key",
	"AIRFLOW_PASSWORD":  "SECRET-airflow-password",
	"AIRFLOW_TOKEN":     "SECRET-airflow-token",
	"JOB_NAME":          "export-job",
	"TEMPLATE_LIKE":     "{{ .SECRET }}",
}

func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

func parseFile(t *testing.T, path string, env map[string]string) (*Config, error) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return Parse(filepath.Base(path), data, envOf(env))
}

func TestInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.yaml")
	covered := map[string]bool{}
	for _, tt := range invalidCases {
		covered[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseFile(t, filepath.Join("testdata/invalid", tt.name+".yaml"), secretEnv)
			if err == nil {
				t.Fatalf("Parse succeeded with %d pipelines, want errors", len(cfg.Pipelines))
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want Errors", err)
			}
			got := strings.Split(err.Error(), "\n")
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			for _, v := range secretEnv {
				if strings.Contains(err.Error(), v) {
					t.Errorf("an error shows the value of an environment variable: %q", v)
				}
			}
		})
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".yaml"); !covered[name] {
			t.Errorf("%s has no case in invalidCases", f)
		}
	}
	if len(invalidCases) < 30 {
		t.Errorf("only %d invalid cases", len(invalidCases))
	}
}

func TestErrorsSortedByPosition(t *testing.T) {
	_, err := parseFile(t, "testdata/invalid/unknown_top_key.yaml", nil)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, want Errors", err)
	}
	for i := 1; i < len(errs); i++ {
		a, b := errs[i-1], errs[i]
		if a.Line > b.Line || a.Line == b.Line && a.Col > b.Col {
			t.Errorf("errors out of order: %v before %v", a, b)
		}
	}
	want := Error{File: "unknown_top_key.yaml", Line: 3, Col: 1, Path: "pipelnes", Msg: `unknown key "pipelnes" (did you mean "pipelines"?)`}
	if errs[len(errs)-1] != want {
		t.Errorf("last error = %#v, want %#v", errs[len(errs)-1], want)
	}
}

func TestExamplePipelinesYAML(t *testing.T) {
	env := map[string]string{"SEKISHO_TOKEN": "t", "TROCCO_API_KEY": "k", "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/x"}
	cfg, err := Load("../pipelines.yaml", envOf(env))
	if err != nil {
		t.Fatalf("the example pipelines.yaml does not validate:\n%v", err)
	}
	if len(cfg.Pipelines) < 4 {
		t.Errorf("example has %d pipelines", len(cfg.Pipelines))
	}
	if got := cfg.Downstreams("socrates_daily"); !slices.Equal(got, []string{"kant_daily", "reverse_etl_daily"}) {
		t.Errorf("Downstreams(socrates_daily) = %v", got)
	}
	// Every secret the example uses comes from one of the three variables.
	for k := range env {
		delete(env, k)
		if _, err := Load("../pipelines.yaml", envOf(env)); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("without %s: err = %v, want it named", k, err)
		}
		env[k] = "x"
	}
}

func TestGateOnlyNeedsNoEnvironment(t *testing.T) {
	cfg, err := parseFile(t, "testdata/valid/gate_only.yaml", map[string]string{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Connections.Glue != nil || cfg.Connections.Trocco != nil || len(cfg.Connections.Airflow) != 0 {
		t.Error("gate_only.yaml has connections")
	}
	for _, p := range cfg.Pipelines {
		if p.Trigger != nil {
			t.Errorf("%s has a trigger", p.Name)
		}
		for _, u := range p.Upstreams {
			if u.Type != TypePipeline {
				t.Errorf("%s.%s is %s", p.Name, u.Name, u.Type)
			}
		}
	}
	if got := cfg.Pipeline("marts_watch").Location.String(); got != "America/New_York" {
		t.Errorf("marts_watch timezone = %s", got)
	}
	if got := cfg.Pipeline("ingest_watch").Location.String(); got != "Europe/Berlin" {
		t.Errorf("ingest_watch timezone = %s, want the top-level one", got)
	}
}

func TestBuiltInDefaults(t *testing.T) {
	cfg, err := Parse("min.yaml", []byte("version: 1\npipelines:\n  - name: a\n    schedule: \"0 2 * * *\"\n    upstreams: []\n"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Pipelines[0]
	checks := []struct {
		name      string
		got, want any
	}{
		{"timezone", p.Timezone, "UTC"},
		{"location", p.Location, time.UTC},
		{"poke_interval", p.PokeInterval, 60 * time.Second},
		{"timeout", p.Timeout, 6 * time.Hour},
		{"window_start", p.WindowStart, sekisho.TimeOfDay{Set: true}},
		{"condition", p.Condition, "all"},
		{"on_upstream_failure", p.OnUpstreamFailure, "wait"},
		{"store.path", cfg.Store.Path, "sekisho.db"},
		{"store.retention keeps everything", cfg.Store.Retention, time.Duration(0)},
		{"server.listen", cfg.Server.Listen, ":8080"},
		{"slack.language", cfg.Slack.Language, "ja"},
		{"slack enabled", cfg.Slack.Enabled(), false},
		{"recover_by", p.RecoverBy("2025-03-01", p.GateOn("2025-03-01")), time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)},
		{"path", cfg.Path, "min.yaml"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestFullConfig(t *testing.T) {
	cfg, err := parseFile(t, "testdata/valid/full.yaml", secretEnv)
	if err != nil {
		t.Fatal(err)
	}
	first, second := cfg.Pipeline("first"), cfg.Pipeline("second")
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	checks := []struct {
		name      string
		got, want any
	}{
		{"store.path", cfg.Store.Path, "/var/lib/sekisho/sekisho.db"},
		{"store.retention", cfg.Store.Retention, 400 * 24 * time.Hour},
		{"server.public_url trailing slash trimmed", cfg.Server.PublicURL, "http://localhost:9090"},
		{"server.token", cfg.Server.Token.Value(), secretEnv["TOKEN"]},
		{"$$ is a literal $", cfg.Server.ReadToken.Value(), "${literal}"},
		{"glue", *cfg.Connections.Glue, Glue{Region: "us-east-1", Endpoint: "http://127.0.0.1:4566", RateLimit: RateLimit{Requests: 5, Per: time.Second}}},
		{"trocco default base_url", cfg.Connections.Trocco.BaseURL, "https://trocco.io"},
		{"airflow basic", *cfg.Connections.Airflow["basic-env"], Airflow{Name: "basic-env", BaseURL: "http://airflow:8080", APIVersion: "v1", Auth: "basic", Username: "admin", Password: Secret(secretEnv["AIRFLOW_PASSWORD"])}},
		{"airflow password", *cfg.Connections.Airflow["password-env"], Airflow{Name: "password-env", BaseURL: "http://airflow3:8080", APIVersion: "v2", Auth: "password", Username: "sekisho", Password: Secret(secretEnv["AIRFLOW_PASSWORD"]), RateLimit: RateLimit{Requests: 50, Per: time.Minute}}},
		{"trocco default budget", cfg.Connections.Trocco.RateLimit, DefaultTroccoRateLimit},
		{"glue budget", cfg.Connections.Glue.RateLimit, RateLimit{Requests: 5, Per: time.Second}},
		{"airflow bearer defaults", cfg.Connections.Airflow["bearer-env"].APIVersion, "v1"},
		{"slack bot", cfg.Slack.Token.Value(), secretEnv["SLACK_BOT_TOKEN"]},
		{"slack language", cfg.Slack.Language, "en"},
		{"pipeline timezone wins", first.Location, time.UTC},
		{"top-level timezone", second.Location, tokyo},
		{"defaults poke_interval", second.PokeInterval, 30 * time.Second},
		{"defaults timeout", first.Timeout, 4 * time.Hour},
		{"defaults window_start", second.WindowStart, sekisho.TimeOfDay{Days: -1, Hour: 22, Set: true}},
		{"defaults on_upstream_failure", second.OnUpstreamFailure, "fail"},
		{"defaults notify", second.Notify, Notify{Channel: "#data", On: []sekisho.NoticeKind{"upstream_failed", "trigger_failed", "run_failed", "timed_out"}}},
		{"merge key in notify", first.Notify.Mention, "@here"},
		{"merge key channel", first.Notify.Channel, "#data"},
		{"env in upstream", first.Upstreams[0].JobName, "export-job"},
		{"trocco_job id", first.Upstreams[2].JobDefinitionID, int64(7)},
		{"slo", *first.SLO, SLO{Deadline: sekisho.TimeOfDay{Days: 1, Hour: 1, Set: true}, Objective: 1}},
		{"max_duration", first.MaxDuration, 90 * time.Minute},
		{"impacts", first.Impacts, []string{"a", "b"}},
		{"trocco trigger", *second.Trigger, sekisho.TriggerSpec{Type: "trocco_workflow", PipelineDefinitionID: 9, RetryUnknown: true}},
		{"note keeps template variables", first.Trigger.Note, "{{ $p := .Pipeline }}{{ $p }} ${x}"},
		{"unpause", first.Trigger.Unpause, true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	wantConf := map[string]any{
		"date": "{{ .LogicalDate }}", "job": "{{ .Upstreams.job.ExternalID }}",
		"finished": "{{ .Upstreams.job.FinishedAt }}", "gate": "{{ .GateAt }}",
		"n": int64(3), "ratio": 0.5, "flags": []any{true, nil, "x"},
		"nested": map[string]any{"a": map[string]any{"b": "{{ .Attempt }}"}},
		"secret": `{{"{{ .SECRET }}"}}`,
	}
	if !reflect.DeepEqual(first.Trigger.Conf, wantConf) {
		t.Errorf("conf = %#v\nwant %#v", first.Trigger.Conf, wantConf)
	}
	// A value from the environment renders as itself, never as template code.
	out, err := sekisho.RenderConf(first.Trigger.Conf, sampleData(first, []string{"job"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := out.(map[string]any)["secret"]; got != secretEnv["TEMPLATE_LIKE"] {
		t.Errorf("rendered secret = %q", got)
	}
	if _, err := json.Marshal(out); err != nil {
		t.Errorf("conf is not JSON-friendly: %v", err)
	}
}

func TestSpecRoundTrip(t *testing.T) {
	cfg, err := parseFile(t, "testdata/valid/full.yaml", secretEnv)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cfg.Pipelines {
		back, err := PipelineFromSpec(p.Spec())
		if err != nil {
			t.Fatal(err)
		}
		if back.Name != p.Name || back.Location.String() != p.Location.String() || back.Schedule != p.Schedule {
			t.Errorf("round trip of %s lost fields: %+v", p.Name, back)
		}
		if got, want := ScheduleFires(back, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 8, 0, 0, 0, 0, time.UTC)),
			ScheduleFires(p, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 8, 0, 0, 0, 0, time.UTC)); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("fires differ after round trip: %v vs %v", got, want)
		}
	}
}

// TestSecretsNeverInErrors puts a secret into every kind of field that can
// fail and checks that no error shows it, while each field still fails.
func TestSecretsNeverInErrors(t *testing.T) {
	const secret = "hunter2-SECRET"
	env := map[string]string{"S": secret}
	yaml := `version: ${S}
timezone: ${S}
server: {public_url: "${S}"}
connections:
  trocco: {base_url: "${S}", api_key: x}
  airflow:
    a: {base_url: "${S}", api_version: "${S}", auth: "${S}"}
slack: {webhook_url: "${S}", token: "${S}", language: "${S}", digest_at: "${S}"}
pipelines:
  - name: ${S}
    schedule: ${S}
    timezone: ${S}
    poke_interval: ${S}
    timeout: ${S}
    window_start: ${S}
    upstreams:
      - {name: "${S}", type: "${S}"}
      - {name: x, type: trocco_job, job_definition_id: "${S}"}
      - {name: y, type: airflow_dag, connection: "${S}", dag_id: d}
    condition: ${S}
    on_upstream_failure: ${S}
    trigger: {type: airflow_dag, connection: a, dag_id: d, conf: {x: "{{ ${S} }}"}, note: "{{ .${S} }}", unpause: "${S}"}
    slo: {deadline: "${S}", objective: "${S}"}
    max_duration: ${S}
    notify: {on: ["${S}"]}
`
	_, err := Parse("secret.yaml", []byte(yaml), envOf(env))
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the secret leaked:\n%v", err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) < 25 {
		t.Errorf("only %d errors for 28 bad fields:\n%v", len(lines), err)
	}
}

func TestExpand(t *testing.T) {
	env := envOf(map[string]string{"A": "1", "EMPTY": "", "T": "{{ x }}"})
	tests := []struct {
		in, want string
		template bool
		err      string
	}{
		{"plain", "plain", false, ""},
		{"${A}-${A}", "1-1", false, ""},
		{"$$", "$", false, ""},
		{"$${A}", "${A}", false, ""},
		{"a$", "a$", false, ""},
		{"{{ $x := 1 }}", "{{ $x := 1 }}", true, ""},
		{"[${EMPTY}]", "[]", false, ""},
		{"${T}", "{{ x }}", false, ""},
		{"${T}", `{{"{{ x }}"}}`, true, ""},
		{"${NOPE}", "", false, "environment variable NOPE is not set"},
		{"${1A}", "", false, `bad variable reference "${1A}"`},
		{"${A", "", false, `unclosed "${"`},
	}
	for _, tt := range tests {
		got, _, err := expand(tt.in, env, tt.template)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("expand(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid", "testdata/invalid"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	if data, err := os.ReadFile("../pipelines.yaml"); err == nil {
		f.Add(data)
	}
	f.Add([]byte("a: &a [*a, *a]\nb: *a"))
	env := envOf(secretEnv)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data, env)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T is not a non-empty Errors", err)
			}
			return
		}
		for _, p := range cfg.Pipelines {
			p.Spec()
			ScheduleFires(p, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 3, 0, 0, 0, 0, time.UTC))
		}
		cfg.Graph()
	})
}
