package glue

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"
	"github.com/aws/aws-sdk-go-v2/service/glue/types"

	"github.com/sekisho-dev/sekisho"
)

// WorkflowRunState maps a workflow run to a sekisho job state (SPEC §5).
// Glue reports COMPLETED even when actions inside failed, so the statistics
// decide; known is false for a status word Glue may add later.
func WorkflowRunState(status string, st *types.WorkflowRunStatistics) (state sekisho.JobState, known bool) {
	switch types.WorkflowRunStatus(status) {
	case types.WorkflowRunStatusCompleted:
		if st != nil && st.FailedActions+st.TimeoutActions+st.ErroredActions+st.StoppedActions > 0 {
			return sekisho.JobFailed, true
		}
		return sekisho.JobSucceeded, true
	case types.WorkflowRunStatusStopped, types.WorkflowRunStatusError:
		return sekisho.JobFailed, true
	case types.WorkflowRunStatusRunning, types.WorkflowRunStatusStopping:
		return sekisho.JobRunning, true
	}
	return sekisho.JobRunning, false
}

// workflowRunsPage is the largest page GetWorkflowRuns gives (1000): Glue
// documents no order for its runs, so every page is read (SPEC §13), and
// large pages keep that to one request for a daily workflow's history.
const workflowRunsPage = 1000

// workflowRuns reads GetWorkflowRuns to the last page: unlike GetJobRuns,
// Glue does not document its order, so a page of older runs says nothing
// about the next one.
func (s *Sensor) workflowRuns(ctx context.Context, name string, since time.Time) ([]sekisho.JobRun, error) {
	in := &glue.GetWorkflowRunsInput{Name: aws.String(name), MaxResults: aws.Int32(s.wfPage),
		IncludeGraph: aws.Bool(false)}
	var out []sekisho.JobRun
	for range maxPages {
		page, err := s.api.GetWorkflowRuns(ctx, in)
		if err != nil {
			return nil, wrap("workflow", name, err)
		}
		for _, wr := range page.Runs {
			if wr.StartedOn == nil || wr.WorkflowRunId == nil || wr.StartedOn.Before(since) {
				continue
			}
			out = append(out, s.workflowRun(wr))
		}
		if page.NextToken == nil || *page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	return out, nil
}

func (s *Sensor) workflowRun(wr types.WorkflowRun) sekisho.JobRun {
	state, known := WorkflowRunState(string(wr.Status), wr.Statistics)
	if !known {
		s.logUnknown("workflow_run", string(wr.Status))
	}
	msg := aws.ToString(wr.ErrorMessage)
	if st := wr.Statistics; msg == "" && state == sekisho.JobFailed && st != nil {
		msg = fmt.Sprintf("%d of %d actions failed, %d timed out, %d errored, %d stopped",
			st.FailedActions, st.TotalActions, st.TimeoutActions, st.ErroredActions, st.StoppedActions)
	}
	return sekisho.JobRun{
		ExternalID: *wr.WorkflowRunId,
		State:      state,
		StartedAt:  wr.StartedOn.UTC(),
		FinishedAt: utc(wr.CompletedOn),
		Message:    msg,
	}
}
