package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// Backoff bounds for a trigger or status request that failed transiently.
const (
	minRetry = 2 * time.Second
	maxRetry = 5 * time.Minute
)

// startTrigger records the intent to trigger (before the request goes out,
// SPEC §4 rule 3) and sends the request off the loop.
func (e *Engine) startTrigger(ctx context.Context, p *config.Pipeline, r sekisho.Run, obs map[string]obsView, now time.Time) error {
	k := attemptKey{r.ID, r.Attempt}
	if e.inflight[k] || now.Before(e.nextTry[k].at) {
		return nil
	}
	trig := e.trigger(p.Trigger.Type)
	if trig == nil {
		return e.triggerFailed(ctx, p, r, now, sekisho.ReasonTriggerRejected,
			fmt.Sprintf("no %s trigger is configured (check connections)", p.Trigger.Type))
	}
	if r.IntentAt.IsZero() {
		next := r
		next.IntentAt = now
		var err error
		if r, err = e.apply(ctx, r, next, now, store.Step{}); err != nil {
			return err
		}
	} else if !trig.Idempotent() && !e.nextTry[k].ours && !p.Trigger.RetryUnknown {
		// An intent from before a restart, and no idempotency key: the
		// request may or may not have reached the downstream. Posting again
		// could run the workflow twice, so a person must look.
		next := r
		next.FinishedAt = now
		next.Message = "the daemon stopped while the trigger request was under way; check in " +
			p.Trigger.Type + " whether the job started, then rerun or skip (or set trigger.retry_unknown: true)"
		n := e.notice(p, r, sekisho.NoticeTriggerUnknown, sekisho.NoticeKey(sekisho.NoticeTriggerUnknown, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt}),
			sekisho.NoticeFacts{State: sekisho.StateFailed, Message: next.Message, Reason: sekisho.ReasonTriggerUnknown})
		_, err := e.moveTo(ctx, r, next, EvTriggerRejected, Policy{}, now, sekisho.ReasonTriggerUnknown,
			map[string]any{"intent_at": r.IntentAt.UTC().Format(time.RFC3339Nano)}, []sekisho.Notice{n})
		return err
	}
	req := e.request(p, r, obs)
	latencyFrom, mode := lastFinish(obs)
	e.inflight[k] = true
	e.spawn(ctx, func(ctx context.Context) {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		res, err := trig.Start(cctx, req)
		cancel()
		e.results.push(func(ctx context.Context) {
			e.onTriggerResult(ctx, p, k, trig, res, err, latencyFrom, mode)
		})
	})
	return nil
}

func (e *Engine) request(p *config.Pipeline, r sekisho.Run, obs map[string]obsView) sekisho.TriggerRequest {
	ups := make(map[string]sekisho.Observation, len(obs))
	for name, o := range obs {
		ups[name] = o.Observation
	}
	return sekisho.TriggerRequest{Pipeline: r.Pipeline, LogicalDate: r.LogicalDate, Attempt: r.Attempt,
		GateAt: r.GateAt, TimeZone: p.Location, Spec: *p.Trigger, Upstreams: ups}
}

// lastFinish is when the last upstream finished, and whether an event told us.
func lastFinish(obs map[string]obsView) (time.Time, string) {
	var t time.Time
	mode := "poll"
	for _, o := range obs {
		if o.FinishedAt.After(t) {
			t = o.FinishedAt
			mode = "poll"
			if o.pushed {
				mode = "push"
			}
		}
	}
	return t, mode
}

// retryState is the loop's memory of a request that failed transiently.
type retryState struct {
	at    time.Time // not before
	fails int
	ours  bool // this process sent the request, so its outcome is known to be "not accepted"
}

func (e *Engine) backoff(k attemptKey, now time.Time) {
	rs := e.nextTry[k]
	rs.fails++
	d := minRetry << min(rs.fails-1, 10)
	if d > maxRetry {
		d = maxRetry
	}
	rs.at = now.Add(e.jitter(d))
	e.nextTry[k] = rs
}

