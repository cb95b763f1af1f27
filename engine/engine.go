package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/jonboulle/clockwork"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/config"
	"github.com/sekisho-dev/sekisho/policy/pollplan"
	"github.com/sekisho-dev/sekisho/store"
)

// Metrics receives the engine's measurements. A nil Metrics records nothing.
type Metrics interface {
	SensorCheck(sensorType, outcome string, d time.Duration)
	GateLatency(mode string, d time.Duration)
	Transition(from, to sekisho.State)
}

// Options are the engine's dependencies. Only Store is required.
type Options struct {
	Store  *store.Store
	Clock  clockwork.Clock // default: the real clock
	Logger *slog.Logger
	// Sensors by upstream type (glue_job, trocco_job, …). Upstreams of
	// type pipeline read the store and need no sensor.
	Sensors map[string]sekisho.Sensor
	// Triggers by downstream type (airflow_dag, trocco_workflow).
	Triggers map[string]sekisho.Trigger
	Metrics  Metrics
	// OnNotice is called after notices were queued, to wake the sender.
	OnNotice func()
	// Tick is how often the loop looks at the open runs without being woken
	// (default 1s). Polls and gates wake it as they happen.
	Tick time.Duration
	// Jitter spreads each resource's polls over up to this share of its
	// poke interval, never beyond it (default 0.1; negative for none), so
	// thousands of resources do not fire at once.
	Jitter float64
	// MaxInFlight bounds concurrent sensor requests (polls), and apart
	// from them concurrent downstream requests (triggers, followed runs'
	// checks) (default 32 each).
	MaxInFlight int
	// FullEvery is how often a pass looks at every open run, not only at
	// the runs something happened to (default 1m): a safety net.
	FullEvery time.Duration
	// Sync runs every sensor and trigger request inline in Step. Tests use it
	// to drive the engine deterministically on a fake clock.
	Sync bool
	// Seed seeds the jitter (0: random).
	Seed uint64
	// Elector, when set, lets gocron run gate jobs only while it answers
	// that this replica leads (ha.Elector; SPEC §14).
	Elector gocron.Elector
}

// Engine runs the gates of one configuration.
type Engine struct {
	opts    Options
	st      *store.Store
	clock   clockwork.Clock
	log     *slog.Logger
	cfg     atomic.Pointer[config.Config]
	ad      atomic.Pointer[adapters]
	kick    chan struct{}
	work    workQueue // the polls to make, MaxInFlight at a time
	down    workQueue // the downstream requests to make, MaxInFlight at a time
	wg      sync.WaitGroup
	poller  *poller
	planner *pollplan.Planner // when each resource is checked next (SPEC §13)
	results resultQueue       // answers of requests, for the loop
	events  resultQueue       // runs pushed by events, for the loop after its plan
	reads   historyReads      // ETA histories being read off the loop, and read
	dirty   atomic.Bool       // the store changed behind the loop's records
	rngMu   sync.Mutex
	rng     *rand.Rand

	// Loop-owned state: only the goroutine running Step touches these.
	runs    runTable                // one record per open run
	gate    gateTimes               // when each pipeline's next gate fires
	demand  demandPlan              // what the waiting runs wait on
	history map[string]lineHistory  // per pipeline, what its ETA learns from (SPEC §21)
	values  map[string]valueHistory // per pipeline/upstream, a data check's past values (SPEC §21)
	inc     openIncidents           // the open incidents (SPEC §17)
	pass    passState               // what a pass leaves for the next
}

// passState is what a pass leaves for the next one.
type passState struct {
	lastFull time.Time // when every open run was last looked at
	// published is when the next checks were last published
	// (publishNextChecks).
	published time.Time
	cfg       *config.Config // the config of that pass
	sel       map[int64]bool // during a pass: the runs selected for it
	added     []int64        // during a step: the runs it added to sel
	// carried is, during a pass, the runs the last one left (its rest);
	// with sel, the runs the pass looks at (selected).
	carried []int64
	// rest is the runs selected and left for the next pass (passRuns),
	// sorted by id. A slice kept as it is, not a map merged into the next
	// pass's selection: after a full pass that was 10,000 runs copied into
	// three maps made anew in each of 40 slice passes, ~35 MB allocated
	// within a second once a minute, which set the daemon's peak memory
	// (issue 23).
	rest []int64
	// obs are observations steps recorded and flushObservations has not
	// written yet.
	obs []store.ObservationWrite
}

