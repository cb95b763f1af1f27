package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

// By names who asks for an operator action (SPEC §20): ByAPI, ByCLI, or a
// Slack user (BySlack). Slack actions also carry their action_ts as the
// request, so a redelivered click finds its first write (store.ErrDuplicate).
type By struct {
	Who     string // api | cli | slack:<user id>
	Request string // Slack's action_ts; empty: a fresh id
	// Incident is the incident the action was taken from, for its history.
	Incident string
	// Notices go out with the action's write: the thread reply saying who
	// did what.
	Notices []sekisho.Notice
}

// Who of the API and the CLI.
const (
	ByAPI = "api"
	ByCLI = "cli"
)

// BySlack is how a Slack user is named in the audit trail.
func BySlack(user string) string { return "slack:" + user }

// Action is the store's record of an operator action, with a fresh
// request id for the API and the CLI.
func (b By) Action(kind, pipeline, key, detail string, now time.Time) (store.Action, error) {
	if b.Who == "" {
		return store.Action{}, errors.New("an operator action names who asked")
	}
	req := b.Request
	if req == "" {
		var err error
		if req, err = store.NewID("req_"); err != nil {
			return store.Action{}, err
		}
	}
	return store.Action{Kind: kind, Pipeline: pipeline, Key: key, Request: req, By: b.Who,
		Incident: b.Incident, Detail: detail, At: now}, nil
}

// Rerun starts a new attempt of a run in a terminal state (SPEC §4). It is
// a single compare-and-set write, so it works with or without the daemon
// running. The new attempt takes the pipeline's current config when it still
// exists (a fix to the config is a common reason to rerun). The API, the CLI
// and Slack all rerun through here; by says who, and the transition's
// detail records it.
//
// It refuses (ErrConflict, naming the jobs) to rerun an attempt that ended
// trigger_outcome_unknown when the job ledger learned a job of its
// trigger's workflow since the attempt's intent: most likely the job the
// unanswered request started, and a rerun would start a second (issue 28).
// RerunAnyway reruns all the same.
func Rerun(ctx context.Context, st *store.Store, cfg *config.Config, pipeline, key string, now time.Time, by By) (sekisho.Run, error) {
	return rerun(ctx, st, cfg, pipeline, key, now, false, by)
}

// RerunAnyway is Rerun without the check for a job the last attempt's
// unanswered request may have started: for an operator who looked.
func RerunAnyway(ctx context.Context, st *store.Store, cfg *config.Config, pipeline, key string, now time.Time, by By) (sekisho.Run, error) {
	return rerun(ctx, st, cfg, pipeline, key, now, true, by)
}

