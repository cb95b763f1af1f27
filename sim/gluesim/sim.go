// Package gluesim is a faithful AWS Glue double for the demo, end-to-end
// tests and benchmarks. It speaks awsJson1_1 the way Glue does (POST /,
// X-Amz-Target, epoch-second timestamps, __type errors, SigV4 checks), so the
// real aws-sdk-go-v2 client talks to it unchanged through BaseEndpoint.
//
// Runs are scripted against an injected clock: a run planned to start at T
// and end after D is invisible before T, RUNNING until T+D and in its final
// state afterwards, so a fake or accelerated clock drives the whole story.
package gluesim

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/sim/simlimit"
)

// Job run states as Glue spells them.
const (
	Starting  = "STARTING"
	Running   = "RUNNING"
	Stopping  = "STOPPING"
	Stopped   = "STOPPED"
	Succeeded = "SUCCEEDED"
	Failed    = "FAILED"
	Timeout   = "TIMEOUT"
	Error     = "ERROR"
	Waiting   = "WAITING"
	Expired   = "EXPIRED"
)

// Workflow run statuses as Glue spells them.
const (
	WorkflowRunning   = "RUNNING"
	WorkflowCompleted = "COMPLETED"
	WorkflowStopping  = "STOPPING"
	WorkflowStopped   = "STOPPED"
	WorkflowError     = "ERROR"
)

// ErrUnknown is returned by scripting calls naming a job, workflow or run the
// simulator does not hold.
var ErrUnknown = errors.New("gluesim: unknown job, workflow or run")

// Run plans one job run: invisible before Start, RUNNING until
// Start+Duration, then Outcome. A zero Duration keeps it RUNNING until
// FinishRun.
type Run struct {
	ID       string        // optional; a Glue-like jr_… id is generated
	Start    time.Time     // StartedOn
	Duration time.Duration // 0: open-ended
	Outcome  string        // the JobRunState at the end; default SUCCEEDED
	Message  string        // ErrorMessage once ended
	Trigger  string        // TriggerName, optional
}

// WorkflowRun plans one workflow run, like Run. Statistics at the end count
// Failed, Timeout, Errored and Stopped actions as given and the rest of
// Actions as succeeded.
type WorkflowRun struct {
	ID       string
	Start    time.Time
	Duration time.Duration // 0: open-ended
	Status   string        // final WorkflowRunStatus; default COMPLETED
	Actions  int           // TotalActions; default 1
	Failed   int
	Timeout  int
	Errored  int
	Stopped  int
	Message  string
}

// Rerun says what a StartJobRun request creates: a run starting at the
// clock's now that ends after Duration with Outcome.
type Rerun struct {
	Duration time.Duration
	Outcome  string
	Message  string
}

type jobRun struct {
	Run
	attempt  int
	previous string
	// change is a scripted state from At onwards (FinishRun), overriding the plan.
	change *stateChange
}

type stateChange struct {
	state string
	at    time.Time
	msg   string
}

type job struct {
	runs  []*jobRun // newest first: Start desc, ID desc
	rerun Rerun
}

type workflow struct {
	runs []*WorkflowRun // newest first
}

// Sim is the simulated Glue service. It is safe for concurrent use; its
// zero value is not: use New.
type Sim struct {
	clock  sekisho.Clock
	region string
	keys   map[string]string // access key → secret; empty accepts any key

	mu        sync.Mutex
	jobs      map[string]*job
	workflows map[string]*workflow
	faults    Faults
	rng       *mrand.Rand
	stats     Stats
	limit     simlimit.Counter
	// oldestFirst reverses GetWorkflowRuns' order.
	oldestFirst bool
}

// Option configures a Sim.
type Option func(*Sim)

// WithLimit makes the simulator answer 400 ThrottlingException to calls
// past limit, as Glue throttles an account over its API rate; a client
// within its budget never sees one (see Throttled).
func WithLimit(limit simlimit.Limit) Option { return func(s *Sim) { s.limit.Limit = limit } }

