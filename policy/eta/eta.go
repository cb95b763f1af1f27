// Package eta projects when an open run will succeed (SPEC §21): from its
// upstreams' projections (a vendor run in progress, a job's own history,
// another pipeline's projection through `type: pipeline`) and its own
// history (the median of its duration from trigger to success). It is
// the one answer to "when will it be done": the engine's at_risk, the
// status API, the board and the route map all call Along. It is pure: the
// callers gather the runs, observations and histories.
package eta

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
)

// Sources of a projection.
const (
	SourceProjected    = "projected"    // worked out from the line and the histories
	SourceAcknowledged = "acknowledged" // an operator's word (SPEC §20) overrides the projection
)

// Stats is a pipeline's own history: medians over its recent successes.
type Stats struct {
	N     int           // successes they come from
	Total time.Duration // gate → first success
	Down  time.Duration // trigger → first success (gate-only: zero)
}

// down is the usual trigger → success, once there is enough history.
func (s Stats) down() time.Duration {
	if s.N < MinHistory {
		return 0
	}
	return s.Down
}

// UpstreamStats is one upstream's history in the pipeline: medians over its
// recent successful runs.
type UpstreamStats struct {
	N      int
	Finish time.Duration // the run's gate → the upstream's finish
	Run    time.Duration // the upstream run's start → finish
}

// Upstream is what the projection knows of one upstream.
type Upstream struct {
	Name                  string
	State                 sekisho.JobState
	StartedAt, FinishedAt time.Time
	Stats                 UpstreamStats
	// Pipeline names the pipeline a `type: pipeline` upstream waits on;
	// Along projects that pipeline's run and fills Line.
	Pipeline string
	Line     *Projection
	// SkippedIsSuccess: a skipped run of that pipeline counts as done.
	SkippedIsSuccess bool
}

// Input is one run and what is known of it.
type Input struct {
	Pipeline  string
	Run       sekisho.Run
	Triggered bool            // the pipeline has a downstream to trigger; gate-only succeeds when its condition holds
	Cond      *condition.Expr // nil: all upstreams
	Upstreams []Upstream
	Stats     Stats
	// Acknowledged is an operator's acknowledged finish time (the Slack
	// operator actions, SPEC §20): where set it overrides the projection.
	// Callers fill it from the store once it keeps one.
	Acknowledged time.Time
}

// Cause is what makes a run as late as projected: an upstream (Upstream) of
// the first station on the line (Via[0]), the stations in between, first
// first. An empty Upstream is the run of Via[0] itself (its downstream); an
// empty Via is the projected run itself.
type Cause struct {
	Upstream string   `json:"upstream,omitempty"`
	Via      []string `json:"via,omitempty"`
}

// Projection is a projected success time. A zero At has none: the run
// ended, or it cannot succeed without a rerun (a failed upstream).
type Projection struct {
	At     time.Time `json:"at"`
	Source string    `json:"source,omitempty"`
	Cause  Cause     `json:"cause"`
}

// Known reports whether there is a projection.
func (p Projection) Known() bool { return !p.At.IsZero() }

// MinHistory is how many past successes a median needs before the
// projection uses it: one or two nights are noise, and an alarm built on
// them is a false one more often than not. With fewer, that part of the
// line counts as taking no time (a lower bound).
const MinHistory = 3

// never marks an upstream that will not succeed without a rerun.
var never = time.Time{}

// Project projects one run from its input; a `type: pipeline` upstream
// counts through its Line (nil: not projected, counted as pending with no
// history). Along fills the Lines.
func Project(in Input, now time.Time) Projection {
	r := in.Run
	if !r.State.Open() {
		return Projection{}
	}
	if !in.Acknowledged.IsZero() {
		return Projection{At: in.Acknowledged, Source: SourceAcknowledged}
	}
	if !r.TriggeredAt.IsZero() {
		// The downstream runs: its usual duration from the trigger.
		return Projection{At: later(now, r.TriggeredAt.Add(in.Stats.down())), Source: SourceProjected}
	}
	ready, cause, ok := conditionReady(in, now)
	if !ok {
		return Projection{}
	}
	at := ready
	if in.Triggered {
		at = ready.Add(in.Stats.down())
	}
	return Projection{At: later(now, at), Source: SourceProjected, Cause: cause}
}