// New builds an engine for cfg.
func New(cfg *config.Config, opts Options) (*Engine, error) {
	if opts.Store == nil {
		return nil, errors.New("engine: a store is required")
	}
	if opts.Clock == nil {
		opts.Clock = clockwork.NewRealClock()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.Jitter == 0 {
		opts.Jitter = 0.1
	} else if opts.Jitter < 0 {
		opts.Jitter = 0 // negative: no jitter (tests)
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 32
	}
	if opts.FullEvery <= 0 {
		opts.FullEvery = time.Minute
	}
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	e := &Engine{
		opts: opts, st: opts.Store, clock: opts.Clock, log: opts.Logger,
		kick:    make(chan struct{}, 1),
		history: map[string]lineHistory{},
		values:  map[string]valueHistory{},
		rng:     rand.New(rand.NewPCG(seed, seed^0x5e4154)),
	}
	e.poller = newPoller(e)
	e.planner = pollplan.NewPlanner(opts.Store, cfg)
	e.cfg.Store(cfg)
	e.SetAdapters(opts.Sensors, opts.Triggers)
	return e, nil
}

// adapters are the sensors and triggers of the current config.
type adapters struct {
	sensors  map[string]sekisho.Sensor
	triggers map[string]sekisho.Trigger
}

// SetAdapters swaps the sensors and triggers, after a reload changed the
// connections. Requests under way finish on the adapters they started with.
func (e *Engine) SetAdapters(sensors map[string]sekisho.Sensor, triggers map[string]sekisho.Trigger) {
	e.ad.Store(&adapters{sensors: sensors, triggers: triggers})
}

func (e *Engine) sensor(typ string) sekisho.Sensor   { return e.ad.Load().sensors[typ] }
func (e *Engine) trigger(typ string) sekisho.Trigger { return e.ad.Load().triggers[typ] }

// Config returns the configuration gates open under now.
func (e *Engine) Config() *config.Config { return e.cfg.Load() }

// SetConfig swaps in a new configuration. Gates that open after the swap use
// it; runs already open finish under the config they started with (SPEC §4
// rule 6), because each run carries its own snapshot.
func (e *Engine) SetConfig(cfg *config.Config) {
	e.cfg.Store(cfg)
	e.planner.SetConfig(cfg)
	e.Kick()
}

// Kick wakes the loop for an immediate pass.
func (e *Engine) Kick() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// Run opens gates on their schedules and reconciles open runs until ctx ends.
// It waits for requests under way before it returns.
func (e *Engine) Run(ctx context.Context) error {
	schedOpts := []gocron.SchedulerOption{gocron.WithClock(e.clock)}
	if e.opts.Elector != nil {
		schedOpts = append(schedOpts, gocron.WithDistributedElector(e.opts.Elector))
	}
	sched, err := gocron.NewScheduler(schedOpts...)
	if err != nil {
		return fmt.Errorf("engine: scheduler: %w", err)
	}
	sched.Start()
	defer sched.Shutdown()
	defer e.wg.Wait()
	ticker := e.clock.NewTicker(e.opts.Tick)
	defer ticker.Stop()
	var scheduled *config.Config
	for {
		if cfg := e.Config(); cfg != scheduled {
			if err := e.schedule(sched, cfg); err != nil {
				return err
			}
			scheduled = cfg
		}
		if err := e.Step(ctx); err != nil && ctx.Err() == nil {
			e.log.Error("engine pass failed", "err", err)
		}
		// Wake for the next tick, a kick, or the next poll that falls due
		// before the tick: a due poll waiting for the tick would add up to
		// a tick to the gate latency.
		var due <-chan time.Time
		if at, ok := e.poller.soonestDue(); ok {
			if d := at.Sub(e.clock.Now()); d < e.opts.Tick {
				due = e.clock.After(max(d, 0))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.Chan():
		case <-e.kick:
		case <-due:
		}
	}
}

// schedule registers each pipeline's cron with gocron on the engine's clock,
// replacing the jobs of an older config. A firing wakes the loop at the gate
// time; the loop opens every gate that is due, so a firing the scheduler
// missed (downtime, a reload) is caught up in the same place.
func (e *Engine) schedule(s gocron.Scheduler, cfg *config.Config) error {
	s.RemoveByTags("gate")
	seen := map[string]bool{} // pipelines on the same schedule share one wake-up
	for _, p := range cfg.Pipelines {
		expr, withSeconds := cronSpec(p)
		if seen[expr] {
			continue
		}
		seen[expr] = true
		_, err := s.NewJob(gocron.CronJob(expr, withSeconds), gocron.NewTask(e.Kick),
			gocron.WithName(expr), gocron.WithTags("gate"),
			gocron.WithSingletonMode(gocron.LimitModeReschedule))
		if err != nil {
			return fmt.Errorf("engine: schedule of %s: %w", p.Name, err)
		}
	}
	return nil
}

// spawn runs fn, a downstream request (a trigger, a followed run's
// check), under its own in-flight bound: in a goroutine, or inline in Sync
// mode. Not in the polls' queue: when 10,000 gates open, 2,000 polls fall
// due at once, and a trigger queued behind them waited ~0.6 s for a run
// whose upstreams were done (sekisho-bench -fire-in, issue 23).
func (e *Engine) spawn(ctx context.Context, fn func(context.Context)) {
	e.spawnOn(ctx, &e.down, e.opts.MaxInFlight, func(ctx context.Context) bool { fn(ctx); return true })
}

// spawnPoll polls one resource off the loop and wakes the loop only when
// the answer changed: an unchanged answer cannot move any run.
func (e *Engine) spawnPoll(ctx context.Context, rs *resource) {
	e.spawnThen(ctx, func(ctx context.Context) bool { return e.poller.poll(ctx, rs) })
}

// spawnThen runs fn under the in-flight bound, in a goroutine or inline in
// Sync mode, and wakes the loop when fn reports a change. Requests wait in
// a queue, not each in a goroutine of its own: when 10,000 gates open,
// 2,000 resources fall due at once, and a goroutine apiece parked on a
// semaphore was 2,000 stacks at the daemon's busiest moment (issue 23). At
// most MaxInFlight workers take requests off the queue, in the order they
// came, and stop when it is empty.
func (e *Engine) spawnThen(ctx context.Context, fn func(context.Context) bool) {
	e.spawnOn(ctx, &e.work, e.opts.MaxInFlight, fn)
}

// spawnOn is spawnThen on queue q with at most limit workers.
func (e *Engine) spawnOn(ctx context.Context, q *workQueue, limit int, fn func(context.Context) bool) {
	if e.opts.Sync {
		fn(ctx)
		return
	}
	q.mu.Lock()
	q.fns = append(q.fns, fn)
	start := q.workers < limit
	if start {
		q.workers++
	}
	q.mu.Unlock()
	if !start {
		return
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			fn, ok := q.take()
			if !ok {
				return
			}
			if ctx.Err() == nil && fn(ctx) {
				e.Kick()
			}
		}
	}()
}

// workQueue holds the requests spawnThen has not started yet.
type workQueue struct {
	mu      sync.Mutex
	fns     []func(context.Context) bool
	workers int // running; each takes requests until none is left
}

// take returns the oldest request, or false when there is none: the
// worker asking then stops.
func (q *workQueue) take() (func(context.Context) bool, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.fns) == 0 {
		q.workers--
		q.fns = nil // let a burst's backing array go
		return nil, false
	}
	fn := q.fns[0]
	q.fns[0] = nil
	q.fns = q.fns[1:]
	return fn, true
}

