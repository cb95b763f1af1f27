package engine

import (
	"context"
	"errors"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/store"
)

// Backoff bounds for a trigger request that failed transiently.
const (
	minRetry = 2 * time.Second
	maxRetry = 5 * time.Minute
)

// attemptKey names one attempt of one run: an answer to a request of an
// earlier attempt is not about the run as it is now.
type attemptKey struct {
	run     int64
	attempt int
}

// settle decides and carries out the next step of a run, and the next
// again while steps move it (blocked → waiting → triggering in one pass).
// a is the answer of a request, or nil for a look at the run.
func (e *Engine) settle(ctx context.Context, rec *runRec, r sekisho.Run, a *answer, now time.Time) error {
	for range 4 {
		st := decide(r, rec.spec, rec.cond, e.facts(ctx, rec, r, a, now), now)
		if err := e.exec(ctx, rec, r, st, now); err != nil || st.Event == "" {
			return err
		}
		if e.runs.recs[r.ID] != rec {
			return nil // the run ended
		}
		r = rec.run
	}
	return nil
}

// facts gathers what decide reads of a run besides its row.
func (e *Engine) facts(ctx context.Context, rec *runRec, r sekisho.Run, a *answer, now time.Time) facts {
	p := rec.spec
	f := facts{answer: a, recorded: rec.recorded, queued: rec.queued, inflight: rec.inflight,
		retry: rec.retry, followAt: rec.followAt}
	if a != nil {
		f.trigger = a.adapter // the adapter that answered
		return f
	}
	if p.Trigger != nil {
		if trig := e.trigger(p.Trigger.Type); trig != nil {
			f.trigger = infoOf(trig)
		}
	}
	if waits(r.State) && !r.IntentAt.IsZero() && p.Trigger != nil && !f.inflight && !f.retry.ours &&
		!f.trigger.idempotent && !p.Trigger.RetryUnknown {
		// An intent from before a restart: look for a job its request may
		// have started, before the wait for it to land is over.
		landed, err := landedJobs(ctx, e.st, r, p.Trigger)
		if err != nil {
			e.log.Error("read the job ledger", "pipeline", r.Pipeline, "date", r.LogicalDate, "key", r.Key, "attempt", r.Attempt, "err", err)
		}
		f.landed = landed
	}
	if waits(r.State) {
		f.ups = make(map[string]obsView, len(p.Upstreams))
		for _, u := range p.Upstreams {
			f.ups[u.Name] = e.observe(ctx, rec, u, now)
		}
	}
	if needsETA(r, now) {
		proj := e.project(ctx, rec, r, f.ups, now)
		f.eta, rec.projected = &proj, &proj
	}
	return f
}

// exec carries out a step: the one place a decision touches the world, so
// the one place to fence it (every write and request takes ctx). Memory
// comes first, then the observations, then the run's write with its
// notices; requests go out only once that write stood.
func (e *Engine) exec(ctx context.Context, rec *runRec, r sekisho.Run, st step, now time.Time) error {
	p := rec.spec
	for _, ef := range st.Effects {
		switch ef.kind {
		case effRetryLater:
			rec.retry = e.backoff(rec.retry, now)
			e.log.Warn("trigger failed, will retry", "pipeline", r.Pipeline, "date", r.LogicalDate, "key", r.Key, "attempt", r.Attempt,
				"retry_at", rec.retry.at, "err", ef.err)
		case effFollowLater:
			rec.followAt = now.Add(e.jitter(p.PokeInterval))
		case effAwaitLanding:
			rec.landAt = ef.at
		case effRecord:
			e.pass.obs = append(e.pass.obs, store.ObservationWrite{Run: r.ID, Attempt: r.Attempt, Obs: ef.obs})
			rec.recorded.put(ef.obs, len(p.Upstreams))
		}
	}
	notices, err := e.unqueued(ctx, rec, st.Notices)
	if err != nil {
		return err
	}
	moves := st.Event != "" || !st.Patch.empty()
	if moves || len(notices) > 0 {
		e.flushObservations(ctx) // what the step stands on is written before it
		if r, notices, err = e.write(ctx, rec, r, st, notices, moves, now); err != nil {
			return err
		}
	}
	for _, n := range st.Notices {
		if rec.queued == nil {
			rec.queued = map[string]bool{}
		}
		rec.queued[n.DedupeKey] = true
	}
	if len(notices) > 0 {
		e.noticed()
	}
	for _, ef := range st.Effects {
		switch ef.kind {
		case effTriggered:
			rec.retry = retryState{}
			if d := ef.at.Sub(ef.latencyFrom); e.opts.Metrics != nil && !ef.latencyFrom.IsZero() && d < 24*time.Hour {
				e.opts.Metrics.GateLatency(ef.mode, d)
			}
		case effTrigger, effFollow:
			e.send(ctx, rec, r, ef)
		}
	}
	return nil
}

