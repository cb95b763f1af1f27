package status

import (
	"context"
	"strings"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
	"github.com/sekisho-dev/sekisho/store"
)

// lineKey is a pipeline on a logical date: where a projection's line
// starts or passes.
type lineKey struct{ pipeline, date string }

// openLines are the open runs among the runs of keys, or with nil keys of
// every run read: where the projections' lines start.
func (rd *reads) openLines(keys [][2]string) []lineKey {
	var out []lineKey
	add := func(k [2]string) {
		if r, ok := rd.byKey[k]; ok && r.state.Open() {
			out = append(out, lineKey{k[0], k[1]})
		}
	}
	if keys == nil {
		out = make([]lineKey, 0, len(rd.byKey)) // sized once on a whole read
		for k := range rd.byKey {
			add(k)
		}
	}
	for _, k := range keys {
		add(k)
	}
	return out
}

// readHistory reads, in a query per date and batch of pipelines
// (eta.EachHistory), the history of every line an open run's projection
// walks from starts (SPEC §21) that rd does not hold yet: the open run's
// pipeline and every pipeline upstream of it, transitively (eta.Along).
// It parses their conditions once too.
func (rd *reads) readHistory(ctx context.Context, st *store.Store, starts []lineKey) error {
	byDate := map[string][]string{}
	seen := make(map[lineKey]bool, len(starts))
	var walk func(k lineKey)
	walk = func(k lineKey) {
		if seen[k] {
			return
		}
		seen[k] = true
		if _, ok := rd.hist[k]; !ok {
			byDate[k.date] = append(byDate[k.date], k.pipeline)
		}
		p := rd.pipelines[k.pipeline]
		if p == nil {
			return
		}
		if _, ok := rd.conds[k.pipeline]; !ok {
			// Only real expressions: an "all" (nil) costs nothing to tell
			// again (conditionOf), and 10,000 nil entries were ~0.5 MB kept.
			if c := conditionOf(p); c != nil {
				rd.conds[k.pipeline] = c
			}
		}
		for _, u := range p.Upstreams {
			if u.Type == config.TypePipeline {
				walk(lineKey{u.Pipeline, k.date})
			}
		}
	}
	for _, k := range starts {
		walk(k)
	}
	if len(rd.hist) == 0 {
		// A whole read: the map sized once, not grown through 10,000 lines.
		n := 0
		for _, names := range byDate {
			n += len(names)
		}
		rd.hist = make(map[lineKey]history, n)
	}
	for date, names := range byDate {
		// Every line read is kept, with no history too: the projection
		// then knows it was read.
		for _, name := range names {
			rd.hist[lineKey{name, date}] = history{}
		}
		err := eta.EachHistory(ctx, st, names, date, func(name string, s eta.Stats, ups []string, stats []eta.UpstreamStats) {
			h := history{stats: s}
			if len(ups) > 0 {
				h.ups = make([]upstreamStats, len(ups))
				for i, u := range ups {
					h.ups[i] = upstreamStats{name: rd.histNames.of(u), stats: stats[i]}
				}
			}
			rd.hist[lineKey{name, date}] = h
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// history is what the cache keeps of a line's history (eta.History): its
// upstreams' stats in a list, not a map, which took ~400 bytes a line at
// 10,000 lines with a month of history (issue 23); nil when none.
type history struct {
	stats eta.Stats
	ups   []upstreamStats
}

type upstreamStats struct {
	name  string
	stats eta.UpstreamStats
}

// upstream is the named upstream's stats (none: zero).
func (h history) upstream(name string) eta.UpstreamStats {
	for _, u := range h.ups {
		if u.name == name {
			return u.stats
		}
	}
	return eta.UpstreamStats{}
}

// conditionOf is p's parsed condition; nil for "all" (the default), which
// policy/eta projects as all upstreams without an expression: 10,000
// pipelines parsed 1.4 MB of "all" a whole read.
func conditionOf(p *config.Pipeline) *condition.Expr {
	if c := strings.TrimSpace(p.Condition); c == "" || c == "all" {
		return nil
	}
	cond, err := condition.Parse(p.Condition, p.UpstreamNames())
	if err != nil {
		return nil // a condition the config validated; nil is "all"
	}
	return cond
}

// projector projects the success of open runs along their lines (SPEC
// §21) with policy/eta, the projection the engine's at_risk uses, from
// the stored runs and observations of the board's dates and each
// pipeline's history, at one time: each run once, as a station of
// another's line or as itself (memos, by date).
type projector struct {
	ctx   context.Context
	st    *store.Store
	rd    *reads
	now   time.Time
	memos map[string]memo
	// ups holds the upstreams of the inputs one project call makes
	// (eta.AppendInput), reused by the next call.
	ups []eta.Upstream
	// err is the first history read that failed (a line readHistory did
	// not walk).
	err error
}

// memo is the projections made on one date, and the lookup of the
// inputs of that date's runs.
type memo struct {
	made   map[string]*eta.Projection
	lookup func(pipeline string) (eta.Input, bool)
}

func newProjector(ctx context.Context, st *store.Store, rd *reads, now time.Time) *projector {
	return &projector{ctx: ctx, st: st, rd: rd, now: now, memos: map[string]memo{}}
}

// history is a line's history before date.
func (pr *projector) history(pipeline, date string) history {
	if h, ok := pr.rd.hist[lineKey{pipeline, date}]; ok {
		return h
	}
	// Not a line readHistory walked (a config without the pipeline).
	h, err := eta.Read(pr.ctx, pr.st, pipeline, date)
	if err != nil && pr.err == nil {
		pr.err = err
	}
	out := history{stats: h.Stats}
	for name, st := range h.Upstreams {
		out.ups = append(out.ups, upstreamStats{name: name, stats: st})
	}
	return out
}

// input is the projection's input of the pipeline's run on date.
func (pr *projector) input(name, date string) (eta.Input, bool) {
	rd := pr.rd
	kept, ok := rd.byKey[[2]string{name, date}]
	if !ok {
		return eta.Input{}, false
	}
	r := kept.full(name)
	p := rd.pipelines[name]
	if p == nil {
		return eta.Input{Pipeline: name, Run: r, Acknowledged: rd.acked[[2]string{name, date}]}, true
	}
	cond, ok := rd.conds[name]
	if !ok {
		cond = conditionOf(p)
	}
	obs, h := rd.obs[r.ID], pr.history(name, date)
	var in eta.Input
	in, pr.ups = eta.AppendInput(pr.ups, p, cond, r, h.stats, h.upstream, func(upstream string) sekisho.Observation {
		o, _ := observationOf(obs, upstream)
		return o.forETA()
	})
	in.Acknowledged = rd.acked[[2]string{name, date}]
	return in, true
}

// project sets e's ETA when its run is open and projected to succeed.
func (pr *projector) project(e *Pipeline) {
	if !e.HasRun || !e.State.Open() {
		return
	}
	date := e.LogicalDate
	m, ok := pr.memos[date]
	if !ok {
		m = memo{made: map[string]*eta.Projection{},
			lookup: func(pipeline string) (eta.Input, bool) { return pr.input(pipeline, date) }}
		pr.memos[date] = m
	}
	proj := m.made[e.Name]
	if proj == nil {
		// The inputs of the last call are done with: memos keep
		// projections, which hold none of their upstreams.
		clear(pr.ups)
		pr.ups = pr.ups[:0]
		in, ok := pr.input(e.Name, date)
		if !ok {
			return
		}
		p := eta.AlongWith(m.made, in, m.lookup, pr.now)
		proj = &p
		m.made[e.Name] = proj
	}
	if proj.Known() {
		e.eta, e.etaCause = proj.At.In(e.Location), proj.Cause
		e.ETA, e.ETACause, e.ETASource = &e.eta, &e.etaCause, proj.Source
	}
}

// acknowledgedETAs is, for each unfinished member (pipeline, logical date)
// of an open incident, the ETA an operator gave when acknowledging it
// (SPEC §20). It overrides the projection of that run, and through
// eta.Along the projections of the runs waiting on it (SPEC §21). A member
// of two acknowledged incidents takes the later ETA: it is not back before
// both are fixed.
func acknowledgedETAs(ctx context.Context, st *store.Store) (map[[2]string]time.Time, error) {
	open, err := st.OpenIncidents(ctx)
	if err != nil || len(open) == 0 {
		return nil, err
	}
	keys := make([]string, 0, len(open))
	for _, in := range open {
		keys = append(keys, in.Key)
	}
	acks, err := st.Acks(ctx, keys...)
	if err != nil {
		return nil, err
	}
	out := map[[2]string]time.Time{}
	for _, in := range open {
		a, ok := acks[in.Key]
		if !ok || a.ETA.IsZero() {
			continue
		}
		for _, m := range in.Members {
			k := [2]string{m.Pipeline, m.Date}
			if m.Done() {
				continue
			}
			if t, ok := out[k]; !ok || a.ETA.After(t) {
				out[k] = a.ETA
			}
		}
	}
	return out, nil
}

// ETAText is an open run's projection as the board and the route map show
// it: "見込み 06:25" (ja) or "ETA 06:25" (en), a day-crossing time with its
// date; empty without a projection.
func (p *Pipeline) ETAText(lang string) string {
	if p.ETA == nil {
		return ""
	}
	word := "見込み"
	if lang == "en" {
		word = "ETA"
	}
	return word + " " + Clock(*p.ETA, p.LogicalDate, p.Location)
}
