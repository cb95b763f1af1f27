// Package troccosim is a faithful TROCCO API simulator for tests, the demo
// and benchmarks. It speaks the wire format of client/troccoapi's real
// counterpart: token auth, cursor pages that omit empty arrays, ISO 8601
// timestamps in JST, 429 with X-Rate-Limit-Reset, and both error shapes.
// Jobs are scripted on an injected clock: a job starts at T and ends in a
// state after a duration, and its status is computed from the clock when
// it is asked for.
package troccosim

import (
	"math/rand"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
)

// JST is the zone TROCCO writes its timestamps in.
var JST = time.FixedZone("JST", 9*60*60)

// TimeLayout is how the simulator writes timestamps.
const TimeLayout = "2006-01-02T15:04:05.000-07:00"

// queueFor is how long a job stays queued (no started_at) before it runs.
const queueFor = 10 * time.Second

// Options configures a Sim.
type Options struct {
	Token    string        // the API key the simulator accepts (required)
	Clock    sekisho.Clock // time source for job states; real time when nil
	PageSize int           // largest page it answers, whatever limit asks (default 100)
	Faults   Faults
	Seed     int64 // for the fault dice
	// Limit is the account's API limit; the zero value is TROCCO's
	// documented one (DocumentedLimit).
	Limit Limit
}

// Limit is an account-wide call limit, counted as TROCCO documents it:
// Requests calls per Per and Daily calls per day. The simulator counts in
// fixed windows (Per from the UNIX epoch, the day in JST) and answers 429
// with X-Rate-Limit-Reset at the window's end past either.
type Limit struct {
	Requests int
	Per      time.Duration
	Daily    int
	Off      bool // no limit at all
}

// DocumentedLimit is TROCCO's published limit: at most 100 calls per 15
// minutes and 10,000 calls per day (documents.trocco.io/apidocs/overview).
var DocumentedLimit = Limit{Requests: 100, Per: 15 * time.Minute, Daily: 10000}

// Faults injects trouble into a share of requests. Shares are 0..1 and
// drawn in this order: slow, 5xx, 429, malformed JSON.
type Faults struct {
	ServerError float64
	RateLimit   float64
	Slow        float64
	Malformed   float64
	SlowFor     time.Duration // default 50ms
	ResetIn     time.Duration // X-Rate-Limit-Reset = now + ResetIn (default 1s)
}

// Outcome is how a scripted job ends.
type Outcome struct {
	RunFor time.Duration // from start to end
	Status string        // succeeded, error, canceled, skipped
}

type job struct {
	id, defID int64
	start     time.Time
	out       Outcome
	ctxTime   string
	tz        string
	byTrigger bool
	sender    Sender // who POSTed it (zero for jobs scripted with StartWorkflowJob)
}

// Sender is what the simulator knows of the client behind a POST: what a
// real server's access log holds. The checks in e2e use Traceparent to
// attribute a job to the attempt that asked for it, not to the time it
// started.
type Sender struct {
	// Traceparent is the W3C trace context header as sent (empty when
	// none): sekisho sends the trigger span of the attempt.
	Traceparent string
	RemoteAddr  string    // the client's address and port: one connection of one process
	Received    time.Time // when the request reached the simulator, before any injected delay
}

// Sim is the simulator; it is an http.Handler.
type Sim struct {
	opts Options
	mux  *http.ServeMux

	mu          sync.Mutex
	rng         *rand.Rand
	nextID      int64
	jobs        map[int64]*job // transfer jobs
	pjobs       map[int64]*job // workflow jobs
	jobDefs     map[int64]bool // false once deleted
	workflows   map[int64]Outcome
	deletedWF   map[int64]bool
	total       int
	limit       *simlimit.Counter
	counts      map[string]int
	faultCounts map[string]int
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// New returns a simulator.
func New(opts Options) *Sim {
	if opts.Clock == nil {
		opts.Clock = wallClock{}
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 100
	}
	if opts.Limit == (Limit{}) {
		opts.Limit = DocumentedLimit
	}
	lim := simlimit.Limit{Requests: opts.Limit.Requests, Per: opts.Limit.Per, Daily: opts.Limit.Daily, DayZone: JST}
	if opts.Limit.Off {
		lim = simlimit.Limit{}
	}
	s := &Sim{opts: opts, rng: rand.New(rand.NewSource(opts.Seed)), nextID: 1000,
		jobs: map[int64]*job{}, pjobs: map[int64]*job{}, jobDefs: map[int64]bool{},
		workflows: map[int64]Outcome{}, deletedWF: map[int64]bool{},
		counts: map[string]int{}, faultCounts: map[string]int{}, limit: &simlimit.Counter{Limit: lim}}
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("GET /api/job_definitions/{id}/jobs", s.listJobs)
	s.mux.HandleFunc("GET /api/pipeline_jobs/{id}", s.getPipelineJob)
	s.mux.HandleFunc("GET /api/jobs/{id}", s.getJob)
	s.mux.HandleFunc("POST /api/pipeline_jobs", s.postPipelineJob)
	return s
}

// SetFaults changes the injected faults.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Faults = f
}

