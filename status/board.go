// Package status models today's state of every pipeline: the one view that
// the status board, `sekisho status`, the JSON API and the daily digest all
// show, so they never disagree. It reads the store and the config; it writes
// nothing.
package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/calendar"
	"github.com/sekisho-dev/sekisho/condition"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/eta"
	"github.com/sekisho-dev/sekisho/slo"
	"github.com/sekisho-dev/sekisho/store"
)

// Overall verdicts of a board.
const (
	OverallOK       = "ok"
	OverallDegraded = "degraded"
	OverallOutage   = "outage"
)

// Board is the state of every pipeline on one day: the answer of
// GET /api/v1/status (SPEC §8).
type Board struct {
	GeneratedAt time.Time   `json:"generated_at"`
	Date        string      `json:"date"`
	Overall     string      `json:"overall"`
	Pipelines   []*Pipeline `json:"pipelines"`
	// Language is the language of the summaries (ja or en).
	Language string `json:"-"`
	// slab holds the entries, for Release.
	slab *slab
	// on is the logical date each pipeline of the config shows (start).
	on []string
}

// slab is a board's entry storage: one allocation for every entry and one
// for their upstreams, which the next board reuses once a caller has
// Released this one. At 10,000 pipelines the entries are ~8 MB a call
// otherwise, most of what a listing cost the daemon (issue 23).
type slab struct {
	ps   []Pipeline
	ups  []Upstream
	ptrs []*Pipeline
}

// slabs are released boards' storage. A sync.Pool lets it go after two
// garbage collections without a call, so an idle daemon does not keep it.
var slabs sync.Pool

// slabFor is storage for n entries with ups upstreams in all.
func slabFor(n, ups int) *slab {
	s, _ := slabs.Get().(*slab)
	if s == nil {
		s = &slab{}
	}
	if cap(s.ps) < n {
		s.ps, s.ptrs = make([]Pipeline, n), make([]*Pipeline, 0, n)
	}
	if cap(s.ups) < ups {
		s.ups = make([]Upstream, ups)
	}
	s.ps, s.ups, s.ptrs = s.ps[:n], s.ups[:ups], s.ptrs[:0]
	return s
}

// Release gives the board's entries back for the next board to reuse: the
// caller, and whatever it handed the board or its entries to, must not
// use them afterwards. A board never released is simply collected.
func (b *Board) Release() {
	if s := b.slab; s != nil {
		b.slab, b.Pipelines = nil, nil
		slabs.Put(s)
	}
}

// Pipeline is one pipeline's run on its logical date, or its scheduled gate
// when the run does not exist yet.
type Pipeline struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	LogicalDate string `json:"logical_date"`
	// Key is the shown run's key (SPEC §19): the logical date, or a
	// sub-daily pipeline's latest run of the date.
	Key string `json:"key"`
	// Intervals are a sub-daily pipeline's gates of the date, one each,
	// with its run's state or its listing state; absent for a daily one.
	Intervals   []Interval    `json:"intervals,omitempty"`
	State       sekisho.State `json:"state"`
	Attempt     int           `json:"attempt"`
	Summary     string        `json:"summary"`
	GateAt      time.Time     `json:"gate_at"`
	TriggeredAt time.Time     `json:"triggered_at"`
	FinishedAt  time.Time     `json:"finished_at"`
	Deadline    time.Time     `json:"deadline"`
	SLOMet      *bool         `json:"slo_met"`
	// Late is true past the deadline while the run has not succeeded.
	Late bool `json:"late"`
	// Holiday names the calendar's day off of a holiday entry (SPEC §18):
	// the holiday's name in the configured language, or "weekend".
	Holiday string `json:"holiday,omitempty"`
	// Message is the run's last human-readable reason (a trigger error, the
	// downstream's message).
	Message    string     `json:"message,omitempty"`
	Upstreams  []Upstream `json:"upstreams"`
	AffectedBy []string   `json:"affected_by"`
	// ETA is an open run's projected success (SPEC §21), nil when there is
	// none (the run ended, or cannot succeed without a rerun); ETACause is
	// what makes it that late.
	ETA      *time.Time `json:"eta"`
	ETACause *eta.Cause `json:"eta_cause,omitempty"`
	// ETASource says where the ETA comes from: "projected" (history and the
	// upstreams' progress) or "acknowledged" (an operator's word, SPEC §20).
	ETASource string   `json:"eta_source,omitempty"`
	Impacts   []string `json:"impacts"`

	// StartedAt is when the downstream was seen running.
	StartedAt time.Time `json:"-"`
	// FirstSuccessAt is when the run first succeeded, across reruns.
	FirstSuccessAt time.Time `json:"-"`
	// Location is the pipeline's time zone, for display.
	Location *time.Location `json:"-"`
	// HasRun is false for a pipeline whose gate has not opened.
	HasRun bool `json:"-"`
	// recoverBy is the stored run's SLA limit, for the judge.
	recoverBy time.Time
	// pipelineUpstreams names the pipelines this one waits on.
	pipelineUpstreams []string
	// off is why a holiday entry has no gate, in both languages.
	off calendar.Off
	// eta and etaCause hold what ETA and ETACause point at, in the
	// entry's own storage.
	eta      time.Time
	etaCause eta.Cause
}

