// Package airflowsim simulates the REST API of Apache Airflow, both the v1
// API of Airflow 2 (Cloud Composer 2) under /api/v1 and the v2 API of
// Airflow 3 under /api/v2, for the demo, end-to-end tests and benchmarks.
//
// Every request is checked against Airflow's own OpenAPI document (embedded
// from spec/) with kin-openapi, and so is every answer the simulator gives:
// a client that drifts from the real API fails here, not in production.
// DAG runs move queued → running → success/failed as an injected clock
// advances; faults (5xx, 429, slow and garbled answers) are injected from a
// seeded random source.
package airflowsim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
)

// Auth modes of the simulator.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthBearer = "bearer"
	// AuthPassword is Airflow 3: POST /auth/token trades Username and
	// Password for a JWT that expires after TokenLifetime; the API takes
	// only such bearer tokens.
	AuthPassword = "password"
)

// Options configures a Server.
type Options struct {
	Clock sekisho.Clock // default: the wall clock
	// Auth is none (default), basic (Username/Password) or bearer (any of
	// Tokens). Anything else gets 401.
	Auth     string
	Username string
	Password string
	Tokens   []string
	// DefaultDuration is the run time of a DAG added without one (default 10m).
	DefaultDuration time.Duration
	Faults          Faults
	Seed            uint64 // seeds fault injection
	// Limit, when set, answers 429 to calls past it (a proxy's or a managed
	// service's rate limit); a client within its budget never meets it.
	Limit simlimit.Limit
	// TokenLifetime is how long a JWT of /auth/token lasts (default
	// DefaultTokenLifetime).
	TokenLifetime time.Duration
}

// Faults are the shares (0..1) of requests that misbehave. They are drawn
// after a request validated, so a fault never hides a client bug.
type Faults struct {
	ServerError float64       // answered 500 or 503 without doing anything
	TooMany     float64       // answered 429 with Retry-After: 0
	Slow        float64       // served after SlowDelay of real time
	SlowDelay   time.Duration // default 200ms
	Malformed   float64       // served, but the answer body is cut short
}

// DAG scripts one DAG.
type DAG struct {
	Paused     bool
	Duration   time.Duration // run time of its runs; Options.DefaultDuration when zero
	Outcome    string        // "success" (default) or "failed"
	QueueDelay time.Duration // between being queued and starting
	// NeedsDS is a DAG whose templates read {{ ds }}: a run without a
	// logical date (Airflow 3, logical_date null) has no ds in its
	// context, and fails with KeyError (apache/airflow#46522).
	NeedsDS bool
}

// Plan scripts one DAG run, overriding its DAG's defaults.
type Plan struct {
	Outcome    string
	Duration   time.Duration
	QueueDelay time.Duration
}

// Run is the simulator's view of one DAG run.
type Run struct {
	DagID       string
	DagRunID    string
	RunType     string // manual for triggered runs, scheduled for AddRun
	State       string // queued, running, success, failed
	Conf        map[string]any
	Note        string
	QueuedAt    time.Time
	StartDate   time.Time // zero while queued
	EndDate     time.Time // zero until finished
	LogicalDate time.Time // zero for a v2 run triggered with logical_date null
	Version     string    // API version that created it; empty for AddRun
	// DataIntervalStart and DataIntervalEnd are zero for a v2 run
	// without a logical date.
	DataIntervalStart, DataIntervalEnd time.Time
	// ClearNumber counts the clears that queued the run again (Airflow's
	// dag_run.clear_number, which its API does not show).
	ClearNumber int
	// Failure is why a run failed on its own (a missing ds).
	Failure string
	// Tries are the earlier ends of a run that a clear queued again,
	// oldest first; Airflow keeps only the last, the simulator keeps all.
	Tries []Try
}

// Try is one finished go of a DAG run before a clear.
type Try struct {
	State              string
	StartDate, EndDate time.Time
}

// FirstSuccess is when the run first ended in success, across the tries
// that clears replaced; zero if it never did.
func (r Run) FirstSuccess() time.Time {
	for _, t := range r.Tries {
		if t.State == "success" {
			return t.EndDate
		}
	}
	if r.State == "success" {
		return r.EndDate
	}
	return time.Time{}
}

// DS is the ds a task of the run reads: the logical date's UTC date
// (Airflow renders template dates in UTC, apache/airflow#23400), and ""
// for a run without a logical date, whose context has no ds at all.
func (r Run) DS() string {
	if r.LogicalDate.IsZero() {
		return ""
	}
	return r.LogicalDate.UTC().Format("2006-01-02")
}

