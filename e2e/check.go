package e2e

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/engine"
	"github.com/sekisho-dev/sekisho/sim/airflowsim"
	"github.com/sekisho-dev/sekisho/sim/troccosim"
	"github.com/sekisho-dev/sekisho/store"
	"github.com/sekisho-dev/sekisho/tracing"
)

// History is one run with its transitions, read from the daemon's store.
type History struct {
	Run         sekisho.Run
	Transitions []sekisho.Transition
}

// Attempt is the slice of a run's history that belongs to one attempt.
type Attempt struct {
	N           int
	Began, Next time.Time // Next is zero for the current attempt
	Transitions []sekisho.Transition
}

// End is the attempt's last state and the reason that put it there.
func (a Attempt) End() (sekisho.State, string) {
	if len(a.Transitions) == 0 {
		return "", ""
	}
	t := a.Transitions[len(a.Transitions)-1]
	return t.To, t.Reason
}

// ExternalID is the downstream id the attempt recorded when it was triggered.
func (a Attempt) ExternalID() string {
	for _, t := range a.Transitions {
		if t.To == sekisho.StateTriggered {
			if s, ok := t.Detail["external_id"].(string); ok {
				return s
			}
		}
	}
	return ""
}

// Attempts splits the history by attempt. An operator rerun is recorded as
// the first transition of the new attempt.
func (h History) Attempts() []Attempt {
	var out []Attempt
	for _, t := range h.Transitions {
		if len(out) == 0 || out[len(out)-1].N != t.Attempt {
			if len(out) > 0 {
				out[len(out)-1].Next = t.At
			}
			out = append(out, Attempt{N: t.Attempt, Began: t.At})
		}
		out[len(out)-1].Transitions = append(out[len(out)-1].Transitions, t)
	}
	return out
}

// ReadHistories reads every run and its transitions.
func ReadHistories(ctx context.Context, st *store.Store) ([]History, error) {
	runs, err := st.Runs(ctx, store.RunFilter{})
	if err != nil {
		return nil, fmt.Errorf("read runs: %w", err)
	}
	out := make([]History, 0, len(runs))
	for _, r := range runs {
		trs, err := st.Transitions(ctx, r.ID)
		if err != nil {
			return nil, fmt.Errorf("read transitions of %s %s: %w", r.Pipeline, r.Key, err)
		}
		out = append(out, History{Run: r, Transitions: trs})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Run.Pipeline != out[j].Run.Pipeline {
			return out[i].Run.Pipeline < out[j].Run.Pipeline
		}
		return out[i].Run.Key < out[j].Run.Key // a daily run's key is its date; an hourly run's sorts by hour
	})
	return out, nil
}

// CheckPaths reports every run whose history is not a valid path through
// the state machine (a transition lost, repeated or invented), or whose
// stored state is not where its history ends.
func CheckPaths(hs []History) []string {
	var bad []string
	for _, h := range hs {
		if err := engine.ValidPath(h.Transitions); err != nil {
			bad = append(bad, fmt.Sprintf("%s %s: %v", h.Run.Pipeline, h.Run.Key, err))
			continue
		}
		if n := len(h.Transitions); n > 0 && h.Transitions[n-1].To != h.Run.State {
			bad = append(bad, fmt.Sprintf("%s %s: stored state %s, history ends in %s", h.Run.Pipeline, h.Run.Key, h.Run.State, h.Transitions[n-1].To))
		}
		if n := len(h.Transitions); n > 0 && h.Transitions[n-1].Attempt != h.Run.Attempt {
			bad = append(bad, fmt.Sprintf("%s %s: stored attempt %d, history ends in attempt %d", h.Run.Pipeline, h.Run.Key, h.Run.Attempt, h.Transitions[n-1].Attempt))
		}
	}
	return bad
}