// DefineJob declares a job definition with no jobs yet.
func (s *Sim) DefineJob(defID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobDefs[defID] = true
}

// DeleteJobDefinition makes listing its jobs answer 403, as TROCCO does.
func (s *Sim) DeleteJobDefinition(defID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.jobDefs[defID] = false
}

// AddJob scripts a transfer job of definition defID: queued at start, it
// ends in out.Status after out.RunFor. It returns the job id.
func (s *Sim) AddJob(defID int64, start time.Time, out Outcome) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.jobDefs[defID]; !ok {
		s.jobDefs[defID] = true
	}
	s.nextID++
	s.jobs[s.nextID] = &job{id: s.nextID, defID: defID, start: start, out: out}
	return s.nextID
}

// SkipJob scripts a transfer job TROCCO skipped at the given time: it ends
// as it is created, in status "skipped" ("Execution completed (skipped)",
// https://documents.trocco.io/docs/en/trocco-api), having moved no data.
// It returns the job id.
func (s *Sim) SkipJob(defID int64, at time.Time) int64 {
	return s.AddJob(defID, at, Outcome{Status: StatusSkipped})
}

// StatusSkipped is TROCCO's status of a job it skipped.
const StatusSkipped = "skipped"

// DefineWorkflow declares a workflow definition; jobs that POST
// /api/pipeline_jobs creates for it run for out.RunFor, then end in
// out.Status. Calling it again changes the outcome of later jobs.
func (s *Sim) DefineWorkflow(defID int64, out Outcome) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workflows[defID] = out
}

// StartWorkflowJob scripts a workflow job that someone else started (a
// TROCCO schedule, a colleague): sekisho learns of it only through a pushed
// event. It returns the job id.
func (s *Sim) StartWorkflowJob(defID int64, at time.Time, out Outcome) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.workflows[defID]; !ok {
		s.workflows[defID] = out
	}
	s.nextID++
	s.pjobs[s.nextID] = &job{id: s.nextID, defID: defID, start: at, out: out}
	return s.nextID
}

// PipelineJob describes a workflow job as the simulator holds it.
type PipelineJob struct {
	ID, DefinitionID int64
	Start            time.Time
	Outcome          Outcome
	ContextTime      string // as POSTed
	TimeZone         string // as POSTed
	ByAPI            bool   // created by POST /api/pipeline_jobs
	Sender           Sender // for ByAPI jobs: who posted it
}

// PipelineJobs lists the workflow jobs of a definition, oldest first.
func (s *Sim) PipelineJobs(defID int64) []PipelineJob {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []PipelineJob
	for _, j := range s.pjobs {
		if j.defID == defID {
			out = append(out, PipelineJob{ID: j.id, DefinitionID: j.defID, Start: j.start,
				Outcome: j.out, ContextTime: j.ctxTime, TimeZone: j.tz, ByAPI: j.byTrigger, Sender: j.sender})
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID < out[b].ID })
	return out
}

// Total is the number of requests served, faults included.
func (s *Sim) Total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Counts returns requests per "METHOD /path", faults included.
func (s *Sim) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// FaultCounts returns how many faults of each kind were injected.
func (s *Sim) FaultCounts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.faultCounts))
	for k, v := range s.faultCounts {
		out[k] = v
	}
	return out
}

// ResetCounts zeroes the request counters.
func (s *Sim) ResetCounts() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total = 0
	s.counts = map[string]int{}
	s.faultCounts = map[string]int{}
}