// Throttled is how many calls WithLimit's limit refused (injected faults
// not counted).
func (s *Sim) Throttled() int { return s.limit.Throttled() }

// WithWorkflowRunsOldestFirst makes GetWorkflowRuns answer its pages
// oldest run first: Glue documents no order for them, so a client must
// not rely on one (the default order here is newest first).
func WithWorkflowRunsOldestFirst() Option { return func(s *Sim) { s.oldestFirst = true } }

// WithRegion makes the simulator refuse signatures scoped to another region.
func WithRegion(region string) Option { return func(s *Sim) { s.region = region } }

// WithCredentials makes the simulator accept only this access key and verify
// each request's SigV4 signature with the secret, like AWS would.
func WithCredentials(accessKey, secretKey string) Option {
	return func(s *Sim) { s.keys[accessKey] = secretKey }
}

// New returns an empty simulator whose runs evolve on clock.
func New(clock sekisho.Clock, opts ...Option) *Sim {
	s := &Sim{
		clock:     clock,
		keys:      map[string]string{},
		jobs:      map[string]*job{},
		workflows: map[string]*workflow{},
		rng:       mrand.New(mrand.NewPCG(1, 2)),
	}
	s.stats.reset()
	for _, o := range opts {
		o(s)
	}
	return s
}

// AddJob declares a job with no runs; GetJobRuns on an undeclared job
// answers EntityNotFoundException.
func (s *Sim) AddJob(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.job(name)
}

func (s *Sim) job(name string) *job {
	j := s.jobs[name]
	if j == nil {
		j = &job{rerun: Rerun{Duration: 10 * time.Minute, Outcome: Succeeded}}
		s.jobs[name] = j
	}
	return j
}

// PlanRun adds a run to job (declaring the job if needed) and returns its id.
func (s *Sim) PlanRun(jobName string, r Run) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.planRun(s.job(jobName), r, 1, "")
}

func (s *Sim) planRun(j *job, r Run, attempt int, previous string) string {
	if r.ID == "" {
		r.ID = newID("jr_")
	}
	if r.Outcome == "" {
		r.Outcome = Succeeded
	}
	j.runs = append(j.runs, &jobRun{Run: r, attempt: attempt, previous: previous})
	sort.SliceStable(j.runs, func(a, b int) bool { return newer(j.runs[a].Start, j.runs[a].ID, j.runs[b].Start, j.runs[b].ID) })
	return r.ID
}

// StartRun starts an open-ended run of job at at; FinishRun ends it.
func (s *Sim) StartRun(jobName string, at time.Time) string {
	return s.PlanRun(jobName, Run{Start: at})
}

// FinishRun sets a run's state from at onwards: any JobRunState, including
// non-terminal or unknown words, so tests can show every mapping. A
// terminal state sets CompletedOn to at.
func (s *Sim) FinishRun(jobName, runID, state string, at time.Time, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j := s.jobs[jobName]
	if j == nil {
		return fmt.Errorf("job %q: %w", jobName, ErrUnknown)
	}
	for _, r := range j.runs {
		if r.ID == runID {
			r.change = &stateChange{state: state, at: at, msg: msg}
			return nil
		}
	}
	return fmt.Errorf("job %q run %q: %w", jobName, runID, ErrUnknown)
}

// SetRerun sets what StartJobRun creates for job (default: ten minutes, SUCCEEDED).
func (s *Sim) SetRerun(jobName string, r Rerun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Outcome == "" {
		r.Outcome = Succeeded
	}
	s.job(jobName).rerun = r
}

// ClearRuns forgets every run of job, keeping the job declared.
func (s *Sim) ClearRuns(jobName string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.job(jobName).runs = nil
}

// AddWorkflow declares a workflow with no runs.
func (s *Sim) AddWorkflow(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workflow(name)
}

func (s *Sim) workflow(name string) *workflow {
	w := s.workflows[name]
	if w == nil {
		w = &workflow{}
		s.workflows[name] = w
	}
	return w
}

