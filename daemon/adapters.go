package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/airflowapi"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
	sensorairflow "github.com/sekisho-dev/sekisho/sensors/airflow"
	sensorglue "github.com/sekisho-dev/sekisho/sensors/glue"
	sensorsql "github.com/sekisho-dev/sekisho/sensors/sql"
	sensortrocco "github.com/sekisho-dev/sekisho/sensors/trocco"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/tracing"
	triggerairflow "github.com/sekisho-dev/sekisho/triggers/airflow"
	triggertrocco "github.com/sekisho-dev/sekisho/triggers/trocco"
	"github.com/sekisho-dev/sekisho/warehouse"
)

// Tuning adjusts the clients for the demo and tests: quick retries against
// simulators on loopback. Production leaves it zero.
type Tuning struct {
	Glue    []sensorglue.Option
	Trocco  []troccoapi.Option
	Airflow []airflowapi.Option
	// Warehouse holds the simulators' credentials and quick statement polls.
	Warehouse warehouse.Options
}

// Adapters makes the sensors and triggers for cfg's connections: the
// one place that knows every concrete adapter.
func Adapters(ctx context.Context, cfg *config.Config, st *store.Store, clock clockwork.Clock, log *slog.Logger, tune Tuning) (map[string]sekisho.Sensor, map[string]sekisho.Trigger, error) {
	sensors := map[string]sekisho.Sensor{}
	triggers := map[string]sekisho.Trigger{}
	if g := cfg.Connections.Glue; g != nil {
		b := budgetFor(clock, st, log, "glue", budget.Limit(g.RateLimit))
		opts := append([]sensorglue.Option{sensorglue.WithLogger(log), sensorglue.WithBudget(b)}, tune.Glue...)
		s, err := sensorglue.New(ctx, g, opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("glue connection: %w", err)
		}
		sensors[config.TypeGlueJob] = s
		sensors[config.TypeGlueWorkflow] = s
	}
	if t := cfg.Connections.Trocco; t != nil {
		b := budgetFor(clock, st, log, "trocco", budget.Limit(t.RateLimit))
		opts := append([]troccoapi.Option{troccoapi.WithLogger(log), troccoapi.WithClock(clock), troccoapi.WithBudget(b)}, tune.Trocco...)
		api, err := troccoapi.New(t.BaseURL, t.APIKey.Value(), opts...)
		if err != nil {
			return nil, nil, fmt.Errorf("trocco connection: %w", err)
		}
		s := sensortrocco.New(api, st, sensortrocco.WithClock(clock), sensortrocco.WithLogger(log))
		sensors[config.TypeTroccoJob] = s
		sensors[config.TypeTroccoWorkflow] = s
		triggers[config.TypeTroccoWorkflow] = triggertrocco.New(api, st, triggertrocco.WithClock(clock), triggertrocco.WithLogger(log))
	}
	if len(cfg.Connections.Airflow) > 0 {
		clients := map[string]*airflowapi.Client{}
		for name, a := range cfg.Connections.Airflow {
			b := budgetFor(clock, st, log, "airflow "+name, budget.Limit(a.RateLimit))
			opts := append([]airflowapi.Option{airflowapi.WithLogger(log), airflowapi.WithClock(clock), airflowapi.WithBudget(b)}, tune.Airflow...)
			one, err := airflowapi.NewClients(map[string]*config.Airflow{name: a}, opts...)
			if err != nil {
				return nil, nil, fmt.Errorf("airflow connections: %w", err)
			}
			clients[name] = one[name]
		}
		sensors[config.TypeAirflowDag] = sensorairflow.New(clients, log)
		lineageNS := ""
		if cfg.Lineage.URL != "" {
			lineageNS = cfg.Lineage.Namespace
		}
		triggers[config.TypeAirflowDag] = triggerairflow.New(clients, log, triggerairflow.WithTracing(tracing.Enabled(os.Getenv)),
			triggerairflow.WithLineage(lineageNS))
	}
	if len(cfg.Connections.Warehouses) > 0 {
		clients, err := warehouse.OpenAll(ctx, cfg.Connections.Warehouses, warehouseOptions(tune, clock, st, log))
		if err != nil {
			return nil, nil, fmt.Errorf("warehouses: %w", err)
		}
		sensors[config.TypeSQL] = sensorsql.New(clients, clock)
	}
	return sensors, triggers, nil
}

// warehouseOptions are tune's warehouse options with each warehouse's one
// shared budget, so its sql checks and its long-query watch spend a single
// rate_limit (SPEC §13).
func warehouseOptions(tune Tuning, clock clockwork.Clock, st *store.Store, log *slog.Logger) warehouse.Options {
	o := tune.Warehouse
	if o.Budget == nil {
		o.Budget = func(w *config.Warehouse) *budget.Budget {
			return budgetFor(clock, st, log, "warehouse "+w.Name, budget.Limit(w.RateLimit))
		}
	}
	return o
}

// Fast is for simulators on loopback: short backoffs, few retries.
func Fast() Tuning {
	return Tuning{
		Glue:    []sensorglue.Option{sensorglue.WithRetry(5, 50*time.Millisecond)},
		Trocco:  []troccoapi.Option{troccoapi.WithRetry(5, 10*time.Millisecond, 100*time.Millisecond)},
		Airflow: []airflowapi.Option{airflowapi.WithBackoff(10*time.Millisecond, 100*time.Millisecond, 5)},
	}
}
