package trocco

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sekisho-dev/sekisho"
)

// StartedAt looks up when a job reported by a TROCCO notification
// started: the notification carries no start time (SPEC §13). One GET of
// the job (/api/jobs/{id} or /api/pipeline_jobs/{id}), drawn from the
// connection's budget. A job still queued counts from its creation.
func (s *Sensor) StartedAt(ctx context.Context, r sekisho.Resource, jobID string) (time.Time, error) {
	n, err := strconv.ParseInt(jobID, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, fmt.Errorf("trocco job id %q is not a number: %w", jobID, sekisho.ErrNotFound)
	}
	switch r.Type {
	case TypeJob:
		j, err := s.api.GetJob(ctx, n)
		if err != nil {
			return time.Time{}, fmt.Errorf("read trocco job %d: %w", n, err)
		}
		return j.Started().UTC(), nil
	case TypeWorkflow:
		j, err := s.api.GetPipelineJob(ctx, n)
		if err != nil {
			return time.Time{}, fmt.Errorf("read trocco workflow job %d: %w", n, err)
		}
		return j.Started().UTC(), nil
	}
	return time.Time{}, fmt.Errorf("trocco: no start time look-up for %s", r.Type)
}
