package engine

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
	"github.com/sekisho-dev/sekisho/slo"
)

// step is the one next step of a run: decide works it out, exec carries it
// out. An Event moves the state (through Next); Patch is written with it, or
// alone; Notices go into the outbox in the same transaction; Effects are the
// rest: observations to record, requests to send, memory to keep.
type step struct {
	Event    Event
	Reason   string
	Detail   map[string]any
	Patch    patch
	Notices  []sekisho.Notice
	Effects  []effect
	Recovery bool // a recovery notice is owed if the run sent any alert (exec reads which)
}

// patch is what a step writes into the run's row besides its state.
// FinishedAt and FirstSuccessAt are not here: nextRun sets them, from EndedAt.
type patch struct {
	IntentAt, TriggeredAt, StartedAt time.Time // written when not zero
	EndedAt                          time.Time // the end of a step into a final state (zero: now)
	ExternalID, Message              *string   // written when not nil
}

func (p patch) empty() bool { return p == patch{} }

func str(s string) *string { return &s }

// effectKind names a side effect exec carries out.
type effectKind int

const (
	effRecord       effectKind = iota // write obs, an upstream's observation
	effTrigger                        // send req to the downstream
	effFollow                         // ask the downstream about its run
	effRetryLater                     // back off before the next trigger request
	effFollowLater                    // check the downstream again a poke interval from now
	effTriggered                      // the trigger was accepted: forget retries, measure the gate latency
	effAwaitLanding                   // look again at landAt: a dead daemon's request may still land until then
)

// effect is one side effect of a step.
type effect struct {
	kind effectKind
	obs  sekisho.Observation // effRecord
	// req is for effTrigger and effFollow; a pointer, since most effects
	// record an observation (a run's first look makes one per upstream):
	// 536 bytes an effect with the request inline, 288 without.
	req         *sekisho.TriggerRequest
	latencyFrom time.Time // effTrigger, effTriggered: when the last upstream finished
	mode        string    // effTrigger, effTriggered: "push" when an event told us, else "poll"
	err         string    // effRetryLater: why
	// at is, for effAwaitLanding, when to look again (a dead daemon's
	// request may land until then); for effTriggered, when the downstream
	// accepted the request.
	at time.Time
}

// facts is everything decide reads besides the run's row, its config and
// the time: what the loop observed and what it remembers of the run.
type facts struct {
	ups      map[string]obsView // the upstreams as observed now (waiting and blocked runs)
	answer   *answer            // the answer of a request, when deciding on one
	trigger  triggerInfo        // the downstream's adapter
	recorded observations       // per upstream, the observation last written
	queued   map[string]bool    // dedupe keys already in the outbox
	inflight bool               // a request is under way
	retry    retryState         // a trigger request failed transiently
	followAt time.Time          // not before: the next status check
	eta      *eta.Projection    // the run's projected success (SPEC §21), for at_risk
	landed   []string           // intent from before a restart: jobs learned since it (landedJobs)
}

// triggerInfo is what decide needs to know of a downstream adapter.
type triggerInfo struct {
	configured  bool          // the connection exists
	idempotent  bool          // a repeated request cannot start a second run
	landsWithin time.Duration // not idempotent: how long a dead daemon's request may take to land (sekisho.LandingBound)
}

// infoOf is what decide needs to know of trig.
func infoOf(trig sekisho.Trigger) triggerInfo {
	info := triggerInfo{configured: true, idempotent: trig.Idempotent()}
	if b, ok := trig.(sekisho.LandingBound); ok && !info.idempotent {
		info.landsWithin = b.LandsWithin()
	}
	return info
}

// answer is a trigger or status request's outcome.
type answer struct {
	status      bool // a status answer; else a trigger answer
	run         sekisho.JobRun
	err         error
	adapter     triggerInfo // the adapter that answered
	latencyFrom time.Time   // trigger answers: as in effect
	mode        string
	// at is when the request was answered, on the engine's clock: a
	// trigger's triggered_at. The loop may take the answer up a pass
	// later (while 10,000 gates open, tens of milliseconds); the
	// downstream run started when it was accepted.
	at time.Time
}