func (e *Engine) onTriggerResult(ctx context.Context, p *config.Pipeline, k attemptKey, trig sekisho.Trigger, res sekisho.JobRun, callErr error, latencyFrom time.Time, mode string) {
	delete(e.inflight, k)
	e.touched[k.run] = true // look again next pass, if only to plan a retry
	now := e.clock.Now()
	r, err := e.st.RunByID(ctx, k.run)
	if err != nil {
		e.log.Error("trigger result: reload run", "run", k.run, "err", err)
		return
	}
	if r.Attempt != k.attempt || r.State != sekisho.StateWaiting {
		return // an operator moved the run on meanwhile
	}
	switch {
	case callErr == nil:
		next := r
		next.ExternalID = res.ExternalID
		next.TriggeredAt = now
		next.Message = ""
		detail := map[string]any{"external_id": res.ExternalID, "trigger": p.Trigger.Type}
		if _, err := e.moveTo(ctx, r, next, EvTriggerAccepted, Policy{}, now, sekisho.ReasonConditionMet, detail, nil); err != nil {
			e.log.Error("record trigger", "pipeline", r.Pipeline, "err", err)
			return
		}
		delete(e.nextTry, k)
		if e.opts.Metrics != nil && !latencyFrom.IsZero() && now.Sub(latencyFrom) < 24*time.Hour {
			e.opts.Metrics.GateLatency(mode, now.Sub(latencyFrom))
		}
	case errors.Is(callErr, sekisho.ErrPaused):
		e.logErr(e.triggerFailed(ctx, p, r, now, sekisho.ReasonDagPaused, redactErr(callErr)))
	case errors.Is(callErr, sekisho.ErrRejected):
		e.logErr(e.triggerFailed(ctx, p, r, now, sekisho.ReasonTriggerRejected, redactErr(callErr)))
	case !trig.Idempotent() && !p.Trigger.RetryUnknown:
		e.logErr(e.triggerFailed(ctx, p, r, now, sekisho.ReasonTriggerUnknown,
			"the trigger request failed and its outcome is unknown: "+redactErr(callErr)+
				"; check whether the job started, then rerun or skip"))
	case !now.Before(r.TimeoutAt):
		e.logErr(e.triggerFailed(ctx, p, r, now, sekisho.ReasonTriggerRejected,
			"could not trigger before the timeout: "+redactErr(callErr)))
	default:
		e.backoff(k, now)
		rs := e.nextTry[k]
		rs.ours = true
		e.nextTry[k] = rs
		e.log.Warn("trigger failed, will retry", "pipeline", r.Pipeline, "date", r.LogicalDate,
			"retry_at", rs.at, "err", redactErr(callErr))
		if msg := "trigger retrying: " + redactErr(callErr); r.Message != msg {
			next := r
			next.Message = msg
			e.logErr(ignoreConflict(e.apply(ctx, r, next, now, store.Step{})))
		}
	}
}

func (e *Engine) triggerFailed(ctx context.Context, p *config.Pipeline, r sekisho.Run, now time.Time, reason, msg string) error {
	next := r
	next.FinishedAt = now
	next.Message = msg
	kind := sekisho.NoticeTriggerFailed
	if reason == sekisho.ReasonTriggerUnknown {
		kind = sekisho.NoticeTriggerUnknown
	}
	n := e.notice(p, r, kind, sekisho.NoticeKey(kind, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt}),
		sekisho.NoticeFacts{State: sekisho.StateFailed, Message: msg, Reason: reason})
	_, err := e.moveTo(ctx, r, next, EvTriggerRejected, Policy{}, now, reason, map[string]any{"message": msg}, []sekisho.Notice{n})
	return err
}

// follow checks the downstream run of a triggered or running run.
func (e *Engine) follow(ctx context.Context, p *config.Pipeline, r sekisho.Run, now time.Time) error {
	k := attemptKey{r.ID, r.Attempt}
	if e.inflight[k] || now.Before(e.follows[k]) {
		return nil
	}
	if p.Trigger == nil {
		return nil // a gate-only run is never triggered
	}
	trig := e.trigger(p.Trigger.Type)
	if trig == nil {
		return nil
	}
	req := e.request(p, r, nil)
	ext := r.ExternalID
	e.inflight[k] = true
	e.spawn(ctx, func(ctx context.Context) {
		cctx, cancel := context.WithTimeout(ctx, requestTimeout(p.PokeInterval))
		res, err := trig.Status(cctx, req, ext)
		cancel()
		e.results.push(func(ctx context.Context) { e.onStatus(ctx, p, k, res, err) })
	})
	return nil
}