// Interval is one gate of a sub-daily pipeline on the board's date (SPEC
// §19): its run's state, or scheduled while the gate is ahead and missed
// once it passed without a run.
type Interval struct {
	Key    string        `json:"key"`
	Time   string        `json:"time"` // the gate's wall clock time, "13:00"
	State  sekisho.State `json:"state"`
	GateAt time.Time     `json:"gate_at"`
	SLOMet *bool         `json:"slo_met"`
	Late   bool          `json:"late"`
}

// IntervalsMet counts a sub-daily pipeline's intervals whose gate has
// passed (due) and those that met their SLO, or without an SLO succeeded:
// the digest's met/total.
func (p *Pipeline) IntervalsMet() (met, due int) {
	for _, iv := range p.Intervals {
		if iv.State == sekisho.StateScheduled {
			continue
		}
		due++
		if (iv.SLOMet != nil && *iv.SLOMet) || (iv.SLOMet == nil && iv.State == sekisho.StateSucceeded) {
			met++
		}
	}
	return met, due
}

// intervals lists p's gates on date with their runs (runs of p in gate
// order, any date), judged at now by the one judge.
func intervals(p *config.Pipeline, date string, runs []run, now time.Time) []Interval {
	byKey := map[string]sekisho.Run{}
	for _, r := range runs {
		if r.date() == date {
			byKey[r.key] = r.full(p.Name)
		}
	}
	out := []Interval{}
	for _, g := range p.GatesOn(date) {
		k := p.RunKey(g)
		iv := Interval{Key: k, Time: sekisho.KeyTime(k), GateAt: g, State: sekisho.StateMissed}
		if r, ok := byKey[k]; ok {
			j := slo.JudgeRun(r, now)
			iv.State, iv.SLOMet, iv.Late = r.State, j.SLO.Bool(), j.Late()
			delete(byKey, k)
		} else if g.After(now) {
			iv.State = sekisho.StateScheduled
		}
		out = append(out, iv)
	}
	// Runs of gates the schedule no longer has (a changed config) still show.
	for k, r := range byKey {
		j := slo.JudgeRun(r, now)
		out = append(out, Interval{Key: k, Time: sekisho.KeyTime(k), GateAt: r.GateAt, State: r.State, SLOMet: j.SLO.Bool(), Late: j.Late()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GateAt.Before(out[j].GateAt) })
	return out
}

// Upstream is what sekisho knows of one upstream of a run.
type Upstream struct {
	Name       string           `json:"name"`
	Type       string           `json:"type"`
	State      sekisho.JobState `json:"state"`
	ExternalID string           `json:"external_id"`
	StartedAt  time.Time        `json:"started_at"`
	FinishedAt time.Time        `json:"finished_at"`
	Message    string           `json:"message"`
	// Error is the last check error; the state is the last known one.
	Error string `json:"error"`
	// Value and Reason are a data check's number and why it holds or
	// warned (SPEC §21).
	Value      *float64  `json:"value,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	ObservedAt time.Time `json:"observed_at"`
	// NextCheckAt is when the upstream is checked next (SPEC §13), zero
	// once it has ended or when no check is scheduled.
	NextCheckAt time.Time `json:"next_check_at"`
}

// Troubled reports whether the pipeline is failed, blocked, timed out,
// missed or late: what the board's "affected" section starts from.
func (p *Pipeline) Troubled() bool { return troubled(p.State, p.Late) }

func troubled(state sekisho.State, late bool) bool {
	switch state {
	case sekisho.StateFailed, sekisho.StateBlocked, sekisho.StateTimedOut, sekisho.StateMissed:
		return true
	}
	return late
}

// UpstreamsDoneAt is when the last upstream finished, once all have
// succeeded; zero before.
func (p *Pipeline) UpstreamsDoneAt() time.Time {
	var last time.Time
	for _, u := range p.Upstreams {
		if u.State != sekisho.JobSucceeded {
			return time.Time{}
		}
		if u.FinishedAt.After(last) {
			last = u.FinishedAt
		}
	}
	return last
}

// Pipeline returns the named pipeline of the board, or nil.
func (b *Board) Pipeline(name string) *Pipeline {
	for _, p := range b.Pipelines {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// Downstreams returns the pipelines affected by the named one: those whose
// AffectedBy lists it, in board order. It scans the board: the page asks
// it of the few troubled pipelines it lists (web's affectedShown), and an
// index of every entry's was ~2 MB a page with 10,000 pipelines late.
func (b *Board) Downstreams(name string) []*Pipeline {
	var out []*Pipeline
	for _, p := range b.Pipelines {
		for _, a := range p.AffectedBy {
			if a == name {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

// Troubled returns the failed, blocked, timed-out and late pipelines.
func (b *Board) Troubled() []*Pipeline {
	var out []*Pipeline
	for _, p := range b.Pipelines {
		if p.Troubled() {
			out = append(out, p)
		}
	}
	return out
}

// Build computes the board for date, or, with an empty date, for each
// pipeline's current logical date in its own time zone. It reads the store
// afresh; a Cache keeps those reads between calls.
func Build(ctx context.Context, st *store.Store, cfg *config.Config, date string, now time.Time) (*Board, error) {
	b, dates, err := start(cfg, date, now)
	if err != nil {
		return nil, err
	}
	rd, err := read(ctx, st, cfg, dates)
	if err != nil {
		return nil, err
	}
	return assemble(ctx, st, cfg, b, rd, now, all, false)
}

// start is an empty board for date at now, and the logical dates its
// pipelines show.
func start(cfg *config.Config, date string, now time.Time) (*Board, []string, error) {
	if date != "" {
		if _, err := time.Parse(sekisho.DateLayout, date); err != nil {
			return nil, nil, fmt.Errorf("date %q: want YYYY-MM-DD", date)
		}
	}
	top := cfg.Location
	b := &Board{GeneratedAt: now.In(top), Date: date, Language: Language(cfg)}
	if b.Date == "" {
		b.Date = sekisho.DateOf(now, top)
	}
	// One date a time zone: most pipelines share a few.
	byZone := map[*time.Location]string{}
	seen := map[string]bool{}
	var dates []string
	b.on = make([]string, len(cfg.Pipelines))
	for i, p := range cfg.Pipelines {
		d, ok := byZone[p.Location]
		if !ok {
			d = dateOn(p, date, now)
			byZone[p.Location] = d
		}
		b.on[i] = d
		if !seen[d] {
			seen[d] = true
			dates = append(dates, d)
		}
	}
	return b, dates, nil
}

// dateOn is the logical date p shows on the board of date: date itself,
// or with none, p's current date in its own time zone.
func dateOn(p *config.Pipeline, date string, now time.Time) string {
	if date != "" {
		return date
	}
	return sekisho.DateOf(now, p.Location)
}

// reads is what a board of some dates reads from the store and keeps
// while the store does not change (store.ListingVersion): every part of
// it is free of the time of the call. The poll schedule (rewritten at
// every check) and the first runs of missed days are read at each call.
// A write of this process changes only the rows it touched (refresh);
// calls assemble boards from it under mu's read lock meanwhile.
type reads struct {
	mu sync.RWMutex
	// byKey is each pipeline's shown run of a date: a sub-daily
	// pipeline's latest; all holds every run of the dates by pipeline, in
	// gate order.
	byKey map[[2]string]run
	all   map[string][]run
	// obs are each run's latest observations, one an upstream.
	obs map[int64][]observation
	// names is the one copy of each upstream name and state the
	// observations hold.
	names interner
	// ids are the (pipeline, date) of every run the board shows, by
	// id: what an observation's change (by run id) refreshes. The first
	// refresh makes it (indexIDs).
	ids map[int64][2]string
	// acked are operators' ETAs of open incidents' members; hist the
	// history of each line an open run's projection walks.
	acked map[[2]string]time.Time
	hist  map[lineKey]history
	// histNames is the one copy of each upstream name the history holds
	// (names is the observations', read beside it).
	histNames interner
	// pipelines and conds index the config the reads were made for
	// (conds: the parsed conditions other than "all" of the lines read);
	// pipeUps are each pipeline's `type: pipeline` upstreams, shared by
	// every board's entries.
	pipelines map[string]*config.Pipeline
	conds     map[string]*condition.Expr
	pipeUps   map[string][]string
}

// pipelineUpstreams names the pipelines p waits on.
func (rd *reads) pipelineUpstreams(p *config.Pipeline) []string {
	return rd.pipeUps[p.Name]
}

func read(ctx context.Context, st *store.Store, cfg *config.Config, dates []string) (*reads, error) {
	n := len(cfg.Pipelines)
	rd := &reads{byKey: make(map[[2]string]run, n), all: map[string][]run{},
		hist: map[lineKey]history{}, histNames: interner{}, pipelines: make(map[string]*config.Pipeline, n), conds: map[string]*condition.Expr{},
		obs: make(map[int64][]observation, n), names: interner{}}
	// The observations are read beside the runs, acknowledgements and
	// history (which follows the runs), on another of the read pool's
	// connections: a whole read waits for the longer of the two, not both.
	obs := make(chan error, 1)
	go func() {
		// Room for an observation of every upstream of the config, the
		// usual count once the day's gates are open.
		ups := 0
		for _, p := range cfg.Pipelines {
			ups += len(p.Upstreams)
		}
		ids, list := make([]int64, 0, ups), make([]observation, 0, ups)
		err := st.EachLatestObservationOn(ctx, dates, func(id int64, o sekisho.Observation) {
			ids, list = append(ids, id), append(list, compactObservation(o, rd.names))
		})
		if err == nil {
			rd.keepObservations(ids, list)
		}
		obs <- err
	}()
	err := rd.readRuns(ctx, st, cfg, dates)
	if oerr := <-obs; oerr != nil {
		return nil, fmt.Errorf("status: %w", oerr)
	}
	if err != nil {
		return nil, err
	}
	return rd, nil
}

// keepObservations keeps the latest observations of the runs read, obs[i]
// of the run ids[i], each run's list a part of obs (sorted by run first
// when the rows came apart): one allocation for all the lists instead of
// one a run, 10,000 at 10,000 pipelines. The lists are full (their
// capacity ends with them), so refresh's lists never write into another's.
func (rd *reads) keepObservations(ids []int64, obs []observation) {
	if len(obs) < cap(obs)*3/4 {
		obs = slices.Clip(slices.Clone(obs)) // the room kept would be the cache's
	}
	if byRun := (runOrder{ids, obs}); !sort.IsSorted(byRun) {
		sort.Sort(byRun)
	}
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		rd.obs[ids[i]] = obs[i:j:j]
		i = j
	}
}

// runOrder sorts observations (obs) by their runs' ids (ids).
type runOrder struct {
	ids []int64
	obs []observation
}

func (o runOrder) Len() int           { return len(o.ids) }
func (o runOrder) Less(i, j int) bool { return o.ids[i] < o.ids[j] }
func (o runOrder) Swap(i, j int) {
	o.ids[i], o.ids[j] = o.ids[j], o.ids[i]
	o.obs[i], o.obs[j] = o.obs[j], o.obs[i]
}

// readRuns is the part of read that does not need the observations: the
// runs of dates, the acknowledged ETAs and the open runs' history.
func (rd *reads) readRuns(ctx context.Context, st *store.Store, cfg *config.Config, dates []string) error {
	// Every pipeline's `type: pipeline` upstreams are parts of one list.
	n, with := 0, 0
	for _, p := range cfg.Pipelines {
		rd.pipelines[p.Name] = p
		if k := pipelineUpstreamCount(p); k > 0 {
			n, with = n+k, with+1
		}
	}
	rd.pipeUps = make(map[string][]string, with)
	names := make([]string, 0, n)
	for _, p := range cfg.Pipelines {
		from := len(names)
		for _, u := range p.Upstreams {
			if u.Type == config.TypePipeline {
				names = append(names, u.Pipeline)
			}
		}
		if len(names) > from {
			rd.pipeUps[p.Name] = names[from:len(names):len(names)]
		}
	}
	// The runs are kept compact as they are read, never all whole.
	if err := st.EachListedRunOn(ctx, dates, rd.addRun); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	var err error
	if rd.acked, err = acknowledgedETAs(ctx, st); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if err := rd.readHistory(ctx, st, rd.openLines(nil)); err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

// pipelineUpstreamCount counts p's `type: pipeline` upstreams.
func pipelineUpstreamCount(p *config.Pipeline) int {
	n := 0
	for _, u := range p.Upstreams {
		if u.Type == config.TypePipeline {
			n++
		}
	}
	return n
}

// addRuns indexes runs, which come by pipeline and gate: a sub-daily
// pipeline's latest run of the date is the one its entry shows.
func (rd *reads) addRuns(runs []sekisho.Run) {
	for _, r := range runs {
		rd.addRun(r)
	}
}

// addRun indexes one run; the runs of a pipeline and date come in gate
// order (Store.EachListedRunOn, RunsOf), the latest last.
func (rd *reads) addRun(r sekisho.Run) {
	p := rd.pipelines[r.Pipeline]
	if p != nil {
		r.Pipeline = p.Name // the config's copy, not one more a run
	}
	k, c := [2]string{r.Pipeline, r.LogicalDate}, compactRun(r)
	rd.byKey[k] = c
	if rd.ids != nil {
		rd.ids[r.ID] = k
	}
	if p != nil && p.SubDaily() {
		rd.all[r.Pipeline] = append(rd.all[r.Pipeline], c)
	}
}

// refresh brings rd up to date with what this process's writes changed
// (store.ChangesBetween) of a board of dates: the touched runs and their
// observations, the acknowledged ETAs after an incident's change, and the
// history of the lines a change reaches. It is what a call after a write
// costs instead of a whole read (~400 ms at 10,000 pipelines). On an error
// rd is left half done: the caller drops it.
func (rd *reads) refresh(ctx context.Context, st *store.Store, ch store.Changes, dates []string) error {
	rd.mu.Lock()
	defer rd.mu.Unlock()
	rd.indexIDs()
	shown := make(map[string]bool, len(dates))
	for _, d := range dates {
		shown[d] = true
	}
	// touched are every (pipeline, date) changed, for the history of the
	// later dates shown; keys those of the shown dates, read again.
	touched := ch.Runs
	var keys [][2]string
	for _, k := range ch.Runs {
		if shown[k[1]] {
			keys = append(keys, k)
		}
	}
	runs, err := st.RunsOf(ctx, keys)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if old, ok := rd.byKey[k]; ok {
			delete(rd.ids, old.id)
			delete(rd.byKey, k)
		}
		if rs, ok := rd.all[k[0]]; ok {
			kept := rs[:0:0]
			for _, r := range rs {
				if r.date() == k[1] {
					delete(rd.ids, r.id)
				} else {
					kept = append(kept, r)
				}
			}
			rd.all[k[0]] = kept
		}
	}
	rd.addRuns(runs)
	for _, r := range runs {
		if rs := rd.all[r.Pipeline]; len(rs) > 1 {
			sort.SliceStable(rs, func(i, j int) bool { return rs[i].gate < rs[j].gate })
		}
	}
	var obsOf []int64
	for _, id := range ch.RunIDs {
		if k, ok := rd.ids[id]; ok {
			obsOf = append(obsOf, id)
			touched = append(touched, k)
			continue
		}
		// A run of a date not shown: only the history of the dates after
		// it can change.
		r, err := st.RunByID(ctx, id)
		if errors.Is(err, sekisho.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		touched = append(touched, [2]string{r.Pipeline, r.LogicalDate})
	}
	obs, err := st.LatestObservationListsOf(ctx, obsOf)
	if err != nil {
		return err
	}
	for _, id := range obsOf {
		if o, ok := obs[id]; ok {
			rd.obs[id] = compactObservations(o, rd.names)
		} else {
			delete(rd.obs, id)
		}
	}
	if ch.Incidents {
		if rd.acked, err = acknowledgedETAs(ctx, st); err != nil {
			return err
		}
	}
	// A run's history is its pipeline's runs before the date: a change on
	// one date makes the history of the later dates shown stale.
	var stale []lineKey
	for _, k := range touched {
		for _, d := range dates {
			if k[1] < d {
				if _, ok := rd.hist[lineKey{k[0], d}]; ok {
					delete(rd.hist, lineKey{k[0], d})
					stale = append(stale, lineKey{k[0], d})
				}
			}
		}
	}
	if len(keys) > 0 {
		stale = append(stale, rd.openLines(keys)...)
	}
	return rd.readHistory(ctx, st, stale)
}

// indexIDs makes ids on the first refresh: a whole read leaves it out, so
// the first call after a start (a whole read, 10,000 runs) does not wait
// for it, nor does a cache nobody writes under keep it.
func (rd *reads) indexIDs() {
	if rd.ids != nil {
		return
	}
	rd.ids = make(map[int64][2]string, len(rd.byKey))
	for k, r := range rd.byKey {
		rd.ids[r.id] = k
	}
	for p, rs := range rd.all {
		for _, r := range rs {
			rd.ids[r.id] = [2]string{p, r.date()}
		}
	}
}

// Cache keeps a board's store reads between calls, for as long as the
// config stays the same, and brings them up to date when the store
// changes (store.ListingVersion): after a write of this process it reads
// again only the rows the write touched (store.ChangesBetween); after
// another process's write it reads everything again. GET /api/v1/status
// and the board at 10,000 pipelines then answer from memory. What depends
// on the time of the call (the listing state of runs not there yet, the
// SLO judge, ETAs, summaries) and the poll schedule are worked out at
// every call, so a cached board is never stale. The zero Cache is ready;
// it is safe for concurrent use, and concurrent calls needing new reads
// wait for one read instead of each making their own.
type Cache struct {
	mu      sync.Mutex
	key     cacheKey
	version store.ListingVersion
	rd      *reads
	// whole and refreshed count the whole reads and the refreshes made,
	// for the tests.
	whole, refreshed int
}

type cacheKey struct {
	st    *store.Store
	cfg   *config.Config
	dates string
}

// Build is status.Build from the cached reads, brought up to date with
// the store.
func (c *Cache) Build(ctx context.Context, st *store.Store, cfg *config.Config, date string, now time.Time) (*Board, error) {
	b, rd, err := c.start(ctx, st, cfg, date, now)
	if err != nil {
		return nil, err
	}
	defer rd.mu.RUnlock()
	return assemble(ctx, st, cfg, b, rd, now, all, false)
}

// BuildPage is Build of today's board (each pipeline on its current
// logical date), its summaries in lang, for a page of it, the entries
// from..to: only they have their ETAs projected and keep their upstreams;
// the others' ETA and Upstreams are nil, and their Summary is empty unless
// they are in trouble. The board's page shows the cards
// of those entries, and above them what is in trouble, of every entry;
// projecting every open run and keeping every upstream were most of what
// a page cost at 10,000 pipelines.
func (c *Cache) BuildPage(ctx context.Context, st *store.Store, cfg *config.Config, now time.Time, lang string, from, to int) (*Board, error) {
	b, rd, err := c.start(ctx, st, cfg, "", now)
	if err != nil {
		return nil, err
	}
	defer rd.mu.RUnlock()
	b.Language = lang
	return assemble(ctx, st, cfg, b, rd, now, [2]int{max(from, 0), max(to, 0)}, true)
}

// start is status.start with the cached reads of the board's dates, up to
// date and read-locked: the caller unlocks them when done.
func (c *Cache) start(ctx context.Context, st *store.Store, cfg *config.Config, date string, now time.Time) (*Board, *reads, error) {
	b, dates, err := start(cfg, date, now)
	if err != nil {
		return nil, nil, err
	}
	rd, err := c.reads(ctx, st, cfg, dates)
	return b, rd, err
}

// reads returns the reads of dates, up to date, read-locked.
func (c *Cache) reads(ctx context.Context, st *store.Store, cfg *config.Config, dates []string) (*reads, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	// The version is read before the data, so reads made now are at least
	// as new as the version they are kept under.
	v, err := st.ListingVersion(ctx)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	key := cacheKey{st: st, cfg: cfg, dates: strings.Join(dates, ",")}
	if c.rd != nil && c.key == key && c.version != v {
		if ch, ok := st.ChangesBetween(c.version, v); ok {
			if len(ch.Runs) > 0 || len(ch.RunIDs) > 0 || ch.Incidents {
				c.refreshed++
				if err := c.rd.refresh(ctx, st, ch, dates); err != nil {
					c.rd = nil
					return nil, fmt.Errorf("status: %w", err)
				}
			}
			c.version = v
		}
	}
	if c.rd == nil || c.key != key || c.version != v {
		c.rd = nil // let the old reads go before the new ones are made
		c.whole++
		rd, err := read(ctx, st, cfg, dates)
		if err != nil {
			return nil, err
		}
		c.key, c.version, c.rd = key, v, rd
	}
	c.rd.mu.RLock()
	return c.rd, nil
}

// all is every entry of a board: the projected ones (assemble).
var all = [2]int{0, -1}

// Language returns the configured language of user-facing text: ja unless en.
func Language(cfg *config.Config) string {
	if cfg != nil && cfg.Slack.Language == "en" {
		return "en"
	}
	return "ja"
}

// entry fills e, the entry of p's run r (hasRun) on date, its upstreams in
// ups (empty, with room for them).
func entry(e *Pipeline, ups []Upstream, p *config.Pipeline, date string, kept run, hasRun bool,
	obs []observation, rd *reads, now time.Time) {
	impacts := noNames
	if len(p.Impacts) > 0 {
		// The config's own list: entries are read, never changed in
		// place, and the capacity stops an append from writing into it.
		impacts = p.Impacts[:len(p.Impacts):len(p.Impacts)]
	}
	head(e, p, date, kept, hasRun, now)
	e.Impacts, e.AffectedBy, e.Upstreams, e.pipelineUpstreams = impacts, noNames, ups, rd.pipelineUpstreams(p)
	for _, u := range p.Upstreams {
		up := Upstream{Name: u.Name, Type: u.Type, State: sekisho.JobPending}
		if o, ok := observationOf(obs, u.Name); ok {
			up.State, up.ExternalID = o.state, o.externalID
			up.StartedAt, up.FinishedAt, up.ObservedAt = fromUnixNano(o.started), fromUnixNano(o.finished), fromUnixNano(o.observed)
			if m := o.more; m != nil {
				// The value is the cache's: entries are read, never changed.
				up.Message, up.Error, up.Reason, up.Value = m.message, m.errText, m.reason, m.value
			}
		} else if u.Type == config.TypePipeline {
			if other, ok := rd.byKey[[2]string{u.Pipeline, date}]; ok {
				up.State = other.state.AsUpstream(u.SkippedIsSuccess)
				up.FinishedAt = fromUnixNano(other.finished)
			}
		}
		e.Upstreams = append(e.Upstreams, up)
	}
}

// head fills e with what p's run on date (kept; hasRun) says, or its
// listing state without one: all the judge needs (entry does the rest).
func head(e *Pipeline, p *config.Pipeline, date string, kept run, hasRun bool, now time.Time) {
	*e = Pipeline{Name: p.Name, Description: p.Description, LogicalDate: date, Key: date, Location: p.Location, HasRun: hasRun}
	if hasRun {
		r := kept.full(p.Name)
		e.State, e.Attempt, e.Message, e.Key = r.State, r.Attempt, r.Message, r.Key
		e.GateAt, e.TriggeredAt, e.StartedAt, e.FinishedAt = r.GateAt, r.TriggeredAt, r.StartedAt, r.FinishedAt
		e.FirstSuccessAt, e.Deadline, e.recoverBy = r.FirstSuccessAt, r.Deadline, r.RecoverBy
	} else {
		e.State, e.GateAt = NoRunState(p, date, now)
	}
	if e.Deadline.IsZero() {
		e.Deadline = p.Deadline(date, e.GateAt)
	}
}

// noNames is an empty list that writes [] in JSON.
var noNames = []string{}

// NoRunState is the listing state of a pipeline without a run on date, and
// its gate time from config (the engine's own schedule evaluation): holiday
// when the pipeline's calendar has the day off, no_gate when the schedule
// does not fire that day, scheduled while the gate is still to come, missed
// once it has passed. The board, the API, `sekisho status`, the digest and
// the sekisho_runs metric all list it so.
func NoRunState(p *config.Pipeline, date string, now time.Time) (sekisho.State, time.Time) {
	gate := p.GateOn(date)
	if _, off := p.DayOff(date); off && gate.IsZero() {
		return sekisho.StateHoliday, gate
	}
	switch {
	case gate.IsZero():
		return sekisho.StateNoGate, gate
	case gate.After(now):
		return sekisho.StateScheduled, gate
	}
	return sekisho.StateMissed, gate
}

// day is the judge's input of the entry's day.
func (p *Pipeline) day() slo.Day {
	return slo.Day{HasRun: p.HasRun, State: p.State, Deadline: p.Deadline, RecoverBy: p.recoverBy,
		FirstSuccess: p.FirstSuccessAt, Finished: p.FinishedAt}
}

// judgeDay is the listing state and the SLO verdict at now of a pipeline's
// day on date (slo.Judge, the judge of the SLO report): a missed day
// counts as a miss once its deadline has passed, unless it falls before
// the pipeline's first run ever (first: FirstRunDates); that day is
// listed before_history.
func judgeDay(d slo.Day, pipeline, date string, first map[string]string, now time.Time) (sekisho.State, slo.Judgement) {
	if d.State == sekisho.StateMissed {
		if d.Due = !beforeHistory(first, pipeline, date); !d.Due {
			d.State = sekisho.StateBeforeHistory
		}
	}
	return d.State, slo.Judge(d, now)
}

// beforeHistory reports whether a missed date of the pipeline falls
// before its first run (first: FirstRunDates): the pipeline did not exist
// yet, so it is no miss, on the board, in the metrics or in the report.
func beforeHistory(first map[string]string, pipeline, date string) bool {
	f, ok := first[pipeline]
	return !ok || date < f
}

// States are the listing states of cfg's pipelines, each on its current
// logical date, as the board lists them (status.Build), from the same
// cached reads and without building the board: what the sekisho_runs
// metric shows, so /metrics and the board never disagree.
func (c *Cache) States(ctx context.Context, st *store.Store, cfg *config.Config, now time.Time) ([]sekisho.State, error) {
	b, rd, err := c.start(ctx, st, cfg, "", now)
	if err != nil {
		return nil, err
	}
	defer rd.mu.RUnlock()
	verdicts, _, err := judgeAll(ctx, st, cfg.Pipelines, b.on, rd, now)
	if err != nil {
		return nil, err
	}
	out := make([]sekisho.State, len(verdicts))
	for i, v := range verdicts {
		out[i] = v.state
	}
	return out, nil
}

// MarshalJSON writes times in the pipeline's time zone and unknown times as null.
// It is the reference of the status answer: WriteJSON (json.go) writes the
// same bytes by hand, and the tests compare the two.
func (p *Pipeline) MarshalJSON() ([]byte, error) {
	type plain Pipeline
	return json.Marshal(struct {
		*plain
		GateAt      *string `json:"gate_at"`
		TriggeredAt *string `json:"triggered_at"`
		FinishedAt  *string `json:"finished_at"`
		Deadline    *string `json:"deadline"`
	}{(*plain)(p), jsonTime(p.GateAt, p.Location), jsonTime(p.TriggeredAt, p.Location),
		jsonTime(p.FinishedAt, p.Location), jsonTime(p.Deadline, p.Location)})
}

// MarshalJSON writes unknown times as null.
func (u Upstream) MarshalJSON() ([]byte, error) {
	type plain Upstream
	return json.Marshal(struct {
		plain
		StartedAt   *string `json:"started_at"`
		FinishedAt  *string `json:"finished_at"`
		ObservedAt  *string `json:"observed_at"`
		NextCheckAt *string `json:"next_check_at"`
	}{plain(u), jsonTime(u.StartedAt, time.UTC), jsonTime(u.FinishedAt, time.UTC), jsonTime(u.ObservedAt, time.UTC),
		jsonTime(u.NextCheckAt, time.UTC)})
}

func jsonTime(t time.Time, loc *time.Location) *string {
	if t.IsZero() {
		return nil
	}
	s := t.In(loc).Format(time.RFC3339)
	return &s
}