// obsView is an observation plus whether it came from a pushed event.
type obsView struct {
	sekisho.Observation
	pushed bool
}

// decide is the engine's judgement as a pure function: from a run, the
// config it carries, what is known of it and the time, the one next step.
// It owns the notices' dedupe keys, and (through nextRun) the run's times.
func decide(r sekisho.Run, p *config.Pipeline, cond *condition.Expr, f facts, now time.Time) step {
	if a := f.answer; a != nil {
		if a.status {
			return statusAnswered(r, p, f, *a, now)
		}
		return triggerAnswered(r, p, f, *a, now)
	}
	var st step
	for _, u := range p.Upstreams {
		v, ok := f.ups[u.Name]
		if prev, seen := f.recorded.get(u.Name); ok && (!seen || !sameObs(prev, v.Observation)) {
			if st.Effects == nil {
				// Room for every upstream at once: a run's first look
				// records each of them (growing one by one was the
				// largest allocation of the 10,000 gates' opening,
				// issue 23).
				st.Effects = make([]effect, 0, len(p.Upstreams)+1)
			}
			st.Effects = append(st.Effects, effect{kind: effRecord, obs: v.Observation})
		}
	}
	timeNotices(&st, r, p, f, now)
	switch r.State {
	case sekisho.StateWaiting, sekisho.StateBlocked:
		return waiting(st, r, p, cond, f, now)
	case sekisho.StateTriggered, sekisho.StateRunning:
		if f.inflight || now.Before(f.followAt) || p.Trigger == nil || !f.trigger.configured {
			return st
		}
		req := request(p, r, nil)
		st.Effects = append(st.Effects, effect{kind: effFollow, req: &req})
	}
	return st
}

// waiting decides for a run that watches its upstreams.
func waiting(st step, r sekisho.Run, p *config.Pipeline, cond *condition.Expr, f facts, now time.Time) step {
	if !r.IntentAt.IsZero() {
		return startTrigger(st, r, p, f, now) // the condition held; the trigger is committed for this attempt
	}
	failed := upstreamFailedNotices(r, f, now)
	anomalyNotices(&st, r, f, now)
	switch cond.Eval(func(name string) sekisho.JobState { return f.ups[name].State }) {
	case condition.True:
		if r.State == sekisho.StateBlocked {
			st.Event, st.Reason = EvUpstreamRecovered, sekisho.ReasonUpstreamRecovered
			return st
		}
		if p.Trigger == nil {
			st.Event, st.Reason, st.Detail, st.Recovery = EvGateOnlyMet, sekisho.ReasonConditionMet, obsDetail(f.ups), true
			if held := heldSince(r, cond, f.ups, now); held.Before(now) {
				st.Patch.EndedAt = held
				if metAt(r, held, now) {
					st.Notices = dropKind(st.Notices, sekisho.NoticeDelay) // met: the late look is not a delay
				}
			}
			return st
		}
		return startTrigger(st, r, p, f, now)
	case condition.False:
		if !now.Before(r.TimeoutAt) {
			return timeout(st, r, f, failed, now)
		}
		st.Notices = append(st.Notices, failed...)
		if r.State == sekisho.StateWaiting {
			st.Event, st.Reason, st.Detail = EvUpstreamFailed, sekisho.ReasonUpstreamFailed, obsDetail(f.ups)
			st.Patch.Message = str(failedMessage(f.ups))
		}
		return st
	default:
		if r.State == sekisho.StateBlocked {
			st.Event, st.Reason, st.Detail = EvUpstreamRecovered, sekisho.ReasonUpstreamRecovered, obsDetail(f.ups)
			st.Patch.Message = str("")
		} else if !now.Before(r.TimeoutAt) {
			return timeout(st, r, f, failed, now)
		}
		st.Notices = append(st.Notices, failed...)
		return st
	}
}

