// Package airflow is the airflow_dag trigger: it starts a DAG run in an
// Airflow or Cloud Composer environment exactly once per attempt, using the
// deterministic dag_run_id of sekisho.DagRunID, and follows it to its end.
package airflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

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
		conf[ParentTraceContextKey] = tracing.Traceparent(req.Pipeline, req.Key, req.Attempt)
	} else if spec.TraceContext {
		t.untracked.Do(func() {
			t.log.Warn("trigger.trace_context is set but sekisho's tracing is off (no OTEL_EXPORTER_OTLP_ENDPOINT): " +
				"no traceparent is sent, so Airflow's spans are not attached to a trace nobody exports")
		})
	}
	if _, set := conf[lineage.ConfKey]; t.lineage != "" && !set {
		// A conf that already names a parent (the user's own) is kept.
		conf[lineage.ConfKey] = lineage.ParentConf(t.lineage, req.Pipeline, req.Key, req.Attempt, req.GateAt)
	}
	note := sekisho.DefaultNote(req.Pipeline, req.Key, req.Attempt)
	if spec.Note != "" {
		if note, err = sekisho.RenderTemplate("note", spec.Note, data); err != nil {
			return sekisho.JobRun{}, fmt.Errorf("trigger note of %s: %w: %w", req.Pipeline, err, sekisho.ErrRejected)
		}
	}
	dates, err := sekisho.DagRunDates(req)
	if err != nil {
		return sekisho.JobRun{}, fmt.Errorf("trigger of %s: %w: %w", req.Pipeline, err, sekisho.ErrRejected)
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

	if !dates.Logical.IsZero() && req.Attempt > 1 {
		// Airflow keeps one run per (dag_id, logical_date): a rerun
		// clears the run that holds the date instead of creating one.
		holder, found, err := holderAt(ctx, c, spec.DagID, dates.Logical)
		if err != nil {
			return sekisho.JobRun{}, err
		}
		if found {
			return t.rerun(ctx, c, req, holder)
		}
	}
	runID := sekisho.DagRunID(req.Pipeline, req.Key, req.Attempt)
	res, err := c.TriggerDagRun(ctx, spec.DagID, runID, conf, note, dates)
	if err != nil {
		return sekisho.JobRun{}, err
	}
	if !res.Existed {
		return jobRun(t.log, res.Run), nil
	}
	// 409: our own earlier request got through (a crash or a lost answer
	// came between), or, with a logical date, another run holds it.
	run, err := c.GetDagRun(ctx, spec.DagID, runID)
	switch {
	case err == nil:
		t.log.Info("DAG run exists already; following it", "connection", c.Name(), "dag_id", spec.DagID, "dag_run_id", runID)
		return jobRun(t.log, run), nil
	case dates.Logical.IsZero() || !errors.Is(err, sekisho.ErrNotFound):
		if errors.Is(err, sekisho.ErrRejected) {
			return sekisho.JobRun{}, err
		}
		// Accepted all the same; Status will tell the state.
		return sekisho.JobRun{ExternalID: runID, State: sekisho.JobRunning}, nil
	}
	holder, found, err := holderAt(ctx, c, spec.DagID, dates.Logical)
	switch {
	case err != nil:
		return sekisho.JobRun{}, err
	case !found:
		// The run that conflicted is gone (deleted meanwhile): try again.
		return sekisho.JobRun{}, fmt.Errorf("airflow %s: DAG %s answered 409 but no run holds logical date %s", c.Name(), spec.DagID, apiTime(dates.Logical))
	}
	return t.rerun(ctx, c, req, holder)
}

// holderAt finds the DAG run that holds a logical date, if any.
func holderAt(ctx context.Context, c *airflowapi.Client, dagID string, at time.Time) (airflowapi.DagRun, bool, error) {
	runs, err := c.DagRunsAt(ctx, dagID, at)
	if err != nil || len(runs) == 0 {
		return airflowapi.DagRun{}, false, err
	}
	return runs[0], true, nil
}

// ours reports whether a dag_run_id is one of sekisho's for this run: an
// earlier (or this) attempt of the same pipeline and run key (a sub-daily
// run's ids name its interval, not only its date).
func ours(req sekisho.TriggerRequest, runID string) bool {
	prefix, _ := strings.CutSuffix(sekisho.DagRunID(req.Pipeline, req.Key, 1), "1")
	n, err := strconv.Atoi(strings.TrimPrefix(runID, prefix))
	return strings.HasPrefix(runID, prefix) && err == nil && n >= 1 && n <= req.Attempt
}

// rerun makes the DAG run that holds the attempt's logical date run again,
// exactly once per attempt (SPEC §18). The run's external id stays the id
// of the attempt that created it. A clear is not idempotent, so the engine
// records the attempt's intent (req.IntentAt) before Start, and after a
// crash Airflow's own record decides: a clear queues a finished run again
// and nulls its end date, and the run only ends again after that, so a run
// still finished with an end before the intent has not been cleared for
// this attempt; any other (queued, running, or ended after the intent) has.
func (t *Trigger) rerun(ctx context.Context, c *airflowapi.Client, req sekisho.TriggerRequest, holder airflowapi.DagRun) (sekisho.JobRun, error) {
	dagID := req.Spec.DagID
	if !ours(req, holder.DagRunID) {
		return sekisho.JobRun{}, fmt.Errorf("the logical date %s of DAG %s is held by DAG run %s, which sekisho did not create; "+
			"delete that run or set trigger.logical_date, then rerun: %w",
			apiTime(holder.LogicalDate), dagID, holder.DagRunID, sekisho.ErrLogicalDateTaken)
	}
	if !airflowapi.Finished(holder.State) || !holder.EndDate.Before(req.IntentAt) {
		t.log.Info("DAG run already rerun for this attempt; following it", "connection", c.Name(), "dag_id", dagID,
			"dag_run_id", holder.DagRunID, "attempt", req.Attempt, "state", holder.State)
		return jobRun(t.log, holder), nil
	}
	run, err := c.ClearDagRun(ctx, dagID, holder.DagRunID)
	if err != nil {
		return sekisho.JobRun{}, err
	}
	t.log.Info("cleared DAG run for a rerun", "connection", c.Name(), "dag_id", dagID, "dag_run_id", holder.DagRunID,
		"attempt", req.Attempt)
	return jobRun(t.log, run), nil
}

// apiTime writes an instant as Airflow does in its messages.
func apiTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

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