// CheckAirflowOnce compares the Airflow simulator's trigger and clear logs
// with the runs: every dag_run_id was created (HTTP 200) exactly once, each
// one belongs to an attempt sekisho recorded, and every attempt that
// reached triggered names the run it created, or, for a rerun of a run
// with a logical date (SPEC §18), the earlier attempt's run it cleared:
// then exactly one clear took effect in the attempt's window. No attempt
// clears more than once. 409 answers are the idempotent repeats after a
// crash and count for nothing.
func CheckAirflowOnce(hs []History, trig []airflowsim.TriggerRecord, clears []airflowsim.ClearRecord, dagOf map[string]string) []string {
	var bad []string
	created := map[string]int{}
	for _, t := range trig {
		if t.Status == 200 {
			created[t.DagRunID]++
		}
	}
	want := map[string]bool{}
	for _, h := range hs {
		if _, ok := dagOf[h.Run.Pipeline]; !ok {
			continue
		}
		for _, a := range h.Attempts() {
			id := sekisho.DagRunID(h.Run.Pipeline, h.Run.Key, a.N)
			want[id] = true
			ext := a.ExternalID()
			n := 0 // clears that took effect in the attempt's window
			for _, c := range clears {
				if c.Cleared && !c.At.Before(a.Began) && (a.Next.IsZero() || c.At.Before(a.Next)) &&
					strings.HasPrefix(c.DagRunID, strings.TrimSuffix(id, strconv.Itoa(a.N))) {
					n++
				}
			}
			earlier := false
			for k := 1; k < a.N; k++ {
				earlier = earlier || ext == sekisho.DagRunID(h.Run.Pipeline, h.Run.Key, k)
			}
			switch {
			case n > 1:
				bad = append(bad, fmt.Sprintf("%s %s attempt %d: cleared %d times", h.Run.Pipeline, h.Run.Key, a.N, n))
			case ext != "" && earlier && n != 1:
				bad = append(bad, fmt.Sprintf("%s %s attempt %d: follows %q without clearing it", h.Run.Pipeline, h.Run.Key, a.N, ext))
			case ext != "" && !earlier && ext != id:
				bad = append(bad, fmt.Sprintf("%s %s attempt %d: recorded external id %q, want %q or an earlier attempt's", h.Run.Pipeline, h.Run.Key, a.N, ext, id))
			case ext == id && created[id] == 0:
				bad = append(bad, fmt.Sprintf("%s: triggered, but Airflow never created it", id))
			}
		}
	}
	for id, n := range created {
		if n != 1 {
			bad = append(bad, fmt.Sprintf("%s: created %d times", id, n))
		}
		if !want[id] {
			bad = append(bad, fmt.Sprintf("%s: created, but no attempt of sekisho's is behind it", id))
		}
	}
	sort.Strings(bad)
	return bad
}

// CheckTroccoOnce checks that no attempt started two workflow jobs. TROCCO
// has no idempotency key, so each job is attributed to the attempt that
// sent it: sekisho's POST carries the attempt's traceparent, and the
// simulator keeps it. A job without one (started by someone else, or by a
// sekisho that sent none) is placed by time, in the window from the
// attempt's start to the next rerun. At most one job per attempt, and a
// triggered attempt's job is the one it recorded. An attempt that died
// between intent and answer may own a job it never learned of; it must
// have failed with trigger_outcome_unknown then, and its job must have
// reached TROCCO before the next attempt began: one that came later is
// the double run the rerun was meant to avoid (issue 28).
func CheckTroccoOnce(hs []History, jobs func(def int64) []troccosim.PipelineJob, defOf map[string]int64) []string {
	var bad []string
	from := senders(hs)
	for _, h := range hs {
		def, ok := defOf[h.Run.Pipeline]
		if !ok {
			continue
		}
		js := jobs(def)
		owned := map[int64]bool{}
		for _, a := range h.Attempts() {
			var in []troccosim.PipelineJob
			for _, j := range js {
				ref, sent := from[traceOf(j.Sender.Traceparent)]
				switch {
				case sent && ref == (attemptRef{h.Run.Pipeline, h.Run.Key, a.N}):
					in = append(in, j)
					if !a.Next.IsZero() && !j.Start.Before(a.Next) {
						bad = append(bad, fmt.Sprintf("%s %s attempt %d: workflow job %d reached TROCCO at %s, after attempt %d began at %s",
							h.Run.Pipeline, h.Run.Key, a.N, j.ID, j.Start.Format(time.RFC3339Nano), a.N+1, a.Next.Format(time.RFC3339Nano)))
					}
				case !sent && !j.Start.Before(a.Began) && (a.Next.IsZero() || j.Start.Before(a.Next)):
					in = append(in, j)
				}
			}
			ext := a.ExternalID()
			state, reason := a.End()
			switch {
			case len(in) > 1:
				bad = append(bad, fmt.Sprintf("%s %s attempt %d: %d workflow jobs posted", h.Run.Pipeline, h.Run.Key, a.N, len(in)))
			case ext != "" && (len(in) != 1 || strconv.FormatInt(in[0].ID, 10) != ext):
				bad = append(bad, fmt.Sprintf("%s %s attempt %d: recorded job %s, jobs it sent or in its window %+v", h.Run.Pipeline, h.Run.Key, a.N, ext, in))
			case ext == "" && len(in) == 1 && !(state == sekisho.StateFailed && reason == sekisho.ReasonTriggerUnknown):
				// The answer was lost: only an attempt that ends unknown may own it.
				bad = append(bad, fmt.Sprintf("%s %s attempt %d: job %d started but the attempt is %s", h.Run.Pipeline, h.Run.Key, a.N, in[0].ID, state))
			}
			for _, j := range in {
				owned[j.ID] = true
			}
		}
		for _, j := range js {
			if ref, sent := from[traceOf(j.Sender.Traceparent)]; sent && (ref.Pipeline != h.Run.Pipeline || ref.Key != h.Run.Key) {
				continue // another pipeline's on the same workflow, or another hour's of this one
			}
			if !owned[j.ID] {
				bad = append(bad, fmt.Sprintf("%s: workflow job %d at %s belongs to no attempt", h.Run.Pipeline, j.ID, j.Start.Format(time.RFC3339Nano)))
			}
		}
	}
	return bad
}