func timeout(st step, r sekisho.Run, f facts, failed []sekisho.Notice, now time.Time) step {
	st.Event, st.Reason, st.Detail = EvTimeout, sekisho.ReasonTimeout, obsDetail(f.ups)
	st.Patch.Message = str("the condition did not hold before the timeout")
	st.Notices = append(st.Notices, failed...)
	addNotice(&st, r, f, now, sekisho.NoticeTimedOut, sekisho.NoticeSubject{Run: r.ID}, sekisho.NoticeFacts{
		State: sekisho.StateTimedOut, Message: pendingMessage(f.ups), Deadline: r.Deadline})
	return st
}

// startTrigger records the intent to trigger with the request (SPEC §4 rule
// 3: the intent is written before the request goes out).
func startTrigger(st step, r sekisho.Run, p *config.Pipeline, f facts, now time.Time) step {
	if f.inflight || now.Before(f.retry.at) {
		return st
	}
	if !f.trigger.configured {
		return triggerFailed(st, r, f, now, sekisho.ReasonTriggerRejected,
			fmt.Sprintf("no %s trigger is configured (check connections)", p.Trigger.Type))
	}
	req := request(p, r, f.ups)
	if r.IntentAt.IsZero() {
		st.Patch.IntentAt = now
		req.IntentAt = now
	} else if !f.trigger.idempotent && !f.retry.ours && !p.Trigger.RetryUnknown {
		// An intent from before a restart, and no idempotency key: the
		// request may or may not have reached the downstream. Posting again
		// could run the workflow twice, so a person must look; but not
		// before the dead daemon's request, if it was sent, has landed
		// (issue 28): told at once, the person would find no job, rerun,
		// and the request still on the wire would start a second one.
		if len(f.landed) == 1 {
			// The ledger learned one job of the workflow since the intent:
			// the dead daemon's answer (its trigger writes the ledger
			// before the transition) or a pushed event. It is most likely
			// this attempt's; follow it rather than ask a person.
			st.Event, st.Reason = EvTriggerAccepted, sekisho.ReasonConditionMet
			st.Detail = map[string]any{"external_id": f.landed[0], "trigger": p.Trigger.Type,
				"adopted": "learned since the intent of a daemon that stopped before recording the answer"}
			st.Patch = patch{ExternalID: str(f.landed[0]), TriggeredAt: now, Message: str("")}
			st.Effects = append(st.Effects, effect{kind: effTriggered})
			return st
		}
		if landAt := r.IntentAt.Add(f.trigger.landsWithin); len(f.landed) == 0 && now.Before(landAt) {
			if msg := "the daemon stopped while the trigger request was under way; until " + landAt.UTC().Format(time.RFC3339) +
				" it may still reach " + p.Trigger.Type + ", then its outcome is called unknown"; r.Message != msg {
				st.Patch.Message = str(msg)
			}
			st.Effects = append(st.Effects, effect{kind: effAwaitLanding, at: landAt})
			return st
		}
		msg := "the daemon stopped while the trigger request was under way; check in " +
			p.Trigger.Type + " whether the job started, then rerun or skip (or set trigger.retry_unknown: true)"
		if len(f.landed) > 0 {
			// Several jobs since the intent: one is most likely the
			// request's, but which? Say so; a rerun is refused over them.
			msg = "the daemon stopped while the trigger request was under way, and since then " + landedText(p.Trigger, f.landed) +
				": one is most likely this attempt's; check them in " + p.Trigger.Type + " before you rerun or skip"
		}
		st.Event, st.Reason = EvTriggerRejected, sekisho.ReasonTriggerUnknown
		st.Detail = map[string]any{"intent_at": r.IntentAt.UTC().Format(time.RFC3339Nano)}
		st.Patch.Message = str(msg)
		addNotice(&st, r, f, now, sekisho.NoticeTriggerUnknown, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt},
			sekisho.NoticeFacts{State: sekisho.StateFailed, Message: msg, Reason: sekisho.ReasonTriggerUnknown})
		return st
	}
	from, mode := lastFinish(f.ups)
	st.Effects = append(st.Effects, effect{kind: effTrigger, req: &req, latencyFrom: from, mode: mode})
	return st
}