// PlanWorkflowRun adds a run to a workflow (declaring it if needed) and
// returns its id.
func (s *Sim) PlanWorkflowRun(name string, r WorkflowRun) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.ID == "" {
		r.ID = newID("wr_")
	}
	if r.Status == "" {
		r.Status = WorkflowCompleted
	}
	if r.Actions <= 0 {
		r.Actions = 1
	}
	w := s.workflow(name)
	w.runs = append(w.runs, &r)
	sort.SliceStable(w.runs, func(a, b int) bool { return newer(w.runs[a].Start, w.runs[a].ID, w.runs[b].Start, w.runs[b].ID) })
	return r.ID
}

func newer(ta time.Time, ida string, tb time.Time, idb string) bool {
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return ida > idb
}

// newID makes an id shaped like Glue's: a prefix and 64 hex digits.
func newID(prefix string) string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// jobRunView is one job run as of now, or ok false when it has not started.
func (r *jobRun) view(name string, now time.Time) (jobRunJSON, bool) {
	if now.Before(r.Start) {
		return jobRunJSON{}, false
	}
	v := jobRunJSON{
		ID: r.ID, Attempt: r.attempt, JobName: name, JobMode: "SCRIPT",
		StartedOn: epoch(r.Start), JobRunState: Running, PreviousRunID: r.previous,
		TriggerName: r.Trigger, PredecessorRuns: []struct{}{}, AllocatedCapacity: 10,
		Timeout: 2880, MaxCapacity: 10, WorkerType: "G.1X", NumberOfWorkers: 10,
		LogGroupName: "/aws-glue/jobs", GlueVersion: "4.0", ExecutionClass: "STANDARD",
	}
	end, state, msg := time.Time{}, Running, ""
	if r.Duration > 0 && !now.Before(r.Start.Add(r.Duration)) {
		end, state, msg = r.Start.Add(r.Duration), r.Outcome, r.Message
	}
	if c := r.change; c != nil && !now.Before(c.at) {
		end, state, msg = c.at, c.state, c.msg
	}
	v.JobRunState = state
	v.LastModifiedOn = epoch(r.Start)
	if ended(state) {
		v.CompletedOn = epoch(end)
		v.LastModifiedOn = epoch(end)
		v.ExecutionTime = int(end.Sub(r.Start).Seconds())
		v.ErrorMessage = msg
	} else {
		v.ExecutionTime = int(now.Sub(r.Start).Seconds())
	}
	return v, true
}

// ended reports the JobRunStates after which Glue sets CompletedOn.
func ended(state string) bool {
	switch state {
	case Stopped, Succeeded, Failed, Timeout, Error, Expired:
		return true
	}
	return false
}

func (r *WorkflowRun) view(name string, now time.Time) (workflowRunJSON, bool) {
	if now.Before(r.Start) {
		return workflowRunJSON{}, false
	}
	v := workflowRunJSON{Name: name, WorkflowRunID: r.ID, WorkflowRunProperties: map[string]string{},
		StartedOn: epoch(r.Start), Status: WorkflowRunning}
	st := &statisticsJSON{TotalActions: r.Actions}
	if r.Duration > 0 && !now.Before(r.Start.Add(r.Duration)) {
		v.Status = r.Status
		v.CompletedOn = epoch(r.Start.Add(r.Duration))
		v.ErrorMessage = r.Message
		st.FailedActions, st.TimeoutActions, st.ErroredActions, st.StoppedActions = r.Failed, r.Timeout, r.Errored, r.Stopped
		st.SucceededActions = max(0, r.Actions-r.Failed-r.Timeout-r.Errored-r.Stopped)
	} else {
		done := 0
		if r.Duration > 0 {
			done = int(math.Floor(float64(r.Actions) * float64(now.Sub(r.Start)) / float64(r.Duration)))
		}
		st.SucceededActions = min(done, r.Actions-1)
		st.RunningActions = 1
	}
	v.Statistics = st
	return v, true
}