// ClearRecord is one POST …/dagRuns/{dag_run_id}/clear that reached the
// simulator and passed validation. Cleared is false for a dry run, a run
// that was not finished (Airflow then leaves it as it is) or a 404.
type ClearRecord struct {
	Version  string
	DagID    string
	DagRunID string
	At       time.Time
	Status   int
	Cleared  bool
}

// TriggerRecord is one POST …/dagRuns that reached the simulator and passed
// validation, with its answer: Status 200 created a run, 409 found one.
type TriggerRecord struct {
	Version  string
	DagID    string
	DagRunID string
	At       time.Time // the simulator clock when it arrived
	Status   int
	Conf     map[string]any
	Note     string
}

// InvalidRequest is a request that did not match the OpenAPI document.
type InvalidRequest struct {
	Method, Path string
	Error        string
}

// Server is the simulated Airflow web server. It is an http.Handler.
type Server struct {
	opts  Options
	specs map[string]*apiSpec

	mu        sync.Mutex
	limit     simlimit.Counter
	tokenSeq  int
	jwtKey    []byte // signs /auth/token's JWTs; RevokeTokens changes it
	rng       *rand.Rand
	dags      map[string]*dag
	plans     map[string]Plan // dag_id + "\x00" + dag_run_id
	rejects   map[string]int  // dag_id → forced status
	triggers  []TriggerRecord
	clears    []ClearRecord
	clearPlan map[string]Plan // dag_id + "\x00" + dag_run_id: how a cleared run goes
	invalid   []InvalidRequest
	badAnswer []InvalidRequest
	requests  map[string]int
	faults    map[string]int
	seq       int
}

type dag struct {
	id     string
	spec   DAG
	paused bool
	runs   []*simRun
}

type simRun struct {
	Run
	readyAt  time.Time
	duration time.Duration
	outcome  string
	seq      int
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// New builds a simulator with no DAGs.
func New(opts Options) (*Server, error) {
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.Auth == "" {
		opts.Auth = AuthNone
	}
	switch opts.Auth {
	case AuthNone, AuthBasic, AuthBearer, AuthPassword:
	default:
		return nil, fmt.Errorf("airflowsim: auth %q: want none, basic or bearer", opts.Auth)
	}
	if opts.DefaultDuration == 0 {
		opts.DefaultDuration = 10 * time.Minute
	}
	if opts.Faults.SlowDelay == 0 {
		opts.Faults.SlowDelay = 200 * time.Millisecond
	}
	s := &Server{opts: opts, dags: map[string]*dag{},
		plans: map[string]Plan{}, clearPlan: map[string]Plan{}, rejects: map[string]int{}, requests: map[string]int{},
		faults: map[string]int{}, rng: rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x5e4150))}
	specs, err := loadedSpecs()
	if err != nil {
		return nil, err
	}
	s.specs = specs
	s.limit.Limit = opts.Limit
	s.jwtKey = []byte("airflowsim-jwt-secret")
	return s, nil
}

// MustNew is New for tests and the demo, where the embedded specs are known good.
func MustNew(opts Options) *Server {
	s, err := New(opts)
	if err != nil {
		panic(err)
	}
	return s
}

// AddDAG adds (or rescripts) a DAG.
func (s *Server) AddDAG(id string, d DAG) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.dags[id]; ok {
		s.advance(old)
		old.spec, old.paused = d, d.Paused
		return
	}
	s.dags[id] = &dag{id: id, spec: d, paused: d.Paused}
}

// SetPaused pauses or unpauses a DAG, as the UI toggle does.
func (s *Server) SetPaused(id string, paused bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.dags[id]; ok {
		s.setPaused(d, paused)
	}
}

// Paused reports a DAG's pause state.
func (s *Server) Paused(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dags[id]
	return ok && d.paused
}

// PlanRun scripts the run that a later trigger with this dag_run_id creates.
func (s *Server) PlanRun(dagID, runID string, p Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans[dagID+"\x00"+runID] = p
}

// PlanClear scripts how the run goes each time a clear queues it again
// (by default as its DAG's runs go).
func (s *Server) PlanClear(dagID, runID string, p Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clearPlan[dagID+"\x00"+runID] = p
}

// Clears returns every validated clear POST, in arrival order.
func (s *Server) Clears() []ClearRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.clears)
}

// AddRun adds a run created outside sekisho (a scheduled run of an
// upstream DAG): invisible before at, queued at at, then running and
// finished as planned. The DAG is added if missing.
func (s *Server) AddRun(dagID, runID string, at time.Time, p Plan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dag(dagID)
	r := s.newRun(d, runID, at, p)
	r.RunType = "scheduled"
	r.DataIntervalStart, r.DataIntervalEnd = at.Add(-24*time.Hour), at
	r.LogicalDate = r.DataIntervalStart
}

