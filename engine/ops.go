package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// Rerun starts a new attempt of a run in a terminal state (SPEC §4). It is
// a single compare-and-set write, so it works with or without the daemon
// running. The new attempt takes the pipeline's current config when it still
// exists (a fix to the config is a common reason to rerun).
func Rerun(ctx context.Context, st *store.Store, cfg *config.Config, pipeline, date string, now time.Time) (sekisho.Run, error) {
	r, err := st.Run(ctx, pipeline, date)
	if err != nil {
		return r, err
	}
	if _, err := Next(r.State, EvOperatorRerun, Policy{}); err != nil {
		return r, fmt.Errorf("%w: %s %s is %s; only a finished run can be rerun", sekisho.ErrConflict, pipeline, date, r.State)
	}
	p, err := config.PipelineFromSpec(r.Spec)
	if cfg != nil {
		if cp := cfg.Pipeline(pipeline); cp != nil {
			p, err = cp, nil
		}
	}
	if err != nil {
		return r, fmt.Errorf("rerun %s %s: %w", pipeline, date, err)
	}
	next := r
	next.State = sekisho.StateWaiting
	next.Attempt = r.Attempt + 1
	next.AttemptAt = now
	next.TimeoutAt = now.Add(p.Timeout)
	if t := p.TimeoutOn(r.LogicalDate, r.GateAt); p.TimeoutAt.Set && t.After(now) {
		// A time-of-day timeout ("+1bd 09:00") still ahead holds for the
		// rerun; once past, the rerun gets the default span from now.
		next.TimeoutAt = t
	}
	next.IntentAt, next.TriggeredAt, next.StartedAt, next.FinishedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	next.ExternalID, next.Message = "", ""
	next.Spec = p.SpecFor(r.LogicalDate, r.GateAt)
	return applyWithIncidents(ctx, st, r, next, now, store.Step{Reason: sekisho.ReasonOperatorRerun,
		Detail: map[string]any{"previous_state": string(r.State)}})
}

// Skip marks a run skipped: it is left out of SLO and SLA. Pipelines
// waiting on it see a failed upstream (the day produced nothing), unless
// their upstream says skipped_is_success (sekisho.State.AsUpstream).
func Skip(ctx context.Context, st *store.Store, pipeline, date string, now time.Time) (sekisho.Run, error) {
	r, err := st.Run(ctx, pipeline, date)
	if err != nil {
		return r, err
	}
	to, err := Next(r.State, EvOperatorSkip, Policy{})
	if err != nil {
		return r, fmt.Errorf("%w: %s %s is %s and cannot be skipped", sekisho.ErrConflict, pipeline, date, r.State)
	}
	return applyWithIncidents(ctx, st, r, nextRun(r, patch{}, to, now), now, store.Step{Reason: sekisho.ReasonOperatorSkip,
		Detail: map[string]any{"previous_state": string(r.State)}})
}

// Rerun starts a new attempt and wakes the loop.
func (e *Engine) Rerun(ctx context.Context, pipeline, date string) (sekisho.Run, error) {
	r, err := Rerun(ctx, e.st, e.Config(), pipeline, date, e.clock.Now())
	if err == nil {
		e.dirty.Store(true)
		e.Kick()
	}
	return r, err
}

// Skip marks a run skipped and wakes the loop.
func (e *Engine) Skip(ctx context.Context, pipeline, date string) (sekisho.Run, error) {
	r, err := Skip(ctx, e.st, pipeline, date, e.clock.Now())
	if err == nil {
		e.dirty.Store(true)
		e.Kick()
	}
	return r, err
}

// Ingest takes a run reported by a pushed event (Glue EventBridge, TROCCO
// notification) and checks the upstreams it concerns at once. An event for
// a resource no open run waits on is ignored and reported as not found.
func (e *Engine) Ingest(ctx context.Context, r sekisho.Resource, run sekisho.JobRun) error {
	if !e.poller.push(r, run, e.clock.Now()) {
		return fmt.Errorf("no open run waits on %s: %w", r.Key(), sekisho.ErrNotFound)
	}
	e.Kick()
	return nil
}

// Learn records a job id of a resource that has no list endpoint (a TROCCO
// workflow job) and polls the resource at once.
func (e *Engine) Learn(ctx context.Context, r sekisho.Resource, jobID string) error {
	now := e.clock.Now()
	if err := e.st.LearnJob(ctx, r.Key(), jobID, now); err != nil {
		return err
	}
	if e.poller.due(r.Key(), now) {
		e.Kick()
	}
	return nil
}
