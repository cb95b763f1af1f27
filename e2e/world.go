package e2e

import (
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/world"
)

// ServerToken is the daemon's bearer token for writes and events.
const ServerToken = "e2e-write-token"

// The Airflow connections of the generated config: one deployment reached
// through the v1 (Airflow 2) and the v2 (Airflow 3) API.
const (
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

// World is the simulated world of package sim/world, with its one Airflow
// deployment at hand.
type World struct {
	*world.World
	Airflow *airflowsim.Server
}

// NewWorld starts the simulators on the wall clock. seed drives their fault dice.
func NewWorld(seed uint64) *World { return NewWorldOn(nil, seed) }

// NewWorldOn starts the simulators on clock: the wall clock (nil), or the
// fastclock the daemon is given, so both sides agree on simulated time.
func NewWorldOn(clock sekisho.Clock, seed uint64) *World {
	w, err := world.New(world.Options{Clock: clock, Seed: seed, Airflow: []world.Airflow{
		{Connection: airflowV1Conn, Deployment: "composer", Version: "v1"},
		{Connection: airflowV2Conn, Deployment: "composer", Version: "v2"}},
		TroccoLimit: TroccoLimit})
	if err != nil {
		panic(err) // only a bad airflowsim option, fixed above
	}
	return &World{World: w, Airflow: w.Airflow["composer"]}
}

// Secrets are the values that must never reach a log line.
func Secrets() []string { return append(world.Secrets(), ServerToken) }

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
%s`, s.PokeInterval, s.Timeout, s.WindowStart, ServerToken, w.Connections())
	if s.SlackBot {
		b.WriteString(w.SlackBot("en"))
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