// upstreamAt is when one upstream is projected to succeed, and what makes
// it that late; ok is false when it will not without a rerun.
func upstreamAt(u Upstream, gate, now time.Time) (time.Time, Cause, bool) {
	switch {
	case u.Pipeline != "" && u.State != sekisho.JobSucceeded:
		if u.State == sekisho.JobFailed || (u.Line != nil && !u.Line.Known()) {
			return never, Cause{}, false
		}
		if u.Line == nil {
			return now, Cause{Via: []string{u.Pipeline}}, true
		}
		c := u.Line.Cause
		via := append(slices.Clone(c.Via), u.Pipeline)
		if len(c.Via) == 0 && c.Upstream == "" {
			via = []string{u.Pipeline} // its own downstream
		}
		return later(now, u.Line.At), Cause{Upstream: c.Upstream, Via: via}, true
	case u.State == sekisho.JobSucceeded:
		if u.FinishedAt.IsZero() || u.FinishedAt.After(now) {
			return now, Cause{Upstream: u.Name}, true
		}
		return u.FinishedAt, Cause{Upstream: u.Name}, true
	case u.State == sekisho.JobFailed:
		return never, Cause{}, false
	case u.State == sekisho.JobRunning && !u.StartedAt.IsZero() && u.Stats.N >= MinHistory:
		return later(now, u.StartedAt.Add(u.Stats.Run)), Cause{Upstream: u.Name}, true
	case u.Stats.N >= MinHistory:
		return later(now, gate.Add(u.Stats.Finish)), Cause{Upstream: u.Name}, true
	}
	return now, Cause{Upstream: u.Name}, true
}

