// Package airflow is the airflow_dag trigger: it starts a DAG run in an
// Airflow or Cloud Composer environment exactly once per attempt, using the
// deterministic dag_run_id of sekisho.DagRunID, and follows it to its end.
package airflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/airflowapi"
	"github.com/sekisho-dev/sekisho/lineage"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/tracing"
)

// ParentTraceContextKey is the DAG run conf key from which Airflow reads a
// W3C traceparent to nest the run's spans in an external trace
// (airflow/dagrun_parent_trace_context, apache/airflow PR #69633).
const ParentTraceContextKey = "airflow/dagrun_parent_trace_context"

// Trigger is the airflow_dag sekisho.Trigger.
type Trigger struct {
	clients map[string]*airflowapi.Client
	log     *slog.Logger
	// tracing is whether sekisho exports traces: only then does a
	// traceparent name a trace that exists.
	tracing   bool
	untracked sync.Once
	lineage   string // OpenLineage namespace of sekisho's jobs; "" when off
}

// Option configures a Trigger.
type Option func(*Trigger)

// WithTracing says whether sekisho's own tracing is on
// (tracing.Enabled). With it off, trace_context sends no traceparent: a
// sampled parent that nobody exports would leave Airflow's spans as
// orphans under a trace no backend has.
func WithTracing(on bool) Option { return func(t *Trigger) { t.tracing = on } }

// WithLineage makes every DAG run a child of the attempt's OpenLineage run
// in namespace (lineage.namespace), through the DAG run conf key the
// Airflow OpenLineage provider reads (lineage.ConfKey). Empty: lineage is
// off, nothing is added.
func WithLineage(namespace string) Option { return func(t *Trigger) { t.lineage = namespace } }

// New builds the trigger over the clients of airflowapi.NewClients.
func New(clients map[string]*airflowapi.Client, log *slog.Logger, opts ...Option) *Trigger {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := &Trigger{clients: clients, log: log}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Idempotent is true: the dag_run_id makes a repeated Start answer 409,
// which Start treats as its own earlier success.
func (t *Trigger) Idempotent() bool { return true }

// Start checks that the DAG is not paused (or unpauses it when the spec
// says so), then creates the DAG run of this attempt.
func (t *Trigger) Start(ctx context.Context, req sekisho.TriggerRequest) (sekisho.JobRun, error) {
	ctx = budget.WithPriority(ctx, budget.Urgent)
	spec := req.Spec
	c, err := airflowapi.Lookup(t.clients, spec.Connection)
	if err != nil {
		return sekisho.JobRun{}, fmt.Errorf("%w: %w", err, sekisho.ErrRejected)
	}
	// Templates first: a typo must not cost an API call, nor unpause a DAG.
	data := sekisho.NewTemplateData(req)
	conf := map[string]any{}
	if spec.Conf != nil {
		v, err := sekisho.RenderConf(spec.Conf, data)
		if err != nil {
			return sekisho.JobRun{}, fmt.Errorf("trigger conf of %s: %w: %w", req.Pipeline, err, sekisho.ErrRejected)
		}
		conf = v.(map[string]any)
	}
	if spec.TraceContext && t.tracing {
		conf[ParentTraceContextKey] = tracing.Traceparent(req.Pipeline, req.LogicalDate, req.Attempt)
	} else if spec.TraceContext {
		t.untracked.Do(func() {
			t.log.Warn("trigger.trace_context is set but sekisho's tracing is off (no OTEL_EXPORTER_OTLP_ENDPOINT): " +
				"no traceparent is sent, so Airflow's spans are not attached to a trace nobody exports")
		})
	}
	if _, set := conf[lineage.ConfKey]; t.lineage != "" && !set {
		// A conf that already names a parent (the user's own) is kept.
		conf[lineage.ConfKey] = lineage.ParentConf(t.lineage, req.Pipeline, req.LogicalDate, req.Attempt, req.GateAt)
	}
	note := sekisho.DefaultNote(req.Pipeline, req.LogicalDate, req.Attempt)
	if spec.Note != "" {
		if note, err = sekisho.RenderTemplate("note", spec.Note, data); err != nil {
			return sekisho.JobRun{}, fmt.Errorf("trigger note of %s: %w: %w", req.Pipeline, err, sekisho.ErrRejected)
		}
	}

	dag, err := c.GetDag(ctx, spec.DagID)
	if err != nil {
		return sekisho.JobRun{}, err
	}
	if dag.IsPaused {
		if !spec.Unpause {
			return sekisho.JobRun{}, fmt.Errorf("DAG %s is paused in %s; unpause it or set trigger.unpause: true: %w",
				spec.DagID, c.Name(), sekisho.ErrPaused)
		}
		if _, err := c.Unpause(ctx, spec.DagID); err != nil {
			return sekisho.JobRun{}, fmt.Errorf("unpause DAG %s: %w", spec.DagID, err)
		}
		t.log.Info("unpaused DAG before triggering", "connection", c.Name(), "dag_id", spec.DagID, "pipeline", req.Pipeline)
	}

	runID := sekisho.DagRunID(req.Pipeline, req.LogicalDate, req.Attempt)
	res, err := c.TriggerDagRun(ctx, spec.DagID, runID, conf, note)
	if err != nil {
		return sekisho.JobRun{}, err
	}
	if !res.Existed {
		return jobRun(t.log, res.Run), nil
	}
	// 409: our own earlier request got through (a crash or a lost answer
	// came between). Follow that run.
	t.log.Info("DAG run exists already; following it", "connection", c.Name(), "dag_id", spec.DagID, "dag_run_id", runID)
	run, err := c.GetDagRun(ctx, spec.DagID, runID)
	if err != nil {
		if errors.Is(err, sekisho.ErrRejected) {
			return sekisho.JobRun{}, err
		}
		// Accepted all the same; Status will tell the state.
		return sekisho.JobRun{ExternalID: runID, State: sekisho.JobRunning}, nil
	}
	return jobRun(t.log, run), nil
}

// Status reports the DAG run of this attempt.
func (t *Trigger) Status(ctx context.Context, req sekisho.TriggerRequest, externalID string) (sekisho.JobRun, error) {
	ctx = budget.WithPriority(ctx, budget.Urgent)
	c, err := airflowapi.Lookup(t.clients, req.Spec.Connection)
	if err != nil {
		return sekisho.JobRun{}, err
	}
	run, err := c.GetDagRun(ctx, req.Spec.DagID, externalID)
	if err != nil {
		return sekisho.JobRun{}, err
	}
	return jobRun(t.log, run), nil
}

func jobRun(log *slog.Logger, r airflowapi.DagRun) sekisho.JobRun {
	j := sekisho.JobRun{ExternalID: r.DagRunID, State: airflowapi.JobState(r.State),
		StartedAt: r.StartDate, FinishedAt: r.EndDate}
	if r.State == airflowapi.StateFailed {
		j.Message = fmt.Sprintf("DAG run %s of %s failed; see its task logs in Airflow", r.DagRunID, r.DagID)
	}
	if !airflowapi.KnownState(r.State) {
		log.Warn("unknown DAG run state; treated as running", "dag_id", r.DagID, "dag_run_id", r.DagRunID, "state", r.State)
	}
	return j
}
