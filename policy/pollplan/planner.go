package pollplan

import (
	"context"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/budget"
)

// HistoryRuns is how many of a resource's last runs its schedule learns
// from: a month of daily runs.
const HistoryRuns = 30

// Store is what a Planner reads and writes: the finish history of an
// upstream and the published next check of a resource (*store.Store).
type Store interface {
	UpstreamFinishes(ctx context.Context, pipeline, upstream string, n int) ([]time.Time, error)
	SetNextChecks(ctx context.Context, at map[string]time.Time, now time.Time) error
	DropNextChecks(ctx context.Context, keep map[string]bool) error
	ForgetNextChecks(ctx context.Context, keys []string) error
}

// Planner is Next wired to the daemon: it finds a resource's pipeline and
// upstream in the config, its finish history in the store (read once a day
// per resource), its share of the connection's budget, and records the
// answer in the store for status and the API. Safe for concurrent use.
type Planner struct {
	st Store

	mu      sync.Mutex
	share   map[string]time.Duration
	waiter  map[sekisho.Resource]config.Waiter // the first pipeline of cfg waiting on each resource
	history map[string]history                 // by resource key
	// next are the answers of Next not published yet (Publish), by
	// resource key.
	next map[string]time.Time
}

type history struct {
	day      string // the day (UTC) it was read
	finishes []time.Time
}

// NewPlanner returns a planner over st for cfg.
func NewPlanner(st Store, cfg *config.Config) *Planner {
	p := &Planner{st: st, history: map[string]history{}}
	p.SetConfig(cfg)
	return p
}

// SetConfig takes a reloaded config: new shares, and histories re-read.
func (p *Planner) SetConfig(cfg *config.Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.share, p.history = budget.Shares(cfg), map[string]history{}
	p.waiter = cfg.Waiters()
}

// Next returns when to check r next after a check that ended at now, for
// the shortest poke interval among its waiters, and keeps it for Publish.
// A store error costs only the history (the even pace of the share is
// used), never the check: the time is good either way, and the error is
// returned for the caller to log.
func (p *Planner) Next(ctx context.Context, r sekisho.Resource, poke time.Duration, now time.Time) (time.Time, error) {
	in := Input{Now: now, PokeInterval: poke}
	p.mu.Lock()
	pl, up, conn := p.find(r)
	in.Share = p.share[conn]
	if pl != nil {
		in.Loc = pl.Location
	}
	h, fresh := p.history[r.Key()]
	p.mu.Unlock()
	day := now.UTC().Format(sekisho.DateLayout)
	var err error
	if pl != nil && (!fresh || h.day != day) {
		var f []time.Time
		if f, err = p.st.UpstreamFinishes(ctx, pl.Name, up, HistoryRuns); err == nil {
			h = history{day: day, finishes: f}
			p.mu.Lock()
			p.history[r.Key()] = h
			p.mu.Unlock()
		}
	}
	in.Finishes = h.finishes
	next := Next(in)
	p.mu.Lock()
	if p.next == nil {
		p.next = map[string]time.Time{}
	}
	p.next[r.Key()] = next
	p.mu.Unlock()
	return next, err
}

// Publish records the next checks Next answered since the last Publish in
// the store, for the status and the API, in one write: the engine
// publishes once per pass, not once per poll. What a failed write did not
// publish is kept for the next call, unless Next answered again meanwhile.
func (p *Planner) Publish(ctx context.Context, now time.Time) error {
	p.mu.Lock()
	next := p.next
	p.next = nil
	p.mu.Unlock()
	if len(next) == 0 {
		return nil
	}
	err := p.st.SetNextChecks(ctx, next, now)
	if err != nil {
		p.mu.Lock()
		if p.next == nil {
			p.next = map[string]time.Time{}
		}
		for k, at := range next {
			if _, newer := p.next[k]; !newer {
				p.next[k] = at
			}
		}
		p.mu.Unlock()
	}
	return err
}

// Forget forgets the next checks of the resources keys names: no run
// waits on them any more, so none is due.
func (p *Planner) Forget(ctx context.Context, keys []string) error {
	p.mu.Lock()
	for _, k := range keys {
		delete(p.next, k)
	}
	p.mu.Unlock()
	return p.st.ForgetNextChecks(ctx, keys)
}

// Keep forgets the published next check of every resource not in keep
// (by key): no run waits on them any more, so none is due.
func (p *Planner) Keep(ctx context.Context, keep map[string]bool) error {
	p.mu.Lock()
	for k := range p.next {
		if !keep[k] {
			delete(p.next, k)
		}
	}
	p.mu.Unlock()
	return p.st.DropNextChecks(ctx, keep)
}

// Watches reports whether a pipeline of the config waits on r.
func (p *Planner) Watches(r sekisho.Resource) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.waiter[r]
	return ok
}

// find is the first pipeline and upstream of the config waiting on r, and
// the budget connection it draws from; p.mu is held.
func (p *Planner) find(r sekisho.Resource) (*config.Pipeline, string, string) {
	w, ok := p.waiter[r]
	if !ok {
		return nil, "", ""
	}
	return w.Pipeline, w.Upstream, budget.ConnectionOfResource(r)
}