func triggerFailed(st step, r sekisho.Run, f facts, now time.Time, reason, msg string) step {
	st.Event, st.Reason, st.Detail = EvTriggerRejected, reason, map[string]any{"message": msg}
	st.Patch.Message = str(msg)
	kind := sekisho.NoticeTriggerFailed
	if reason == sekisho.ReasonTriggerUnknown {
		kind = sekisho.NoticeTriggerUnknown
	}
	addNotice(&st, r, f, now, kind, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt},
		sekisho.NoticeFacts{State: sekisho.StateFailed, Message: msg, Reason: reason})
	return st
}

// triggerAnswered decides on the answer to a trigger request.
func triggerAnswered(r sekisho.Run, p *config.Pipeline, f facts, a answer, now time.Time) step {
	var st step
	if r.State != sekisho.StateWaiting {
		return st // an operator moved the run on meanwhile
	}
	switch {
	case a.err == nil:
		st.Event, st.Reason = EvTriggerAccepted, sekisho.ReasonConditionMet
		st.Detail = map[string]any{"external_id": a.run.ExternalID, "trigger": p.Trigger.Type}
		accepted := a.at
		if accepted.IsZero() || accepted.After(now) {
			accepted = now
		}
		st.Patch = patch{ExternalID: str(a.run.ExternalID), TriggeredAt: accepted, Message: str("")}
		st.Effects = []effect{{kind: effTriggered, latencyFrom: a.latencyFrom, mode: a.mode, at: accepted}}
		return st
	case errors.Is(a.err, sekisho.ErrPaused):
		return triggerFailed(st, r, f, now, sekisho.ReasonDagPaused, shortErr(a.err))
	case errors.Is(a.err, sekisho.ErrLogicalDateTaken):
		return triggerFailed(st, r, f, now, sekisho.ReasonLogicalDateTaken, shortErr(a.err))
	case errors.Is(a.err, sekisho.ErrRejected):
		return triggerFailed(st, r, f, now, sekisho.ReasonTriggerRejected, shortErr(a.err))
	case !f.trigger.idempotent && !p.Trigger.RetryUnknown:
		return triggerFailed(st, r, f, now, sekisho.ReasonTriggerUnknown,
			"the trigger request failed and its outcome is unknown: "+shortErr(a.err)+
				"; check whether the job started, then rerun or skip")
	case !now.Before(r.TimeoutAt):
		return triggerFailed(st, r, f, now, sekisho.ReasonTriggerRejected, "could not trigger before the timeout: "+shortErr(a.err))
	}
	st.Effects = []effect{{kind: effRetryLater, err: shortErr(a.err)}}
	if msg := "trigger retrying: " + shortErr(a.err); r.Message != msg {
		st.Patch.Message = str(msg)
	}
	return st
}

// statusAnswered decides on the answer to a downstream status check.
func statusAnswered(r sekisho.Run, p *config.Pipeline, f facts, a answer, now time.Time) step {
	st := step{Effects: []effect{{kind: effFollowLater}}}
	if a.err != nil || (r.State != sekisho.StateTriggered && r.State != sekisho.StateRunning) {
		return st
	}
	res := a.run
	st.Detail = map[string]any{"external_id": r.ExternalID}
	if res.Message != "" {
		st.Detail["message"] = res.Message
	}
	if r.State == sekisho.StateTriggered && res.State != sekisho.JobPending {
		st.Event, st.Reason = EvDownstreamRunning, sekisho.ReasonDownstreamRunning
		st.Patch.StartedAt = clampEnd(res.StartedAt, now)
		return st
	}
	switch res.State {
	case sekisho.JobSucceeded:
		st.Event, st.Reason, st.Recovery = EvDownstreamSuccess, sekisho.ReasonDownstreamSuccess, true
		st.Patch = patch{EndedAt: clampEnd(res.FinishedAt, now), Message: str("")}
	case sekisho.JobFailed:
		msg := res.Message
		if msg == "" {
			msg = "the downstream run " + r.ExternalID + " failed"
		}
		st.Event, st.Reason = EvDownstreamFailed, sekisho.ReasonDownstreamFailed
		st.Patch = patch{EndedAt: clampEnd(res.FinishedAt, now), Message: str(msg)}
		addNotice(&st, r, f, now, sekisho.NoticeRunFailed, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt},
			sekisho.NoticeFacts{State: sekisho.StateFailed, ExternalID: r.ExternalID, Message: msg, Deadline: r.Deadline})
	default:
		if p.MaxDuration > 0 && r.State == sekisho.StateRunning && !r.StartedAt.IsZero() && now.Sub(r.StartedAt) > p.MaxDuration {
			addNotice(&st, r, f, now, sekisho.NoticeLongRunning, sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt},
				sekisho.NoticeFacts{State: r.State, ExternalID: r.ExternalID, StartedAt: r.StartedAt,
					Duration: now.Sub(r.StartedAt).Round(time.Second).String(), MaxDuration: p.MaxDuration.String(), Deadline: r.Deadline})
		}
	}
	return st
}