// spread is a random share of d, up to the jitter share: the delay that
// spreads the polls of many resources out.
func (e *Engine) spread(d time.Duration) time.Duration {
	if e.opts.Jitter <= 0 || d <= 0 {
		return 0
	}
	e.rngMu.Lock()
	f := e.rng.Float64() * e.opts.Jitter
	e.rngMu.Unlock()
	return time.Duration(float64(d) * f)
}

func (e *Engine) jitter(d time.Duration) time.Duration {
	if e.opts.Jitter <= 0 || d <= 0 {
		return d
	}
	e.rngMu.Lock()
	f := (e.rng.Float64()*2 - 1) * e.opts.Jitter
	e.rngMu.Unlock()
	return d + time.Duration(float64(d)*f)
}

func (e *Engine) noticed() {
	if e.opts.OnNotice != nil {
		e.opts.OnNotice()
	}
}

// resultQueue hands results of requests made off the loop back to it.
type resultQueue struct {
	mu    sync.Mutex
	items []func(context.Context)
}

func (q *resultQueue) push(fn func(context.Context)) {
	q.mu.Lock()
	q.items = append(q.items, fn)
	q.mu.Unlock()
}

func (q *resultQueue) drain() []func(context.Context) {
	q.mu.Lock()
	defer q.mu.Unlock()
	items := q.items
	q.items = nil
	return items
}