// conditionReady is the earliest projected time at which the run's
// condition holds, with the upstream that completes it.
func conditionReady(in Input, now time.Time) (time.Time, Cause, bool) {
	if len(in.Upstreams) == 0 {
		return later(now, in.Run.GateAt), Cause{}, true
	}
	// The upstreams' projections in a list, not a map by name: the status
	// listing projects every open run at each call, and a map here was
	// most of a call's garbage at 10,000 pipelines (issue 23).
	// On the stack for up to eight upstreams (the usual run has one or two).
	var psBuf [8]upstreamProjection
	ps := psBuf[:0]
	if n := len(in.Upstreams); n <= len(psBuf) {
		ps = psBuf[:n]
	} else {
		ps = make([]upstreamProjection, n)
	}
	pr := &projections{ups: in.Upstreams, ps: ps}
	var timesBuf [8]time.Time
	times := timesBuf[:0]
	for i, u := range in.Upstreams {
		at, c, ok := upstreamAt(u, in.Run.GateAt, now)
		pr.ps[i] = upstreamProjection{at, c, ok}
		if ok {
			times = append(times, at)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	var (
		state func(string) sekisho.JobState
		held  *projections
	)
	if in.Cond != nil {
		// Only a condition needs the states as a func; the copy it holds
		// (its own, so the stack's projections never escape) is the one
		// heap allocation of the usual call.
		held = &projections{ups: in.Upstreams, ps: slices.Clone(ps)}
		state = held.state
	}
	for _, t := range times {
		pr.at = t
		if held != nil {
			held.at = t
		}
		if in.Cond == nil {
			if !pr.all() {
				continue
			}
		} else if in.Cond.Eval(state) != condition.True {
			continue
		}
		// The cause is the upstream whose projection completes the
		// condition at t, the first named in config order when several do.
		for _, u := range in.Upstreams {
			if p, _ := pr.of(u.Name); p.ok && p.at.Equal(t) {
				return t, p.cause, true
			}
		}
		return t, Cause{}, true
	}
	return never, Cause{}, false
}

// upstreamProjection is one upstream's projection (upstreamAt).
type upstreamProjection struct {
	at    time.Time
	cause Cause
	ok    bool
}

// projections are a run's upstreams' projections, ps[i] of ups[i], and
// the states they give at time at: what the run's condition is evaluated
// on (conditionReady).
type projections struct {
	ups []Upstream
	ps  []upstreamProjection
	at  time.Time
}

// of is the named upstream's projection: the last of that name, as a map
// by name would keep.
func (p *projections) of(name string) (upstreamProjection, bool) {
	for i := len(p.ups) - 1; i >= 0; i-- {
		if p.ups[i].Name == name {
			return p.ps[i], true
		}
	}
	return upstreamProjection{}, false
}

// state is the named upstream's state at p.at: succeeded once its
// projection has passed, failed when it will not succeed without a
// rerun, pending otherwise (and for a name it does not know).
func (p *projections) state(name string) sekisho.JobState {
	u, known := p.of(name)
	switch {
	case !known:
		return sekisho.JobPending
	case !u.ok:
		return sekisho.JobFailed
	case !u.at.After(p.at):
		return sekisho.JobSucceeded
	}
	return sekisho.JobPending
}

// all reports whether every upstream has succeeded at p.at (the condition
// "all").
func (p *projections) all() bool {
	for _, u := range p.ups {
		if p.state(u.Name) != sekisho.JobSucceeded {
			return false
		}
	}
	return true
}

// Along projects in's run through its line: every `type: pipeline`
// upstream without a Line is projected first, from lookup's input for that
// pipeline's run on the same logical date (ok false: no such run yet; it
// counts as pending with no history). Each run of the line is projected
// once.
func Along(in Input, lookup func(pipeline string) (Input, bool), now time.Time) Projection {
	return AlongWith(map[string]*Projection{}, in, lookup, now)
}

// AlongWith is Along with memo, the projections of the lines' runs made
// so far by pipeline, shared by calls for runs of one logical date at the
// same now and lookup: the status listing projects every open run, and
// each run of a line is then projected once a call, not once for every
// run downstream of it. It adds the runs it projects.
func AlongWith(memo map[string]*Projection, in Input, lookup func(pipeline string) (Input, bool), now time.Time) Projection {
	var walk func(in Input, depth int) Projection
	walk = func(in Input, depth int) Projection {
		// The caller's upstreams are copied only when one changes: most
		// runs have no pipeline upstream, and a copy of each was ~2 MB a
		// listing of 10,000 open runs. The copy is a reused one
		// (upstreamCopies): Project keeps nothing of it.
		ups := in.Upstreams
		var copied *[]Upstream
		set := func(i int) *Upstream {
			if copied == nil {
				copied = upstreamCopies.Get().(*[]Upstream)
				ups = append((*copied)[:0], ups...)
			}
			return &ups[i]
		}
		for i, u := range in.Upstreams {
			if u.Pipeline == "" || u.Line != nil || u.State == sekisho.JobSucceeded || depth > maxDepth {
				continue
			}
			if p, ok := memo[u.Pipeline]; ok {
				set(i).Line = p
				continue
			}
			other, ok := lookup(u.Pipeline)
			if !ok {
				continue
			}
			if o := other.Run; o.State.AsUpstream(u.SkippedIsSuccess) == sekisho.JobSucceeded {
				// Done (or skipped) since the observation was made.
				up := set(i)
				up.State, up.FinishedAt = sekisho.JobSucceeded, later(o.FirstSuccessAt, o.FinishedAt)
				continue
			}
			p := walk(other, depth+1)
			memo[u.Pipeline] = &p
			set(i).Line = &p
		}
		in.Upstreams = ups
		p := Project(in, now)
		if copied != nil {
			clear(ups) // nothing kept alive from the pool
			*copied = ups[:0]
			upstreamCopies.Put(copied)
		}
		return p
	}
	return walk(in, 0)
}

// upstreamCopies are AlongWith's copies of runs' upstreams, reused.
var upstreamCopies = sync.Pool{New: func() any { return new([]Upstream) }}

// maxDepth bounds a line's length (config refuses cycles; this only keeps
// a hand-built one finite).
const maxDepth = 32

// InputOf builds a run's input from its config snapshot, its latest
// observations and the histories: the one place the engine and the status
// turn what they know into an Input.
func InputOf(p *config.Pipeline, cond *condition.Expr, r sekisho.Run, obs map[string]sekisho.Observation, h History) Input {
	return InputWith(p, cond, r, h.Stats, h.upstream, func(upstream string) sekisho.Observation { return obs[upstream] })
}

// InputOfList is InputOf with the run's latest observations in a list,
// one an upstream, as the status listing keeps them: a map of
// observations boxes each value (they are larger than a map holds
// inline), and the listing builds 10,000 inputs a call (issue 23).
func InputOfList(p *config.Pipeline, cond *condition.Expr, r sekisho.Run, obs []sekisho.Observation, h History) Input {
	return InputWith(p, cond, r, h.Stats, h.upstream, func(upstream string) sekisho.Observation {
		for _, o := range obs {
			if o.Upstream == upstream {
				return o
			}
		}
		return sekisho.Observation{}
	})
}

// InputWith is InputOf with the run's history as its Stats and each
// upstream's stats from upstreamStats, and the run's latest observation of
// each upstream from obsOf (the zero Observation: none), for a caller that
// keeps them in its own form (the status listing's cache). Only the
// observations' State, StartedAt and FinishedAt are read.
func InputWith(p *config.Pipeline, cond *condition.Expr, r sekisho.Run, stats Stats,
	upstreamStats func(upstream string) UpstreamStats, obsOf func(upstream string) sekisho.Observation) Input {
	in, _ := AppendInput(make([]Upstream, 0, len(p.Upstreams)), p, cond, r, stats, upstreamStats, obsOf)
	return in
}

// AppendInput is InputWith with the input's upstreams appended to buf,
// which it returns grown: the status listing makes ~10,000 inputs a call,
// and their upstreams in one reused buffer instead of a list each were
// more than half of what a call allocated (issue 23). The input's
// Upstreams is its part of buf, capped there, so appending to one never
// writes into the next; it is good until the caller reuses buf.
func AppendInput(buf []Upstream, p *config.Pipeline, cond *condition.Expr, r sekisho.Run, stats Stats,
	upstreamStats func(upstream string) UpstreamStats, obsOf func(upstream string) sekisho.Observation) (Input, []Upstream) {
	in := Input{Pipeline: p.Name, Run: r, Triggered: p.Trigger != nil, Cond: cond, Stats: stats}
	from := len(buf)
	for _, u := range p.Upstreams {
		o := obsOf(u.Name)
		eu := Upstream{Name: u.Name, State: o.State, StartedAt: o.StartedAt, FinishedAt: o.FinishedAt, Stats: upstreamStats(u.Name)}
		if eu.State == "" {
			eu.State = sekisho.JobPending
		}
		if u.Type == config.TypePipeline {
			eu.Pipeline, eu.SkippedIsSuccess = u.Pipeline, u.SkippedIsSuccess
		}
		buf = append(buf, eu)
	}
	in.Upstreams = buf[from:len(buf):len(buf)]
	return in, buf
}

// Median is the middle of ds (the lower middle of an even count); zero for
// none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}

// Span is one past run of an upstream: the run's gate, and when the
// upstream's run started and finished.
type Span struct {
	Gate, Start, Finish time.Time
}

// UpstreamStatsOf summarises an upstream's past runs.
func UpstreamStatsOf(spans []Span) UpstreamStats {
	var sc scratch
	for _, s := range spans {
		sc.addSpan(s)
	}
	return sc.upstream()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// HistoryRuns is how many past runs a projection learns from: a month of
// daily runs.
const HistoryRuns = 30

// Reader reads a line's history (*store.Store).
type Reader interface {
	// RunTimes: the gate, trigger and first success of a pipeline's last
	// n successful runs before date.
	RunTimes(ctx context.Context, pipeline, before string, n int) ([][3]time.Time, error)
	// UpstreamTimes: per upstream, the run's gate and the upstream run's
	// start and finish, of the pipeline's last n runs before date.
	UpstreamTimes(ctx context.Context, pipeline, before string, n int) (map[string][][3]time.Time, error)
}

// History is a pipeline's history as the projection uses it.
type History struct {
	Stats     Stats
	Upstreams map[string]UpstreamStats
}

// upstream is the named upstream's stats (none: zero).
func (h History) upstream(name string) UpstreamStats { return h.Upstreams[name] }

// Read reads a pipeline's history before date: the one place the engine
// and the status turn stored times into medians.
func Read(ctx context.Context, r Reader, pipeline, before string) (History, error) {
	runs, err := r.RunTimes(ctx, pipeline, before, HistoryRuns)
	if err != nil {
		return historyOf(nil, nil), err
	}
	ups, err := r.UpstreamTimes(ctx, pipeline, before, HistoryRuns)
	return historyOf(runs, ups), err
}

// ManyReader reads the history of many lines at once (*store.Store): a
// listing of every open run reads it so, in a query a batch of pipelines
// instead of two a run. EachLineTimes calls fn with each pipeline that
// has a history: its RunTimes, and its UpstreamTimes as names and their
// times, in lists fn must not keep (the names it may).
type ManyReader interface {
	EachLineTimes(ctx context.Context, pipelines []string, before string, n int,
		fn func(pipeline string, runs [][3]time.Time, upstreams []string, upstreamTimes [][][3]time.Time)) error
}

// ReadMany is Read of each of pipelines, by pipeline, each summarised as
// its times are read: the listing's history of 10,000 lines with a month
// of runs each is 300,000 runs.
func ReadMany(ctx context.Context, r ManyReader, pipelines []string, before string) (map[string]History, error) {
	out := make(map[string]History, len(pipelines))
	for _, p := range pipelines {
		out[p] = History{Upstreams: map[string]UpstreamStats{}}
	}
	err := EachHistory(ctx, r, pipelines, before, func(p string, st Stats, ups []string, stats []UpstreamStats) {
		h, ok := out[p]
		if !ok {
			return
		}
		h.Stats = st
		for i, u := range ups {
			h.Upstreams[u] = stats[i]
		}
		out[p] = h
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// EachHistory is ReadMany handing fn each pipeline with a history (the
// others have none: the zero Stats and no upstreams) as it is read: its
// Stats and its upstreams' names and stats, in lists fn must not keep
// (the names it may). A caller that keeps histories in its own form (the
// status listing's cache) makes no map a pipeline. Through a Keeper (the
// store) it reads the summaries kept and keeps those it reads.
func EachHistory(ctx context.Context, r ManyReader, pipelines []string, before string,
	fn func(pipeline string, stats Stats, upstreams []string, upstreamStats []UpstreamStats)) error {
	if k, ok := r.(Keeper); ok {
		return eachKept(ctx, k, r, pipelines, before, fn)
	}
	return eachRead(ctx, r, pipelines, before, fn)
}

// eachRead is EachHistory reading every pipeline's times.
func eachRead(ctx context.Context, r ManyReader, pipelines []string, before string,
	fn func(pipeline string, stats Stats, upstreams []string, upstreamStats []UpstreamStats)) error {
	var (
		sc  scratch
		ups []UpstreamStats
	)
	return r.EachLineTimes(ctx, pipelines, before, HistoryRuns, func(p string, runs [][3]time.Time, names []string, times [][][3]time.Time) {
		ups = ups[:0]
		for i := range names {
			ups = append(ups, sc.upstreamStats(times[i]))
		}
		fn(p, sc.stats(runs), names, ups)
	})
}

// scratch holds the durations a summary sorts, reused from one line to
// the next; each summary leaves it empty.
type scratch struct{ a, b []time.Duration }

// stats summarises a pipeline's successful runs (RunTimes).
func (sc *scratch) stats(runs [][3]time.Time) Stats {
	for _, t := range runs {
		sc.a, sc.b = append(sc.a, t[2].Sub(t[0])), append(sc.b, t[2].Sub(t[1]))
	}
	st := Stats{N: len(runs), Total: medianInPlace(sc.a), Down: medianInPlace(sc.b)}
	sc.a, sc.b = sc.a[:0], sc.b[:0]
	return st
}

// upstreamStats is UpstreamStatsOf an upstream's times (UpstreamTimes).
func (sc *scratch) upstreamStats(times [][3]time.Time) UpstreamStats {
	for _, t := range times {
		sc.addSpan(Span{Gate: t[0], Start: t[1], Finish: t[2]})
	}
	return sc.upstream()
}

// addSpan counts one past run of an upstream (upstream sums them up).
func (sc *scratch) addSpan(s Span) {
	if s.Finish.IsZero() || s.Gate.IsZero() {
		return
	}
	sc.a = append(sc.a, s.Finish.Sub(s.Gate))
	if !s.Start.IsZero() && !s.Start.After(s.Finish) {
		sc.b = append(sc.b, s.Finish.Sub(s.Start))
	}
}

// upstream is the UpstreamStats of the spans added, which it forgets.
func (sc *scratch) upstream() UpstreamStats {
	st := UpstreamStats{N: len(sc.a), Finish: medianInPlace(sc.a), Run: medianInPlace(sc.b)}
	sc.a, sc.b = sc.a[:0], sc.b[:0]
	return st
}

// medianInPlace is Median of ds, sorting ds.
func medianInPlace(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[(len(ds)-1)/2]
}

// historyOf summarises a line's past runs and its upstreams' (Read).
func historyOf(runs [][3]time.Time, ups map[string][][3]time.Time) History {
	var sc scratch
	h := History{Stats: sc.stats(runs), Upstreams: map[string]UpstreamStats{}}
	for name, ts := range ups {
		h.Upstreams[name] = sc.upstreamStats(ts)
	}
	return h
}
