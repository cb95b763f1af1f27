// Package trocco is the sensor for TROCCO upstreams: trocco_job (a transfer
// job definition, listed through the API) and trocco_workflow (a workflow
// definition, whose job ids sekisho must learn first because TROCCO has no
// endpoint that lists workflow jobs). It also parses the events TROCCO
// pushes to sekisho through an HTTP notification.
package trocco

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/sekisho-dev/sekisho"
	"github.com/sekisho-dev/sekisho/client/troccoapi"
)

// Sensor types this package answers for.
const (
	TypeJob      = "trocco_job"
	TypeWorkflow = "trocco_workflow"
)

// endedCacheMax bounds the memory of finished workflow jobs.
const endedCacheMax = 10000

// Sensor reports TROCCO job runs. Register it for both TypeJob and
// TypeWorkflow.
type Sensor struct {
	api    *troccoapi.Client
	ledger sekisho.JobLedger
	clock  sekisho.Clock
	log    *slog.Logger

	mu      sync.Mutex
	ended   map[string]sekisho.JobRun // finished workflow jobs never change: ask once
	unknown map[string]bool           // status words already logged
}

// Option configures a Sensor.
type Option func(*Sensor)

// WithClock sets the clock that bounds job listings.
func WithClock(c sekisho.Clock) Option { return func(s *Sensor) { s.clock = c } }

// WithLogger sets the logger for unknown statuses and skipped job ids.
func WithLogger(l *slog.Logger) Option { return func(s *Sensor) { s.log = l } }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

// New returns a sensor over api. ledger supplies the workflow job ids
// learned from pushed events and sekisho's own trigger; without it,
// trocco_workflow upstreams cannot be watched.
func New(api *troccoapi.Client, ledger sekisho.JobLedger, opts ...Option) *Sensor {
	s := &Sensor{api: api, ledger: ledger, clock: wallClock{}, log: slog.New(slog.DiscardHandler),
		ended: map[string]sekisho.JobRun{}, unknown: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Runs returns the runs of r that started at or after since.
func (s *Sensor) Runs(ctx context.Context, r sekisho.Resource, since time.Time) ([]sekisho.JobRun, error) {
	id, err := strconv.ParseInt(r.ID, 10, 64)
	if err != nil || id <= 0 {
		return nil, fmt.Errorf("%s: id %q is not a TROCCO definition id: %w", r.Key(), r.ID, sekisho.ErrNotFound)
	}
	switch r.Type {
	case TypeJob:
		return s.jobRuns(ctx, id, since)
	case TypeWorkflow:
		return s.workflowRuns(ctx, r, id, since)
	}
	return nil, fmt.Errorf("trocco sensor: unsupported resource type %q", r.Type)
}

func (s *Sensor) jobRuns(ctx context.Context, defID int64, since time.Time) ([]sekisho.JobRun, error) {
	// TROCCO filters by creation time; the hour past now forgives clock skew.
	jobs, err := s.api.ListJobs(ctx, defID, since, s.clock.Now().Add(time.Hour), "Etc/UTC")
	if err != nil {
		return nil, fmt.Errorf("list trocco jobs of definition %d: %w", defID, err)
	}
	runs := make([]sekisho.JobRun, 0, len(jobs))
	for _, j := range jobs {
		runs = append(runs, s.run(strconv.FormatInt(j.ID, 10), j.Status, j.Started(), j.FinishedAt.Time))
	}
	return runs, nil
}

func (s *Sensor) workflowRuns(ctx context.Context, r sekisho.Resource, defID int64, since time.Time) ([]sekisho.JobRun, error) {
	if s.ledger == nil {
		return nil, errors.New("trocco_workflow sensor has no job ledger: sekisho cannot learn workflow job ids")
	}
	ids, err := s.ledger.LearnedJobs(ctx, r.Key(), since)
	if err != nil {
		return nil, fmt.Errorf("learned jobs of %s: %w", r.Key(), err)
	}
	runs := make([]sekisho.JobRun, 0, len(ids))
	for _, id := range ids {
		s.mu.Lock()
		run, done := s.ended[id]
		s.mu.Unlock()
		if done {
			runs = append(runs, run)
			continue
		}
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			s.log.Warn("trocco workflow job id is not a number; ignored", "resource", r.Key(), "job_id", id)
			continue
		}
		j, err := s.api.GetPipelineJob(ctx, n)
		if errors.Is(err, sekisho.ErrNotFound) {
			// A wrong id in a pushed event, or a deleted job: it cannot
			// tell us anything, and must not hide the other jobs.
			s.log.Warn("trocco workflow job not found; ignored", "resource", r.Key(), "job_id", id, "error", err)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read trocco workflow job %d: %w", n, err)
		}
		if j.PipelineDefinitionID != 0 && j.PipelineDefinitionID != defID {
			s.log.Warn("trocco workflow job belongs to another workflow; ignored", "resource", r.Key(),
				"job_id", id, "pipeline_definition_id", j.PipelineDefinitionID)
			continue
		}
		run = s.run(id, j.Status, j.Started(), j.FinishedAt.Time)
		if run.State.Ended() {
			s.remember(id, run)
		}
		runs = append(runs, run)
	}
	return runs, nil
}

func (s *Sensor) remember(id string, run sekisho.JobRun) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.ended) >= endedCacheMax {
		clear(s.ended) // cheap to refill: one request per still-learned job
	}
	s.ended[id] = run
}

func (s *Sensor) run(id, status string, started, finished time.Time) sekisho.JobRun {
	state, known := troccoapi.MapStatus(status)
	run := sekisho.JobRun{ExternalID: id, State: state, StartedAt: started, FinishedAt: finished}
	if !known {
		s.mu.Lock()
		first := !s.unknown[status]
		s.unknown[status] = true
		s.mu.Unlock()
		if first {
			s.log.Warn("unknown TROCCO job status; counted as running", "status", status, "job_id", id)
		}
		run.Message = fmt.Sprintf("TROCCO status %q is not known to sekisho", status)
	}
	if state == sekisho.JobFailed {
		run.Message = fmt.Sprintf("TROCCO job %s ended %s", id, status)
	}
	if troccoapi.Skipped(status) {
		run.Skipped = true
		run.Message = fmt.Sprintf("%s (job %s)", troccoapi.SkippedMessage, id)
	}
	if !state.Ended() {
		run.FinishedAt = time.Time{}
	}
	return run
}
