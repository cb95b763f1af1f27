// Package world is the one simulated outside of sekisho: the Glue, TROCCO,
// Airflow, Slack and Redshift Data API simulators on loopback servers, all
// on one clock, with the credentials they accept and the `connections:`
// block of a pipelines.yaml that points the real clients at them. The demo, the e2e
// tests, the benchmark and the daemon test of cmd/sekisho start it; each
// then scripts its own jobs on the simulators.
package world

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
)

// Credentials the simulators accept. They guard nothing but loopback
// simulators; they exist so the real clients sign and authenticate every
// request as they would against the vendors, and so tests can grep logs
// for them (Secrets).
const (
	AWSRegion       = "ap-northeast-1"
	AWSAccessKey    = "AKIDSEKISHOSIM"
	AWSSecretKey    = "sim-glue-secret"
	TroccoAPIKey    = "sim-trocco-key"
	AirflowUser     = "sekisho"
	AirflowPassword = "sim-airflow-password"
	SlackToken      = "xoxb-sim-slack-token"
	SlackChannel    = "C0SIM0001"
	// SlackSigningSecret signs the Slack simulator's button clicks
	// (interactivity: http); SlackOperator is the on-call engineer who
	// clicks them, listed in slack.operators.
	SlackSigningSecret = "sim-slack-signing-secret"
	SlackOperator      = "U0SIMONCALL"
)

// Secrets are the values that must never reach a log line, a notice or a page.
func Secrets() []string {
	return []string{AWSSecretKey, TroccoAPIKey, AirflowPassword, SlackToken, SlackSigningSecret}
}

// Airflow is one Airflow connection of the generated config: its name, the
// deployment (simulator server) it reaches, and its REST API version (v1
// is Airflow 2, v2 is Airflow 3).
type Airflow struct {
	Connection, Deployment, Version string
}

// Options configure a World.
type Options struct {
	Clock sekisho.Clock // default: the wall clock
	Seed  uint64        // the simulators' fault dice
	// Airflow lists the Airflow connections; each distinct deployment gets
	// its own server. Default: one connection "airflow" (v1) to deployment
	// "airflow".
	Airflow []Airflow
	// Slack adds options to the Slack simulator (an observer, an output).
	Slack []slacksim.Option
	// Redshift adds options to the Redshift Data API simulator (the
	// answers of a script's check queries).
	Redshift []redshiftsim.Option
	// TroccoLimit, when set, is the simulated TROCCO account's limit per 15
	// minutes, and the generated config's rate_limit; by default the
	// simulator enforces TROCCO's documented limit and the daemon uses its
	// default budget, the same one.
	TroccoLimit int
}

// World is the running simulators.
type World struct {
	Clock   sekisho.Clock
	Glue    *gluesim.Sim
	Trocco  *troccosim.Sim
	Airflow map[string]*airflowsim.Server // by deployment
	Slack   *slacksim.Sim
	// Redshift is a Redshift Serverless workgroup behind the Data API; it
	// checks SigV4 with the AWS key above.
	Redshift *redshiftsim.Sim
	URLs     URLs

	conns       []Airflow
	troccoLimit int
	servers     []*httptest.Server
}

// URLs are the simulators' loopback base URLs.
type URLs struct {
	Glue, Trocco, Slack, Redshift string
	Airflow                       map[string]string // by deployment
}

// SlackWebhook is the incoming-webhook URL the Slack simulator answers.
func (u URLs) SlackWebhook() string { return u.Slack + slacksim.WebhookPath }

// SlackAPI is the Web API base URL (bot mode) of the Slack simulator.
func (u URLs) SlackAPI() string { return u.Slack + "/api/" }

type wall struct{}

func (wall) Now() time.Time { return time.Now() }

