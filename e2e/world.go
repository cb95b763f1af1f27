package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
)

// Credentials the simulators accept and the daemon is given. They are
// test values, and the checks grep the daemon's log for them.
const (
	TroccoKey     = "trocco-e2e-key"
	AirflowUser   = "e2e"
	AirflowPass   = "airflow-e2e-password"
	SlackToken    = "xoxb-e2e-slack-token"
	SlackChannel  = "C0E2E0001"
	ServerToken   = "e2e-write-token"
	awsAccessKey  = "AKIDE2E"
	awsSecretKey  = "aws-e2e-secret"
	airflowV1Conn = "af1"
	airflowV2Conn = "af2"
)

// TroccoLimit is the e2e account's TROCCO limit per 15 minutes, enforced by
// the simulator and given to the daemon as its budget: the e2e worlds poll
// every second on real or sped-up time and restart the daemon dozens of
// times, far more than TROCCO's default 100 allows, and the checks need
// the gates to open within seconds. The default limit is tested in the
// budget's own tests and in sekisho-bench -budget.
const TroccoLimit = 20000

// World is the four simulators on loopback, on the wall clock: the daemon
// runs on the real clock, so its world must too.
type World struct {
	Glue                                     *gluesim.Sim
	Trocco                                   *troccosim.Sim
	Airflow                                  *airflowsim.Server
	Slack                                    *slacksim.Sim
	servers                                  []*httptest.Server
	glueURL, troccoURL, airflowURL, slackURL string
}

// NewWorld starts the simulators on the wall clock. seed drives their fault dice.
func NewWorld(seed uint64) *World { return NewWorldOn(wall{}, seed) }

// NewWorldOn starts the simulators on clock: the wall clock, or the
// fastclock the daemon is given, so both sides agree on simulated time.
func NewWorldOn(clock sekisho.Clock, seed uint64) *World {
	w := &World{
		Glue: gluesim.New(clock, gluesim.WithCredentials(awsAccessKey, awsSecretKey)),
		Trocco: troccosim.New(troccosim.Options{Token: TroccoKey, Seed: int64(seed), Clock: clock,
			Limit: troccosim.Limit{Requests: TroccoLimit, Per: 15 * time.Minute}}),
		Airflow: airflowsim.MustNew(airflowsim.Options{Auth: airflowsim.AuthPassword, Username: AirflowUser, Password: AirflowPass, Seed: seed, Clock: clock}),
		Slack:   slacksim.New(clock, slacksim.WithToken(SlackToken)),
	}
	serve := func(h interface {
		ServeHTTP(http.ResponseWriter, *http.Request)
	}) string {
		s := httptest.NewServer(h)
		w.servers = append(w.servers, s)
		return s.URL
	}
	w.glueURL = serve(w.Glue)
	w.troccoURL = serve(w.Trocco)
	w.airflowURL = serve(w.Airflow)
	w.slackURL = serve(w.Slack)
	return w
}

// Close stops the simulators' servers.
func (w *World) Close() {
	for _, s := range w.servers {
		s.CloseClientConnections()
		s.Close()
	}
}

// Env is what the daemon process needs to reach the Glue simulator through
// the real AWS SDK's default credential chain.
func (w *World) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + awsAccessKey, "AWS_SECRET_ACCESS_KEY=" + awsSecretKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
}

// Secrets are the values that must never reach a log line.
func Secrets() []string {
	return []string{TroccoKey, AirflowPass, SlackToken, ServerToken, awsSecretKey}
}

type wall struct{}

func (wall) Now() time.Time { return time.Now() }

// Pipeline is one pipeline of a generated pipelines.yaml, as YAML flow text.
type Pipeline struct {
	Name      string
	Schedule  string
	Upstreams []string // flow mappings, e.g. {name: a, type: glue_job, job_name: a}
	Trigger   string   // a flow mapping, or empty for a gate-only pipeline
	Extra     string   // more keys, each line indented by four spaces
}

// Settings are the top-level knobs of a generated config.
type Settings struct {
	PokeInterval string // default 1s
	Timeout      string // default 10m
	SlackBot     bool   // bot mode with threads; else no Slack
	WindowStart  string // default "-1d 00:00"
}

// GlueUpstream is a glue_job upstream.
func GlueUpstream(name, job string) string {
	return fmt.Sprintf("{name: %s, type: glue_job, job_name: %s}", name, job)
}

// TroccoJobUpstream is a trocco_job upstream.
func TroccoJobUpstream(name string, def int64) string {
	return fmt.Sprintf("{name: %s, type: trocco_job, job_definition_id: %d}", name, def)
}

// AirflowTrigger triggers dag on the v1 (Airflow 2) or v2 (Airflow 3) API.
func AirflowTrigger(version, dag string) string {
	conn := airflowV1Conn
	if version == "v2" {
		conn = airflowV2Conn
	}
	return fmt.Sprintf(`{type: airflow_dag, connection: %s, dag_id: %s, conf: {date: "{{ .LogicalDate }}"}}`, conn, dag)
}

// TroccoTrigger triggers a TROCCO workflow.
func TroccoTrigger(def int64) string {
	return fmt.Sprintf("{type: trocco_workflow, pipeline_definition_id: %d}", def)
}

// Config renders a pipelines.yaml pointing at the world.
func (w *World) Config(s Settings, ps []Pipeline) string {
	if s.PokeInterval == "" {
		s.PokeInterval = "1s"
	}
	if s.Timeout == "" {
		s.Timeout = "10m"
	}
	if s.WindowStart == "" {
		s.WindowStart = "-1d 00:00"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `version: 1
timezone: UTC
defaults:
  poke_interval: %s
  timeout: %s
  window_start: %q
server:
  token: %s
connections:
  glue: {region: ap-northeast-1, endpoint: %q}
  trocco: {base_url: %q, api_key: %s, rate_limit: {requests: %d, per: 15m}}
  airflow:
    %s: {base_url: %q, api_version: v1, auth: basic, username: %s, password: %s}
    %s: {base_url: %q, api_version: v2, auth: password, username: %s, password: %s}
`, s.PokeInterval, s.Timeout, s.WindowStart, ServerToken, w.glueURL, w.troccoURL, TroccoKey, TroccoLimit,
		airflowV1Conn, w.airflowURL, AirflowUser, AirflowPass, airflowV2Conn, w.airflowURL, AirflowUser, AirflowPass)
	if s.SlackBot {
		fmt.Fprintf(&b, "slack: {token: %s, channel: %s, api_url: %q, language: en}\n", SlackToken, SlackChannel, w.slackURL+"/api/")
	}
	b.WriteString("pipelines:\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "  - name: %s\n    schedule: %q\n    upstreams:\n", p.Name, p.Schedule)
		for _, u := range p.Upstreams {
			fmt.Fprintf(&b, "      - %s\n", u)
		}
		if p.Trigger != "" {
			fmt.Fprintf(&b, "    trigger: %s\n", p.Trigger)
		}
		if p.Extra != "" {
			b.WriteString(p.Extra)
			if !strings.HasSuffix(p.Extra, "\n") {
				b.WriteString("\n")
			}
		}
	}
	return b.String()
}

// CronAt is a six-field cron that fires once a day at t's second (UTC).
func CronAt(t time.Time) string {
	t = t.UTC()
	return fmt.Sprintf("%d %d %d * * *", t.Second(), t.Minute(), t.Hour())
}
