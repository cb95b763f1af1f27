// Package demo is the simulated world behind `sekisho demo`: the Glue,
// TROCCO, Airflow and Slack simulators on loopback, a day-by-day script of
// what their jobs do (normal days and incidents), the demo's copy of the
// example pipelines pointed at them, and the drivers that move one shared
// fake clock: fast through weeks of history, then at a watchable pace.
//
// The package knows nothing of how the daemon is wired: cmd/sekisho builds
// the real engine, store, notifier and board on top of a World.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/gluesim"
	"github.com/sekisho-dev/sekisho/sim/redshiftsim"
	"github.com/sekisho-dev/sekisho/sim/slacksim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/sim/world"
)

// TimeZone is where the demo's pipelines live, as in the root pipelines.yaml.
const TimeZone = "Asia/Tokyo"

// Options configure a World.
type Options struct {
	Seed uint64 // picks the order of incidents and the jitter of durations
	// OnSlack is called with every message the Slack double receives.
	OnSlack func(slacksim.Message)
	// OnAction is called when the world pushes something to sekisho: who
	// ("trocco", "operator") and what, for the terminal.
	OnAction func(at time.Time, who, what string)
	Logger   *slog.Logger // default: discard
}

// World is the simulated outside of sekisho: every upstream and downstream
// system, each on its own loopback server, evolving on one fake clock.
type World struct {
	sims     *world.World
	Clock    *clockwork.FakeClock
	Loc      *time.Location
	Glue     *gluesim.Sim
	Trocco   *troccosim.Sim
	Composer *airflowsim.Server // composer-prod: the DAGs sekisho triggers
	Legacy   *airflowsim.Server // composer-legacy: an upstream DAG
	Slack    *slacksim.Sim
	Redshift *redshiftsim.Sim // the warehouse: data-quality checks and long queries

	seed     uint64
	log      *slog.Logger
	onAction func(at time.Time, who, what string)
	client   *http.Client

	mu      sync.Mutex
	target  string // sekisho's base URL, for events and operator actions
	token   string
	planned map[string]bool // logical dates whose script is in the simulators
	actions []action        // timed actions, sorted by at
}

// URLs are the simulators' loopback addresses.
type URLs struct {
	Glue, Trocco, Composer, Legacy, SlackWebhook, Redshift string
	// Slack is the Slack simulator's base URL: its Web API (bot mode) is
	// under /api/.
	Slack string
}

// action is something the world does at a moment: push an event, change a
// workflow's outcome, rerun a run as an operator would.
type action struct {
	at   time.Time
	who  string // for the terminal; empty for changes inside a simulator
	what string
	do   func(ctx context.Context) error
}

// NewWorld starts the simulators on loopback servers, on clock.
func NewWorld(clock *clockwork.FakeClock, o Options) (*World, error) {
	loc, err := time.LoadLocation(TimeZone)
	if err != nil {
		return nil, fmt.Errorf("demo: time zone %s: %w", TimeZone, err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	w := &World{Clock: clock, Loc: loc, seed: o.Seed, log: o.Logger, onAction: o.OnAction, planned: map[string]bool{},
		client: &http.Client{Timeout: 10 * time.Second}}
	var slackOpts []slacksim.Option
	if o.OnSlack != nil {
		slackOpts = append(slackOpts, slacksim.WithOnMessage(o.OnSlack))
	}
	w.sims, err = world.New(world.Options{Clock: clock, Slack: slackOpts, Redshift: w.warehouseOptions(), Airflow: []world.Airflow{
		{Connection: "composer-prod", Deployment: "composer-prod", Version: "v1"},
		{Connection: "composer-legacy", Deployment: "composer-legacy", Version: "v1"}}})
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	w.Glue, w.Trocco, w.Slack, w.Redshift = w.sims.Glue, w.sims.Trocco, w.sims.Slack, w.sims.Redshift
	w.Composer, w.Legacy = w.sims.Airflow["composer-prod"], w.sims.Airflow["composer-legacy"]
	w.Glue.AddJob(GlueJob)
	w.Glue.AddWorkflow(GlueWorkflow)
	w.Trocco.DefineJob(TroccoJob)
	w.Trocco.DefineWorkflow(TroccoAdsSources, troccosim.Outcome{RunFor: 25 * time.Minute, Status: "succeeded"})
	w.Trocco.DefineWorkflow(TroccoAdsLoad, troccosim.Outcome{RunFor: 35 * time.Minute, Status: "succeeded"})
	w.Composer.AddDAG(DagSocrates, airflowsim.DAG{Duration: time.Hour})
	w.Composer.AddDAG(DagQuality, airflowsim.DAG{Duration: 30 * time.Minute})
	w.Composer.AddDAG(DagReverseETL, airflowsim.DAG{Duration: 25 * time.Minute})
	w.Legacy.AddDAG(DagExportDone, airflowsim.DAG{Duration: 15 * time.Minute})
	w.addWarehouse()
	w.addHourly()
	return w, nil
}

// URLs returns the simulators' addresses.
func (w *World) URLs() URLs {
	u := w.sims.URLs
	return URLs{Glue: u.Glue, Trocco: u.Trocco, Composer: u.Airflow["composer-prod"], Legacy: u.Airflow["composer-legacy"],
		SlackWebhook: u.SlackWebhook(), Redshift: u.Redshift, Slack: u.Slack}
}

// Close stops the simulators' servers.
func (w *World) Close() { w.sims.Close() }

// Connect tells the world where sekisho listens and the bearer token that
// lets it push events and act as an operator.
func (w *World) Connect(baseURL, token string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.target = strings.TrimSuffix(baseURL, "/")
	w.token = token
}

// at schedules an action; callers hold w.mu.
func (w *World) at(t time.Time, who, what string, do func(ctx context.Context) error) {
	w.actions = append(w.actions, action{at: t, who: who, what: what, do: do})
	sort.SliceStable(w.actions, func(i, j int) bool { return w.actions[i].at.Before(w.actions[j].at) })
}

// NextAction returns the time of the next scripted action after now, or
// zero when none is planned.
func (w *World) NextAction(now time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.actions {
		if a.at.After(now) {
			return a.at
		}
	}
	return time.Time{}
}

// Act scripts the days up to tomorrow and carries out every action due at
// now, oldest first. An action that fails is returned; later ones still run
// on the next call.
func (w *World) Act(ctx context.Context, now time.Time) error {
	w.planThrough(now.In(w.Loc).AddDate(0, 0, 1))
	for {
		w.mu.Lock()
		if len(w.actions) == 0 || w.actions[0].at.After(now) {
			w.mu.Unlock()
			return nil
		}
		a := w.actions[0]
		w.actions = w.actions[1:]
		w.mu.Unlock()
		if err := a.do(ctx); err != nil {
			return fmt.Errorf("demo: %s: %w", a.what, err)
		}
		w.log.Info("demo action", "what", a.what, "at", a.at)
		if a.who != "" && w.onAction != nil {
			w.onAction(now, a.who, a.what)
		}
	}
}
