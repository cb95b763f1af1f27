package engine

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
)

// Roll-ups (SPEC §19): a run that waits on another pipeline through a
// `type: pipeline` upstream waits on that pipeline's run of its logical
// date, or, when that pipeline runs more than once a day, on every run of
// it whose fire time falls on the logical date in the waiting pipeline's
// zone (runs: all) or on the last of them (runs: latest). A sub-daily run
// waits only on fires up to its own gate: its 09:00 run does not wait for
// 23:00.

// awaited is one run of the upstream pipeline a run waits for.
type awaited struct {
	key  string
	fire time.Time // zero for a daily upstream's run (its date is the key)
}

// awaitedRuns lists the runs of up that run r of p waits for through u.
// up is the upstream pipeline's current config, nil when it is gone (then
// its run of the date is all that can be named).
func awaitedRuns(p *config.Pipeline, r sekisho.Run, u config.Upstream, up *config.Pipeline) []awaited {
	if up == nil || !up.SubDaily() {
		return []awaited{{key: r.LogicalDate}}
	}
	day, err := time.ParseInLocation(sekisho.DateLayout, r.LogicalDate, p.Location)
	if err != nil {
		return nil
	}
	end := time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, p.Location)
	if p.SubDaily() && r.GateAt.Before(end) {
		end = r.GateAt.Add(time.Nanosecond)
	}
	fires := config.ScheduleFires(up, day, end)
	if u.Runs == config.RunsLatest && len(fires) > 1 {
		fires = fires[len(fires)-1:]
	}
	out := make([]awaited, len(fires))
	for i, f := range fires {
		out[i] = awaited{key: up.RunKey(f), fire: f}
	}
	return out
}

// rollUp is what a run sees of the awaited runs of another pipeline, as
// one observation: failed when one failed or one is missing (its fire
// passed and no run was opened), naming the first such interval; running
// or pending while any is unfinished or still to come; succeeded when
// every one succeeded (or was skipped, with skipped_is_success). found
// holds the awaited runs that exist, by key.
func rollUp(o sekisho.Observation, pipeline string, skippedIsSuccess bool, want []awaited, found map[string]sekisho.Run, now time.Time) sekisho.Observation {
	o.State = sekisho.JobSucceeded
	name := func(a awaited) string { return name1(pipeline, a) }
	var waitingFor string
	done, running := 0, false
	for _, a := range want {
		r, ok := found[a.key]
		switch {
		case !ok && !a.fire.IsZero() && !now.Before(a.fire):
			o.State, o.ExternalID, o.StartedAt, o.FinishedAt = sekisho.JobFailed, sekisho.UpstreamRunID(pipeline, a.key, "missing"), a.fire, time.Time{}
			o.Message = fmt.Sprintf("%s is missing: its gate at %s passed without a run", name(a), a.key)
			return o
		case !ok:
			if waitingFor == "" {
				waitingFor = name(a)
			}
			continue
		}
		switch st := r.State.AsUpstream(skippedIsSuccess); st {
		case sekisho.JobFailed:
			o.State, o.ExternalID, o.StartedAt, o.FinishedAt = st, sekisho.UpstreamRunID(r.Pipeline, r.Key, strconv.Itoa(r.Attempt)), r.GateAt, r.FinishedAt
			switch {
			case r.State == sekisho.StateSkipped:
				o.Message = name(a) + " was skipped"
			default:
				o.Message = fmt.Sprintf("%s is %s", name(a), r.State)
				if r.Message != "" {
					o.Message += ": " + r.Message
				}
			}
			return o
		case sekisho.JobSucceeded:
			done++
			if o.StartedAt.IsZero() || r.GateAt.Before(o.StartedAt) {
				o.StartedAt = r.GateAt
			}
			if r.FinishedAt.After(o.FinishedAt) {
				o.FinishedAt = r.FinishedAt
			}
			o.ExternalID = sekisho.UpstreamRunID(r.Pipeline, r.Key, strconv.Itoa(r.Attempt))
		default:
			running = running || st == sekisho.JobRunning
			if waitingFor == "" {
				waitingFor = name(a)
			}
		}
	}
	switch {
	case len(want) == 0:
		o.State, o.Message = sekisho.JobPending, pipeline+" has no run on this date"
	case waitingFor != "":
		o.State, o.FinishedAt = sekisho.JobPending, time.Time{}
		if running {
			o.State = sekisho.JobRunning
		}
		if len(want) > 1 {
			o.Message = fmt.Sprintf("waiting for %s (%d of %d done)", waitingFor, done, len(want))
		}
	}
	return o
}

// observePipeline works out a `type: pipeline` upstream's observation for
// a run from the other pipeline's runs, open ones from the records and
// finished ones from the store.
func (e *Engine) observePipeline(ctx context.Context, rec *runRec, u config.Upstream, o sekisho.Observation, now time.Time) sekisho.Observation {
	want := awaitedRuns(rec.spec, rec.run, u, e.Config().Pipeline(u.Pipeline))
	found := make(map[string]sekisho.Run, len(want))
	for _, a := range want {
		other, ok := e.openRun(u.Pipeline, a.key)
		if !ok {
			var err error
			if other, err = e.closedRun(ctx, u.Pipeline, a.key); err != nil {
				if !errors.Is(err, sekisho.ErrNotFound) {
					o.Error = err.Error()
					return o
				}
				continue
			}
		}
		found[a.key] = other
	}
	o = rollUp(o, u.Pipeline, u.SkippedIsSuccess, want, found, now)
	if o.State == sekisho.JobSucceeded && u.SkippedIsSuccess && len(want) == 1 && found[want[0].key].State == sekisho.StateSkipped {
		o.Message = name1(u.Pipeline, want[0]) + " was skipped (skipped_is_success)"
	}
	return o
}

// name1 names one awaited run in messages: the pipeline, with the time of
// day of a sub-daily run ("hourly_load 13:00 run").
func name1(pipeline string, a awaited) string {
	if t := sekisho.KeyTime(a.key); t != "" {
		return fmt.Sprintf("%s %s run", pipeline, t)
	}
	return pipeline
}