// Reject makes every request about a DAG answer status (e.g. 403, 400,
// 422), as a missing permission or a broken DAG would; 0 clears it.
func (s *Server) Reject(dagID string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if status == 0 {
		delete(s.rejects, dagID)
		return
	}
	s.rejects[dagID] = status
}

// SetFaults changes the fault shares from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.SlowDelay == 0 {
		f.SlowDelay = s.opts.Faults.SlowDelay
	}
	s.opts.Faults = f
}

// GetRun returns one run as of the simulator clock.
func (s *Server) GetRun(dagID, runID string) (Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dags[dagID]
	if !ok {
		return Run{}, false
	}
	s.advance(d)
	for _, r := range d.runs {
		if r.DagRunID == runID {
			return r.Run, true
		}
	}
	return Run{}, false
}

// Runs returns a DAG's visible runs in creation order.
func (s *Server) Runs(dagID string) []Run {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.dags[dagID]
	if !ok {
		return nil
	}
	s.advance(d)
	var out []Run
	for _, r := range s.visible(d) {
		out = append(out, r.Run)
	}
	return out
}

// Triggers returns every validated trigger POST, in arrival order.
func (s *Server) Triggers() []TriggerRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.triggers)
}

// InvalidRequests returns the requests that broke the OpenAPI document
// (including the rules of Airflow 3 the document lost: a required
// logical_date, no unknown fields). A correct client leaves it empty.
func (s *Server) InvalidRequests() []InvalidRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.invalid)
}

// InvalidResponses returns the simulator's own answers that broke the
// document; it should always be empty.
func (s *Server) InvalidResponses() []InvalidRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.badAnswer)
}

// Requests counts requests by operation id (get_dag, patch_dag,
// get_dag_runs, post_dag_run or trigger_dag_run, get_dag_run), plus
// "total" and "unauthenticated".
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.requests))
	for k, v := range s.requests {
		out[k] = v
	}
	return out
}

// Faults counts injected faults by kind: server_error, too_many, slow, malformed.
func (s *Server) Faults() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.faults))
	for k, v := range s.faults {
		out[k] = v
	}
	return out
}

func (s *Server) now() time.Time { return s.opts.Clock.Now().UTC() }

func (s *Server) dag(id string) *dag {
	d, ok := s.dags[id]
	if !ok {
		d = &dag{id: id}
		s.dags[id] = d
	}
	return d
}

func (s *Server) newRun(d *dag, runID string, queuedAt time.Time, p Plan) *simRun {
	if pl, ok := s.plans[d.id+"\x00"+runID]; ok {
		p = pl
	}
	if p.Outcome == "" {
		p.Outcome = d.spec.Outcome
	}
	if p.Outcome == "" {
		p.Outcome = "success"
	}
	if p.Duration == 0 {
		p.Duration = d.spec.Duration
	}
	if p.Duration == 0 {
		p.Duration = s.opts.DefaultDuration
	}
	if p.QueueDelay == 0 {
		p.QueueDelay = d.spec.QueueDelay
	}
	s.seq++
	r := &simRun{Run: Run{DagID: d.id, DagRunID: runID, State: "queued", QueuedAt: queuedAt,
		RunType: "manual", Conf: map[string]any{}}, readyAt: queuedAt.Add(p.QueueDelay),
		duration: p.Duration, outcome: p.Outcome, seq: s.seq}
	d.runs = append(d.runs, r)
	return r
}

// advance brings a DAG's runs up to the clock. State is derived lazily;
// pausing and unpausing advance first, so the result is exact.
func (s *Server) advance(d *dag) {
	now := s.now()
	for _, r := range d.runs {
		if r.State == "queued" && !d.paused && !now.Before(r.readyAt) {
			r.State, r.StartDate = "running", r.readyAt
		}
		if r.State == "running" && !now.Before(r.StartDate.Add(r.duration)) {
			r.State, r.EndDate = r.outcome, r.StartDate.Add(r.duration)
		}
	}
}

func (s *Server) setPaused(d *dag, paused bool) {
	s.advance(d)
	if d.paused && !paused {
		// Runs that waited on the pause start now, not in the past.
		now := s.now()
		for _, r := range d.runs {
			if r.State == "queued" && r.readyAt.Before(now) {
				r.readyAt = now
			}
		}
	}
	d.paused = paused
	s.advance(d)
}

// visible drops runs whose creation lies in the simulator's future.
func (s *Server) visible(d *dag) []*simRun {
	now := s.now()
	var out []*simRun
	for _, r := range d.runs {
		if !r.QueuedAt.After(now) {
			out = append(out, r)
		}
	}
	return out
}
