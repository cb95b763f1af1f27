package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/store"
)

type obsKey struct {
	run      int64
	upstream string
}

// attemptKey names one attempt of one run: loop state about requests is
// per attempt, so a rerun starts clean.
type attemptKey struct {
	run     int64
	attempt int
}

// Step is one reconcile pass: apply the results of finished requests, open
// due gates, start due polls, and take the next step of the open runs that
// need one. A pass looks only at the runs something happened to — a poll
// answer or event for a resource they wait on, a result, a change of a
// pipeline they wait on, a time they asked to be woken at (a timeout, a
// deadline, a follow-up check) — and at every open run once per FullEvery,
// after a reload and when the store changed behind the engine's back.
func (e *Engine) Step(ctx context.Context) error {
	cfg := e.Config()
	e.applyResults(ctx)
	now := e.clock.Now()
	if err := e.openDueGates(ctx, cfg, now); err != nil {
		return err
	}
	reloaded, err := e.loadRuns(ctx, now)
	if err != nil {
		return err
	}
	full := reloaded || cfg != e.passCfg || !now.Before(e.lastFull.Add(e.opts.FullEvery))
	if full {
		e.forget()
	}
	replan := full || e.demandDirty
	if replan {
		e.planDemand()
	}
	for _, rs := range e.poller.plan(e.want, now, replan) {
		e.spawnPoll(ctx, rs)
	}
	if e.opts.Sync {
		now = e.clock.Now()
	}
	sel := e.selectRuns(full, now)
	if full {
		e.lastFull, e.passCfg = now, cfg
	}
	// Reconcile in gate order; a run that moves selects the runs waiting on
	// it, so a chain moves in one pass. Those earlier in the order are taken
	// in another round.
	done := make(map[int64]bool, len(sel))
	for round := 0; round < 10 && len(sel) > 0; round++ {
		progressed := false
		for _, id := range append([]int64(nil), e.cache.ids...) {
			if !sel[id] || done[id] {
				continue
			}
			done[id], progressed = true, true
			r, ok := e.cache.open[id]
			if !ok {
				continue
			}
			if err := e.reconcileOne(ctx, r, now, sel); err != nil {
				return err
			}
		}
		if !progressed {
			break
		}
	}
	if e.opts.Sync {
		e.applyResults(ctx)
	}
	return nil
}