// nextRun is the row a step writes: its state, its patch, and the times a
// final state sets. It is the one place FinishedAt and FirstSuccessAt are
// set: a run finishes when it reaches a final state, and first succeeds then
// if it never did before.
func nextRun(r sekisho.Run, p patch, to sekisho.State, now time.Time) sekisho.Run {
	next := r
	next.State = to
	if !p.IntentAt.IsZero() {
		next.IntentAt = p.IntentAt
	}
	if !p.TriggeredAt.IsZero() {
		next.TriggeredAt = p.TriggeredAt
	}
	if !p.StartedAt.IsZero() {
		next.StartedAt = p.StartedAt
	}
	if p.ExternalID != nil {
		next.ExternalID = *p.ExternalID
	}
	if p.Message != nil {
		next.Message = *p.Message
	}
	if to.Terminal() && to != r.State {
		end := now
		if !p.EndedAt.IsZero() {
			end = p.EndedAt
		}
		next.FinishedAt = end
		if to == sekisho.StateSucceeded && next.FirstSuccessAt.IsZero() {
			next.FirstSuccessAt = next.FinishedAt
		}
	}
	return next
}

// addNotice adds a notice to a step unless one with its key is queued.
func addNotice(st *step, r sekisho.Run, f facts, now time.Time, kind sekisho.NoticeKind, s sekisho.NoticeSubject, nf sekisho.NoticeFacts) {
	key := sekisho.NoticeKey(kind, s)
	if f.queued[key] {
		return
	}
	st.Notices = append(st.Notices, sekisho.Notice{RunID: r.ID, Pipeline: r.Pipeline, LogicalDate: r.LogicalDate,
		Key: r.Key, Attempt: r.Attempt, Kind: kind, DedupeKey: key, Facts: nf, CreatedAt: now})
}

// upstreamFailedNotices: once per failed upstream run (SPEC §7).
func upstreamFailedNotices(r sekisho.Run, f facts, now time.Time) []sekisho.Notice {
	var st step
	for _, name := range sortedKeys(f.ups) {
		o := f.ups[name]
		if o.State == sekisho.JobFailed {
			addNotice(&st, r, f, now, sekisho.NoticeUpstreamFailed,
				sekisho.NoticeSubject{Run: r.ID, Upstream: name, ExternalID: o.ExternalID},
				sekisho.NoticeFacts{State: r.State, Upstream: name, ExternalID: o.ExternalID, Message: o.Message,
					Deadline: r.Deadline, Reason: o.Type})
		}
	}
	return st.Notices
}

// anomalyNotices: once per run and upstream whose value broke its
// expectations under on_violation: warn (SPEC §21).
func anomalyNotices(st *step, r sekisho.Run, f facts, now time.Time) {
	for _, name := range sortedKeys(f.ups) {
		if o := f.ups[name]; o.Reason == sekisho.ReasonDataAnomaly {
			addNotice(st, r, f, now, sekisho.NoticeDataAnomaly, sekisho.NoticeSubject{Run: r.ID, Upstream: name},
				sekisho.NoticeFacts{State: r.State, Upstream: name, Message: o.Message, Reason: o.Reason, Deadline: r.Deadline})
		}
	}
}