// write writes a step's change of the run (when it moves) or its notices
// alone, with what incident.Decide makes of them, in one transaction: the
// board never shows a notice without the incident that speaks for it. It
// returns the run as written and the notices that are new.
func (e *Engine) write(ctx context.Context, rec *runRec, r sekisho.Run, st step, notices []sekisho.Notice, moves bool, now time.Time) (sekisho.Run, []sekisho.Notice, error) {
	p := rec.spec
	to := r.State
	if moves && st.Recovery {
		alerts, err := e.alerts(ctx, r.ID)
		if err != nil {
			e.log.Error("recovery notice", "err", err)
		}
		if len(alerts) > 0 {
			notices = append(notices, recoveryNotice(r, alerts, now))
		}
	}
	if st.Event != "" {
		var err error
		if to, err = Next(r.State, st.Event, Policy{FailOnUpstreamFailure: p.OnUpstreamFailure == "fail"}); err != nil {
			return r, nil, err
		}
	}
	next := r
	if moves {
		next = nextRun(r, st.Patch, to, now)
	}
	d, err := e.decideIncidents(ctx, rec, next, notices, now)
	if err != nil {
		return r, nil, err
	}
	if !moves {
		// Notices no state change carries: a deadline passing (delay,
		// at_risk), a long run, a second failed upstream while blocked.
		added, err := e.st.AddNoticesWithIncidents(ctx, d.Notices, d.Changes, now)
		e.incidentsWritten(d, err)
		if err != nil || added == 0 {
			return r, nil, err // all there already: nobody to wake
		}
		return r, notices, nil
	}
	got, err := e.apply(ctx, r, next, now, store.Step{Reason: st.Reason, Detail: st.Detail, Notices: d.Notices, Incidents: d.Changes})
	e.incidentsWritten(d, err)
	if err != nil {
		return r, nil, err
	}
	if r.State != to {
		e.log.Info("run changed", "pipeline", r.Pipeline, "date", r.LogicalDate, "key", r.Key, "attempt", r.Attempt,
			"from", r.State, "to", to, "reason", st.Reason)
		if e.opts.Metrics != nil {
			e.opts.Metrics.Transition(r.State, to)
		}
	}
	return got, d.Notices, nil
}

