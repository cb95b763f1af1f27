// Package trocco is the trigger for a downstream TROCCO workflow: it starts
// a workflow job through the API and follows it to its end.
package trocco

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
	"github.com/sekisho-dev/sekisho/tracing"
	"go.opentelemetry.io/otel/trace"
)

// Type is the trigger type this package implements.
const Type = "trocco_workflow"

// Trigger starts TROCCO workflow jobs. TROCCO takes no idempotency key, so
// Idempotent is false and Start is never sent twice blindly.
type Trigger struct {
	api    *troccoapi.Client
	ledger sekisho.JobLedger
	clock  sekisho.Clock
	log    *slog.Logger
}

// Option configures a Trigger.
type Option func(*Trigger)

// WithClock sets the clock that stamps ledger entries.
func WithClock(c sekisho.Clock) Option { return func(t *Trigger) { t.clock = c } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(t *Trigger) { t.log = l } }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// New returns a trigger over api. Every job it starts is written to ledger
// (when not nil), so a pipeline waiting on the same workflow as an upstream
// learns the job without a pushed event.
func New(api *troccoapi.Client, ledger sekisho.JobLedger, opts ...Option) *Trigger {
	t := &Trigger{api: api, ledger: ledger, clock: wallClock{}, log: slog.New(slog.DiscardHandler)}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Start posts a workflow job whose context_time is the gate time in the
// pipeline's zone. Errors wrapping sekisho.ErrRejected (400, 401, 403, 404,
// 422) fail the attempt; any other error leaves the outcome unknown.
func (t *Trigger) Start(ctx context.Context, req sekisho.TriggerRequest) (sekisho.JobRun, error) {
	ctx = budget.WithPriority(ctx, budget.Urgent)
	// TROCCO takes no idempotency key, but the POST carries the attempt's
	// trigger span as a W3C traceparent: whoever reads the request (a
	// proxy's log, the simulator's) can tell which attempt sent it.
	ctx = trace.ContextWithRemoteSpanContext(ctx, tracing.SpanContext(req.Pipeline, req.LogicalDate, req.Attempt, tracing.PartTrigger))
	defID := req.Spec.PipelineDefinitionID
	if defID <= 0 {
		return sekisho.JobRun{}, fmt.Errorf("pipeline %s: trigger.pipeline_definition_id is missing: %w", req.Pipeline, sekisho.ErrRejected)
	}
	tz := zoneName(req.TimeZone)
	j, err := t.api.StartPipelineJob(ctx, defID, req.GateAt, tz)
	if err != nil {
		return sekisho.JobRun{}, fmt.Errorf("start trocco workflow %d for %s %s: %w", defID, req.Pipeline, req.LogicalDate, err)
	}
	id := strconv.FormatInt(j.ID, 10)
	if t.ledger != nil {
		res := config.TriggerResource(&req.Spec)
		// The job is started: losing the ledger entry only costs other
		// pipelines a pushed event, so it must not fail the trigger.
		if err := t.ledger.LearnJob(ctx, res.Key(), id, t.clock.Now()); err != nil {
			t.log.Warn("trocco workflow job not written to the ledger", "resource", res.Key(), "job_id", id, "error", err)
		}
	}
	return toRun(j), nil
}

// Status reads the workflow job with the given id.
func (t *Trigger) Status(ctx context.Context, req sekisho.TriggerRequest, externalID string) (sekisho.JobRun, error) {
	ctx = budget.WithPriority(ctx, budget.Urgent)
	n, err := strconv.ParseInt(externalID, 10, 64)
	if err != nil || n <= 0 {
		return sekisho.JobRun{}, fmt.Errorf("trocco workflow job id %q is not a number: %w", externalID, sekisho.ErrNotFound)
	}
	j, err := t.api.GetPipelineJob(ctx, n)
	if err != nil {
		return sekisho.JobRun{}, fmt.Errorf("follow trocco workflow job %d of %s: %w", n, req.Pipeline, err)
	}
	return toRun(j), nil
}

// Idempotent is false: a second POST would start a second workflow job.
func (t *Trigger) Idempotent() bool { return false }

// LandsWithin is how long after an attempt's intent its POST may still
// reach TROCCO when the daemon died while sending it: one request timeout
// of the client. Until then a restarted daemon does not call the outcome
// unknown, so a person told to look in TROCCO sees the job if it started.
func (t *Trigger) LandsWithin() time.Duration { return t.api.Timeout() }

func toRun(j troccoapi.PipelineJob) sekisho.JobRun {
	state, known := troccoapi.MapStatus(j.Status)
	run := sekisho.JobRun{ExternalID: strconv.FormatInt(j.ID, 10), State: state, StartedAt: j.Started()}
	if state.Ended() {
		run.FinishedAt = j.FinishedAt.Time
	}
	switch {
	case !known:
		run.Message = fmt.Sprintf("TROCCO status %q is not known to sekisho", j.Status)
	case state == sekisho.JobFailed:
		run.Message = fmt.Sprintf("TROCCO workflow job %d ended %s", j.ID, j.Status)
	}
	return run
}

// zoneName is the IANA name TROCCO's time_zone wants; a zone without one
// (Local, a fixed offset) is sent as Etc/UTC, with the time in UTC.
func zoneName(loc *time.Location) string {
	name := loc.String()
	if name == "UTC" || name == "Local" || name == "" {
		return "Etc/UTC"
	}
	if _, err := time.LoadLocation(name); err != nil {
		return "Etc/UTC"
	}
	return name
}