// metAt asks the SLO judge whether the run, had it succeeded at, met its
// deadline: a gate-only run's condition held before it although the pass
// that sees it comes later.
func metAt(r sekisho.Run, at, now time.Time) bool {
	r.State, r.FirstSuccessAt = sekisho.StateSucceeded, at
	return slo.JudgeRun(r, now).SLO == slo.VerdictMet
}

// timeNotices are the notices time alone causes: delay once the deadline
// passes, at_risk before it, long_running for a watched upstream.
func timeNotices(st *step, r sekisho.Run, p *config.Pipeline, f facts, now time.Time) {
	// The SLO judge says whether the day is late: the board's 🐢, the
	// report's miss and this delay are one answer.
	switch j := slo.JudgeRun(r, now); {
	case j.Late():
		msg := r.Message
		if msg == "" {
			msg = pendingMessage(f.ups) // what the run still waits for, a data check's numbers included
		}
		addNotice(st, r, f, now, sekisho.NoticeDelay, sekisho.NoticeSubject{Run: r.ID},
			sekisho.NoticeFacts{State: r.State, Deadline: r.Deadline, Message: msg})
	case j.SLO == slo.VerdictPending:
		// The projection along the line passes the deadline: say when, and
		// what makes it late, however far up the line that is.
		if p := f.eta; p != nil && p.Known() && p.At.After(r.Deadline) {
			addNotice(st, r, f, now, sekisho.NoticeAtRisk, sekisho.NoticeSubject{Run: r.ID},
				sekisho.NoticeFacts{State: r.State, Deadline: r.Deadline, ExpectedAt: p.At,
					Upstream: p.Cause.Upstream, Via: p.Cause.Via})
		}
	}
	if p.MaxDuration <= 0 {
		return
	}
	for _, name := range sortedKeys(f.ups) {
		o := f.ups[name]
		if o.State == sekisho.JobRunning && !o.StartedAt.IsZero() && now.Sub(o.StartedAt) > p.MaxDuration {
			addNotice(st, r, f, now, sekisho.NoticeLongRunning,
				sekisho.NoticeSubject{Run: r.ID, Attempt: r.Attempt, Upstream: name, ExternalID: o.ExternalID},
				sekisho.NoticeFacts{State: r.State, Upstream: name, ExternalID: o.ExternalID, StartedAt: o.StartedAt,
					Duration: now.Sub(o.StartedAt).Round(time.Second).String(), MaxDuration: p.MaxDuration.String(),
					Deadline: r.Deadline})
		}
	}
}

// needsETA reports whether decide may look at the run's projection: the
// SLO judge has not decided the day yet.
func needsETA(r sekisho.Run, now time.Time) bool {
	return slo.JudgeRun(r, now).SLO == slo.VerdictPending
}

// recoveryNotice is the notice of a run that succeeded after the alerts of
// the given kinds.
func recoveryNotice(r sekisho.Run, alerts []string, now time.Time) sekisho.Notice {
	return sekisho.Notice{RunID: r.ID, Pipeline: r.Pipeline, LogicalDate: r.LogicalDate, Key: r.Key, Attempt: r.Attempt,
		Kind: sekisho.NoticeRecovery, DedupeKey: sekisho.NoticeKey(sekisho.NoticeRecovery, sekisho.NoticeSubject{Run: r.ID}),
		Facts:     sekisho.NoticeFacts{State: sekisho.StateSucceeded, Deadline: r.Deadline, Reason: strings.Join(alerts, ",")},
		CreatedAt: now}
}