// reconcileOne takes the next step of one run and records when it wants to
// be looked at again.
func (e *Engine) reconcileOne(ctx context.Context, r sekisho.Run, now time.Time, sel map[int64]bool) error {
	p, err := e.spec(r)
	if err != nil {
		e.log.Error("unreadable run config", "pipeline", r.Pipeline, "date", r.LogicalDate, "err", err)
		return nil
	}
	err = e.reconcile(ctx, p, r, now)
	for id, moved := range e.moved {
		for _, dep := range e.deps[moved.Pipeline+"/"+moved.LogicalDate] {
			sel[dep] = true
		}
		delete(e.moved, id)
	}
	if cur, ok := e.cache.open[r.ID]; ok {
		if cp, err := e.spec(cur); err == nil {
			e.setWake(cur.ID, e.wakeFor(cp, cur, now))
		}
	}
	if err != nil {
		if errors.Is(err, sekisho.ErrConflict) {
			return nil // someone else moved the run; the next pass reads the store again
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		e.log.Error("reconcile failed", "pipeline", r.Pipeline, "date", r.LogicalDate, "err", err)
	}
	return nil
}

// planDemand works out, from the open runs, which resources are waited on
// (from which window, at which interval), which runs wait on each resource,
// and which runs wait on each other pipeline's run.
func (e *Engine) planDemand() {
	want := map[string]demand{}
	waiters := map[string][]int64{}
	deps := map[string][]int64{}
	for _, id := range e.cache.ids {
		r := e.cache.open[id]
		p, err := e.spec(r)
		if err != nil {
			continue
		}
		if r.State != sekisho.StateWaiting && r.State != sekisho.StateBlocked {
			continue
		}
		window := e.window(p, r)
		for _, u := range p.Upstreams {
			if u.Type == config.TypePipeline {
				key := u.Pipeline + "/" + r.LogicalDate
				deps[key] = append(deps[key], r.ID)
				continue
			}
			res := u.Resource()
			key := res.Key()
			d, ok := want[key]
			if !ok || window.Before(d.since) {
				d.since = window
			}
			if !ok || p.PokeInterval < d.interval {
				d.interval = p.PokeInterval
			}
			d.r = res
			want[key] = d
			waiters[key] = append(waiters[key], r.ID)
		}
	}
	e.want, e.waiters, e.deps, e.demandDirty = want, waiters, deps, false
}

// selectRuns picks the runs this pass reconciles.
func (e *Engine) selectRuns(full bool, now time.Time) map[int64]bool {
	changed := e.poller.drainChanged()
	touched := e.touched
	e.touched = map[int64]bool{}
	sel := make(map[int64]bool)
	if full {
		for _, id := range e.cache.ids {
			sel[id] = true
		}
		return sel
	}
	for id := range touched {
		sel[id] = true
	}
	for key := range changed {
		for _, id := range e.waiters[key] {
			sel[id] = true
		}
	}
	for id, at := range e.wakes {
		if !now.Before(at) {
			sel[id] = true
		}
	}
	return sel
}

func (e *Engine) applyResults(ctx context.Context) {
	for _, fn := range e.results.drain() {
		fn(ctx)
	}
}

// forget drops loop state about runs that are no longer open.
func (e *Engine) forget() {
	gone := func(id int64) bool { _, ok := e.cache.open[id]; return !ok }
	goneAttempt := func(k attemptKey) bool { return gone(k.run) }
	for k, p := range e.specs {
		if gone(k.run) {
			delete(e.conds, p)
		}
	}
	prune(e.specs, goneAttempt)
	prune(e.inflight, goneAttempt)
	prune(e.nextTry, goneAttempt)
	prune(e.follows, goneAttempt)
	prune(e.windows, goneAttempt)
	prune(e.recorded, func(k obsKey) bool { return gone(k.run) })
	prune(e.queued, func(k noticeKey) bool { return gone(k.run) })
	prune(e.wakes, gone)
}

// prune deletes the entries of m whose key is gone.
func prune[K comparable, V any](m map[K]V, gone func(K) bool) {
	for k := range m {
		if gone(k) {
			delete(m, k)
		}
	}
}

// spec returns the pipeline config a run carries (SPEC §4 rule 6).
func (e *Engine) spec(r sekisho.Run) (*config.Pipeline, error) {
	k := attemptKey{r.ID, r.Attempt}
	if p, ok := e.specs[k]; ok {
		return p, nil
	}
	p, err := config.PipelineFromSpec(r.Spec)
	if err != nil {
		return nil, err
	}
	e.specs[k] = p
	// The parsed snapshot is all the loop needs: drop the JSON from the
	// cached run (the store keeps it; Apply leaves it alone when empty).
	if c, ok := e.cache.open[r.ID]; ok && c.Attempt == r.Attempt {
		c.Spec = nil
		e.cache.open[r.ID] = c
	}
	return p, nil
}

func (e *Engine) reconcile(ctx context.Context, p *config.Pipeline, r sekisho.Run, now time.Time) error {
	switch r.State {
	case sekisho.StateWaiting, sekisho.StateBlocked:
		obs := e.observeAll(ctx, p, r, now)
		if err := e.timeNotices(ctx, p, r, obs, now); err != nil {
			return err
		}
		return e.reconcileWaiting(ctx, p, r, obs, now)
	case sekisho.StateTriggered, sekisho.StateRunning:
		if err := e.timeNotices(ctx, p, r, nil, now); err != nil {
			return err
		}
		return e.follow(ctx, p, r, now)
	}
	return nil
}

// observeAll works out every upstream's observation and records changes.
func (e *Engine) observeAll(ctx context.Context, p *config.Pipeline, r sekisho.Run, now time.Time) map[string]obsView {
	obs := make(map[string]obsView, len(p.Upstreams))
	for _, u := range p.Upstreams {
		v := e.observe(ctx, p, r, u, now)
		obs[u.Name] = v
		k := obsKey{r.ID, u.Name}
		if prev, ok := e.recorded[k]; ok && sameObs(prev, v.Observation) {
			continue
		}
		if _, err := e.st.RecordObservation(ctx, r.ID, r.Attempt, v.Observation); err != nil {
			e.log.Error("record observation", "pipeline", r.Pipeline, "upstream", u.Name, "err", err)
			continue
		}
		e.recorded[k] = v.Observation
	}
	return obs
}

func sameObs(a, b sekisho.Observation) bool {
	return a.State == b.State && a.ExternalID == b.ExternalID && a.Message == b.Message && a.Error == b.Error &&
		a.StartedAt.Equal(b.StartedAt) && a.FinishedAt.Equal(b.FinishedAt)
}

// obsView is an observation plus whether it came from a pushed event.
type obsView struct {
	sekisho.Observation
	pushed bool
}

func (e *Engine) observe(ctx context.Context, p *config.Pipeline, r sekisho.Run, u config.Upstream, now time.Time) obsView {
	o := sekisho.Observation{Upstream: u.Name, Type: u.Type, State: sekisho.JobPending, ObservedAt: now}
	if u.Type == config.TypePipeline {
		other, ok := e.openRun(u.Pipeline, r.LogicalDate)
		if !ok {
			var err error
			if other, err = e.closedRun(ctx, u.Pipeline, r.LogicalDate); err != nil {
				if !errors.Is(err, sekisho.ErrNotFound) {
					o.Error = err.Error()
				}
				return obsView{Observation: o}
			}
		}
		o.State = other.State.AsUpstream()
		o.ExternalID = fmt.Sprintf("%s/%s#%d", other.Pipeline, other.LogicalDate, other.Attempt)
		o.StartedAt = other.GateAt
		o.FinishedAt = other.FinishedAt
		if o.State == sekisho.JobFailed {
			o.Message = fmt.Sprintf("%s is %s", other.Pipeline, other.State)
			if other.Message != "" {
				o.Message += ": " + other.Message
			}
		}
		return obsView{Observation: o}
	}
	v := e.poller.view(u.Resource().Key(), e.window(p, r))
	if v.found {
		o.State = v.run.State
		o.ExternalID = v.run.ExternalID
		o.StartedAt = v.run.StartedAt
		o.FinishedAt = v.run.FinishedAt
		o.Message = v.run.Message
	} else if !v.have {
		// Not checked yet: keep what the store last recorded, so a restart
		// does not forget that an upstream had already succeeded (or
		// failed: a blocked run must not flap to waiting and back).
		k := obsKey{r.ID, u.Name}
		if _, ok := e.recorded[k]; !ok {
			e.loadRecorded(ctx, r.ID)
		}
		if prev, ok := e.recorded[k]; ok {
			prev.ObservedAt = now
			prev.Error = v.err
			return obsView{Observation: prev}
		}
	}
	if v.err != "" && !v.errAt.Before(v.at) {
		o.Error = v.err
	}
	return obsView{Observation: o, pushed: v.pushed}
}

// loadRecorded fills e.recorded for a run from the store, once after a
// restart: observeAll then records every upstream, so it is not asked again.
func (e *Engine) loadRecorded(ctx context.Context, runID int64) {
	latest, err := e.st.LatestObservations(ctx, runID)
	if err != nil {
		e.log.Error("read recorded observations", "run", runID, "err", err)
		return
	}
	for name, o := range latest {
		k := obsKey{runID, name}
		if _, ok := e.recorded[k]; !ok {
			e.recorded[k] = o
		}
	}
}

func (e *Engine) reconcileWaiting(ctx context.Context, p *config.Pipeline, r sekisho.Run, obs map[string]obsView, now time.Time) error {
	failedNotices := e.upstreamFailedNotices(p, r, obs)
	if !r.IntentAt.IsZero() {
		// The condition held and the trigger is committed for this attempt.
		return e.startTrigger(ctx, p, r, obs, now)
	}
	expr, err := e.condition(p)
	if err != nil {
		return err
	}
	res := expr.Eval(func(name string) sekisho.JobState { return obs[name].State })
	policy := Policy{FailOnUpstreamFailure: p.OnUpstreamFailure == "fail"}
	switch res {
	case condition.True:
		if r.State == sekisho.StateBlocked {
			if r, err = e.move(ctx, r, EvUpstreamRecovered, policy, now, sekisho.ReasonUpstreamRecovered, nil, nil); err != nil {
				return err
			}
		}
		if p.Trigger == nil {
			next := r
			next.FinishedAt = now
			if next.FirstSuccessAt.IsZero() {
				next.FirstSuccessAt = now
			}
			notices, err := e.recoveryNotice(ctx, p, r)
			if err != nil {
				return err
			}
			_, err = e.moveTo(ctx, r, next, EvGateOnlyMet, policy, now, sekisho.ReasonConditionMet, obsDetail(obs), notices)
			return err
		}
		return e.startTrigger(ctx, p, r, obs, now)
	case condition.False:
		if !now.Before(r.TimeoutAt) {
			return e.timeout(ctx, p, r, obs, now, failedNotices)
		}
		detail := obsDetail(obs)
		if r.State == sekisho.StateBlocked {
			return e.addNotices(ctx, failedNotices)
		}
		next := r
		next.Message = failedMessage(obs)
		if policy.FailOnUpstreamFailure {
			next.FinishedAt = now
		}
		_, err := e.moveTo(ctx, r, next, EvUpstreamFailed, policy, now, sekisho.ReasonUpstreamFailed, detail, failedNotices)
		return err
	default:
		if r.State == sekisho.StateBlocked {
			next := r
			next.Message = ""
			if r, err = e.moveTo(ctx, r, next, EvUpstreamRecovered, policy, now, sekisho.ReasonUpstreamRecovered, obsDetail(obs), nil); err != nil {
				return err
			}
		}
		if !now.Before(r.TimeoutAt) {
			return e.timeout(ctx, p, r, obs, now, failedNotices)
		}
		return e.addNotices(ctx, failedNotices)
	}
}

func (e *Engine) timeout(ctx context.Context, p *config.Pipeline, r sekisho.Run, obs map[string]obsView, now time.Time, notices []sekisho.Notice) error {
	next := r
	next.FinishedAt = now
	next.Message = "the condition did not hold before the timeout"
	notices = append(notices, e.notice(p, r, sekisho.NoticeTimedOut, sekisho.NoticeKey(sekisho.NoticeTimedOut, sekisho.NoticeSubject{Run: r.ID}), sekisho.NoticeFacts{
		State: sekisho.StateTimedOut, Message: pendingMessage(obs), Deadline: r.Deadline}))
	_, err := e.moveTo(ctx, r, next, EvTimeout, Policy{}, now, sekisho.ReasonTimeout, obsDetail(obs), notices)
	return err
}

// move applies ev to r with no other change.
func (e *Engine) move(ctx context.Context, r sekisho.Run, ev Event, p Policy, now time.Time, reason string, detail map[string]any, notices []sekisho.Notice) (sekisho.Run, error) {
	return e.moveTo(ctx, r, r, ev, p, now, reason, detail, notices)
}

// moveTo applies ev to r, writing next's other fields with it: the only
// place the engine changes a run's state.
func (e *Engine) moveTo(ctx context.Context, r, next sekisho.Run, ev Event, p Policy, now time.Time, reason string, detail map[string]any, notices []sekisho.Notice) (sekisho.Run, error) {
	to, err := Next(r.State, ev, p)
	if err != nil {
		return r, err
	}
	next.State = to
	got, err := e.apply(ctx, r, next, now, store.Step{Reason: reason, Detail: detail, Notices: notices})
	if err != nil {
		return r, err
	}
	e.moved[got.ID] = got
	if r.State != to {
		e.log.Info("run changed", "pipeline", r.Pipeline, "date", r.LogicalDate, "attempt", r.Attempt,
			"from", r.State, "to", to, "reason", reason)
		if e.opts.Metrics != nil {
			e.opts.Metrics.Transition(r.State, to)
		}
	}
	if len(notices) > 0 {
		e.noticed()
	}
	return got, nil
}

// condition parses a pipeline's condition once per config snapshot.
func (e *Engine) condition(p *config.Pipeline) (*condition.Expr, error) {
	if expr, ok := e.conds[p]; ok {
		return expr, nil
	}
	expr, err := condition.Parse(p.Condition, upstreamNames(p))
	if err != nil {
		return nil, fmt.Errorf("condition of %s: %w", p.Name, err)
	}
	e.conds[p] = expr
	return expr, nil
}

func upstreamNames(p *config.Pipeline) []string {
	names := make([]string, len(p.Upstreams))
	for i, u := range p.Upstreams {
		names[i] = u.Name
	}
	return names
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
		o := obs[name]
		if o.State == sekisho.JobFailed {
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
		if obs[name].State != sekisho.JobSucceeded {
			waiting = append(waiting, fmt.Sprintf("%s (%s)", name, obs[name].State))
		}
	}
	if len(waiting) == 0 {
		return ""
	}
	return "still waiting for " + joinComma(waiting)
}
