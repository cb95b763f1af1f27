package troccoapi

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"time"
)

// PipelineJob is one workflow job (TROCCO calls workflows pipelines).
type PipelineJob struct {
	ID                     int64  `json:"id"`
	PipelineDefinitionID   int64  `json:"pipeline_definition_id"`
	PipelineDefinitionName string `json:"name,omitempty"` // TROCCO calls it name (ワークフロー定義名)
	Status                 string `json:"status"`
	CreatedAt              Time   `json:"created_at"`
	StartedAt              Time   `json:"started_at"`
	FinishedAt             Time   `json:"finished_at"`
}

// Started is when the workflow job started, or was queued.
func (j PipelineJob) Started() time.Time {
	if !j.StartedAt.IsZero() {
		return j.StartedAt.Time
	}
	return j.CreatedAt.Time
}

// GetPipelineJob reads one workflow job.
func (c *Client) GetPipelineJob(ctx context.Context, id int64) (PipelineJob, error) {
	var j PipelineJob
	err := c.do(ctx, "GET", "/api/pipeline_jobs/"+strconv.FormatInt(id, 10), nil, nil, &j)
	return j, err
}

type startPipelineJob struct {
	ContextTime string `json:"context_time"`
	TimeZone    string `json:"time_zone"`
}

// StartPipelineJob starts a workflow job and returns it. contextTime is
// what TROCCO's date custom variables expand to, read in zone tz. The call
// has no idempotency key: it is never repeated after a request that may
// have reached TROCCO, only after a 429.
func (c *Client) StartPipelineJob(ctx context.Context, pipelineDefinitionID int64, contextTime time.Time, tz string) (PipelineJob, error) {
	loc, tzName, err := zone(tz)
	if err != nil {
		return PipelineJob{}, err
	}
	q := url.Values{"pipeline_definition_id": {strconv.FormatInt(pipelineDefinitionID, 10)}}
	body := startPipelineJob{ContextTime: contextTime.In(loc).Format(QueryTimeLayout), TimeZone: tzName}
	var j PipelineJob
	if err := c.do(ctx, "POST", "/api/pipeline_jobs", q, body, &j); err != nil {
		return PipelineJob{}, err
	}
	if j.ID == 0 {
		return PipelineJob{}, errors.New("trocco POST /api/pipeline_jobs: the answer has no job id")
	}
	return j, nil
}