// send makes a trigger or status request off the loop; its answer comes
// back through the result queue to answered.
func (e *Engine) send(ctx context.Context, rec *runRec, r sekisho.Run, ef effect) {
	p := rec.spec
	trig := e.trigger(p.Trigger.Type)
	if trig == nil {
		return // the connection went away since decide looked; the next pass sees it
	}
	k := attemptKey{r.ID, r.Attempt}
	adapter := infoOf(trig)
	rec.inflight = true
	e.spawn(ctx, func(ctx context.Context) {
		a := answer{status: ef.kind == effFollow, adapter: adapter, latencyFrom: ef.latencyFrom, mode: ef.mode}
		if a.status {
			cctx, cancel := context.WithTimeout(ctx, requestTimeout(p.PokeInterval))
			a.run, a.err = trig.Status(cctx, *ef.req, r.ExternalID)
			cancel()
		} else {
			// One line per request that may start a downstream run: with the
			// trace_id it carries, the line a vendor's request log is matched to.
			e.log.Info("trigger request", "pipeline", r.Pipeline, "date", r.LogicalDate, "key", r.Key, "attempt", r.Attempt, "type", p.Trigger.Type)
			cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			a.run, a.err = trig.Start(cctx, *ef.req)
			cancel()
		}
		a.at = e.clock.Now()
		e.results.push(func(ctx context.Context) { e.answered(ctx, k, a) })
	})
}

// answered takes a request's answer back on the loop and decides on it.
func (e *Engine) answered(ctx context.Context, k attemptKey, a answer) {
	rec := e.runs.recs[k.run]
	if rec == nil || rec.run.Attempt != k.attempt {
		return // the attempt ended meanwhile
	}
	rec.inflight = false
	e.runs.touch(k.run) // look again next pass, if only to plan a retry or the next check
	now := e.clock.Now()
	r := rec.run
	if a.err != nil && a.status {
		e.log.Warn("downstream check failed", "run", k.run, "err", shortErr(a.err))
	} else {
		// An operator may have moved the run on meanwhile: decide on the stored row.
		got, err := e.st.RunByID(ctx, k.run)
		if err != nil {
			e.log.Error("request answered: reload run", "run", k.run, "err", err)
			if !a.status {
				return
			}
			a = answer{status: true, err: err} // still plan the next check
		} else if got.Attempt != k.attempt {
			return
		} else {
			r = got
		}
	}
	e.logErr(ignoreConflict(e.settle(ctx, rec, r, &a, now)))
}

// flushObservations writes the observations the steps since the last
// flush recorded, in one transaction. A step that moves a run or queues
// notices flushes before its own write; the rest wait for the end of the
// pass, where the first look at a batch of new gates (every upstream of
// every run) costs one transaction instead of one per observation. On a
// failure the records forget what was not written, so the next look at
// those runs records it again.
func (e *Engine) flushObservations(ctx context.Context) {
	ws := e.pass.obs
	if len(ws) == 0 {
		return
	}
	e.pass.obs = nil
	if _, err := e.st.RecordObservations(ctx, ws); err != nil {
		e.log.Error("record observations", "observations", len(ws), "err", err)
		for _, w := range ws {
			rec, ok := e.runs.recs[w.Run]
			if !ok || rec.run.Attempt != w.Attempt {
				continue
			}
			if o, ok := rec.recorded.get(w.Obs.Upstream); ok && sameObs(o, w.Obs) {
				rec.recorded.forget(w.Obs.Upstream)
			}
		}
	}
	// The next pass appends to the same array, emptied: while gates open
	// each pass records ~800 observations, and growing a new slice to that
	// every pass was a fifth of the engine's allocations then (issue 23).
	clear(ws)
	e.pass.obs = ws[:0]
}

// backoff is the retry state after one more transient failure.
func (e *Engine) backoff(rs retryState, now time.Time) retryState {
	rs.fails++
	d := min(minRetry<<min(rs.fails-1, 10), maxRetry)
	rs.at, rs.ours = now.Add(e.jitter(d)), true
	return rs
}

// alerts lists the kinds of the alerts a run sent, for its recovery notice.
func (e *Engine) alerts(ctx context.Context, runID int64) ([]string, error) {
	ns, err := e.st.Notices(ctx, runID)
	var kinds []string
	for _, n := range ns {
		if n.Kind != sekisho.NoticeRecovery && n.Kind != sekisho.NoticeDigest {
			kinds = append(kinds, string(n.Kind))
		}
	}
	return kinds, err
}

func ignoreConflict(err error) error {
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