// attemptRef names one attempt of one run, by its key (the date of a
// daily run, the interval of a sub-daily one).
type attemptRef struct {
	Pipeline, Key string
	N             int
}

// senders maps the trace id of every attempt in hs to the attempt: sekisho
// derives an attempt's trace id from (pipeline, key, attempt) and sends it
// in the traceparent of its TROCCO POST.
func senders(hs []History) map[string]attemptRef {
	out := map[string]attemptRef{}
	for _, h := range hs {
		for _, a := range h.Attempts() {
			out[tracing.TraceID(h.Run.Pipeline, h.Run.Key, a.N).String()] = attemptRef{h.Run.Pipeline, h.Run.Key, a.N}
		}
	}
	return out
}

// traceOf is the trace id of a W3C traceparent ("00-<trace>-<span>-<flags>"), or "".
func traceOf(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		return ""
	}
	return parts[1]
}

// UnknownsWithJobs lists the workflow jobs sent by attempts that ended
// trigger_outcome_unknown: POSTs that reached TROCCO although their daemon
// died before the answer. Each is a double run an operator's rerun would
// cause had the next attempt not waited for it to land.
func UnknownsWithJobs(hs []History, jobs func(def int64) []troccosim.PipelineJob, defOf map[string]int64) []troccosim.PipelineJob {
	unknown := map[attemptRef]bool{}
	for _, h := range hs {
		for _, a := range h.Attempts() {
			if state, reason := a.End(); state == sekisho.StateFailed && reason == sekisho.ReasonTriggerUnknown {
				unknown[attemptRef{h.Run.Pipeline, h.Run.Key, a.N}] = true
			}
		}
	}
	from := senders(hs)
	var out []troccosim.PipelineJob
	seen := map[int64]bool{}
	for _, def := range defOf {
		if seen[def] {
			continue
		}
		seen[def] = true
		for _, j := range jobs(def) {
			if unknown[from[traceOf(j.Sender.Traceparent)]] {
				out = append(out, j)
			}
		}
	}
	return out
}

// DescribeTroccoJobs lists every workflow job of defOf's pipelines with who
// sent it (the attempt its traceparent names, its connection) and the
// attempt whose time window it started in: the evidence when
// CheckTroccoOnce complains.
func DescribeTroccoJobs(hs []History, jobs func(def int64) []troccosim.PipelineJob, defOf map[string]int64) []string {
	from := senders(hs)
	var out []string
	for _, h := range hs {
		def, ok := defOf[h.Run.Pipeline]
		if !ok {
			continue
		}
		atts := h.Attempts()
		for _, a := range atts {
			state, reason := a.End()
			out = append(out, fmt.Sprintf("%s attempt %d: %s .. %s, ended %s %s, external id %q", h.Run.Pipeline, a.N,
				a.Began.Format("15:04:05.000"), a.Next.Format("15:04:05.000"), state, reason, a.ExternalID()))
		}
		for _, j := range jobs(def) {
			window := 0
			for _, a := range atts {
				if !j.Start.Before(a.Began) && (a.Next.IsZero() || j.Start.Before(a.Next)) {
					window = a.N
				}
			}
			sender := "no traceparent"
			if ref, ok := from[traceOf(j.Sender.Traceparent)]; ok {
				sender = fmt.Sprintf("%s %s attempt %d", ref.Pipeline, ref.Key, ref.N)
			} else if j.Sender.Traceparent != "" {
				sender = "unknown trace " + traceOf(j.Sender.Traceparent)
			}
			out = append(out, fmt.Sprintf("%s: job %d received %s started %s from %s via %s; in the window of attempt %d",
				h.Run.Pipeline, j.ID, j.Sender.Received.Format("15:04:05.000"), j.Start.Format("15:04:05.000"), sender, j.Sender.RemoteAddr, window))
		}
	}
	return out
}