func (e *Engine) onStatus(ctx context.Context, p *config.Pipeline, k attemptKey, res sekisho.JobRun, callErr error) {
	delete(e.inflight, k)
	e.touched[k.run] = true // look again next pass, if only to plan the next check
	now := e.clock.Now()
	e.follows[k] = now.Add(e.jitter(p.PokeInterval))
	if callErr != nil {
		e.log.Warn("downstream check failed", "run", k.run, "err", redactErr(callErr))
		return
	}
	r, err := e.st.RunByID(ctx, k.run)
	if err != nil || r.Attempt != k.attempt || (r.State != sekisho.StateTriggered && r.State != sekisho.StateRunning) {
		return
	}
	detail := map[string]any{"external_id": r.ExternalID}
	if res.Message != "" {
		detail["message"] = res.Message
	}
	if r.State == sekisho.StateTriggered && res.State != sekisho.JobPending {
		next := r
		next.StartedAt = res.StartedAt
		if next.StartedAt.IsZero() || next.StartedAt.After(now) {
			next.StartedAt = now
		}
		if r, err = e.moveTo(ctx, r, next, EvDownstreamRunning, Policy{}, now, sekisho.ReasonDownstreamRunning, detail, nil); err != nil {
			e.logErr(ignoreConflict(r, err))
			return
		}
	}
	switch res.State {
	case sekisho.JobSucceeded:
		next := r
		next.FinishedAt = clampEnd(res.FinishedAt, now)
		if next.FirstSuccessAt.IsZero() {
			next.FirstSuccessAt = next.FinishedAt
		}
		next.Message = ""
		notices, err := e.recoveryNotice(ctx, p, r)
		if err != nil {
			e.log.Error("recovery notice", "err", err)
		}
		_, err = e.moveTo(ctx, r, next, EvDownstreamSuccess, Policy{}, now, sekisho.ReasonDownstreamSuccess, detail, notices)
		e.logErr(ignoreConflict(r, err))
	case sekisho.JobFailed:
		next := r
		next.FinishedAt = clampEnd(res.FinishedAt, now)
		next.Message = res.Message
		if next.Message == "" {
			next.Message = "the downstream run " + r.ExternalID + " failed"
		}
		n := e.notice(p, r, sekisho.NoticeRunFailed, sekisho.NoticeKey(sekisho.NoticeRunFailed, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt}),
			sekisho.NoticeFacts{State: sekisho.StateFailed, ExternalID: r.ExternalID, Message: next.Message, Deadline: r.Deadline})
		_, err := e.moveTo(ctx, r, next, EvDownstreamFailed, Policy{}, now, sekisho.ReasonDownstreamFailed, detail, []sekisho.Notice{n})
		e.logErr(ignoreConflict(r, err))
	default:
		if p.MaxDuration > 0 && r.State == sekisho.StateRunning && !r.StartedAt.IsZero() && now.Sub(r.StartedAt) > p.MaxDuration {
			e.logErr(e.addNotices(ctx, []sekisho.Notice{e.notice(p, r, sekisho.NoticeLongRunning,
				sekisho.NoticeKey(sekisho.NoticeLongRunning, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt}), sekisho.NoticeFacts{State: r.State,
					ExternalID: r.ExternalID, StartedAt: r.StartedAt, Duration: now.Sub(r.StartedAt).Round(time.Second).String(),
					MaxDuration: p.MaxDuration.String(), Deadline: r.Deadline})}))
		}
	}
}

// clampEnd keeps a reported end time unless it is missing or in the future.
func clampEnd(t, now time.Time) time.Time {
	if t.IsZero() || t.After(now) {
		return now
	}
	return t
}

func ignoreConflict(_ sekisho.Run, err error) error {
	if errors.Is(err, sekisho.ErrConflict) {
		return nil
	}
	return err
}

func (e *Engine) logErr(err error) {
	if err != nil {
		e.log.Error("engine", "err", err)
	}
}
