// Package airflow is the airflow_dag sensor: it reports the DAG runs of an
// upstream DAG in a named Airflow or Cloud Composer environment.
package airflow

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/airflowapi"
)

// Sensor is the airflow_dag sekisho.Sensor. Resource.Connection names the
// environment and Resource.ID is the dag_id.
type Sensor struct {
	clients map[string]*airflowapi.Client
	log     *slog.Logger
	warned  sync.Map // state words already logged as unknown
}

// New builds the sensor over the clients of airflowapi.NewClients.
func New(clients map[string]*airflowapi.Client, log *slog.Logger) *Sensor {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sensor{clients: clients, log: log}
}

// Runs returns the DAG's runs that started at or after since, and the ones
// still queued whose queue time (see airflowapi.DagRun.Since) is in the
// window. StartedAt is that time, so a queued run orders as the newest.
func (s *Sensor) Runs(ctx context.Context, r sekisho.Resource, since time.Time) ([]sekisho.JobRun, error) {
	c, err := airflowapi.Lookup(s.clients, r.Connection)
	if err != nil {
		return nil, err
	}
	runs, err := c.ListDagRuns(ctx, r.ID, since)
	if err != nil {
		return nil, fmt.Errorf("list runs of DAG %s: %w", r.ID, err)
	}
	out := make([]sekisho.JobRun, 0, len(runs))
	for _, run := range runs {
		at := run.Since()
		if at.IsZero() || at.Before(since) {
			continue
		}
		if !airflowapi.KnownState(run.State) {
			if _, seen := s.warned.LoadOrStore(run.State, true); !seen {
				s.log.Warn("unknown DAG run state; treated as running", "connection", r.Connection,
					"dag_id", r.ID, "dag_run_id", run.DagRunID, "state", run.State)
			}
		}
		j := sekisho.JobRun{ExternalID: run.DagRunID, State: airflowapi.JobState(run.State),
			StartedAt: at, FinishedAt: run.EndDate}
		if run.State == airflowapi.StateFailed {
			j.Message = fmt.Sprintf("DAG run %s of %s failed", run.DagRunID, r.ID)
		}
		out = append(out, j)
	}
	return out, nil
}
