package glue

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/sekisho-dev/sekisho"
)

// JobRunState maps a Glue JobRunState to a sekisho job state (SPEC §5).
// known is false for a word Glue may add later; it maps to running so a new
// state never fails an upstream.
func JobRunState(s string) (state sekisho.JobState, known bool) {
	switch types.JobRunState(s) {
	case types.JobRunStateSucceeded:
		return sekisho.JobSucceeded, true
	case types.JobRunStateFailed, types.JobRunStateTimeout, types.JobRunStateError,
		types.JobRunStateStopped, types.JobRunStateExpired:
		return sekisho.JobFailed, true
	case types.JobRunStateStarting, types.JobRunStateRunning, types.JobRunStateStopping,
		types.JobRunStateWaiting:
		return sekisho.JobRunning, true
	}
	return sekisho.JobRunning, false
}

// jobRuns pages GetJobRuns newest first and stops at the first page that
// reaches back before since.
func (s *Sensor) jobRuns(ctx context.Context, name string, since time.Time) ([]sekisho.JobRun, error) {
	in := &glue.GetJobRunsInput{JobName: aws.String(name), MaxResults: aws.Int32(s.pageSize)}
	var out []sekisho.JobRun
	for range maxPages {
		page, err := s.api.GetJobRuns(ctx, in)
		if err != nil {
			return nil, wrap("job", name, err)
		}
		older := false
		for _, jr := range page.JobRuns {
			run, ok := s.jobRun(jr)
			if !ok {
				continue
			}
			if run.StartedAt.Before(since) {
				older = true
				continue
			}
			out = append(out, run)
		}
		if older || page.NextToken == nil || *page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return out, nil
}

func (s *Sensor) jobRun(jr types.JobRun) (sekisho.JobRun, bool) {
	started := jr.StartedOn
	if started == nil {
		// A queued run may have no StartedOn yet; it is newer than anything listed.
		started = jr.LastModifiedOn
	}
	if started == nil || jr.Id == nil {
		return sekisho.JobRun{}, false
	}
	state, known := JobRunState(string(jr.JobRunState))
	if !known {
		s.logUnknown("job_run", string(jr.JobRunState))
	}
	return sekisho.JobRun{
		ExternalID: *jr.Id,
		State:      state,
		StartedAt:  started.UTC(),
		FinishedAt: utc(jr.CompletedOn),
		Message:    aws.ToString(jr.ErrorMessage),
	}, true
}

func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}
