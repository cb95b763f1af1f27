package glue

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/glue"

	"github.com/sekisho-dev/sekisho"
)

// StartedAt looks up when a job run reported by an EventBridge event
// started: the event carries only its end (SPEC §13). One GetJobRun,
// drawn from the connection's budget like every other call.
func (s *Sensor) StartedAt(ctx context.Context, r sekisho.Resource, runID string) (time.Time, error) {
	if r.Type != TypeJob {
		return time.Time{}, fmt.Errorf("glue: no start time look-up for %s", r.Type)
	}
	out, err := s.api.GetJobRun(ctx, &glue.GetJobRunInput{JobName: aws.String(r.ID), RunId: aws.String(runID)})
	if err != nil {
		return time.Time{}, wrap("job run", r.ID+" "+runID, err)
	}
	if out.JobRun == nil || out.JobRun.StartedOn == nil {
		return time.Time{}, fmt.Errorf("glue job run %s of %q has no start time", runID, r.ID)
	}
	return out.JobRun.StartedOn.UTC(), nil
}
