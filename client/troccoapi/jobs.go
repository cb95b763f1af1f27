package troccoapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Job is one transfer job of a job definition.
type Job struct {
	ID                int64  `json:"id"`
	JobDefinitionID   int64  `json:"job_definition_id"`
	JobDefinitionName string `json:"job_definition_name,omitempty"`
	Status            string `json:"status"`
	CreatedAt         Time   `json:"created_at"`
	StartedAt         Time   `json:"started_at"`
	FinishedAt        Time   `json:"finished_at"`
}

// Started is when the job started, or was queued if it has not started yet.
func (j Job) Started() time.Time {
	if !j.StartedAt.IsZero() {
		return j.StartedAt.Time
	}
	return j.CreatedAt.Time
}

type jobPage struct {
	Items      []Job   `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// maxPages bounds a listing so a server that repeats its cursor cannot keep
// a poke busy forever.
const maxPages = 1000

// QueryTimeLayout is how TROCCO reads start_time, end_time and context_time.
const QueryTimeLayout = "2006-01-02 15:04:05"

// ListJobs lists the jobs of a job definition created in [start, end],
// following next_cursor pages. tz is an IANA zone name; start and end are
// sent as wall clock times in it (Etc/UTC when empty).
func (c *Client) ListJobs(ctx context.Context, jobDefinitionID int64, start, end time.Time, tz string) ([]Job, error) {
	loc, tzName, err := zone(tz)
	if err != nil {
		return nil, err
	}
	path := "/api/job_definitions/" + strconv.FormatInt(jobDefinitionID, 10) + "/jobs"
	q := url.Values{}
	q.Set("start_time", start.In(loc).Format(QueryTimeLayout))
	q.Set("end_time", end.In(loc).Format(QueryTimeLayout))
	q.Set("time_zone", tzName)
	q.Set("limit", strconv.Itoa(c.pageSize))
	var jobs []Job
	seen := map[string]bool{}
	for page := 0; ; page++ {
		if page >= maxPages {
			return nil, fmt.Errorf("trocco GET %s: more than %d pages", path, maxPages)
		}
		var p jobPage
		if err := c.do(ctx, "GET", path, q, nil, &p); err != nil {
			return nil, err
		}
		jobs = append(jobs, p.Items...)
		if p.NextCursor == nil || *p.NextCursor == "" {
			return jobs, nil
		}
		if seen[*p.NextCursor] {
			return nil, fmt.Errorf("trocco GET %s: the cursor repeats", path)
		}
		seen[*p.NextCursor] = true
		q.Set("cursor", *p.NextCursor)
	}
}

// GetJob reads one transfer job by its id (GET /api/jobs/{id}).
func (c *Client) GetJob(ctx context.Context, jobID int64) (Job, error) {
	var j Job
	err := c.do(ctx, "GET", "/api/jobs/"+strconv.FormatInt(jobID, 10), nil, nil, &j)
	return j, err
}

func zone(tz string) (*time.Location, string, error) {
	if tz == "" || tz == "UTC" {
		return time.UTC, "Etc/UTC", nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, "", errors.New("trocco time zone " + strconv.Quote(tz) + ": not an IANA zone name")
	}
	return loc, tz, nil
}