func rerun(ctx context.Context, st *store.Store, cfg *config.Config, pipeline, key string, now time.Time, anyway bool, by By) (sekisho.Run, error) {
	r, err := st.Run(ctx, pipeline, key)
	if err != nil {
		return r, err
	}
	if _, err := Next(r.State, EvOperatorRerun, Policy{}); err != nil {
		return r, fmt.Errorf("%w: %s %s is %s; only a finished run can be rerun", sekisho.ErrConflict, pipeline, key, r.State)
	}
	if !anyway && r.State == sekisho.StateFailed && !r.IntentAt.IsZero() && r.ExternalID == "" {
		if err := refuseOverLandedJob(ctx, st, r); err != nil {
			return r, err
		}
	}
	p, err := config.PipelineFromSpec(r.Spec)
	if cfg != nil {
		if cp := cfg.Pipeline(pipeline); cp != nil {
			p, err = cp, nil
		}
	}
	if err != nil {
		return r, fmt.Errorf("rerun %s %s: %w", pipeline, key, err)
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
	act, err := by.Action(store.ActionRerun, pipeline, key, fmt.Sprintf("attempt %d", next.Attempt), now)
	if err != nil {
		return r, err
	}
	return applyWithIncidents(ctx, st, r, next, now, store.Step{Reason: sekisho.ReasonOperatorRerun,
		Detail: map[string]any{"previous_state": string(r.State), "by": by.Who}, Action: &act, Notices: by.Notices})
}

// refuseOverLandedJob returns ErrConflict naming the jobs an attempt that
// ended trigger_outcome_unknown may have started, if the ledger knows any.
func refuseOverLandedJob(ctx context.Context, st *store.Store, r sekisho.Run) error {
	trs, err := st.Transitions(ctx, r.ID)
	if err != nil {
		return err
	}
	if n := len(trs); n == 0 || trs[n-1].Reason != sekisho.ReasonTriggerUnknown {
		return nil
	}
	p, err := config.PipelineFromSpec(r.Spec)
	if err != nil || p.Trigger == nil {
		return nil // nothing to look under; the rerun reads the config anyway
	}
	ids, err := landedJobs(ctx, st, r, p.Trigger)
	if err != nil || len(ids) == 0 {
		return err
	}
	return fmt.Errorf("%w: %s %s attempt %d ended trigger_outcome_unknown, and since its trigger request at %s %s: "+
		"it most likely started that; check it in %s, then rerun anyway (sekisho rerun --anyway) if it is not the attempt's, or skip the day",
		sekisho.ErrConflict, r.Pipeline, r.LogicalDate, r.Attempt, r.IntentAt.UTC().Format(time.RFC3339), landedText(p.Trigger, ids), p.Trigger.Type)
}

// landedJobs lists the jobs of the resource trig starts that the job
// ledger learned (from a pushed event, or from a trigger's answer) at or
// after r's intent and that r did not record: jobs r's unanswered request
// may have started. TROCCO has no list endpoint for workflow jobs, so the
// ledger is all sekisho can look in.
func landedJobs(ctx context.Context, st *store.Store, r sekisho.Run, trig *sekisho.TriggerSpec) ([]string, error) {
	ids, err := st.LearnedJobs(ctx, config.TriggerResource(trig).Key(), r.IntentAt)
	if err != nil {
		return nil, err
	}
	out := ids[:0]
	for _, id := range ids {
		if id != r.ExternalID {
			out = append(out, id)
		}
	}
	return out, nil
}

// landedText names the jobs landedJobs found, for a message.
func landedText(trig *sekisho.TriggerSpec, ids []string) string {
	what := trig.Type + " job"
	if trig.Type == config.TypeTroccoWorkflow {
		what = "TROCCO reported workflow job"
	}
	if len(ids) > 1 {
		what += "s"
	}
	return what + " " + strings.Join(ids, ", ")
}

// Skip marks a run skipped: it is left out of SLO and SLA. Pipelines
// waiting on it see a failed upstream (the day produced nothing), unless
// their upstream says skipped_is_success (sekisho.State.AsUpstream).
func Skip(ctx context.Context, st *store.Store, pipeline, key string, now time.Time, by By) (sekisho.Run, error) {
	r, err := st.Run(ctx, pipeline, key)
	if err != nil {
		return r, err
	}
	to, err := Next(r.State, EvOperatorSkip, Policy{})
	if err != nil {
		return r, fmt.Errorf("%w: %s %s is %s and cannot be skipped", sekisho.ErrConflict, pipeline, key, r.State)
	}
	act, err := by.Action(store.ActionSkip, pipeline, key, "", now)
	if err != nil {
		return r, err
	}
	return applyWithIncidents(ctx, st, r, nextRun(r, patch{}, to, now), now, store.Step{Reason: sekisho.ReasonOperatorSkip,
		Detail: map[string]any{"previous_state": string(r.State), "by": by.Who}, Action: &act, Notices: by.Notices})
}

// Rerun starts a new attempt and wakes the loop.
func (e *Engine) Rerun(ctx context.Context, pipeline, key string, by By) (sekisho.Run, error) {
	r, err := Rerun(ctx, e.st, e.Config(), pipeline, key, e.clock.Now(), by)
	if err == nil {
		e.dirty.Store(true)
		e.Kick()
	}
	return r, err
}

// Skip marks a run skipped and wakes the loop.
func (e *Engine) Skip(ctx context.Context, pipeline, key string, by By) (sekisho.Run, error) {
	r, err := Skip(ctx, e.st, pipeline, key, e.clock.Now(), by)
	if err == nil {
		e.dirty.Store(true)
		e.Kick()
	}
	return r, err
}

// Ingest takes a run reported by a pushed event (Glue EventBridge, TROCCO
// notification) and checks the upstreams it concerns at once. An event for
// a resource no pipeline of the config waits on is reported as not found.
//
// The loop hands the run to the poller after its next plan, not Ingest
// here: whether an open run waits on the resource is the loop's to know,
// and asking the poller from here raced with it. An event that came while
// a batch of gates opened found the new runs' resources not planned yet,
// and a redelivered one that came after the runs had moved on was refused
// or taken depending on the pass it fell in. The loop drops a run no open
// run waits on.
func (e *Engine) Ingest(ctx context.Context, r sekisho.Resource, run sekisho.JobRun) error {
	if !e.planner.Watches(r) {
		return fmt.Errorf("no pipeline waits on %s: %w", r.Key(), sekisho.ErrNotFound)
	}
	at := e.clock.Now()
	e.events.push(func(context.Context) { e.poller.push(r, run, at) })
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