func request(p *config.Pipeline, r sekisho.Run, obs map[string]obsView) sekisho.TriggerRequest {
	ups := make(map[string]sekisho.Observation, len(obs))
	for name, o := range obs {
		ups[name] = o.Observation
	}
	return sekisho.TriggerRequest{Pipeline: r.Pipeline, LogicalDate: r.LogicalDate, Key: r.Key, Attempt: r.Attempt,
		GateAt: r.GateAt, TimeZone: p.Location, Spec: *p.Trigger, Upstreams: ups,
		IntervalStart: p.PrevFire(r.GateAt), IntentAt: r.IntentAt}
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

// heldSince is when a gate-only run's condition, which holds now, began to
// hold: the first upstream end at which it held, not before the attempt
// opened. A gate-only run ends then, as a triggered run ends when its
// downstream reports it ended, so a daemon that was down (or starved) when
// the upstreams finished does not move the day's success, and its SLO
// verdict, to the moment it looked again. An upstream succeeded with no end
// time counts as ending now.
func heldSince(r sekisho.Run, cond *condition.Expr, ups map[string]obsView, now time.Time) time.Time {
	end := func(o obsView) time.Time { return clampEnd(o.FinishedAt, now) }
	var ends []time.Time
	for _, o := range ups {
		if o.State == sekisho.JobSucceeded {
			ends = append(ends, end(o))
		}
	}
	sort.Slice(ends, func(i, j int) bool { return ends[i].Before(ends[j]) })
	held := now
	for _, t := range ends {
		// At t an upstream that ended later was still running.
		if cond.Eval(func(name string) sekisho.JobState {
			o := ups[name]
			if o.State == sekisho.JobSucceeded && end(o).After(t) {
				return sekisho.JobRunning
			}
			return o.State
		}) == condition.True {
			held = t
			break
		}
	}
	opened := r.AttemptAt
	if opened.IsZero() {
		opened = r.GateAt
	}
	if held.Before(opened) {
		held = opened
	}
	return clampEnd(held, now)
}

// dropKind is ns without the notices of kind k.
func dropKind(ns []sekisho.Notice, k sekisho.NoticeKind) []sekisho.Notice {
	out := ns[:0:0]
	for _, n := range ns {
		if n.Kind != k {
			out = append(out, n)
		}
	}
	return out
}

// clampEnd keeps a reported time unless it is missing or in the future.
func clampEnd(t, now time.Time) time.Time {
	if t.IsZero() || t.After(now) {
		return now
	}
	return t
}

func sameObs(a, b sekisho.Observation) bool {
	return a.State == b.State && a.ExternalID == b.ExternalID && a.Message == b.Message && a.Error == b.Error &&
		a.Reason == b.Reason && sameValue(a.Value, b.Value) &&
		a.StartedAt.Equal(b.StartedAt) && a.FinishedAt.Equal(b.FinishedAt)
}

// obsDetail is the transition detail describing the upstreams.
func obsDetail(obs map[string]obsView) map[string]any {
	ups := map[string]any{}
	for name, o := range obs {
		u := map[string]any{"state": string(o.State)}
		if o.ExternalID != "" {
			u["external_id"] = o.ExternalID
		}
		if o.Message != "" {
			u["message"] = o.Message
		}
		ups[name] = u
	}
	return map[string]any{"upstreams": ups}
}

func failedMessage(obs map[string]obsView) string {
	for _, name := range sortedKeys(obs) {
		if o := obs[name]; o.State == sekisho.JobFailed {
			msg := fmt.Sprintf("upstream %s failed", name)
			if o.ExternalID != "" {
				msg += " (" + o.ExternalID + ")"
			}
			if o.Message != "" {
				msg += ": " + o.Message
			}
			return msg
		}
	}
	return ""
}

func pendingMessage(obs map[string]obsView) string {
	var waiting []string
	for _, name := range sortedKeys(obs) {
		if o := obs[name]; o.State != sekisho.JobSucceeded {
			if o.Reason != "" {
				// A data check that answered: say what it answered.
				waiting = append(waiting, fmt.Sprintf("%s (%s: %s)", name, o.Reason, o.Message))
				continue
			}
			waiting = append(waiting, fmt.Sprintf("%s (%s)", name, o.State))
		}
	}
	if len(waiting) == 0 {
		return ""
	}
	return "still waiting for " + strings.Join(waiting, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// shortErr turns an error into a bounded message for the store and logs.
// Adapters keep secrets out of their errors; this only bounds the length.
func shortErr(err error) string {
	s := err.Error()
	if len(s) > 500 {
		s = s[:500] + "…"
	}
	return s
}