// New starts the simulators, each on its own loopback server.
func New(o Options) (*World, error) {
	if o.Clock == nil {
		o.Clock = wall{}
	}
	if len(o.Airflow) == 0 {
		o.Airflow = []Airflow{{Connection: "airflow", Deployment: "airflow", Version: "v1"}}
	}
	w := &World{Clock: o.Clock, Airflow: map[string]*airflowsim.Server{}, conns: o.Airflow,
		URLs: URLs{Airflow: map[string]string{}}, troccoLimit: o.TroccoLimit}
	w.Glue = gluesim.New(o.Clock, gluesim.WithCredentials(AWSAccessKey, AWSSecretKey), gluesim.WithRegion(AWSRegion))
	tl := troccosim.Limit{}
	if o.TroccoLimit > 0 {
		tl = troccosim.Limit{Requests: o.TroccoLimit, Per: 15 * time.Minute}
	}
	w.Trocco = troccosim.New(troccosim.Options{Token: TroccoAPIKey, Clock: o.Clock, Seed: int64(o.Seed), Limit: tl})
	w.Slack = slacksim.New(o.Clock, append([]slacksim.Option{slacksim.WithToken(SlackToken)}, o.Slack...)...)
	w.URLs.Glue = w.serve(w.Glue)
	w.URLs.Trocco = w.serve(w.Trocco)
	w.URLs.Slack = w.serve(w.Slack)
	w.Redshift = redshiftsim.New(o.Clock, append([]redshiftsim.Option{redshiftsim.WithCredentials(AWSAccessKey, AWSSecretKey),
		redshiftsim.WithRegion(AWSRegion)}, o.Redshift...)...)
	w.URLs.Redshift = w.serve(w.Redshift)
	for _, c := range o.Airflow {
		if _, ok := w.Airflow[c.Deployment]; ok {
			continue
		}
		// Airflow 3's API takes only JWTs from /auth/token; the simulator in
		// password mode also answers /api/v1 with basic auth, as the Airflow 2
		// a v1 connection stands for.
		af, err := airflowsim.New(airflowsim.Options{Clock: o.Clock, Auth: airflowsim.AuthPassword, Username: AirflowUser,
			Password: AirflowPassword, Seed: o.Seed})
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("world: airflow simulator: %w", err)
		}
		w.Airflow[c.Deployment] = af
		w.URLs.Airflow[c.Deployment] = w.serve(af)
	}
	return w, nil
}

func (w *World) serve(h http.Handler) string {
	s := httptest.NewServer(h)
	w.servers = append(w.servers, s)
	return s.URL
}

// Close stops the simulators' servers.
func (w *World) Close() {
	for _, s := range w.servers {
		s.CloseClientConnections()
		s.Close()
	}
}

// Env is what a daemon process needs to reach the Glue simulator through
// the real AWS SDK's default credential chain, and nothing else.
func (w *World) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + AWSAccessKey, "AWS_SECRET_ACCESS_KEY=" + AWSSecretKey,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
}

// Connections is the `connections:` block of a pipelines.yaml pointing at
// the world, at the top level (two-space indents below it).
func (w *World) Connections() string {
	var b strings.Builder
	budget := ""
	if w.troccoLimit > 0 {
		budget = fmt.Sprintf(", rate_limit: {requests: %d, per: 15m}", w.troccoLimit)
	}
	fmt.Fprintf(&b, "connections:\n  glue: {region: %s, endpoint: %q}\n  trocco: {base_url: %q, api_key: %s%s}\n  airflow:\n",
		AWSRegion, w.URLs.Glue, w.URLs.Trocco, TroccoAPIKey, budget)
	conns := append([]Airflow(nil), w.conns...)
	sort.SliceStable(conns, func(i, j int) bool { return conns[i].Connection < conns[j].Connection })
	for _, c := range conns {
		auth := "basic" // Airflow 2
		if c.Version == "v2" {
			auth = "password" // Airflow 3: JWTs from /auth/token
		}
		fmt.Fprintf(&b, "    %s: {base_url: %q, api_version: %s, auth: %s, username: %s, password: %s}\n",
			c.Connection, w.URLs.Airflow[c.Deployment], c.Version, auth, AirflowUser, AirflowPassword)
	}
	return b.String()
}

// SlackWebhook is the `slack:` block of a pipelines.yaml in webhook mode.
func (w *World) SlackWebhook(lang string) string {
	return fmt.Sprintf("slack: {webhook_url: %q, language: %s}\n", w.URLs.SlackWebhook(), lang)
}

// SlackBot is the `slack:` block of a pipelines.yaml in bot mode (threads).
func (w *World) SlackBot(lang string) string {
	return fmt.Sprintf("slack: {token: %s, channel: %s, api_url: %q, language: %s}\n", SlackToken, SlackChannel,
		w.URLs.SlackAPI(), lang)
}
