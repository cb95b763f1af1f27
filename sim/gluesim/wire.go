package gluesim

import "time"

// The JSON shapes below follow the Glue API reference (JobRun, WorkflowRun,
// WorkflowRunStatistics); timestamps are epoch seconds with a fraction, as
// awsJson1_1 encodes them.

type jobRunJSON struct {
	ID                string     `json:"Id"`
	Attempt           int        `json:"Attempt"`
	PreviousRunID     string     `json:"PreviousRunId,omitempty"`
	TriggerName       string     `json:"TriggerName,omitempty"`
	JobName           string     `json:"JobName"`
	JobMode           string     `json:"JobMode"`
	StartedOn         float64    `json:"StartedOn"`
	LastModifiedOn    float64    `json:"LastModifiedOn"`
	CompletedOn       float64    `json:"CompletedOn,omitempty"`
	JobRunState       string     `json:"JobRunState"`
	ErrorMessage      string     `json:"ErrorMessage,omitempty"`
	PredecessorRuns   []struct{} `json:"PredecessorRuns"`
	AllocatedCapacity int        `json:"AllocatedCapacity"`
	ExecutionTime     int        `json:"ExecutionTime"`
	Timeout           int        `json:"Timeout"`
	MaxCapacity       float64    `json:"MaxCapacity"`
	WorkerType        string     `json:"WorkerType"`
	NumberOfWorkers   int        `json:"NumberOfWorkers"`
	LogGroupName      string     `json:"LogGroupName"`
	GlueVersion       string     `json:"GlueVersion"`
	ExecutionClass    string     `json:"ExecutionClass"`
}

type statisticsJSON struct {
	TotalActions     int `json:"TotalActions"`
	TimeoutActions   int `json:"TimeoutActions"`
	FailedActions    int `json:"FailedActions"`
	StoppedActions   int `json:"StoppedActions"`
	SucceededActions int `json:"SucceededActions"`
	RunningActions   int `json:"RunningActions"`
	ErroredActions   int `json:"ErroredActions"`
	WaitingActions   int `json:"WaitingActions"`
}

type workflowRunJSON struct {
	Name                  string            `json:"Name"`
	WorkflowRunID         string            `json:"WorkflowRunId"`
	WorkflowRunProperties map[string]string `json:"WorkflowRunProperties"`
	StartedOn             float64           `json:"StartedOn"`
	CompletedOn           float64           `json:"CompletedOn,omitempty"`
	Status                string            `json:"Status"`
	ErrorMessage          string            `json:"ErrorMessage,omitempty"`
	Statistics            *statisticsJSON   `json:"Statistics,omitempty"`
}

type getJobRunsInput struct {
	JobName    *string `json:"JobName"`
	NextToken  *string `json:"NextToken"`
	MaxResults *int    `json:"MaxResults"`
}

type getJobRunsOutput struct {
	JobRuns   []jobRunJSON `json:"JobRuns"`
	NextToken string       `json:"NextToken,omitempty"`
}

type getJobRunInput struct {
	JobName *string `json:"JobName"`
	RunID   *string `json:"RunId"`
}

type getJobRunOutput struct {
	JobRun jobRunJSON `json:"JobRun"`
}

type startJobRunInput struct {
	JobName   *string           `json:"JobName"`
	JobRunID  *string           `json:"JobRunId"`
	Arguments map[string]string `json:"Arguments"`
}

type startJobRunOutput struct {
	JobRunID string `json:"JobRunId"`
}

type getWorkflowRunsInput struct {
	Name         *string `json:"Name"`
	IncludeGraph *bool   `json:"IncludeGraph"`
	NextToken    *string `json:"NextToken"`
	MaxResults   *int    `json:"MaxResults"`
}

type getWorkflowRunsOutput struct {
	Runs      []workflowRunJSON `json:"Runs"`
	NextToken string            `json:"NextToken,omitempty"`
}

// epoch encodes t as awsJson1_1 does: seconds since 1970 with a millisecond fraction.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1e3 }
